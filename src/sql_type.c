/*
 * sql_type.c
 *	  The `profile` SQL type: text and binary I/O, and its accessors.
 *
 * The text form is "\x" followed by the stored bytes in hex, so pg_dump and
 * COPY round-trip exactly.  Every input path validates the whole value,
 * a packed value's timeline included (its checksum, structure and sums).
 */
#include "sql_module.h"
#include "profile_timeline.h"

#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"
#include "common/hashfn.h"

PG_FUNCTION_INFO_V1(profile_in);
PG_FUNCTION_INFO_V1(profile_out);
PG_FUNCTION_INFO_V1(profile_recv);
PG_FUNCTION_INFO_V1(profile_send);
PG_FUNCTION_INFO_V1(profile_total);
PG_FUNCTION_INFO_V1(profile_sample_type);
PG_FUNCTION_INFO_V1(profile_unit);
PG_FUNCTION_INFO_V1(profile_info);
PG_FUNCTION_INFO_V1(profile_stacks);
PG_FUNCTION_INFO_V1(profile_eq);
PG_FUNCTION_INFO_V1(profile_ne);
PG_FUNCTION_INFO_V1(profile_lt);
PG_FUNCTION_INFO_V1(profile_le);
PG_FUNCTION_INFO_V1(profile_gt);
PG_FUNCTION_INFO_V1(profile_ge);
PG_FUNCTION_INFO_V1(profile_cmp);
PG_FUNCTION_INFO_V1(profile_hash);
PG_FUNCTION_INFO_V1(profile_hash_extended);

/* Validate raw stored bytes and wrap them as a `profile` varlena. */
static bytea *
profile_from_stored_bytes(const char *data, size_t len)
{
	ProfileLimits limits = pg_pprof_limits();
	ProfileView view;

	profile_decode((const uint8_t *) data, len, &limits, &view);
	if (view.timeline)
	{
		Timeline	tl;

		timeline_decode(&view, &limits, &tl);
		timeline_check_body(&view, &tl);
		timeline_free(&tl);
	}
	profile_view_free(&view);
	return bytea_from_bytes(data, len);
}

/* Text input: "\x" and hex digits. */
Datum
profile_in(PG_FUNCTION_ARGS)
{
	char	   *str = PG_GETARG_CSTRING(0);
	size_t		len = strlen(str);
	char	   *bytes;
	uint64		n;

	if (len < 2 || str[0] != '\\' || str[1] != 'x' || (len - 2) % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type profile"),
				 errdetail("A profile is written as \\x followed by an even number of hex digits."),
				 errhint("Use profile_from_pprof() to convert pprof data.")));
	bytes = palloc((len - 2) / 2 + 1);
	n = hex_decode(str + 2, len - 2, bytes);
	PG_RETURN_BYTEA_P(profile_from_stored_bytes(bytes, n));
}

/* Text output: "\x" and hex digits of the stored bytes. */
Datum
profile_out(PG_FUNCTION_ARGS)
{
	bytea	   *value = PG_GETARG_BYTEA_PP(0);
	size_t		len = VARSIZE_ANY_EXHDR(value);
	char	   *out = palloc(len * 2 + 3);

	out[0] = '\\';
	out[1] = 'x';
	hex_encode(VARDATA_ANY(value), len, out + 2);
	out[len * 2 + 2] = '\0';
	PG_RETURN_CSTRING(out);
}

/* Binary input: the stored bytes, validated. */
Datum
profile_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	const char *data = buf->data + buf->cursor;
	size_t		len = buf->len - buf->cursor;
	bytea	   *result = profile_from_stored_bytes(data, len);

	buf->cursor = buf->len;
	PG_RETURN_BYTEA_P(result);
}

/* Binary output: the stored bytes as they are. */
Datum
profile_send(PG_FUNCTION_ARGS)
{
	bytea	   *value = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Sum of all values. */
Datum
profile_total(PG_FUNCTION_ARGS)
{
	ProfileView view;

	PG_GETARG_PROFILE_VIEW(0, &view);
	PG_RETURN_INT64(view.total);
}

/* The sample type, e.g. "cpu". */
Datum
profile_sample_type(PG_FUNCTION_ARGS)
{
	ProfileView view;

	PG_GETARG_PROFILE_VIEW(0, &view);
	PG_RETURN_TEXT_P(cstring_to_text(view.meta.sample_type));
}

/* The sample unit, e.g. "nanoseconds". */
Datum
profile_unit(PG_FUNCTION_ARGS)
{
	ProfileView view;

	PG_GETARG_PROFILE_VIEW(0, &view);
	PG_RETURN_TEXT_P(cstring_to_text(view.meta.sample_unit));
}

/* Append "key": "string" to a JSON object under construction. */
static void
json_field_string(StringInfo out, const char *key, const char *value)
{
	if (out->len > 1)
		appendStringInfoString(out, ", ");
	escape_json(out, key);
	appendStringInfoString(out, ": ");
	escape_json(out, value);
}

/* Append "key": number. */
static void
json_field_int(StringInfo out, const char *key, int64 value)
{
	if (out->len > 1)
		appendStringInfoString(out, ", ");
	escape_json(out, key);
	appendStringInfo(out, ": " INT64_FORMAT, value);
}

/* Append "key": ISO timestamp (UTC) for nanoseconds since 1970, or null for 0. */
static void
json_field_time(StringInfo out, const char *key, int64 ns)
{
	if (out->len > 1)
		appendStringInfoString(out, ", ");
	escape_json(out, key);
	if (ns == 0)
		appendStringInfoString(out, ": null");
	else
	{
		TimestampTz ts = ns / 1000 -
			((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
		int			utc = 0;
		char		buf[MAXDATELEN + 1];

		if (!IS_VALID_TIMESTAMP(ts))
			appendStringInfoString(out, ": null");
		else
			appendStringInfo(out, ": \"%s\"",
							 JsonEncodeDateTime(buf, TimestampTzGetDatum(ts), TIMESTAMPTZOID, &utc));
	}
}

/* All metadata, sizes and counts as a jsonb object. */
Datum
profile_info(PG_FUNCTION_ARGS)
{
	ProfileView view;
	StringInfoData out;

	PG_GETARG_PROFILE_VIEW(0, &view);
	initStringInfo(&out);
	appendStringInfoChar(&out, '{');
	json_field_string(&out, "sample_type", view.meta.sample_type);
	json_field_string(&out, "unit", view.meta.sample_unit);
	json_field_string(&out, "period_type", view.meta.period_type);
	json_field_string(&out, "period_unit", view.meta.period_unit);
	json_field_int(&out, "period", view.meta.period);
	json_field_time(&out, "start_time", view.meta.start_ns);
	json_field_time(&out, "end_time", view.meta.end_ns);
	json_field_int(&out, "duration_ns", view.meta.duration_ns);
	json_field_int(&out, "profiles", view.meta.profile_count);
	json_field_int(&out, "total", view.total);
	json_field_int(&out, "nodes", view.node_count);
	json_field_int(&out, "functions", view.symbol_count);
	json_field_int(&out, "files", view.file_count);
	json_field_int(&out, "stored_bytes", (int64) view.stored_bytes);
	json_field_int(&out, "format_version", view.format_version);
	/* a plain value is one point, at its start */
	json_field_int(&out, "points", view.timeline ? view.timeline_points : 1);
	json_field_time(&out, "first_point", view.timeline ? view.timeline_first : view.meta.start_ns);
	json_field_time(&out, "last_point", view.timeline ? view.timeline_last : view.meta.start_ns);
	json_field_int(&out, "timeline_bytes", (int64) view.timeline_len);
	appendStringInfoChar(&out, '}');
	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/*
 * One row per distinct stack with a non-zero self value, root first.  A
 * non-zero root self (samples whose stack was empty) gives an empty array.
 */
Datum
profile_stacks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ProfileView view;
	Datum	   *names;
	Datum	   *path;
	Size	   *path_bytes;		/* per depth: bytes of the array of the path down to it */
	PPBudget	budget = pg_pprof_output_budget("profile_stacks rows");

	InitMaterializedSRF(fcinfo, 0);
	PG_GETARG_PROFILE_VIEW(0, &view);
	names = palloc(sizeof(Datum) * (view.symbol_count + 1));
	for (uint32 s = 0; s < view.symbol_count; s++)
	{
		names[s] = PointerGetDatum(cstring_to_text_with_len(view.symbols[s].data,
															view.symbols[s].len));
		if ((s & 0xfff) == 0xfff)
			CHECK_FOR_INTERRUPTS();
	}
	path = palloc(sizeof(Datum) * ((Size) view.node_count + 1));
	path_bytes = palloc(sizeof(Size) * ((Size) view.node_count + 1));
	path_bytes[0] = 64;			/* a row's and an array's own overhead */

	if (view.root_self != 0)
	{
		Datum		values[2];
		bool		nulls[2] = {false, false};

		values[0] = PointerGetDatum(construct_empty_array(TEXTOID));
		values[1] = Int64GetDatum(view.root_self);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (uint32 i = 0; i < view.node_count; i++)
	{
		uint32		depth = view.node_depth[i];

		path[depth - 1] = names[view.node_symbol[i]];
		path_bytes[depth] = path_bytes[depth - 1] + view.symbols[view.node_symbol[i]].len + 8;
		if (view.node_self[i] != 0)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};
			ArrayType  *stack;

			/* each row repeats its whole path: a deep tree's rows outgrow it */
			pp_budget_charge(&budget, path_bytes[depth]);
			stack = construct_array(path, (int) depth, TEXTOID, -1, false, TYPALIGN_INT);
			values[0] = PointerGetDatum(stack);
			values[1] = Int64GetDatum(view.node_self[i]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			pfree(stack);
			CHECK_FOR_INTERRUPTS();
		}
		else if ((i & 0xfff) == 0xfff)
			CHECK_FOR_INTERRUPTS();
	}
	return (Datum) 0;
}

/*
 * Comparison and hashing.  Two profiles are equal when their decompressed
 * bodies are and, for packed values, their timelines' payloads: both are
 * canonical (equal trees, metadata and points give equal bytes), while the
 * stored bytes also depend on the zstd level and version.  A plain value
 * sorts before a packed value with the same body.  The order is a total
 * order, there for btree indexes, DISTINCT and sorting; it means nothing
 * about the profiles.  The hash is PostgreSQL's unkeyed hash_any of the
 * body (combined with the timeline's for a packed value), the same in
 * every backend.
 */

/* The decompressed body and timeline of a profile argument; free with free_body. */
typedef struct ProfileBody
{
	const uint8 *data;
	size_t		len;
	uint8	   *owned;			/* decompressed copy, or NULL */
	const uint8 *timeline;		/* a packed value's timeline payload, or NULL */
	size_t		timeline_len;
	bool		timeline_owned;
	bytea	   *value;			/* the detoasted datum */
} ProfileBody;

/* Detoast a profile argument and find its body and timeline. */
static void
body_arg(FunctionCallInfo fcinfo, int argno, ProfileBody *body)
{
	ProfileLimits limits = pg_pprof_limits();
	const uint8_t *data;
	size_t		len;
	const uint8_t *frame;
	size_t		frame_len;

	body->value = PG_GETARG_BYTEA_PP(argno);
	data = (const uint8_t *) VARDATA_ANY(body->value);
	len = VARSIZE_ANY_EXHDR(body->value);
	body->data = profile_stored_body(data, len, &limits, &body->len, &body->owned);
	body->timeline = NULL;
	body->timeline_len = 0;
	body->timeline_owned = false;
	if (profile_stored_timeline(data, len, &frame, &frame_len))
	{
		body->timeline = timeline_payload(frame, frame_len, &limits, &body->timeline_len);
		body->timeline_owned = body->timeline < frame || body->timeline >= frame + frame_len;
	}
}

/* Release what body_arg allocated (comparisons run inside sorts: no leaks). */
static void
free_body(FunctionCallInfo fcinfo, int argno, ProfileBody *body)
{
	if (body->owned)
		pp_free(body->owned);
	if (body->timeline_owned)
		pp_free((void *) body->timeline);
	PG_FREE_IF_COPY(body->value, argno);
}

/* Compare the bodies of arguments 0 and 1. */
static int
compare_args(FunctionCallInfo fcinfo)
{
	ProfileBody a,
				b;
	int			result;

	body_arg(fcinfo, 0, &a);
	body_arg(fcinfo, 1, &b);
	result = bytes_compare((const char *) a.data, a.len, (const char *) b.data, b.len);
	if (result == 0 && (a.timeline != NULL) != (b.timeline != NULL))
		result = a.timeline != NULL ? 1 : -1;
	else if (result == 0 && a.timeline != NULL)
		result = bytes_compare((const char *) a.timeline, a.timeline_len,
							   (const char *) b.timeline, b.timeline_len);
	free_body(fcinfo, 0, &a);
	free_body(fcinfo, 1, &b);
	return result;
}

/* a = b: the same body. */
Datum
profile_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) == 0);
}

/* a <> b */
Datum
profile_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) != 0);
}

/* a < b in the order of bodies */
Datum
profile_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) < 0);
}

/* a <= b */
Datum
profile_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) <= 0);
}

/* a > b */
Datum
profile_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) > 0);
}

/* a >= b */
Datum
profile_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(compare_args(fcinfo) >= 0);
}

/* btree support: -1, 0 or 1. */
Datum
profile_cmp(PG_FUNCTION_ARGS)
{
	int			c = compare_args(fcinfo);

	PG_RETURN_INT32(c < 0 ? -1 : c > 0 ? 1 : 0);
}

/* hash support: hash_any of the body. */
Datum
profile_hash(PG_FUNCTION_ARGS)
{
	ProfileBody body;
	Datum		result;

	body_arg(fcinfo, 0, &body);
	result = hash_any(body.data, (int) body.len);
	if (body.timeline)
		result = UInt32GetDatum(hash_combine(DatumGetUInt32(result),
											 DatumGetUInt32(hash_any(body.timeline,
																	 (int) body.timeline_len))));
	free_body(fcinfo, 0, &body);
	return result;
}

/* hash support for hash partitioning: hash_any_extended of the body with a seed. */
Datum
profile_hash_extended(PG_FUNCTION_ARGS)
{
	ProfileBody body;
	Datum		result;

	body_arg(fcinfo, 0, &body);
	result = hash_any_extended(body.data, (int) body.len, PG_GETARG_INT64(1));
	if (body.timeline)
		result = UInt64GetDatum(hash_combine64(DatumGetUInt64(result),
											   DatumGetUInt64(hash_any_extended(body.timeline,
																				(int) body.timeline_len,
																				PG_GETARG_INT64(1)))));
	free_body(fcinfo, 0, &body);
	return result;
}
