/*
 * profile_timeline.c
 *	  A packed profile's timeline frame: encoding, reading with every check,
 *	  and trees of chosen points (the layout is in profile_timeline.h).
 */
#include "profile_timeline.h"
#include "bytebuf.h"

#include <stdlib.h>
#include <zlib.h>
#include <zstd.h>

/* The CRC-32 of len bytes (zlib's), in pieces zlib's 32-bit lengths allow. */
static uint32_t
checksum(const uint8_t *data, size_t len)
{
	uLong		crc = crc32(0L, Z_NULL, 0);

	while (len > 0)
	{
		uInt		chunk = len > (1U << 30) ? (1U << 30) : (uInt) len;

		crc = crc32(crc, data, chunk);
		data += chunk;
		len -= chunk;
	}
	return (uint32_t) crc;
}

/* The decompressed payload of a timeline frame, its checksum checked (see header). */
const uint8_t *
timeline_payload(const uint8_t *frame_data, size_t frame_len, const ProfileLimits *limits,
				 size_t *len)
{
	ByteReader	frame;
	const uint8_t *crc_bytes;
	uint32_t	crc;
	uint8_t		flags;
	uint64_t	raw_len;
	const uint8_t *raw;

	reader_init(&frame, frame_data, frame_len, PP_ERR_CORRUPT, "profile timeline");
	crc_bytes = reader_bytes(&frame, 4);
	crc = (uint32_t) crc_bytes[0] | (uint32_t) crc_bytes[1] << 8 |
		(uint32_t) crc_bytes[2] << 16 | (uint32_t) crc_bytes[3] << 24;
	flags = reader_byte(&frame);
	if (flags & ~PROFILE_FLAG_ZSTD)
		reader_fail(&frame, "unknown flags");
	raw_len = reader_varint(&frame);
	raw = profile_inflate(frame.pos, reader_remaining(&frame), (flags & PROFILE_FLAG_ZSTD) != 0,
						  raw_len, limits, "profile timeline");
	if (checksum(raw, (size_t) raw_len) != crc)
		pp_error(PP_ERR_CORRUPT, "profile timeline: checksum does not match");
	*len = (size_t) raw_len;
	return raw;
}

/* Read a packed value's timeline, checking everything but the sums (see header). */
void
timeline_decode(const ProfileView *view, const ProfileLimits *limits, Timeline *tl)
{
	ByteReader	payload,
				times,
				metas,
				counts,
				nodes,
				values;
	size_t		raw_len;
	const uint8_t *raw;
	uint64_t	scale;
	int64_t		time = 0;

	memset(tl, 0, sizeof(*tl));
	if (view->timeline == NULL)
		pp_error(PP_ERR_INTERNAL, "timeline_decode called on a plain value");
	raw = timeline_payload(view->timeline, view->timeline_len, limits, &raw_len);

	reader_init(&payload, raw, (size_t) raw_len, PP_ERR_CORRUPT, "profile timeline");
	tl->points = reader_count(&payload, "point");
	tl->entries = reader_count(&payload, "entry");
	scale = reader_varint(&payload);
	if (scale == 0 || scale > INT64_MAX)
		reader_fail(&payload, "value scale out of range");
	if (tl->points != view->timeline_points)
		reader_fail(&payload, "point count differs from the value's header");
	reader_sub(&payload, &times, "profile timeline times");
	reader_sub(&payload, &metas, "profile timeline metadata");
	reader_sub(&payload, &counts, "profile timeline counts");
	reader_sub(&payload, &nodes, "profile timeline nodes");
	reader_sub(&payload, &values, "profile timeline values");
	if (reader_remaining(&payload) != 0)
		reader_fail(&payload, "trailing bytes");
	if (tl->points > reader_remaining(&times) || tl->entries > reader_remaining(&nodes) ||
		tl->entries > reader_remaining(&values))
		reader_fail(&payload, "counts exceed the data");

	tl->time = pp_alloc_array(tl->points, sizeof(int64_t));
	tl->meta = pp_alloc0(pp_mul_size(tl->points, sizeof(ProfileMeta)));
	tl->first_entry = pp_alloc_array((size_t) tl->points + 1, sizeof(uint32_t));
	tl->node = pp_alloc_array(tl->entries ? tl->entries : 1, sizeof(uint32_t));
	tl->value = pp_alloc_array(tl->entries ? tl->entries : 1, sizeof(int64_t));
	tl->first_entry[0] = 0;
	for (uint32_t p = 0; p < tl->points; p++)
	{
		int64_t		step = reader_svarint(&times);
		uint64_t	count = reader_varint(&counts);
		ProfileMeta *m = &tl->meta[p];

		if (p > 0 && step <= 0)
			reader_fail(&times, "times are not strictly increasing");
		if (__builtin_add_overflow(time, step, &time))
			reader_fail(&times, "time out of range");
		tl->time[p] = time;
		m->start_ns = reader_svarint(&metas);
		m->end_ns = reader_svarint(&metas);
		m->duration_ns = reader_svarint(&metas);
		m->profile_count = (int64_t) reader_varint(&metas);
		m->period = reader_svarint(&metas);
		if (m->profile_count < 0)
			reader_fail(&metas, "source count out of range");
		if (count > tl->entries - tl->first_entry[p])
			reader_fail(&counts, "entries exceed the entry count");
		tl->first_entry[p + 1] = tl->first_entry[p] + (uint32_t) count;
		PP_CHECK_INTERRUPTS_EVERY(p);
	}
	if (tl->first_entry[tl->points] != tl->entries)
		reader_fail(&counts, "entries do not add up to the entry count");
	if (tl->time[0] != view->timeline_first || tl->time[tl->points - 1] != view->timeline_last)
		reader_fail(&times, "first or last time differs from the value's header");
	for (uint32_t p = 0; p < tl->points; p++)
	{
		uint64_t	node = 0;

		for (uint32_t e = tl->first_entry[p]; e < tl->first_entry[p + 1]; e++)
		{
			uint64_t	step = reader_varint(&nodes);

			if (e > tl->first_entry[p] && step == 0)
				reader_fail(&nodes, "nodes of a point are not strictly increasing");
			if (step > (uint64_t) view->node_count - node)
				reader_fail(&nodes, "node out of range");
			node += step;
			tl->node[e] = (uint32_t) node;
			tl->value[e] = reader_scaled(&values, reader_svarint(&values), scale);
			PP_CHECK_INTERRUPTS_EVERY(e);
		}
	}
	if (reader_remaining(&times) || reader_remaining(&metas) || reader_remaining(&counts) ||
		reader_remaining(&nodes) || reader_remaining(&values))
		reader_fail(&payload, "trailing bytes in a stream");
	if (raw < view->timeline || raw >= view->timeline + view->timeline_len)
		pp_free((void *) raw);
}

/* Free a decoded timeline's arrays. */
void
timeline_free(Timeline *tl)
{
	void	   *arrays[] = {tl->time, tl->meta, tl->first_entry, tl->node, tl->value};

	for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); i++)
		if (arrays[i] != NULL)
			pp_free(arrays[i]);
	memset(tl, 0, sizeof(*tl));
}

/*
 * Check the timeline's sums: per stored node (0 the root), its values over
 * the points against self_of(node), and the source counts against the
 * body's.
 */
static void
check_sums(const ProfileView *view, const Timeline *tl, const CallTree *tree,
		   const uint32_t *node_map)
{
	int64_t    *sum = pp_alloc0(pp_mul_size((size_t) view->node_count + 1, sizeof(int64_t)));
	int64_t		profiles = 0;

	for (uint32_t e = 0; e < tl->entries; e++)
	{
		if (__builtin_add_overflow(sum[tl->node[e]], tl->value[e], &sum[tl->node[e]]))
			pp_error(PP_ERR_CORRUPT, "profile timeline: values overflow bigint");
		PP_CHECK_INTERRUPTS_EVERY(e);
	}
	for (uint32_t i = 0; i <= view->node_count; i++)
	{
		int64_t		self = tree ? tree->nodes[node_map[i]].self
			: i == 0 ? view->root_self : view->node_self[i - 1];

		if (sum[i] != self)
			pp_error(PP_ERR_CORRUPT, "profile timeline: values do not add up to the body's");
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	for (uint32_t p = 0; p < tl->points; p++)
		if (__builtin_add_overflow(profiles, tl->meta[p].profile_count, &profiles))
			pp_error(PP_ERR_CORRUPT, "profile timeline: source counts overflow");
	if (profiles != view->meta.profile_count)
		pp_error(PP_ERR_CORRUPT, "profile timeline: source counts do not add up to the body's");
	pp_free(sum);
}

/* Check the timeline's sums against the body's node arrays (see header). */
void
timeline_check_body(const ProfileView *view, const Timeline *tl)
{
	check_sums(view, tl, NULL, NULL);
}

/* Check the timeline's sums against the value's own tree (see header). */
void
timeline_check_tree(const ProfileView *view, const CallTree *tree, const uint32_t *node_map,
					const Timeline *tl)
{
	check_sums(view, tl, tree, node_map);
}

/* An entry to sort: a stored node number and its value. */
typedef struct Entry
{
	uint32_t	node;
	int64_t		value;
} Entry;

/* qsort comparator: entries by node. */
static int
compare_entries(const void *a, const void *b)
{
	uint32_t	x = ((const Entry *) a)->node;
	uint32_t	y = ((const Entry *) b)->node;

	return (x > y) - (x < y);
}

/*
 * The payload of a timeline over tree node numbers: entries renumbered in
 * pre-order, sorted, and repeats summed.
 */
static void
put_payload(ByteBuf *out, const Timeline *tl, const uint32_t *preorder)
{
	ByteBuf		times,
				metas,
				counts,
				nodes,
				values;
	Entry	   *entries = pp_alloc_array(tl->entries ? tl->entries : 1, sizeof(Entry));
	uint32_t   *kept = pp_alloc_array((size_t) tl->points + 1, sizeof(uint32_t));
	uint32_t	total = 0;
	uint64_t	scale = 0;
	int64_t		prev_time = 0;

	/* renumber, sort and sum each point's entries in place */
	for (uint32_t p = 0; p < tl->points; p++)
	{
		uint32_t	from = tl->first_entry[p],
					to = tl->first_entry[p + 1],
					n = 0;
		Entry	   *e = entries + total;

		for (uint32_t i = from; i < to; i++)
		{
			e[i - from].node = preorder[tl->node[i]];
			e[i - from].value = tl->value[i];
		}
		qsort(e, to - from, sizeof(Entry), compare_entries);
		for (uint32_t i = 0; i < to - from; i++)
		{
			if (n > 0 && e[n - 1].node == e[i].node)
				e[n - 1].value = pp_add_int64(e[n - 1].value, e[i].value);
			else
				e[n++] = e[i];
		}
		for (uint32_t i = 0; i < n; i++)
			if (e[i].value != 0 && scale != 1)
				scale = pp_gcd(scale, pp_magnitude(e[i].value));
		kept[p] = n;
		total += n;
		pp_check_interrupts();
	}
	if (scale > (uint64_t) INT64_MAX)
		scale /= 2;				/* only -2^63 alone: half of it divides it too */
	if (scale == 0)
		scale = 1;

	bytebuf_init(&times, (size_t) tl->points * 3 + 16);
	bytebuf_init(&metas, (size_t) tl->points * 12 + 16);
	bytebuf_init(&counts, (size_t) tl->points * 2 + 16);
	bytebuf_init(&nodes, (size_t) total * 2 + 16);
	bytebuf_init(&values, (size_t) total * 2 + 16);
	for (uint32_t p = 0, e = 0; p < tl->points; p++)
	{
		const ProfileMeta *m = &tl->meta[p];
		uint32_t	prev_node = 0;
		int64_t		step;

		if (__builtin_sub_overflow(tl->time[p], prev_time, &step) || (p > 0 && step <= 0))
			pp_error(PP_ERR_BAD_ARGUMENT, "timeline times must increase and lie within 292 years of each other");
		bytebuf_put_svarint(&times, step);
		prev_time = tl->time[p];
		bytebuf_put_svarint(&metas, m->start_ns);
		bytebuf_put_svarint(&metas, m->end_ns);
		bytebuf_put_svarint(&metas, m->duration_ns);
		bytebuf_put_varint(&metas, (uint64_t) m->profile_count);
		bytebuf_put_svarint(&metas, m->period);
		bytebuf_put_varint(&counts, kept[p]);
		for (uint32_t i = 0; i < kept[p]; i++, e++)
		{
			bytebuf_put_varint(&nodes, entries[e].node - prev_node);
			prev_node = entries[e].node;
			bytebuf_put_svarint(&values, entries[e].value / (int64_t) scale);
		}
		PP_CHECK_INTERRUPTS_EVERY(p);
	}
	bytebuf_put_varint(out, tl->points);
	bytebuf_put_varint(out, total);
	bytebuf_put_varint(out, scale);
	{
		ByteBuf    *streams[] = {&times, &metas, &counts, &nodes, &values};

		for (int i = 0; i < 5; i++)
		{
			bytebuf_put_varint(out, streams[i]->len);
			bytebuf_append(out, streams[i]->data, streams[i]->len);
			pp_free(streams[i]->data);
		}
	}
	pp_free(entries);
	pp_free(kept);
}

/*
 * Append src as stored bytes: one zstd frame, or raw when that is not
 * smaller (raw_literals: see profile_compress).
 */
static bool
put_compressed(ByteBuf *out, const uint8_t *src, size_t len, int level, bool raw_literals)
{
	size_t		bound = ZSTD_compressBound(len);
	size_t		zlen;

	bytebuf_reserve(out, bound);
	zlen = profile_compress(out->data + out->len, bound, src, len, level, raw_literals);
	if (zlen < len)
	{
		out->len += zlen;
		return true;
	}
	bytebuf_append(out, src, len);
	return false;
}

/* Encode a packed value (see header). */
uint8_t *
profile_encode_packed(const CallTree *tree, const Timeline *tl, const ProfileLimits *limits,
					  size_t *out_len)
{
	uint32_t   *preorder = pp_alloc_array(tree->count, sizeof(uint32_t));
	size_t		body_len;
	uint8_t    *body = profile_encode_body(tree, limits, preorder, &body_len);
	ByteBuf		payload,
				frame,
				out;
	uint32_t	crc;
	size_t		flags_at;

	if (tl->points == 0)
		pp_error(PP_ERR_INTERNAL, "a packed value needs at least one point");
	bytebuf_init(&payload, (size_t) tl->entries * 4 + 64);
	put_payload(&payload, tl, preorder);
	pp_free(preorder);
	if (payload.len > limits->max_body_bytes)
		pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_input_bytes, or pack fewer profiles into one value.",
					 "profile timeline of %zu bytes exceeds pg_pprof.max_input_bytes (%zu)",
					 payload.len, limits->max_body_bytes);
	crc = checksum(payload.data, payload.len);

	bytebuf_init(&frame, payload.len / 2 + 64);
	for (int i = 0; i < 4; i++)
		bytebuf_append(&frame, &(uint8_t) {(uint8_t) (crc >> (8 * i))}, 1);
	flags_at = frame.len;
	bytebuf_append(&frame, "", 1);
	bytebuf_put_varint(&frame, payload.len);
	if (put_compressed(&frame, payload.data, payload.len, limits->zstd_level, false))
		frame.data[flags_at] = PROFILE_FLAG_ZSTD;
	pp_free(payload.data);

	bytebuf_init(&out, body_len / 2 + frame.len + 64);
	bytebuf_append(&out, &(uint8_t) {PROFILE_FORMAT_PACKED}, 1);
	flags_at = out.len;
	bytebuf_append(&out, "", 1);
	bytebuf_put_varint(&out, tl->points);
	bytebuf_put_svarint(&out, tl->time[0]);
	bytebuf_put_svarint(&out, tl->time[tl->points - 1]);
	bytebuf_put_varint(&out, body_len);
	{
		/* the stored body's length precedes it: compress aside, then copy */
		ByteBuf		stored;

		bytebuf_init(&stored, body_len / 2 + 64);
		/*
		 * Every long window decompresses the body, while the timeline is
		 * read only by slices: the body is compressed for speed.
		 */
		if (put_compressed(&stored, body, body_len, limits->zstd_level, true))
			out.data[flags_at] = PROFILE_FLAG_ZSTD;
		bytebuf_put_varint(&out, stored.len);
		bytebuf_append(&out, stored.data, stored.len);
		pp_free(stored.data);
	}
	bytebuf_append(&out, frame.data, frame.len);
	pp_free(frame.data);
	pp_free(body);
	*out_len = out.len;
	return out.data;
}

/* The tree of the chosen points (see header). */
CallTree *
timeline_points_tree(const CallTree *tree, const uint32_t *node_map, const Timeline *tl,
					 const uint8_t *pick)
{
	int64_t    *self = pp_alloc0(pp_mul_size(tree->count, sizeof(int64_t)));
	uint8_t    *keep = pp_alloc0(tree->count);
	ProfileMeta meta = tree->meta;
	bool		first = true;
	CallTree   *result;

	meta.start_ns = meta.end_ns = meta.duration_ns = meta.profile_count = meta.period = 0;
	for (uint32_t p = 0; p < tl->points; p++)
	{
		const ProfileMeta *m = &tl->meta[p];

		if (!pick[p])
			continue;
		/* as merging the points' sources would: the first one's numbers, then folded */
		if (first)
		{
			meta.start_ns = m->start_ns;
			meta.end_ns = m->end_ns;
			meta.duration_ns = m->duration_ns;
			meta.profile_count = m->profile_count;
			meta.period = m->period;
		}
		else
			profile_meta_merge_numbers(&meta, m);
		first = false;
		for (uint32_t e = tl->first_entry[p]; e < tl->first_entry[p + 1]; e++)
		{
			uint32_t	n = node_map[tl->node[e]];

			self[n] = pp_add_int64(self[n], tl->value[e]);
			while (n != CALLTREE_ROOT && !keep[n])
			{
				keep[n] = 1;
				n = tree->nodes[n].parent;
			}
		}
		pp_check_interrupts();
	}
	result = calltree_subset(tree, keep, self);
	result->meta = meta;
	pp_free(self);
	pp_free(keep);
	return result;
}
