/*
 * sql_module.c
 *	  Module entry point: settings, and the server implementation of the
 *	  pp_core.h platform layer (ereport, CHECK_FOR_INTERRUPTS, the hash key;
 *	  allocation is in sql_alloc.c).
 */
#include "sql_module.h"

#include "access/detoast.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "catalog/pg_collation.h"
#include "lib/stringinfo.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_MODULE_MAGIC;

int			pg_pprof_max_input_bytes = 64 * 1024 * 1024;
int			pg_pprof_max_stack_depth = 65536;
int			pg_pprof_compression_level = 3;
int			pg_pprof_max_output_bytes = 256 * 1024 * 1024;

void		_PG_init(void);

/*
 * Define the extension's settings.  They are limits that guard the server
 * against hostile input and costly work, so only superusers may change
 * them (PGC_SUSET), as for work_mem's guards such as temp_file_limit.
 */
void
_PG_init(void)
{
	DefineCustomIntVariable("pg_pprof.max_input_bytes",
							"Largest decompressed pprof input or stored profile body accepted.",
							"Guards against gzip bombs and oversized values.",
							&pg_pprof_max_input_bytes,
							64 * 1024 * 1024, 1024, INT_MAX,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_pprof.max_stack_depth",
							"Deepest stack, in frames, accepted from a pprof sample.",
							NULL,
							&pg_pprof_max_stack_depth,
							65536, 1, 100000000,
							PGC_SUSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_pprof.max_output_bytes",
							"Largest result one call may build: an export, flame-graph rows, pprof_split's groups.",
							"Counted as the result is built, with its working copies; small stored values can describe huge outputs.",
							&pg_pprof_max_output_bytes,
							256 * 1024 * 1024, 1024 * 1024, (int) MaxAllocSize - 1024,
							PGC_SUSET, GUC_UNIT_BYTE, NULL, NULL, NULL);
	DefineCustomIntVariable("pg_pprof.compression_level",
							"zstd level used when storing profiles.",
							"High levels compress much more slowly.",
							&pg_pprof_compression_level,
							3, 1, 19,
							PGC_SUSET, 0, NULL, NULL, NULL);
	MarkGUCPrefixReserved("pg_pprof");
}

/* Map an error kind to its SQLSTATE. */
static int
error_code(PPErrorKind kind)
{
	switch (kind)
	{
		case PP_ERR_BAD_PPROF:
			return ERRCODE_INVALID_BINARY_REPRESENTATION;
		case PP_ERR_CORRUPT:
			return ERRCODE_DATA_CORRUPTED;
		case PP_ERR_LIMIT:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case PP_ERR_OVERFLOW:
			return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
		case PP_ERR_BAD_TEXT:
			return ERRCODE_INVALID_TEXT_REPRESENTATION;
		case PP_ERR_BAD_ARGUMENT:
		case PP_ERR_MISMATCH:
			return ERRCODE_INVALID_PARAMETER_VALUE;
		case PP_ERR_INTERNAL:
			break;
	}
	return ERRCODE_INTERNAL_ERROR;
}

/* Raise an ERROR with the core's message, detail and hint (either may be NULL). */
void
pp_error_ext(PPErrorKind kind, const char *detail, const char *hint, const char *fmt,...)
{
	StringInfoData message;

	initStringInfo(&message);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&message, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&message, needed);
	}
	ereport(ERROR, (errcode(error_code(kind)),
					errmsg("%s", message.data),
					detail ? errdetail("%s", detail) : 0,
					hint ? errhint("%s", hint) : 0));
	pg_unreachable();
}

/* A failed pp_assert, reported as PostgreSQL reports a failed Assert(). */
void
pp_assert_failed(const char *condition, const char *file, int line)
{
	ExceptionalCondition(condition, "pp_assert", file, line);
}

/* Let a long loop be cancelled. */
void
pp_check_interrupts(void)
{
	CHECK_FOR_INTERRUPTS();
}

/*
 * The key of the cores' keyed hashes: random, drawn once per backend, so
 * names that collide in one backend's tables collide in no other's.
 */
const uint8_t *
pp_hash_key(void)
{
	static uint8_t key[16];
	static bool drawn = false;

	if (!drawn)
	{
		if (!pg_strong_random(key, sizeof(key)))
			ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
							errmsg("could not generate a random hash key")));
		drawn = true;
	}
	return key;
}

/* Limits for the stored format, from the GUCs. */
ProfileLimits
pg_pprof_limits(void)
{
	ProfileLimits limits;

	limits.max_body_bytes = (size_t) pg_pprof_max_input_bytes;
	limits.zstd_level = pg_pprof_compression_level;
	return limits;
}

/*
 * Compiled drop_frames/keep_frames patterns of one pprof file, kept in the
 * decoding call's own memory context and freed when that context goes.
 */
typedef struct FrameRegexes
{
	const char *drop_source;	/* the pattern strings these were built from */
	const char *keep_source;
	bool		usable;			/* false if a pattern did not compile */
	bool		drop_compiled;	/* drop holds a compiled regex to free */
	bool		keep_compiled;	/* keep holds a compiled regex to free */
	regex_t		drop;
	regex_t		keep;
	MemoryContextCallback on_reset;
} FrameRegexes;

/* Free the compiled patterns (a memory context reset callback, too). */
static void
forget_frame_regexes(void *arg)
{
	FrameRegexes *fr = arg;

	/* a pattern that failed to compile was already freed by pg_regcomp */
	if (fr->drop_compiled)
		pg_regfree(&fr->drop);
	if (fr->keep_compiled)
		pg_regfree(&fr->keep);
	fr->drop_compiled = false;
	fr->keep_compiled = false;
	fr->drop_source = NULL;
	fr->keep_source = NULL;
}

/* Compile ^(pattern)$ with PostgreSQL's regex engine; false on a bad pattern. */
static bool
compile_anchored(regex_t *re, const char *pattern)
{
	char	   *anchored = psprintf("^(%s)$", pattern);
	int			len = strlen(anchored);
	pg_wchar   *wide = palloc((len + 1) * sizeof(pg_wchar));
	int			wlen = pg_mb2wchar_with_len(anchored, wide, len);
	int			rc = pg_regcomp(re, wide, wlen, REG_ADVANCED | REG_NOSUB, C_COLLATION_OID);

	pfree(wide);
	pfree(anchored);
	return rc == REG_OKAY;
}

/* True if name matches re. */
static bool
regex_matches(regex_t *re, const char *name, size_t len)
{
	pg_wchar   *wide = palloc((len + 1) * sizeof(pg_wchar));
	int			wlen = pg_mb2wchar_with_len(name, wide, (int) len);
	int			rc = pg_regexec(re, wide, wlen, 0, NULL, 0, NULL, 0);

	pfree(wide);
	return rc == REG_OKAY;
}

/*
 * pprof's drop_frames test: drop when ^(drop)$ matches and ^(keep)$ does
 * not.  Like pprof, a pattern that does not compile disables pruning.
 */
static bool
pg_drop_frame(void *arg, const char *drop_re, const char *keep_re,
			  const char *name, size_t name_len)
{
	FrameRegexes *fr = arg;

	if (fr->drop_source != drop_re || fr->keep_source != keep_re)
	{
		forget_frame_regexes(fr);
		fr->drop_source = drop_re;
		fr->keep_source = keep_re;
		fr->drop_compiled = compile_anchored(&fr->drop, drop_re);
		fr->usable = fr->drop_compiled;
		if (fr->usable && keep_re != NULL)
		{
			fr->keep_compiled = compile_anchored(&fr->keep, keep_re);
			fr->usable = fr->keep_compiled;
		}
	}
	if (!fr->usable)
		return false;
	if (!regex_matches(&fr->drop, name, name_len))
		return false;
	return !(fr->keep_compiled && regex_matches(&fr->keep, name, name_len));
}

/*
 * Decoding options for pprof input, from the GUCs.  The compiled patterns
 * live in the current memory context, which must be the call's own (work)
 * context: they are freed when it is reset or deleted, on error too.
 */
PprofOptions
pg_pprof_options(void)
{
	PprofOptions options;
	FrameRegexes *fr = palloc0(sizeof(FrameRegexes));

	fr->on_reset.func = forget_frame_regexes;
	fr->on_reset.arg = fr;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &fr->on_reset);
	options.max_input_bytes = (size_t) pg_pprof_max_input_bytes;
	options.max_stack_depth = (uint32_t) pg_pprof_max_stack_depth;
	options.drop_frame = pg_drop_frame;
	options.drop_frame_arg = fr;
	return options;
}

/* A budget of pg_pprof.max_output_bytes for one call's result, named what. */
PPBudget
pg_pprof_output_budget(const char *what)
{
	PPBudget	budget;

	budget.used = 0;
	budget.limit = (size_t) pg_pprof_max_output_bytes;
	budget.what = what;
	return budget;
}

/* A text value of len bytes, refused (54000) when no text value can be that long. */
text *
text_from_bytes(const char *bytes, size_t len)
{
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("text result of %zu bytes is too large", len)));
	return cstring_to_text_with_len(bytes, (int) len);
}

/* Copy len bytes into a new varlena (bytea or profile) in the current context. */
bytea *
bytea_from_bytes(const void *bytes, size_t len)
{
	bytea	   *result;

	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("value of %zu bytes is too large", len)));
	result = palloc(len + VARHDRSZ);
	SET_VARSIZE(result, len + VARHDRSZ);
	memcpy(VARDATA(result), bytes, len);
	return result;
}

/*
 * Encode a tree as a `profile` varlena allocated in result_context (the
 * encoding's scratch stays in the current context).
 */
bytea *
profile_datum_from_tree(const CallTree *tree, MemoryContext result_context)
{
	ProfileLimits limits = pg_pprof_limits();
	size_t		len;
	uint8_t    *bytes = profile_encode(tree, &limits, &len);
	MemoryContext old = MemoryContextSwitchTo(result_context);
	bytea	   *result = bytea_from_bytes(bytes, len);

	MemoryContextSwitchTo(old);
	pp_free(bytes);
	return result;
}

/* The aggregate context of a state function of aggregate, or an error (0A000). */
MemoryContext
pg_pprof_aggregate_context(FunctionCallInfo fcinfo, const char *aggregate)
{
	MemoryContext context;

	if (!AggCheckCallContext(fcinfo, &context))
		ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						errmsg("%s state functions must be called as part of an aggregate",
							   aggregate)));
	return context;
}

/*
 * Detoast a `profile` datum for a reader of its merge alone: a packed value
 * stored out of line is fetched without its timeline (often most of its
 * bytes).  The first PROFILE_SLICE_MIN_BYTES come in one slice, which holds
 * the whole body of most packed values; a longer body takes a second.
 * Small values are fetched whole at once.
 */
bytea *
profile_detoast_merge(Datum datum)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(datum);
	Size		total;
	bytea	   *head;
	size_t		end;

	if (!VARATT_IS_EXTERNAL_ONDISK(raw) ||
		(total = toast_raw_datum_size(datum) - VARHDRSZ) <= PROFILE_SLICE_MIN_BYTES)
		return (bytea *) PG_DETOAST_DATUM(datum);
	head = (bytea *) PG_DETOAST_DATUM_SLICE(datum, 0, PROFILE_SLICE_MIN_BYTES);
	if (!profile_stored_body_end((const uint8_t *) VARDATA(head), VARSIZE(head) - VARHDRSZ, &end) ||
		end >= total)
	{
		pfree(head);
		return (bytea *) PG_DETOAST_DATUM(datum);
	}
	if (end <= VARSIZE(head) - VARHDRSZ)
	{
		SET_VARSIZE(head, end + VARHDRSZ);
		return head;
	}
	pfree(head);
	return (bytea *) PG_DETOAST_DATUM_SLICE(datum, 0, (int32) end);
}

/* Detoast and decode a `profile` datum straight into a new call tree. */
CallTree *
profile_tree_from_datum(Datum datum, ProfileView *view)
{
	bytea	   *value = (bytea *) PG_DETOAST_DATUM(datum);
	ProfileLimits limits = pg_pprof_limits();
	CallTree   *tree = profile_decode_to_tree((const uint8_t *) VARDATA(value),
											  VARSIZE(value) - VARHDRSZ, &limits, view, NULL);

	view->stored_bytes = VARSIZE(value);
	return tree;
}

/* Detoast and decode a `profile` datum into a validated view. */
void
profile_view_from_datum(Datum datum, ProfileView *view)
{
	bytea	   *value = (bytea *) PG_DETOAST_DATUM(datum);
	ProfileLimits limits = pg_pprof_limits();

	profile_decode((const uint8_t *) VARDATA(value), VARSIZE(value) - VARHDRSZ, &limits, view);
	view->stored_bytes = VARSIZE(value);
}

/* A max_nodes argument: 0 (no truncation) when NULL; negative values are refused. */
int64
pg_pprof_max_nodes_arg(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		return 0;
	if (PG_GETARG_INT32(argno) < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("max_nodes must not be negative")));
	return PG_GETARG_INT32(argno);
}
