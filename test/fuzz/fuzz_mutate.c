/*
 * fuzz_mutate.c
 *	  Deterministic byte-level and protobuf-aware mutations.
 */
#include "fuzz_mutate.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FIELDS 200000
#define MAX_DEPTH 4

/* Abort on harness out-of-memory (harness bugs, not findings). */
static void *
xrealloc(void *p, size_t n)
{
	void	   *r = realloc(p, n ? n : 1);

	if (r == NULL)
		abort();
	return r;
}

/* Make room for extra more bytes. */
static void
bytes_reserve(Bytes *b, size_t extra)
{
	if (b->len + extra <= b->cap)
		return;
	while (b->cap < b->len + extra)
		b->cap = b->cap ? b->cap * 2 : 256;
	b->data = xrealloc(b->data, b->cap);
}

/* Replace the contents of b with a copy of data. */
void
bytes_set(Bytes *b, const uint8_t *data, size_t len)
{
	b->len = 0;
	bytes_append(b, data, len);
}

/* Append len bytes. */
void
bytes_append(Bytes *b, const void *data, size_t len)
{
	bytes_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
}

/* Release a byte vector. */
void
bytes_free(Bytes *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Seed the PRNG. */
void
rng_seed(Rng *rng, uint64_t seed)
{
	rng->state = seed;
}

/* Next 64 random bits (splitmix64). */
uint64_t
rng_next(Rng *rng)
{
	uint64_t	z = (rng->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A random number in [0, n); 0 when n is 0. */
uint64_t
rng_below(Rng *rng, uint64_t n)
{
	return n ? rng_next(rng) % n : 0;
}

/* FNV-1a, 64 bits. */
uint64_t
hash64(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t	h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* Decode a varint at p (bounded by end); 0 bytes consumed if malformed. */
static size_t
get_varint(const uint8_t *p, const uint8_t *end, uint64_t *value)
{
	uint64_t	v = 0;

	for (size_t i = 0; i < 10 && p + i < end; i++)
	{
		v |= (uint64_t) (p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80)
		{
			*value = v;
			return i + 1;
		}
	}
	return 0;
}

/* Encode a varint into out (10 bytes of room); returns its length. */
static size_t
put_varint(uint8_t *out, uint64_t v)
{
	size_t		n = 0;

	while (v >= 0x80)
	{
		out[n++] = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t) v;
	return n;
}

/* True if data[0..len) parses completely as protobuf fields. */
static int
parses_as_message(const uint8_t *data, size_t len)
{
	const uint8_t *p = data,
			   *end = data + len;

	while (p < end)
	{
		uint64_t	tag,
					v;
		size_t		n = get_varint(p, end, &tag);

		if (n == 0 || (tag >> 3) == 0)
			return 0;
		p += n;
		switch (tag & 7)
		{
			case 0:
				if ((n = get_varint(p, end, &v)) == 0)
					return 0;
				p += n;
				break;
			case 1:
			case 5:
				if ((size_t) (end - p) < ((tag & 7) == 1 ? 8u : 4u))
					return 0;
				p += (tag & 7) == 1 ? 8 : 4;
				break;
			case 2:
				if ((n = get_varint(p, end, &v)) == 0 || v > (uint64_t) (end - p - n))
					return 0;
				p += n + v;
				break;
			default:
				return 0;
		}
	}
	return 1;
}

/* Record one field. */
static void
add_ref(FieldIndex *index, const FieldRef *ref)
{
	if (index->count == index->cap)
	{
		index->cap = index->cap ? index->cap * 2 : 1024;
		index->refs = xrealloc(index->refs, index->cap * sizeof(FieldRef));
	}
	index->refs[index->count++] = *ref;
}

/* Index the fields of the message at base[off..off+len), recursing into LEN. */
static void
index_message(FieldIndex *index, const uint8_t *base, size_t off, size_t len, int depth)
{
	const uint8_t *p = base + off,
			   *end = base + off + len;

	while (p < end && index->count < MAX_FIELDS)
	{
		FieldRef	ref;
		uint64_t	tag,
					v;
		size_t		n = get_varint(p, end, &tag);

		if (n == 0)
			return;
		memset(&ref, 0, sizeof(ref));
		ref.tag_off = (uint32_t) (p - base);
		ref.wire_type = tag & 7;
		ref.field = (uint16_t) (tag >> 3);
		ref.depth = (uint8_t) depth;
		p += n;
		ref.val_off = (uint32_t) (p - base);
		if (ref.wire_type == 0 || ref.wire_type == 2)
		{
			if ((n = get_varint(p, end, &v)) == 0)
				return;
			ref.val_len = (uint32_t) n;
			p += n;
			if (ref.wire_type == 2)
			{
				if (v > (uint64_t) (end - p))
					return;
				ref.payload_len = (uint32_t) v;
				if (depth == 0 && ref.field == 6)
					index->top_strings++;
				add_ref(index, &ref);
				if (depth + 1 < MAX_DEPTH && v > 0 && parses_as_message(p, v))
					index_message(index, base, (size_t) (p - base), v, depth + 1);
				p += v;
				continue;
			}
		}
		else if (ref.wire_type == 1 || ref.wire_type == 5)
		{
			ref.val_len = ref.wire_type == 1 ? 8 : 4;
			if ((size_t) (end - p) < ref.val_len)
				return;
			p += ref.val_len;
		}
		else
			return;
		add_ref(index, &ref);
	}
}

/* Index the fields of a protobuf message (best effort, bounded). */
void
field_index_build(FieldIndex *index, const uint8_t *data, size_t len)
{
	memset(index, 0, sizeof(*index));
	if (len < UINT32_MAX)
		index_message(index, data, 0, len, 0);
}

/* Release a field index. */
void
field_index_free(FieldIndex *index)
{
	free(index->refs);
	memset(index, 0, sizeof(*index));
}

/* Values that tend to hit edge cases in ids, indexes, counts and lengths. */
static uint64_t
interesting_value(Rng *rng)
{
	static const uint64_t values[] = {
		0, 1, 2, 3, 7, 8, 15, 16, 127, 128, 255, 256, 4095, 4096, 65535, 65536,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, 0xffffffffffffffffULL, 0xfffffffffffffffeULL,
		1000000, 100000000
	};
	uint64_t	r = rng_below(rng, 4);

	if (r == 0)
		return rng_below(rng, 64);
	return values[rng_below(rng, sizeof(values) / sizeof(values[0]))];
}

/* Replace out[off..off+del) with ins[0..ins_len). */
static void
splice_bytes(Bytes *out, size_t off, size_t del, const uint8_t *ins, size_t ins_len)
{
	size_t		tail = out->len - off - del;

	bytes_reserve(out, ins_len);
	memmove(out->data + off + ins_len, out->data + off + del, tail);
	if (ins_len)
		memcpy(out->data + off, ins, ins_len);
	out->len = out->len - del + ins_len;
}

/* Rewrite the varint of a random varint or length field (ids, indexes, lengths). */
static void
tweak_field_varint(Rng *rng, const FieldIndex *index, Bytes *out, int lengths_only)
{
	const FieldRef *ref = NULL;
	uint8_t		buf[10];
	uint64_t	old = 0,
				v;

	for (int tries = 0; tries < 16 && index->count > 0; tries++)
	{
		const FieldRef *r = &index->refs[rng_below(rng, index->count)];

		if ((r->wire_type == 2 || (!lengths_only && r->wire_type == 0)) &&
			(size_t) r->val_off + r->val_len <= out->len)
		{
			ref = r;
			break;
		}
	}
	if (ref == NULL)
		return;
	(void) get_varint(out->data + ref->val_off, out->data + out->len, &old);
	switch (rng_below(rng, 4))
	{
		case 0:
			v = old + 1;
			break;
		case 1:
			v = old - 1;
			break;
		case 2:
			v = old + rng_below(rng, 64);
			break;
		default:
			v = interesting_value(rng);
			break;
	}
	splice_bytes(out, ref->val_off, ref->val_len, buf, put_varint(buf, v));
}

/* Copy a whole random field to just after another one (duplicate ids, extra samples). */
static void
duplicate_field(Rng *rng, const FieldIndex *index, Bytes *out)
{
	const FieldRef *ref;
	size_t		start,
				end;
	uint8_t    *copy;

	if (index->count == 0)
		return;
	ref = &index->refs[rng_below(rng, index->count)];
	start = ref->tag_off;
	end = (size_t) ref->val_off + ref->val_len + (ref->wire_type == 2 ? ref->payload_len : 0);
	if (end > out->len || ref->depth != 0)
		return;					/* nested copies would break the parent's length */
	copy = malloc(end - start);
	if (copy == NULL)
		abort();
	memcpy(copy, out->data + start, end - start);
	bytes_append(out, copy, end - start);
	free(copy);
}

/* Append a string and point drop_frames or keep_frames at it (or at any string). */
static void
add_frame_filter(Rng *rng, const FieldIndex *index, Bytes *out)
{
	static const char *const patterns[] = {
		".*", "runtime\\..*", "main\\..*", "(runtime|syscall)\\..*", "[[:alpha:]]+",
		"(", "a**", "", "x|", "[^/]*", ".*\\.(Lock|Unlock)", "^", "$", "\\"
	};
	const char *pat = patterns[rng_below(rng, sizeof(patterns) / sizeof(patterns[0]))];
	uint8_t		buf[24];
	size_t		n = 0;
	uint64_t	idx;

	if (rng_below(rng, 3) == 0 && index->top_strings > 1)
		idx = 1 + rng_below(rng, index->top_strings - 1);
	else
	{
		idx = index->top_strings;
		buf[n++] = 6 << 3 | 2;
		n += put_varint(buf + n, strlen(pat));
		bytes_append(out, buf, n);
		bytes_append(out, pat, strlen(pat));
		n = 0;
	}
	buf[n++] = (uint8_t) ((rng_below(rng, 4) == 0 ? 8 : 7) << 3);	/* keep or drop */
	n += put_varint(buf + n, idx);
	bytes_append(out, buf, n);
}

/* Apply one edit to out. */
static void
mutate_once(Rng *rng, Bytes *out, const FieldIndex *index, const uint8_t *other,
			size_t other_len, int is_pprof, int structural)
{
	uint8_t		buf[16];
	size_t		off = out->len ? rng_below(rng, out->len) : 0;
	uint64_t	kind = rng_below(rng, structural ? 12 : 7);

	switch (kind)
	{
		case 0:					/* flip 1-4 bits */
			for (uint64_t k = rng_below(rng, 4) + 1; k > 0 && out->len; k--)
				out->data[rng_below(rng, out->len)] ^= (uint8_t) (1u << rng_below(rng, 8));
			break;
		case 1:					/* set a byte to an edge value */
			if (out->len)
				out->data[off] = (uint8_t) interesting_value(rng);
			break;
		case 2:					/* insert random bytes */
			{
				size_t		n = 1 + rng_below(rng, sizeof(buf));

				for (size_t i = 0; i < n; i++)
					buf[i] = (uint8_t) rng_next(rng);
				splice_bytes(out, off, 0, buf, n);
				break;
			}
		case 3:					/* delete a range */
			splice_bytes(out, off, rng_below(rng, (out->len - off < 64 ? out->len - off : 64) + 1),
						 NULL, 0);
			break;
		case 4:					/* truncate */
			out->len = off;
			break;
		case 5:					/* splice: our prefix + another input's suffix */
			if (other && other_len)
			{
				size_t		from = rng_below(rng, other_len);

				out->len = off;
				bytes_append(out, other + from, other_len - from);
			}
			break;
		case 6:					/* write an edge-value varint over random bytes */
			{
				size_t		n = put_varint(buf, interesting_value(rng));

				if (off + n <= out->len)
					memcpy(out->data + off, buf, n);
				break;
			}
		case 7:
		case 8:					/* field value or length */
			tweak_field_varint(rng, index, out, 0);
			break;
		case 9:					/* field length only */
			tweak_field_varint(rng, index, out, 1);
			break;
		case 10:
			duplicate_field(rng, index, out);
			break;
		default:
			if (is_pprof)
				add_frame_filter(rng, index, out);
			else
				tweak_field_varint(rng, index, out, 0);
			break;
	}
}

/* Replace out with a mutation of in (1-3 stacked edits). */
void
mutate(Rng *rng, const uint8_t *in, size_t len, const FieldIndex *index,
	   const uint8_t *other, size_t other_len, int is_pprof, Bytes *out)
{
	uint64_t	edits = 1 + rng_below(rng, 3);

	bytes_set(out, in, len);
	for (uint64_t e = 0; e < edits; e++)
		/* the index describes the original bytes: only the first edit may use it */
		mutate_once(rng, out, index, other, other_len, is_pprof,
					e == 0 && index != NULL && index->count > 0);
}
