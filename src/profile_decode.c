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

/*
 * Read count, lengths and bytes of a strictly increasing string list.
 * Without check_utf8 the caller must check each string it keeps.
 */
static uint32_t
read_string_list(ByteReader *r, PPString **out, const char *what, bool check_utf8)
{
	uint32_t	n = reader_count(r, what);
	PPString   *list = pp_alloc_array(n ? n : 1, sizeof(PPString));

	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	len = reader_varint(r);

		if (len > reader_remaining(r))
			reader_fail(r, "string length exceeds the remaining data");
		list[i].len = (uint32_t) len;
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	for (uint32_t i = 0; i < n; i++)
	{
		list[i].data = (const char *) reader_bytes(r, list[i].len);
		if (check_utf8 && !utf8_is_clean(list[i].data, list[i].len))
			pp_error(PP_ERR_CORRUPT, "%s: %s name %u is not valid UTF-8",
					 r->what, what, i);
		if (i > 0 && bytes_compare(list[i - 1].data, list[i - 1].len,
								   list[i].data, list[i].len) >= 0)
			pp_error(PP_ERR_CORRUPT, "%s: %s names are not in strictly increasing order",
					 r->what, what);
		PP_CHECK_INTERRUPTS_EVERY(i);
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
	view->value_scale = reader_varint(&r);
	if (view->value_scale == 0 || view->value_scale > INT64_MAX)
		reader_fail(&r, "value scale out of range");
	if (reader_remaining(&r) != 0)
		reader_fail(&r, "trailing bytes");
	if (m->profile_count < 0)
		reader_fail(&r, "negative source profile count");
}

/*
 * Parse the SYMBOLS section.  check_names false defers the UTF-8 check of
 * function names to map_symbols (the merge path skips names it has seen).
 */
static void
read_symbols(ByteReader *body, ProfileView *view, bool check_names)
{
	ByteReader	r;

	reader_sub(body, &r, "profile symbols");
	view->file_count = read_string_list(&r, &view->files, "file", true);
	view->symbol_count = read_string_list(&r, &view->symbols, "function", check_names);
	view->symbol_file = pp_alloc_array(view->symbol_count ? view->symbol_count : 1,
									   sizeof(uint32_t));
	for (uint32_t i = 0; i < view->symbol_count; i++)
	{
		uint64_t	f = reader_varint(&r);

		if (f > view->file_count)
			reader_fail(&r, "file index out of range");
		view->symbol_file[i] = (uint32_t) f;
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	if (reader_remaining(&r) != 0)
		reader_fail(&r, "trailing bytes");
}

/*
 * Map every function of a decoded view into tree's symbol table; returns
 * the map from view function index to tree symbol.
 *
 * With a cache (the merge path), the names of the previous input, in name
 * order, are matched against this input's sorted names by a merge join:
 * a name byte-identical to one already interned needs neither hashing nor
 * a UTF-8 check (it was checked when first interned).  Other names are
 * checked here, since read_symbols deferred it.
 */
static uint32_t *
map_symbols(const ProfileView *view, CallTree *tree, SymbolCache *cache)
{
	SymbolTable *st = tree->symbols;
	uint32_t   *sym_map = pp_alloc_array(view->symbol_count ? view->symbol_count : 1,
										 sizeof(uint32_t));
	uint32_t	j = 0;

	for (uint32_t s = 0; s < view->symbol_count; s++)
	{
		const PPString *name = &view->symbols[s];
		uint32_t	f = view->symbol_file[s];
		const PPString *file = f ? &view->files[f - 1] : NULL;
		int			cmp = 1;

		if ((s & 0xfff) == 0xfff)
			pp_check_interrupts();
		while (cache && j < cache->count)
		{
			uint32_t	id = cache->ids[j];

			cmp = bytes_compare(st->names.strings[id], st->names.lengths[id],
								name->data, name->len);
			if (cmp >= 0)
				break;
			j++;
		}
		if (cache && j < cache->count && cmp == 0)
		{
			sym_map[s] = cache->ids[j++];
			if (file)
				symtab_set_file(st, sym_map[s], file->data, file->len);
			continue;
		}
		if (cache && !utf8_is_clean(name->data, name->len))
			pp_error(PP_ERR_CORRUPT, "profile symbols: function name %u is not valid UTF-8", s);
		sym_map[s] = symtab_intern(st, name->data, name->len,
								   file ? file->data : NULL, file ? file->len : 0);
	}
	if (cache)
	{
		if (cache->capacity < view->symbol_count)
		{
			cache->capacity = view->symbol_count;
			cache->ids = cache->ids ? pp_realloc(cache->ids, pp_mul_size(cache->capacity, sizeof(uint32_t)))
				: pp_alloc_array(cache->capacity, sizeof(uint32_t));
		}
		if (view->symbol_count > 0)
			memcpy(cache->ids, sym_map, sizeof(uint32_t) * view->symbol_count);
		cache->count = view->symbol_count;
	}
	return sym_map;
}

/*
 * Parse the TREE section, checking that depths form a tree, siblings are in
 * strictly increasing order and the values add up to the recorded total.
 * With into == NULL the nodes are stored in the view's arrays; otherwise
 * they are added straight into that tree (the merge path), and nothing is
 * stored per node.
 */
static void
read_tree(ByteReader *body, ProfileView *view, CallTree *into, SymbolCache *cache,
		  uint32_t **node_map)
{
	ByteReader	r,
				steps,
				syms,
				selfs;
	uint64_t	n64;
	uint32_t	n;
	uint32_t   *last_sibling;	/* per depth: last symbol + 1, 0 = none yet */
	uint32_t   *path = NULL;	/* per depth: the node in into */
	uint32_t   *sym_map = NULL;
	uint32_t	prev_depth = 0;
	int64_t		total;
	bool		fresh = false;	/* into is empty: every node is new, no lookups */

	reader_sub(body, &r, "profile tree");
	view->root_self = reader_scaled(&r, reader_svarint(&r), view->value_scale);
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
	if (into == NULL)
	{
		view->node_depth = pp_alloc_array(n ? n : 1, sizeof(uint32_t));
		view->node_symbol = pp_alloc_array(n ? n : 1, sizeof(uint32_t));
		view->node_self = pp_alloc_array(n ? n : 1, sizeof(int64_t));
	}
	else
	{
		sym_map = map_symbols(view, into, cache);
		path = pp_alloc_array((size_t) n + 1, sizeof(uint32_t));
		path[0] = CALLTREE_ROOT;
		if (node_map)
		{
			*node_map = pp_alloc_array((size_t) n + 1, sizeof(uint32_t));
			(*node_map)[0] = CALLTREE_ROOT;
		}
		fresh = into->count == 1;
		/*
		 * A merge (the path with a cache) starts from its first input: room
		 * for what later ones add (up to 3n, at most 256k nodes more), so
		 * the tree and its edge hash need not grow again and again.
		 */
		calltree_reserve(into, fresh && cache && n < UINT32_MAX / 2
						 ? n + (n < 87381 ? 3 * n : 262144) : n);
		into->nodes[CALLTREE_ROOT].self = pp_add_int64(into->nodes[CALLTREE_ROOT].self,
													   view->root_self);
	}
	last_sibling = pp_alloc0(pp_mul_size((size_t) n + 2, sizeof(uint32_t)));
	total = view->root_self;

	for (uint32_t i = 0; i < n; i++)
	{
		uint64_t	step = reader_varint(&steps);
		uint64_t	sym = reader_varint(&syms);
		int64_t		self = reader_scaled(&selfs, reader_svarint(&selfs), view->value_scale);
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
		if (__builtin_add_overflow(total, self, &total))
			reader_fail(&selfs, "values overflow bigint");
		if (into == NULL)
		{
			view->node_depth[i] = depth;
			view->node_symbol[i] = (uint32_t) sym;
			view->node_self[i] = self;
		}
		else
		{
			/* siblings were checked distinct: a fresh tree needs no lookups */
			uint32_t	node = fresh ? calltree_append_child(into, path[depth - 1], sym_map[sym])
				: calltree_child(into, path[depth - 1], sym_map[sym]);

			path[depth] = node;
			if (node_map)
				(*node_map)[i + 1] = node;
			if (self != 0)
				into->nodes[node].self = pp_add_int64(into->nodes[node].self, self);
		}
		prev_depth = depth;
		if ((i & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	if (reader_remaining(&steps) || reader_remaining(&syms) || reader_remaining(&selfs))
		reader_fail(&r, "trailing bytes in a node stream");
	if (total != view->total)
		pp_error(PP_ERR_CORRUPT, "profile tree: values do not add up to the recorded total");
	pp_free(last_sibling);
	if (path)
		pp_free(path);
	if (sym_map)
		pp_free(sym_map);
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

static ZSTD_DCtx *dctx;

/*
 * Where the parts of a stored value are, read from its header alone: no
 * decompression, and for the first and last time of a packed value's
 * timeline, no more than its first bytes.
 */
typedef struct StoredLayout
{
	uint8_t		version;
	uint8_t		flags;
	uint64_t	body_len;		/* uncompressed */
	const uint8_t *body_src;	/* the body as stored */
	size_t		body_src_len;
	uint32_t	points;			/* packed: timeline points, first and last time */
	int64_t		first;
	int64_t		last;
	const uint8_t *timeline;	/* packed: the timeline frame (to the end) */
	size_t		timeline_len;
} StoredLayout;

/*
 * Read the header of every format version this build reads (as tdigest
 * and hstore keep readers of their old formats, so a value written by an
 * older release stays readable):
 *
 *	 version 1: flags, varint body length, body (the rest).
 *	 version 2: flags, varint points, zigzag first and last point time,
 *	            varint body length, varint stored body length, body, then
 *	            the timeline frame (the rest; see profile_timeline.h).
 *
 * With header_only, the bytes may end after the times (a TOAST slice); with
 * body_only, a packed value's bytes may end after its body.
 */
static void
read_layout(ByteReader *r, StoredLayout *lay, bool header_only, bool body_only)
{
	uint64_t	stored;

	memset(lay, 0, sizeof(*lay));
	lay->version = reader_byte(r);
	if (lay->version != 1 && lay->version != PROFILE_FORMAT_PACKED)
		pp_error(PP_ERR_CORRUPT,
				 "profile value: unsupported format version %u (this build reads 1 to %u)",
				 lay->version, PROFILE_FORMAT_PACKED);
	lay->flags = reader_byte(r);
	if (lay->flags & ~PROFILE_KNOWN_FLAGS)
		reader_fail(r, "unknown format flags");
	if (lay->version == PROFILE_FORMAT_PACKED)
	{
		uint64_t	points = reader_varint(r);

		if (points == 0 || points >= UINT32_MAX)
			reader_fail(r, "timeline point count out of range");
		lay->points = (uint32_t) points;
		lay->first = reader_svarint(r);
		lay->last = reader_svarint(r);
		if (lay->first > lay->last)
			reader_fail(r, "timeline ends before it starts");
		if (header_only)
			return;
	}
	lay->body_len = reader_varint(r);
	stored = lay->version == 1 ? reader_remaining(r) : reader_varint(r);
	if (stored > reader_remaining(r))
		reader_fail(r, "body length exceeds the remaining data");
	lay->body_src_len = (size_t) stored;
	lay->body_src = reader_bytes(r, lay->body_src_len);
	if (lay->version == PROFILE_FORMAT_PACKED)
	{
		lay->timeline_len = reader_remaining(r);
		lay->timeline = reader_bytes(r, lay->timeline_len);
		if (lay->timeline_len == 0 && body_only)
			lay->timeline = NULL;
		else if (lay->timeline_len == 0)
			reader_fail(r, "packed value without its timeline");
	}
}

static ZSTD_DCtx *dctx;

/*
 * Decompress src (a zstd frame of exactly raw_len bytes), or take it as it
 * is when not compressed; what means the data in errors.
 */
const uint8_t *
profile_inflate(const uint8_t *src, size_t src_len, bool compressed, uint64_t raw_len,
				const ProfileLimits *limits, const char *what)
{
	uint8_t    *out;
	size_t		got;

	/* A length that does not describe the bytes is corruption, not a limit. */
	if (!compressed && src_len != raw_len)
		pp_error(PP_ERR_CORRUPT, "%s: length does not match the bytes that follow", what);
	if (compressed && ZSTD_findFrameCompressedSize(src, src_len) != src_len)
		pp_error(PP_ERR_CORRUPT, "%s: not exactly one zstd frame", what);
	if (compressed && ZSTD_getFrameContentSize(src, src_len) != raw_len)
		pp_error(PP_ERR_CORRUPT, "%s: compressed size does not match its header", what);
	if (raw_len > limits->max_body_bytes)
		pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_input_bytes to read larger profiles.",
					 "%s of %llu bytes exceeds pg_pprof.max_input_bytes (%zu)", what,
					 (unsigned long long) raw_len, limits->max_body_bytes);
	if (!compressed)
		return src;
	out = pp_alloc(raw_len ? (size_t) raw_len : 1);
	/* One decompression context per process: creating one per value is slow. */
	if (dctx == NULL && (dctx = ZSTD_createDCtx()) == NULL)
		pp_error(PP_ERR_LIMIT, "out of memory creating a zstd context");
	got = ZSTD_decompressDCtx(dctx, out, (size_t) raw_len, src, src_len);
	if (ZSTD_isError(got) || got != raw_len)
		pp_error(PP_ERR_CORRUPT, "%s: does not decompress", what);
	return out;
}

/* The body of a laid-out value, decompressed when it is compressed. */
static const uint8_t *
layout_body(const StoredLayout *lay, const ProfileLimits *limits, size_t *body_len,
			uint8_t **owned)
{
	bool		compressed = (lay->flags & PROFILE_FLAG_ZSTD) != 0;
	const uint8_t *body = profile_inflate(lay->body_src, lay->body_src_len, compressed,
										  lay->body_len, limits, "stored profile body");

	*body_len = (size_t) lay->body_len;
	*owned = compressed ? (uint8_t *) body : NULL;
	return body;
}

/*
 * Parse and check a body (the same in versions 1 and 2); nodes go to view's
 * arrays or into a tree.
 */
static void
decode_body(const uint8_t *raw, size_t raw_len, ProfileView *view, CallTree *into,
			SymbolCache *cache, uint32_t **node_map)
{
	ByteReader	body;

	reader_init(&body, raw, raw_len, PP_ERR_CORRUPT, "profile body");
	read_meta(&body, view);
	read_symbols(&body, view, into == NULL || cache == NULL);
	read_tree(&body, view, into, cache, node_map);
	skip_extensions(&body);
}

/*
 * Decode and validate stored bytes; nodes go to view's arrays or into a
 * tree.  A packed value's timeline frame is found but not read: the view
 * records where it is (profile_timeline.h reads and checks it).
 */
static void
decode_stored(const uint8_t *data, size_t len, const ProfileLimits *limits,
			  ProfileView *view, CallTree *into, SymbolCache *cache, uint32_t **node_map,
			  bool body_only)
{
	ByteReader	r;
	StoredLayout lay;
	const uint8_t *raw;
	size_t		raw_len;

	memset(view, 0, sizeof(*view));
	view->stored_bytes = len;
	reader_init(&r, data, len, PP_ERR_CORRUPT, "profile value");
	read_layout(&r, &lay, false, body_only);
	view->format_version = lay.version;
	view->timeline = lay.timeline;
	view->timeline_len = lay.timeline_len;
	view->timeline_points = lay.points;
	view->timeline_first = lay.first;
	view->timeline_last = lay.last;
	raw = layout_body(&lay, limits, &raw_len, &view->owned_body);
	decode_body(raw, raw_len, view, into, cache, node_map);
}

/* The body of stored bytes (see profile_format.h). */
const uint8_t *
profile_stored_body(const uint8_t *data, size_t len, const ProfileLimits *limits,
					size_t *body_len, uint8_t **owned)
{
	ByteReader	r;
	StoredLayout lay;

	reader_init(&r, data, len, PP_ERR_CORRUPT, "profile value");
	read_layout(&r, &lay, false, false);
	return layout_body(&lay, limits, body_len, owned);
}

/* A value's timeline span from its first bytes (see profile_format.h). */
bool
profile_stored_span(const uint8_t *data, size_t len, uint32_t *points, int64_t *first,
					int64_t *last)
{
	ByteReader	r;
	StoredLayout lay;

	reader_init(&r, data, len, PP_ERR_CORRUPT, "profile value");
	read_layout(&r, &lay, true, false);
	if (lay.version != PROFILE_FORMAT_PACKED)
		return false;
	*points = lay.points;
	*first = lay.first;
	*last = lay.last;
	return true;
}

/* How many leading bytes of a packed value hold its header and body (see profile_format.h). */
bool
profile_stored_body_end(const uint8_t *data, size_t len, size_t *end)
{
	ByteReader	r;
	uint64_t	stored;

	reader_init(&r, data, len, PP_ERR_CORRUPT, "profile value");
	if (reader_byte(&r) != PROFILE_FORMAT_PACKED)
		return false;
	(void) reader_byte(&r);		/* flags */
	(void) reader_varint(&r);	/* points */
	(void) reader_svarint(&r);	/* first and last time */
	(void) reader_svarint(&r);
	(void) reader_varint(&r);	/* body length */
	stored = reader_varint(&r);
	if (stored > SIZE_MAX - (size_t) (r.pos - data))
		reader_fail(&r, "body length out of range");
	*end = (size_t) (r.pos - data) + (size_t) stored;
	return true;
}

/* The plain value of a packed value's merge, from its bytes as stored (see profile_format.h). */
uint8_t *
profile_packed_to_plain(const uint8_t *data, size_t len, size_t *out_len)
{
	ByteReader	r;
	StoredLayout lay;
	ByteBuf		out;

	reader_init(&r, data, len, PP_ERR_CORRUPT, "profile value");
	read_layout(&r, &lay, false, true);
	if (lay.version != PROFILE_FORMAT_PACKED)
		pp_error(PP_ERR_INTERNAL, "profile_packed_to_plain called on a plain value");
	bytebuf_init(&out, lay.body_src_len + 16);
	bytebuf_append(&out, &(uint8_t) {PROFILE_FORMAT_VERSION}, 1);
	bytebuf_append(&out, &lay.flags, 1);
	bytebuf_put_varint(&out, lay.body_len);
	bytebuf_append(&out, lay.body_src, lay.body_src_len);
	*out_len = out.len;
	return out.data;
}

/* A packed value's timeline frame, unread (see profile_format.h). */
bool
profile_stored_timeline(const uint8_t *data, size_t len, const uint8_t **frame,
						size_t *frame_len)
{
	ByteReader	r;
	StoredLayout lay;

	reader_init(&r, data, len, PP_ERR_CORRUPT, "profile value");
	read_layout(&r, &lay, false, false);
	*frame = lay.timeline;
	*frame_len = lay.timeline_len;
	return lay.timeline != NULL;
}

/* Decode and fully validate stored bytes into view (the timeline is not read). */
void
profile_decode(const uint8_t *data, size_t len, const ProfileLimits *limits,
			   ProfileView *view)
{
	decode_stored(data, len, limits, view, NULL, NULL, NULL, false);
}

/*
 * Decode and fully validate stored bytes, adding the nodes straight into
 * tree (no per-node arrays).  view receives the metadata, symbols and
 * total; its node arrays stay empty.  With node_map, *node_map receives
 * per stored node (0 = the root, i = the i-th in pre-order) its node in
 * tree.  If the value is corrupt, tree may hold part of it when the error
 * is raised.
 */
void
profile_decode_into_tree(const uint8_t *data, size_t len, const ProfileLimits *limits,
						 ProfileView *view, CallTree *tree, SymbolCache *cache,
						 uint32_t **node_map)
{
	decode_stored(data, len, limits, view, tree, cache, node_map, true);
}

/*
 * Add every node of a decoded view into tree, mapping the view's function
 * indexes to the tree's symbol table.  With node_map (node_count + 1
 * entries) it records each stored node's node in tree, 0 for the root.
 */
void
profile_view_add_to_tree(const ProfileView *view, CallTree *tree, uint32_t *node_map)
{
	uint32_t   *sym_map = map_symbols(view, tree, NULL);
	uint32_t   *path = pp_alloc_array((size_t) view->node_count + 1, sizeof(uint32_t));

	path[0] = CALLTREE_ROOT;
	if (node_map)
		node_map[0] = CALLTREE_ROOT;
	tree->nodes[CALLTREE_ROOT].self = pp_add_int64(tree->nodes[CALLTREE_ROOT].self,
												   view->root_self);
	calltree_reserve(tree, view->node_count);
	for (uint32_t i = 0; i < view->node_count; i++)
	{
		uint32_t	depth = view->node_depth[i];
		uint32_t	node = calltree_child(tree, path[depth - 1], sym_map[view->node_symbol[i]]);

		path[depth] = node;
		if (node_map)
			node_map[i + 1] = node;
		if (view->node_self[i] != 0)
			tree->nodes[node].self = pp_add_int64(tree->nodes[node].self, view->node_self[i]);
		if ((i & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	pp_free(sym_map);
	pp_free(path);
}

/*
 * Decode and validate stored bytes straight into a new tree over a new
 * symbol table (no per-node arrays); view gets the metadata and symbols.
 */
CallTree *
profile_decode_to_tree(const uint8_t *data, size_t len, const ProfileLimits *limits,
					   ProfileView *view, uint32_t **node_map)
{
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));
	CallTree   *tree;

	symtab_init(symbols);
	tree = calltree_create(symbols);
	decode_stored(data, len, limits, view, tree, NULL, node_map, false);
	tree->meta = view->meta;
	return tree;
}

/* Free what decoding allocated for a view (its strings point into the body). */
void
profile_view_free(ProfileView *view)
{
	void	   *arrays[] = {view->files, view->symbols, view->symbol_file, view->node_depth,
		view->node_symbol, view->node_self, view->owned_body, view->meta.sample_type,
	view->meta.sample_unit, view->meta.period_type, view->meta.period_unit};

	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		if (arrays[i] != NULL)
			pp_free(arrays[i]);
	memset(view, 0, sizeof(*view));
}
