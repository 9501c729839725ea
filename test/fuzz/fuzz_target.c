/*
 * fuzz_target.c
 *	  Drive the plain C cores on one input and check what comes out.
 *
 * Options match the server's with pg_pprof.max_input_bytes = 64MB; frames
 * are dropped with POSIX extended regexes anchored as ^(...)$, as the
 * server does with its own regex engine.
 */
#include "fuzz_target.h"
#include "pp_standalone.h"
#include "pprof_split.h"
#include "export_folded.h"
#include "views.h"
#include "profile_format.h"
#include "profile_merge.h"
#include "profile_pack.h"
#include "profile.pb-c.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define FUZZ_MAX_INPUT ((size_t) 64 << 20)
#define FUZZ_MAX_DEPTH 65536
#define FUZZ_MAX_GROUP_TREES 4
#define FUZZ_MAX_OUTPUT ((size_t) 256 << 20)

/* Compiled drop_frames/keep_frames patterns, cached for one input. */
typedef struct RegexCache
{
	const char *drop_source;
	const char *keep_source;
	int			usable;
	int			has_drop;
	int			has_keep;
	regex_t		drop;
	regex_t		keep;
} RegexCache;

/* State of one run of the pipeline (lives in memory, so safe across longjmp). */
typedef struct Run
{
	const uint8_t *data;
	size_t		len;
	Bytes	   *stored;
	FuzzResult *result;
	int			decoded;		/* stored input: profile_decode accepted it */
} Run;

static RegexCache regexes;
static const ProfileLimits limits = {FUZZ_MAX_INPUT, 1};

/* Forget the compiled patterns of the previous input. */
static void
regex_reset(void)
{
	if (regexes.has_drop)
		regfree(&regexes.drop);
	if (regexes.has_keep)
		regfree(&regexes.keep);
	memset(&regexes, 0, sizeof(regexes));
}

/* Compile ^(pattern)$; false if it does not compile. */
static int
compile_anchored(regex_t *re, const char *pattern)
{
	size_t		n = strlen(pattern) + 5;
	char	   *anchored = malloc(n);
	int			rc;

	snprintf(anchored, n, "^(%s)$", pattern);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_NOSUB);
	free(anchored);
	return rc == 0;
}

/* True if name[0..len) matches re. */
static int
regex_matches(regex_t *re, const char *name, size_t len)
{
	char	   *s = malloc(len + 1);
	int			rc;

	memcpy(s, name, len);
	s[len] = '\0';
	rc = regexec(re, s, 0, NULL, 0);
	free(s);
	return rc == 0;
}

/* pprof's drop test: ^(drop)$ matches and ^(keep)$ does not; bad patterns disable it. */
static bool
fuzz_drop_frame(void *arg, const char *drop_re, const char *keep_re,
				const char *name, size_t name_len)
{
	RegexCache *rc = arg;

	if (rc->drop_source != drop_re || rc->keep_source != keep_re)
	{
		regex_reset();
		rc->drop_source = drop_re;
		rc->keep_source = keep_re;
		rc->has_drop = rc->usable = compile_anchored(&rc->drop, drop_re);
		if (rc->usable && keep_re != NULL)
			rc->has_keep = rc->usable = compile_anchored(&rc->keep, keep_re);
	}
	if (!rc->usable || !regex_matches(&rc->drop, name, name_len))
		return false;
	return !(rc->has_keep && regex_matches(&rc->keep, name, name_len));
}

/* Record a broken invariant (a finding, unlike a pp_error). */
static void
invariant(Run *run, int cond, const char *what)
{
	if (cond || run->result->invariant_failed)
		return;
	run->result->invariant_failed = 1;
	snprintf(run->result->message, sizeof(run->result->message), "invariant: %s", what);
}

/* Run the views (flame rows, filters, top, diff) over a tree and check totals. */
static void
exercise_views(Run *run, const CallTree *tree)
{
	uint32_t	nrows;
	uint32_t	nsym = tree->symbols->names.count;
	uint8_t    *flags = pp_alloc0(nsym + 1);
	FlameRow   *rows;
	CallTree   *filtered;
	CallTree   *both;
	int64_t    *right;
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));

	rows = flame_rows(tree, NULL, 0, NULL, &nrows);
	invariant(run, nrows == tree->count && rows[0].value == calltree_total(tree),
			  "untruncated flame rows differ from the tree");
	rows = flame_rows(tree, NULL, 7, NULL, &nrows);
	invariant(run, rows[0].value == calltree_total(tree), "truncation changed the total");
	(void) flame_top(tree, &nrows);
	for (uint32_t s = 0; s < nsym; s++)
		flags[s] = (s % 3 == 0 ? FLAME_HIDE : 0) | (s % 5 == 1 ? FLAME_FOCUS : 0) |
			(s % 11 == 2 ? FLAME_IGNORE : 0);
	filtered = flame_filter(tree, flags, true);
	(void) flame_rows(filtered, NULL, 3, NULL, &nrows);
	symtab_init(symbols);
	both = calltree_create(symbols);
	both->meta = tree->meta;
	profile_merge_tree(both, tree, NULL, NULL);
	both = flame_diff_tree(both, filtered, &right);
	rows = flame_rows(both, right, 5, NULL, &nrows);
	invariant(run, rows[0].value == calltree_total(tree), "diff changed the left total");
	invariant(run, rows[0].value_right == calltree_total(filtered), "diff changed the right total");
}

/* Arguments of a decode that must not fail. */
typedef struct MustDecode
{
	const uint8_t *bytes;
	size_t		len;
	ProfileView *view;
} MustDecode;

/* profile_decode on MustDecode's bytes. */
static void
decode_into(void *arg)
{
	MustDecode *m = arg;

	profile_decode(m->bytes, m->len, &limits, m->view);
}

/*
 * Decode bytes the encoder wrote: the writer and the reader must agree, so
 * any error here (CORRUPT above all) is a finding, not a clean rejection.
 */
static bool
decode_what_we_wrote(Run *run, const uint8_t *bytes, size_t len, ProfileView *view,
					 const char *what)
{
	MustDecode	m = {bytes, len, view};

	if (pp_standalone_run(decode_into, &m))
		return true;
	if (!run->result->invariant_failed)
	{
		run->result->invariant_failed = 1;
		snprintf(run->result->message, sizeof(run->result->message),
				 "writer and reader disagree: %s does not decode: %s %s", what,
				 pp_standalone_kind_name(pp_standalone_last_error()->kind),
				 pp_standalone_last_error()->message);
	}
	return false;
}

/* Encode a tree, decode it, rebuild it, and check the second encoding matches. */
static void
roundtrip(Run *run, const CallTree *tree, int keep)
{
	size_t		len,
				len2;
	uint8_t    *bytes;
	uint8_t    *bytes2;
	ProfileView view;
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));
	CallTree   *copy;

	calltree_check_invariants(tree);
	bytes = profile_encode(tree, &limits, &len);
	if (!decode_what_we_wrote(run, bytes, len, &view, "an encoded tree"))
		return;
	invariant(run, view.total == calltree_total(tree), "decoded total differs from the tree's");
	invariant(run, view.node_count == tree->count - 1, "decoded node count differs");
	symtab_init(symbols);
	copy = calltree_create(symbols);
	copy->meta = view.meta;
	profile_view_add_to_tree(&view, copy, NULL);
	calltree_check_invariants(copy);
	bytes2 = profile_encode(copy, &limits, &len2);
	invariant(run, len == len2 && memcmp(bytes, bytes2, len) == 0,
			  "re-encoding a decoded profile gives different bytes");
	exercise_views(run, copy);
	if (keep && run->stored)
		bytes_set(run->stored, bytes, len);
}

/* The label keys to split by: fixed ones plus the first sample's first key. */
static int
label_keys(const PprofFile *file, const char **keys)
{
	const Pprof__Profile *msg = file->msg;
	int			n = 0;

	keys[n++] = "endpoint";
	keys[n++] = "thread_id";
	keys[n++] = "bytes";
	if (msg->n_sample > 0 && msg->sample[0]->n_label > 0)
	{
		int64_t		k = msg->sample[0]->label[0]->key;

		if (k > 0 && (uint64_t) k < msg->n_string_table)
			keys[n++] = pp_strndup((const char *) msg->string_table[k].data,
								   msg->string_table[k].len);
	}
	return n;
}

/* The whole pprof pipeline on run->data. */
static void
run_pprof(void *arg)
{
	Run		   *run = arg;
	PprofOptions options = {FUZZ_MAX_INPUT, FUZZ_MAX_DEPTH, fuzz_drop_frame, &regexes};
	PprofFile  *file = pprof_open(run->data, run->len, &options);
	int			dflt = file->sample_type_count ? pprof_find_sample_type(file, NULL) : -1;
	const char *keys[4];
	int			nkeys = label_keys(file, keys);
	PprofSplit *split;
	PPBudget	budget = {0, FUZZ_MAX_OUTPUT, "pprof_split's groups"};

	for (uint32_t t = 0; t < file->sample_type_count; t++)
		roundtrip(run, pprof_build_tree(file, (int) t), (int) t == dflt);
	split = pprof_split_build(file, keys, nkeys, &budget);
	for (uint32_t g = 0; g < pprof_split_group_count(split) && g < FUZZ_MAX_GROUP_TREES; g++)
		for (uint32_t t = 0; t < file->sample_type_count; t++)
			roundtrip(run, pprof_split_tree(split, g, t), 0);
	split = pprof_split_build(file, NULL, 0, &budget);
	invariant(run, pprof_split_group_count(split) == 1, "no-key split must give one group");
	if (file->sample_type_count > 0)
		(void) pprof_find_sample_type(file, file->type_names[0]);
}

/* Finish a run: record the outcome and release everything it allocated. */
static void
finish(FuzzResult *result, bool ok)
{
	result->ok = ok;
	if (!ok)
	{
		const PPStandaloneError *e = pp_standalone_last_error();

		result->kind = e->kind;
		if (!result->invariant_failed)
			snprintf(result->message, sizeof(result->message), "%s", e->message);
		/* INTERNAL means "cannot happen": treat it as a finding */
		if (e->kind == PP_ERR_INTERNAL && !result->invariant_failed)
		{
			result->invariant_failed = 1;
			snprintf(result->message, sizeof(result->message), "internal error: %s", e->message);
		}
	}
	regex_reset();
	pp_standalone_free_all();
}

/* Run the pprof pipeline on one input. */
void
fuzz_pprof(const uint8_t *data, size_t len, Bytes *stored, FuzzResult *result)
{
	Run			run = {data, len, stored, result, 0};

	memset(result, 0, sizeof(*result));
	if (stored)
		stored->len = 0;
	finish(result, pp_standalone_run(run_pprof, &run));
}

/*
 * A packed value's timeline, read and checked as every reader of it does;
 * then, once it is accepted, what the readers build from it must hold:
 * every point is a tree that encodes and decodes, the points' totals sum
 * to the body's, and packing the value again keeps its points.
 */
static void
check_timeline(Run *run, const ProfileView *view)
{
	Timeline	tl;
	ProfileView tree_view;
	uint32_t   *map;
	CallTree   *tree;
	uint8_t    *pick;
	int64_t		sum = 0;
	ProfilePacker packer;
	uint8_t    *bytes;
	size_t		len;
	ProfileView again;

	timeline_decode(view, &limits, &tl);
	timeline_check_body(view, &tl);
	tree = profile_decode_to_tree(run->data, run->len, &limits, &tree_view, &map);
	timeline_check_tree(&tree_view, tree, map, &tl);
	run->decoded = 1;
	pick = pp_alloc0(tl.points);
	for (uint32_t p = 0; p < tl.points && p < 64; p++)
	{
		CallTree   *point;
		ProfileView pv;

		pick[p] = 1;
		point = timeline_points_tree(tree, map, &tl, pick);
		pick[p] = 0;
		calltree_check_invariants(point);
		bytes = profile_encode(point, &limits, &len);
		if (decode_what_we_wrote(run, bytes, len, &pv, "a point of a packed value"))
			sum = pp_add_int64(sum, pv.total);
	}
	if (tl.points <= 64)
		invariant(run, sum == view->total, "the points' totals do not sum to the packed total");
	profile_packer_init(&packer);
	profile_packer_add_stored(&packer, run->data, run->len, &limits, false, 0);
	bytes = profile_packer_encode(&packer, &limits, &len);
	if (decode_what_we_wrote(run, bytes, len, &again, "a packed value packed again"))
		invariant(run, again.timeline_points == tl.points && again.total == view->total,
				  "packing a packed value again changed its points or total");
}

/* Decode stored bytes; if they decode, rebuild, re-encode and decode again. */
static void
run_stored(void *arg)
{
	Run		   *run = arg;
	ProfileView view;
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));
	CallTree   *tree;
	uint8_t    *bytes;
	size_t		len;

	profile_decode(run->data, run->len, &limits, &view);
	if (view.timeline)
		check_timeline(run, &view);
	run->decoded = 1;
	symtab_init(symbols);
	tree = calltree_create(symbols);
	tree->meta = view.meta;
	profile_view_add_to_tree(&view, tree, NULL);
	invariant(run, calltree_total(tree) == view.total, "rebuilt total differs");
	bytes = profile_encode(tree, &limits, &len);
	profile_decode(bytes, len, &limits, &view);
	invariant(run, view.node_count == tree->count - 1, "re-decoded node count differs");
}

/* Run profile_decode (and a round trip when it succeeds) on one input. */
void
fuzz_stored(const uint8_t *data, size_t len, FuzzResult *result)
{
	Run			run = {data, len, NULL, result, 0};
	bool		ok;

	memset(result, 0, sizeof(*result));
	ok = pp_standalone_run(run_stored, &run);
	/* once profile_decode accepts a value, nothing after it may fail */
	if (!ok && run.decoded && !result->invariant_failed)
	{
		result->invariant_failed = 1;
		snprintf(result->message, sizeof(result->message), "unexpected %s after decode: %s",
				 pp_standalone_kind_name(pp_standalone_last_error()->kind),
				 pp_standalone_last_error()->message);
	}
	finish(result, ok);
}

/* Arguments of stored_packed's work. */
typedef struct PackOf
{
	const uint8_t *a;
	size_t		alen;
	const uint8_t *b;
	size_t		blen;
	Bytes	   *out;
} PackOf;

/* Pack a at two times and b at a third (b is skipped if it does not fit). */
static void
pack_of(void *arg)
{
	PackOf	   *p = arg;
	ProfilePacker packer;
	uint8_t    *bytes;
	size_t		len;
	const int64_t t0 = INT64_C(1700000000000000000);

	profile_packer_init(&packer);
	profile_packer_add_stored(&packer, p->a, p->alen, &limits, true, t0);
	profile_packer_add_stored(&packer, p->a, p->alen, &limits, true, t0 + INT64_C(60000000000));
	if (p->b)
		profile_packer_add_stored(&packer, p->b, p->blen, &limits, true, t0 + INT64_C(120000000000));
	bytes = profile_packer_encode(&packer, &limits, &len);
	bytes_set(p->out, bytes, len);
}

/* A packed value of stored values a and b (see fuzz_target.h). */
int
stored_packed(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, Bytes *out)
{
	PackOf		p = {a, alen, b, blen, out};
	bool		ok = pp_standalone_run(pack_of, &p);

	pp_standalone_free_all();
	if (!ok && b != NULL)
		return stored_packed(a, alen, NULL, 0, out);
	return ok;
}

/* The body of stored bytes (decompressed when zstd); false if not parseable. */
int
stored_body(const uint8_t *data, size_t len, Bytes *body)
{
	uint64_t	raw_len = 0;
	size_t		pos = 2;
	int			shift = 0;

	if (len < 3)
		return 0;
	while (pos < len && shift < 64)
	{
		raw_len |= (uint64_t) (data[pos] & 0x7f) << shift;
		shift += 7;
		if (data[pos++] < 0x80)
			break;
	}
	if (raw_len > FUZZ_MAX_INPUT)
		return 0;
	body->len = 0;
	if (!(data[1] & 1))
	{
		bytes_append(body, data + pos, len - pos);
		return 1;
	}
	{
		uint8_t    *tmp = malloc(raw_len ? raw_len : 1);
		size_t		got = ZSTD_decompress(tmp, raw_len, data + pos, len - pos);

		if (!ZSTD_isError(got))
			bytes_append(body, tmp, got);
		free(tmp);
		return !ZSTD_isError(got);
	}
}

/* Stored bytes around body: raw (flags 0) or zstd-compressed (level 1). */
void
stored_wrap(const uint8_t *body, size_t len, int zstd, Bytes *out)
{
	uint8_t		head[12];
	size_t		n = 2;
	uint64_t	v = len;

	head[0] = PROFILE_FORMAT_VERSION;
	head[1] = zstd ? PROFILE_FLAG_ZSTD : 0;
	while (v >= 0x80)
	{
		head[n++] = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	head[n++] = (uint8_t) v;
	bytes_set(out, head, n);
	if (!zstd)
	{
		bytes_append(out, body, len);
		return;
	}
	{
		size_t		bound = ZSTD_compressBound(len);
		uint8_t    *tmp = malloc(bound);
		size_t		z = ZSTD_compress(tmp, bound, body, len, 1);

		if (!ZSTD_isError(z))
			bytes_append(out, tmp, z);
		free(tmp);
	}
}

/* Run fn on run with the result recorded, as fuzz_pprof does. */
static void
run_target(void (*fn) (void *), const uint8_t *data, size_t len, FuzzResult *result)
{
	Run			run = {data, len, NULL, result, 0};

	memset(result, 0, sizeof(*result));
	finish(result, pp_standalone_run(fn, &run));
}

/* pprof decoding alone: every sample type's tree and the label split. */
static void
run_pprof_decode(void *arg)
{
	Run		   *run = arg;
	PprofOptions options = {FUZZ_MAX_INPUT, FUZZ_MAX_DEPTH, fuzz_drop_frame, &regexes};
	PprofFile  *file = pprof_open(run->data, run->len, &options);
	const char *keys[4];
	int			nkeys = label_keys(file, keys);
	PPBudget	budget = {0, FUZZ_MAX_OUTPUT, "pprof_split's groups"};
	PprofSplit *split;

	for (uint32_t t = 0; t < file->sample_type_count; t++)
		calltree_check_invariants(pprof_build_tree(file, (int) t));
	split = pprof_split_build(file, keys, nkeys, &budget);
	for (uint32_t g = 0; g < pprof_split_group_count(split) && g < FUZZ_MAX_GROUP_TREES; g++)
		for (uint32_t t = 0; t < file->sample_type_count; t++)
			calltree_check_invariants(pprof_split_tree(split, g, t));
}

/* pprof bytes -> trees and the label split (see fuzz_target.h). */
void
fuzz_pprof_decode(const uint8_t *data, size_t len, FuzzResult *result)
{
	run_target(run_pprof_decode, data, len, result);
}

/*
 * Two stored values through one merge, as the aggregate folds rows: the
 * second meets the first one's names in the symbol cache.  The input is a
 * varint length, the first value, and the second value.
 */
static void
run_merge_pair(void *arg)
{
	Run		   *run = arg;
	ProfileMerger merger;
	uint64_t	first = 0;
	size_t		pos = 0;
	int			shift = 0;
	size_t		len;
	uint8_t    *bytes;
	ProfileView view;

	while (pos < run->len && shift < 35)
	{
		first |= (uint64_t) (run->data[pos] & 0x7f) << shift;
		shift += 7;
		if (run->data[pos++] < 0x80)
			break;
	}
	if (first > run->len - pos)
		first = run->len - pos;
	profile_merger_init(&merger);
	profile_merger_add_stored(&merger, run->data + pos, (size_t) first, &limits);
	profile_merger_add_stored(&merger, run->data + pos + first, run->len - pos - first, &limits);
	profile_merger_check(&merger);
	bytes = profile_encode(merger.tree, &limits, &len);
	if (decode_what_we_wrote(run, bytes, len, &view, "a merge of two values"))
		invariant(run, view.total == calltree_total(merger.tree), "the merge's total changed");
}

/* Two stored values through one ProfileMerger (see fuzz_target.h). */
void
fuzz_merge_pair(const uint8_t *data, size_t len, FuzzResult *result)
{
	run_target(run_merge_pair, data, len, result);
}

/*
 * Folded text -> tree -> stored value, which must decode; its folded text
 * must parse back into the same stored value.
 */
static void
run_folded(void *arg)
{
	Run		   *run = arg;
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));
	CallTree   *tree;
	size_t		len,
				len2,
				text_len;
	uint8_t    *bytes,
			   *bytes2;
	char	   *text;
	ProfileView view;

	symtab_init(symbols);
	tree = folded_decode((const char *) run->data, run->len, symbols, FUZZ_MAX_DEPTH);
	calltree_check_invariants(tree);
	tree->meta.profile_count = 1;
	bytes = profile_encode(tree, &limits, &len);
	if (!decode_what_we_wrote(run, bytes, len, &view, "a folded profile"))
		return;
	text = folded_encode(&view, NULL, &text_len);
	symbols = pp_alloc(sizeof(SymbolTable));
	symtab_init(symbols);
	tree = folded_decode(text, text_len, symbols, FUZZ_MAX_DEPTH);
	tree->meta.profile_count = 1;
	bytes2 = profile_encode(tree, &limits, &len2);
	/* parsed names never hold ';' or a newline, so the text round-trips */
	invariant(run, len2 == len && memcmp(bytes, bytes2, len) == 0,
			  "folded text of a parsed profile does not parse back to it");
	invariant(run, memchr(text, '\0', text_len) == NULL, "folded text holds a NUL");
}

/* Folded text in and out (see fuzz_target.h). */
void
fuzz_folded(const uint8_t *data, size_t len, FuzzResult *result)
{
	run_target(run_folded, data, len, result);
}

/* Arguments of stored_folded's work. */
typedef struct FoldedOf
{
	const uint8_t *data;
	size_t		len;
	Bytes	   *out;
} FoldedOf;

/* Decode a stored value and write its folded text. */
static void
folded_of(void *arg)
{
	FoldedOf   *f = arg;
	ProfileView view;
	size_t		len;
	char	   *text;

	profile_decode(f->data, f->len, &limits, &view);
	text = folded_encode(&view, NULL, &len);
	bytes_set(f->out, (const uint8_t *) text, len);
}

/* The folded text of a stored value (see fuzz_target.h). */
int
stored_folded(const uint8_t *data, size_t len, Bytes *out)
{
	FoldedOf	f = {data, len, out};
	bool		ok = pp_standalone_run(folded_of, &f);

	pp_standalone_free_all();
	return ok;
}
