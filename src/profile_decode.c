/*
 * profile_decode.c
 *	  Stored profile bytes -> validated ProfileView, and view -> call tree.
 *
 * Stored values can come from COPY BINARY, text input or a damaged disk, so
 * everything is checked: lengths against the remaining bytes, counts before
 * allocating, indexes against their tables, canonical order, UTF-8, the
 * total, and trailing bytes.  A bad value raises PP_ERR_CORRUPT.
 */
#include "profile_format.h"
#include "bytebuf.h"
#include "utf8_text.h"

#include <string.h>
#include <zstd.h>

/* Read a length-prefixed UTF-8 string as a new NUL-terminated string. */
static char *
read_meta_string(ByteReader *r)
{
	uint64_t	len = reader_varint(r);
	const uint8_t *p;

	if (len > reader_remaining(r))
		reader_fail(r, "string length exceeds the remaining data");
	p = reader_bytes(r, (size_t) len);
	if (!utf8_is_clean((const char *) p, (size_t) len))
		reader_fail(r, "string is not valid UTF-8");
	return pp_strndup((const char *) p, (size_t) len);
}

/* Read a count that must not exceed the bytes left (each item takes one). */
static uint32_t
read_count(ByteReader *r, const char *what)
{
	uint64_t	n = reader_varint(r);

	if (n > reader_remaining(r) || n >= UINT32_MAX)
		pp_error(PP_ERR_CORRUPT, NULL, "%s: %s count %llu exceeds the data",
				 r->what, what, (unsigned long long) n);
	return (uint32_t) n;
}

/* Read count, lengths and bytes of a strictly increasing string list. */
static uint32_t
read_string_list(ByteReader *r, PPString **out, const char *what)
{
	uint32_t	n = read_count(r, what);
	PPString   *list = pp_alloc_array(n ? n : 1, sizeof(PPString));

	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	len = reader_varint(r);

		if (len > reader_remaining(r))
			reader_fail(r, "string length exceeds the remaining data");
		list[i].len = (uint32_t) len;
	}
	for (uint32_t i = 0; i < n; i++)
	{
		list[i].data = (const char *) reader_bytes(r, list[i].len);
		if (!utf8_is_clean(list[i].data, list[i].len))
			pp_error(PP_ERR_CORRUPT, NULL, "%s: %s name %u is not valid UTF-8",
					 r->what, what, i);
		if (i > 0 && bytes_compare(list[i - 1].data, list[i - 1].len,
								   list[i].data, list[i].len) >= 0)
			pp_error(PP_ERR_CORRUPT, NULL, "%s: %s names are not in strictly increasing order",
					 r->what, what);
	}
	*out = list;
	return n;
}

/* Parse the META section. */
static void
read_meta(ByteReader *body, ProfileView *view)
{
	ByteReader	r;
	ProfileMeta *m = &view->meta;

	reader_sub(body, &r, "profile metadata");
	m->sample_type = read_meta_string(&r);
	m->sample_unit = read_meta_string(&r);
	m->period_type = read_meta_string(&r);
	m->period_unit = read_meta_string(&r);
	m->period = reader_svarint(&r);
	m->start_ns = reader_svarint(&r);
	m->end_ns = reader_svarint(&r);
	m->duration_ns = reader_svarint(&r);
	m->profile_count = reader_svarint(&r);
	view->total = reader_svarint(&r);
	if (reader_remaining(&r) != 0)
		reader_fail(&r, "trailing bytes");
	if (m->profile_count < 0)
		reader_fail(&r, "negative source profile count");
}

/* Parse the SYMBOLS section. */
static void
read_symbols(ByteReader *body, ProfileView *view)
{
	ByteReader	r;

	reader_sub(body, &r, "profile symbols");
	view->file_count = read_string_list(&r, &view->files, "file");
	view->symbol_count = read_string_list(&r, &view->symbols, "function");
	view->symbol_file = pp_alloc_array(view->symbol_count ? view->symbol_count : 1,
									   sizeof(uint32_t));
	for (uint32_t i = 0; i < view->symbol_count; i++)
	{
		uint64_t	f = reader_varint(&r);

		if (f > view->file_count)
			reader_fail(&r, "file index out of range");
		view->symbol_file[i] = (uint32_t) f;
	}
	if (reader_remaining(&r) != 0)
		reader_fail(&r, "trailing bytes");
}

/*
 * Parse the TREE section, checking that depths form a tree, siblings are in
 * strictly increasing order and the values add up to the recorded total.
 */
static void
read_tree(ByteReader *body, ProfileView *view)
{
	ByteReader	r,
				steps,
				syms,
				selfs;
	uint64_t	n64;
	uint32_t	n;
	uint32_t   *last_sibling;	/* per depth: last symbol + 1, 0 = none yet */
	uint32_t	prev_depth = 0;
	int64_t		total;

	reader_sub(body, &r, "profile tree");
	view->root_self = reader_svarint(&r);
	n64 = reader_varint(&r);
	if (n64 >= UINT32_MAX)
		reader_fail(&r, "node count out of range");
	n = (uint32_t) n64;
	reader_sub(&r, &steps, "profile tree depths");
	reader_sub(&r, &syms, "profile tree functions");
	reader_sub(&r, &selfs, "profile tree values");
	if (reader_remaining(&r) != 0)
		reader_fail(&r, "trailing bytes");
	if (n > reader_remaining(&steps) || n > reader_remaining(&syms) ||
		n > reader_remaining(&selfs))
		reader_fail(&r, "node count exceeds the data");

	view->node_count = n;
	view->node_depth = pp_alloc_array(n ? n : 1, sizeof(uint32_t));
	view->node_symbol = pp_alloc_array(n ? n : 1, sizeof(uint32_t));
	view->node_self = pp_alloc_array(n ? n : 1, sizeof(int64_t));
	last_sibling = pp_alloc0(pp_mul_size((size_t) n + 2, sizeof(uint32_t)));
	total = view->root_self;

	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	step = reader_varint(&steps);
		uint64_t	sym = reader_varint(&syms);
		int64_t		self = reader_svarint(&selfs);
		uint32_t	depth;

		if (step > prev_depth)
			reader_fail(&steps, "depth step climbs above the root");
		depth = prev_depth + 1 - (uint32_t) step;
		if (sym >= view->symbol_count)
			reader_fail(&syms, "function index out of range");
		if (last_sibling[depth] != 0 && sym + 1 <= last_sibling[depth])
			reader_fail(&syms, "siblings are not in strictly increasing order");
		last_sibling[depth] = (uint32_t) sym + 1;
		last_sibling[depth + 1] = 0;
		view->node_depth[i] = depth;
		view->node_symbol[i] = (uint32_t) sym;
		view->node_self[i] = self;
		if (__builtin_add_overflow(total, self, &total))
			reader_fail(&selfs, "values overflow bigint");
		prev_depth = depth;
		if ((i & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	if (reader_remaining(&steps) || reader_remaining(&syms) || reader_remaining(&selfs))
		reader_fail(&r, "trailing bytes in a node stream");
	if (total != view->total)
		pp_error(PP_ERR_CORRUPT, NULL, "profile tree: values do not add up to the recorded total");
	pp_free(last_sibling);
}

/* Skip optional extension sections; none are defined yet. */
static void
skip_extensions(ByteReader *body)
{
	while (reader_remaining(body) > 0)
	{
		ByteReader	payload;

		(void) reader_varint(body); /* tag */
		reader_sub(body, &payload, "profile extension section");
	}
}

/* Decompress (or take as is) the body that follows the header. */
static const uint8_t *
read_body(ByteReader *r, uint8_t flags, const ProfileLimits *limits, size_t *body_len)
{
	uint64_t	raw_len = reader_varint(r);
	size_t		src_len = reader_remaining(r);
	const uint8_t *src = r->pos;
	uint8_t    *body;
	size_t		got;

	if (raw_len > limits->max_body_bytes)
		pp_error(PP_ERR_LIMIT, "Raise pg_pprof.max_input_bytes to read larger profiles.",
				 "stored profile body of %llu bytes exceeds pg_pprof.max_input_bytes (%zu)",
				 (unsigned long long) raw_len, limits->max_body_bytes);
	*body_len = (size_t) raw_len;
	if (!(flags & PROFILE_FLAG_ZSTD))
	{
		if (src_len != raw_len)
			reader_fail(r, "body length does not match");
		return src;
	}
	if (ZSTD_findFrameCompressedSize(src, src_len) != src_len)
		reader_fail(r, "compressed body is not exactly one zstd frame");
	if (ZSTD_getFrameContentSize(src, src_len) != raw_len)
		reader_fail(r, "compressed body size does not match its header");
	body = pp_alloc(raw_len ? (size_t) raw_len : 1);
	got = ZSTD_decompress(body, (size_t) raw_len, src, src_len);
	if (ZSTD_isError(got) || got != raw_len)
		reader_fail(r, "compressed body does not decompress");
	return body;
}

/* Decode and fully validate stored bytes into view. */
void
profile_decode(const uint8_t *data, size_t len, const ProfileLimits *limits,
			   ProfileView *view)
{
	ByteReader	r,
				body;
	uint8_t		version,
				flags;
	const uint8_t *raw;
	size_t		raw_len;

	memset(view, 0, sizeof(*view));
	view->stored_bytes = len;
	reader_init(&r, data, len, PP_ERR_CORRUPT, "profile value");
	version = reader_byte(&r);
	if (version != PROFILE_FORMAT_VERSION)
		pp_error(PP_ERR_CORRUPT, NULL,
				 "profile value: unsupported format version %u (this build reads %u)",
				 version, PROFILE_FORMAT_VERSION);
	flags = reader_byte(&r);
	if (flags & ~PROFILE_KNOWN_FLAGS)
		reader_fail(&r, "unknown format flags");
	raw = read_body(&r, flags, limits, &raw_len);

	reader_init(&body, raw, raw_len, PP_ERR_CORRUPT, "profile body");
	read_meta(&body, view);
	read_symbols(&body, view);
	read_tree(&body, view);
	skip_extensions(&body);
}

/*
 * Add every node of a decoded view into tree, mapping the view's function
 * indexes to the tree's symbol table.
 */
void
profile_view_add_to_tree(const ProfileView *view, CallTree *tree)
{
	uint32_t   *sym_map = pp_alloc_array(view->symbol_count ? view->symbol_count : 1,
										 sizeof(uint32_t));
	uint32_t   *path = pp_alloc_array((size_t) view->node_count + 1, sizeof(uint32_t));

	for (uint32_t s = 0; s < view->symbol_count; s++)
	{
		uint32_t	f = view->symbol_file[s];
		const PPString *file = f ? &view->files[f - 1] : NULL;

		sym_map[s] = symtab_intern(tree->symbols, view->symbols[s].data, view->symbols[s].len,
								   file ? file->data : NULL, file ? file->len : 0);
	}
	path[0] = CALLTREE_ROOT;
	tree->nodes[CALLTREE_ROOT].self = pp_add_int64(tree->nodes[CALLTREE_ROOT].self,
												   view->root_self);
	for (uint32_t i = 0; i < view->node_count; i++)
	{
		uint32_t	depth = view->node_depth[i];
		uint32_t	node = calltree_child(tree, path[depth - 1], sym_map[view->node_symbol[i]]);

		path[depth] = node;
		if (view->node_self[i] != 0)
			tree->nodes[node].self = pp_add_int64(tree->nodes[node].self, view->node_self[i]);
		if ((i & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	pp_free(sym_map);
	pp_free(path);
}

/* A new tree, over a new symbol table, holding a decoded profile. */
CallTree *
profile_view_to_tree(const ProfileView *view)
{
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));
	CallTree   *tree;

	symtab_init(symbols);
	tree = calltree_create(symbols);
	calltree_reserve(tree, view->node_count);
	profile_view_add_to_tree(view, tree);
	tree->meta = view->meta;
	return tree;
}
