/*
 * profile_encode.c
 *	  Call tree -> stored profile bytes (canonical order, zstd-compressed).
 *
 * The layout is described in profile_format.h.  Functions and files are
 * renumbered in byte order of their names and siblings are written in that
 * order, so equal trees always give equal bytes.
 */
#include "profile_format.h"
#include "bytebuf.h"

#include <string.h>
/* ZSTD_c_literalCompressionMode is in zstd's advanced API (1.5.4 has it) */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

/*
 * Give each marked id of an interner a new dense index in byte order of its
 * string.  used[id] is non-zero for ids to keep; new_index[id] receives the
 * index.  Returns the number kept and fills *order with the kept ids, sorted.
 * kept_ranks, when not NULL, are the interner's ranks already sorted
 * (symtab_keep_ranks); otherwise they are sorted here.
 */
static uint32_t
renumber_by_name(const StringInterner *in, const uint32_t *kept_ranks, const uint8_t *used,
				 uint32_t *new_index, uint32_t **order)
{
	uint32_t   *sorted = kept_ranks ? NULL : interner_ranks(in);
	const uint32_t *rank = kept_ranks ? kept_ranks : sorted;
	uint32_t   *by_rank = pp_alloc_array(in->count ? in->count : 1, sizeof(uint32_t));
	uint32_t	kept = 0;

	for (uint32_t id = 0; id < in->count; id++)
		by_rank[rank[id]] = id;
	pp_check_interrupts();
	*order = pp_alloc_array(in->count ? in->count : 1, sizeof(uint32_t));
	for (uint32_t r = 0; r < in->count; r++)
	{
		uint32_t	id = by_rank[r];

		if (!used[id])
			continue;
		new_index[id] = kept;
		(*order)[kept++] = id;
		PP_CHECK_INTERRUPTS_EVERY(r);
	}
	if (sorted)
		pp_free(sorted);
	pp_free(by_rank);
	return kept;
}

/* Write a list of strings as count, lengths, then the bytes. */
static void
put_string_list(ByteBuf *out, const StringInterner *in, const uint32_t *order, uint32_t n)
{
	bytebuf_put_varint(out, n);
	for (uint32_t i = 0; i < n; i++)
		bytebuf_put_varint(out, in->lengths[order[i]]);
	pp_check_interrupts();
	for (uint32_t i = 0; i < n; i++)
	{
		bytebuf_append(out, in->strings[order[i]], in->lengths[order[i]]);
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
}

/* Write one length-prefixed string. */
static void
put_string(ByteBuf *out, const char *s)
{
	size_t		len = strlen(s);

	bytebuf_put_varint(out, len);
	bytebuf_append(out, s, len);
}

/*
 * The largest value that divides every self value (1 if none is non-zero).
 * CPU profiles count in multiples of the period, so dividing by it makes
 * the value stream several times smaller and faster to read.
 */
static uint64_t
value_scale(const CallTree *tree)
{
	uint64_t	g = 0;

	for (uint32_t n = 0; n < tree->count && g != 1; n++)
	{
		int64_t		v = tree->nodes[n].self;

		if (v != 0)
			g = pp_gcd(g, pp_magnitude(v));
		if ((n & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	/*
	 * Only values of -2^63 alone give 2^63, which is out of the stored range
	 * (the reader checks scale <= INT64_MAX); half of it divides them too.
	 */
	if (g > (uint64_t) INT64_MAX)
		g /= 2;
	return g == 0 ? 1 : g;
}

/* Write the META section. */
static void
put_meta(ByteBuf *body, const ProfileMeta *meta, int64_t total, uint64_t scale)
{
	ByteBuf		sec;

	bytebuf_init(&sec, 128);
	put_string(&sec, meta->sample_type);
	put_string(&sec, meta->sample_unit);
	put_string(&sec, meta->period_type);
	put_string(&sec, meta->period_unit);
	bytebuf_put_svarint(&sec, meta->period);
	bytebuf_put_svarint(&sec, meta->start_ns);
	bytebuf_put_svarint(&sec, meta->end_ns);
	bytebuf_put_svarint(&sec, meta->duration_ns);
	bytebuf_put_svarint(&sec, meta->profile_count);
	bytebuf_put_svarint(&sec, total);
	bytebuf_put_varint(&sec, scale);
	bytebuf_put_varint(body, sec.len);
	bytebuf_append(body, sec.data, sec.len);
	pp_free(sec.data);
}

/* Append a finished stream as a length-prefixed block. */
static void
put_block(ByteBuf *out, ByteBuf *block)
{
	bytebuf_put_varint(out, block->len);
	bytebuf_append(out, block->data, block->len);
	pp_free(block->data);
}

/*
 * Write the SYMBOLS section for the symbols the tree uses, and return the
 * new index of each symbol id in *symbol_index.
 */
static void
put_symbols(ByteBuf *body, const CallTree *tree, uint32_t **symbol_index)
{
	const SymbolTable *st = tree->symbols;
	uint32_t	nsym_all = st->names.count;
	uint8_t    *sym_used = pp_alloc0(nsym_all ? nsym_all : 1);
	uint8_t    *file_used = pp_alloc0(st->files.count ? st->files.count : 1);
	uint32_t   *file_index = pp_alloc_array(st->files.count ? st->files.count : 1, sizeof(uint32_t));
	uint32_t   *sym_order;
	uint32_t   *file_order;
	uint32_t	nsym;
	uint32_t	nfile;
	ByteBuf		sec;

	*symbol_index = pp_alloc_array(nsym_all ? nsym_all : 1, sizeof(uint32_t));
	for (uint32_t n = 1; n < tree->count; n++)
	{
		uint32_t	s = tree->nodes[n].symbol;

		sym_used[s] = 1;
		if (st->file_of[s] != 0)
			file_used[st->file_of[s] - 1] = 1;
		PP_CHECK_INTERRUPTS_EVERY(n);
	}
	nsym = renumber_by_name(&st->names, st->name_ranks_count == nsym_all ? st->name_ranks : NULL,
							sym_used, *symbol_index, &sym_order);
	nfile = renumber_by_name(&st->files, st->file_ranks_count == st->files.count ? st->file_ranks : NULL,
							 file_used, file_index, &file_order);

	bytebuf_init(&sec, 1024);
	put_string_list(&sec, &st->files, file_order, nfile);
	put_string_list(&sec, &st->names, sym_order, nsym);
	for (uint32_t i = 0; i < nsym; i++)
	{
		uint32_t	f = st->file_of[sym_order[i]];

		bytebuf_put_varint(&sec, f == 0 ? 0 : file_index[f - 1] + 1);
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	put_block(body, &sec);
	pp_free(sym_used);
	pp_free(file_used);
	pp_free(file_index);
	pp_free(sym_order);
	pp_free(file_order);
}

/*
 * Write the TREE section: nodes in pre-order, siblings by new symbol index.
 * The walk uses an explicit stack so deep trees cannot overflow ours.
 */
static void
put_tree(ByteBuf *body, const CallTree *tree, const uint32_t *symbol_index, uint64_t scale,
		 uint32_t *preorder)
{
	uint32_t	count = tree->count;
	CallTreeChildren groups;
	uint32_t   *child_start;
	uint64_t   *children;
	uint32_t   *stack_node = pp_alloc_array(count, sizeof(uint32_t));
	uint32_t   *stack_next = pp_alloc_array(count, sizeof(uint32_t));
	uint32_t	depth = 0;
	uint32_t	prev_depth = 0;
	uint32_t	emitted = 0;
	ByteBuf		sec,
				steps,
				syms,
				selfs;

	calltree_sorted_children(tree, symbol_index, &groups);
	child_start = groups.child_start;
	children = groups.children;

	bytebuf_init(&steps, count + 16);
	bytebuf_init(&syms, (size_t) count * 2 + 16);
	bytebuf_init(&selfs, count + 16);

	stack_node[0] = CALLTREE_ROOT;
	stack_next[0] = child_start[0];
	if (preorder)
		preorder[CALLTREE_ROOT] = 0;
	depth = 1;					/* entries on the stack; the root is depth 0 */
	while (depth > 0)
	{
		uint32_t	top = depth - 1;
		uint32_t	parent = stack_node[top];

		if (stack_next[top] == child_start[parent + 1])
		{
			depth--;
			continue;
		}
		{
			uint64_t	entry = children[stack_next[top]++];
			uint32_t	n = (uint32_t) entry;
			uint32_t	node_depth = depth; /* children of the root are depth 1 */

			bytebuf_put_varint(&steps, prev_depth + 1 - node_depth);
			bytebuf_put_varint(&syms, entry >> 32);
			bytebuf_put_svarint(&selfs, tree->nodes[n].self / (int64_t) scale);
			if (preorder)
				preorder[n] = emitted + 1;
			prev_depth = node_depth;
			stack_node[depth] = n;
			stack_next[depth] = child_start[n];
			depth++;
			if ((++emitted & 0xfff) == 0)
				pp_check_interrupts();
		}
	}

	bytebuf_init(&sec, steps.len + syms.len + selfs.len + 64);
	bytebuf_put_svarint(&sec, tree->nodes[CALLTREE_ROOT].self / (int64_t) scale);
	bytebuf_put_varint(&sec, count - 1);
	put_block(&sec, &steps);
	put_block(&sec, &syms);
	put_block(&sec, &selfs);
	put_block(body, &sec);

	pp_free(child_start);
	pp_free(children);
	pp_free(stack_node);
	pp_free(stack_next);
}

static ZSTD_CCtx *cctx;

/* Bytes zstd compresses between chances to cancel (level 19 runs at 1 to 3 MB/s). */
#define COMPRESS_CHUNK ((size_t) 128 << 10)

/*
 * Compress src into one zstd frame at dst (room for ZSTD_compressBound),
 * recording its size in the frame header.  zstd is fed in chunks, so a
 * slow level over a large body can still be cancelled.  With raw_literals
 * the literals are not Huffman-coded: a little larger, and about a third
 * faster to decompress.  Returns the compressed size (see profile_format.h).
 */
size_t
profile_compress(uint8_t *dst, size_t capacity, const uint8_t *src, size_t len, int level,
				 bool raw_literals)
{
	ZSTD_outBuffer out = {dst, capacity, 0};
	size_t		fed = 0;
	size_t		rc;

	/* One compression context per process: creating one per value is slow. */
	if (cctx == NULL && (cctx = ZSTD_createCCtx()) == NULL)
		pp_error(PP_ERR_LIMIT, "out of memory creating a zstd context");
	rc = ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
	if (!ZSTD_isError(rc))
		rc = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level);
	/* an advanced parameter: a zstd that refuses it just compresses as usual */
	if (!ZSTD_isError(rc) && raw_literals)
		(void) ZSTD_CCtx_setParameter(cctx, ZSTD_c_literalCompressionMode, ZSTD_ps_disable);
	if (!ZSTD_isError(rc))
		rc = ZSTD_CCtx_setPledgedSrcSize(cctx, len);
	if (ZSTD_isError(rc))
		pp_error(PP_ERR_INTERNAL, "zstd setup failed: %s", ZSTD_getErrorName(rc));
	do
	{
		size_t		chunk = len - fed < COMPRESS_CHUNK ? len - fed : COMPRESS_CHUNK;
		ZSTD_inBuffer in = {src + fed, chunk, 0};
		ZSTD_EndDirective mode = fed + chunk == len ? ZSTD_e_end : ZSTD_e_continue;

		do
		{
			rc = ZSTD_compressStream2(cctx, &out, &in, mode);
			if (ZSTD_isError(rc))
				pp_error(PP_ERR_INTERNAL, "zstd compression failed: %s", ZSTD_getErrorName(rc));
		} while (mode == ZSTD_e_end ? rc != 0 : in.pos < in.size);
		fed += chunk;
		pp_check_interrupts();
	} while (fed < len);
	return out.pos;
}

/* The uncompressed body of a call tree (see profile_format.h). */
uint8_t *
profile_encode_body(const CallTree *tree, const ProfileLimits *limits, uint32_t *preorder,
					size_t *out_len)
{
	ByteBuf		body;
	uint32_t   *symbol_index;
	uint64_t	scale = value_scale(tree);

	bytebuf_init(&body, (size_t) tree->count * 4 + 1024);
	put_meta(&body, &tree->meta, calltree_total(tree), scale);
	put_symbols(&body, tree, &symbol_index);
	put_tree(&body, tree, symbol_index, scale, preorder);
	pp_free(symbol_index);
	if (body.len > limits->max_body_bytes)
		pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_input_bytes to store larger profiles.",
					 "profile body of %zu bytes exceeds pg_pprof.max_input_bytes (%zu)",
					 body.len, limits->max_body_bytes);
	*out_len = body.len;
	return body.data;
}

/* Encode a call tree into the stored form (without a varlena header). */
uint8_t *
profile_encode(const CallTree *tree, const ProfileLimits *limits, size_t *out_len)
{
	size_t		body_len;
	uint8_t    *body = profile_encode_body(tree, limits, NULL, &body_len);
	size_t		bound = ZSTD_compressBound(body_len);
	ByteBuf		out;
	size_t		zlen;

	bytebuf_init(&out, bound + 16);
	out.data[0] = PROFILE_FORMAT_VERSION;
	out.data[1] = PROFILE_FLAG_ZSTD;
	out.len = 2;
	bytebuf_put_varint(&out, body_len);
	bytebuf_reserve(&out, bound);
	zlen = profile_compress(out.data + out.len, bound, body, body_len, limits->zstd_level, false);
	if (zlen < body_len)
		out.len += zlen;
	else
	{
		/* Incompressible (tiny) bodies are stored raw. */
		out.data[1] = 0;
		memcpy(out.data + out.len, body, body_len);
		out.len += body_len;
	}
	pp_free(body);
	*out_len = out.len;
	return out.data;
}
