/*
 * bytebuf.c
 *	  Growable output buffers and bounds-checked input cursors.
 */
#include "bytebuf.h"

#include <string.h>

/* Start an empty buffer with room for initial_capacity bytes. */
void
bytebuf_init(ByteBuf *buf, size_t initial_capacity)
{
	bytebuf_init_budget(buf, initial_capacity, NULL);
}

/* Start an empty buffer whose growth is charged to budget. */
void
bytebuf_init_budget(ByteBuf *buf, size_t initial_capacity, PPBudget *budget)
{
	if (initial_capacity < 64)
		initial_capacity = 64;
	pp_budget_charge(budget, initial_capacity);
	buf->data = pp_alloc(initial_capacity);
	buf->len = 0;
	buf->cap = initial_capacity;
	buf->budget = budget;
}

/* The error of an exceeded budget, naming what was being built. */
void
pp_budget_exceeded(const PPBudget *budget, size_t bytes)
{
	pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_output_bytes, or ask for less (max_nodes, a filter).",
				 "%s would exceed pg_pprof.max_output_bytes (%zu bytes)",
				 budget->what ? budget->what : "the result", budget->limit);
}

/*
 * Grow the buffer to hold extra more bytes (bytebuf_reserve's slow path).
 * A buffer with a budget never grows past what is left of it: doubling
 * stops at the budget's edge, and only a need beyond it raises the budget's
 * error.
 */
void
bytebuf_grow(ByteBuf *buf, size_t extra)
{
	size_t		need;
	size_t		cap = buf->cap;

	if (__builtin_add_overflow(buf->len, extra, &need))
		pp_error(PP_ERR_LIMIT, "buffer size overflows");
	if (need <= cap)
		return;
	while (cap < need)
		cap = pp_mul_size(cap, 2);
	if (buf->budget && buf->budget->limit)
	{
		size_t		left = buf->budget->limit - buf->budget->used;

		if (cap - buf->cap > left && need - buf->cap <= left)
			cap = buf->cap + left;
	}
	pp_budget_charge(buf->budget, cap - buf->cap);
	buf->data = pp_realloc(buf->data, cap);
	buf->cap = cap;
}

/* Start reading len bytes at data; errors are raised with error_kind. */
void
reader_init(ByteReader *r, const void *data, size_t len,
			PPErrorKind error_kind, const char *what)
{
	r->pos = data;
	r->end = r->pos + len;
	r->error_kind = error_kind;
	r->what = what;
}

/* Raise the reader's error for a problem found at its position. */
void
reader_fail(const ByteReader *r, const char *problem)
{
	pp_error(r->error_kind, "%s: %s", r->what, problem);
}

/* Read a multi-byte varint, rejecting truncated or over-long encodings. */
uint64_t
reader_varint_slow(ByteReader *r)
{
	uint64_t	value = 0;
	int			shift = 0;

	for (;;)
	{
		uint8_t		b;

		if (r->pos >= r->end)
			reader_fail(r, "truncated varint");
		b = *r->pos++;
		if (shift == 63 && b > 1)
			reader_fail(r, "varint out of range");
		value |= (uint64_t) (b & 0x7f) << shift;
		if (b < 0x80)
		{
			if (b == 0 && shift > 0)
				reader_fail(r, "over-long varint");
			return value;
		}
		shift += 7;
		if (shift > 63)
			reader_fail(r, "varint too long");
	}
}

/* Read a count that cannot exceed the bytes left (see bytebuf.h). */
uint32_t
reader_count(ByteReader *r, const char *what)
{
	uint64_t	n = reader_varint(r);

	if (n > reader_remaining(r) || n >= UINT32_MAX)
		pp_error(r->error_kind, "%s: %s count %llu exceeds the data", r->what, what,
				 (unsigned long long) n);
	return (uint32_t) n;
}

/* Take len bytes, or fail if fewer remain. */
const uint8_t *
reader_bytes(ByteReader *r, size_t len)
{
	const uint8_t *p = r->pos;

	if (len > reader_remaining(r))
		reader_fail(r, "length exceeds the remaining data");
	r->pos += len;
	return p;
}

/* Take one byte. */
uint8_t
reader_byte(ByteReader *r)
{
	if (r->pos >= r->end)
		reader_fail(r, "unexpected end of data");
	return *r->pos++;
}

/* Read a varint length and split that many bytes off into sub. */
void
reader_sub(ByteReader *r, ByteReader *sub, const char *what)
{
	uint64_t	len = reader_varint(r);
	const uint8_t *p;

	if (len > reader_remaining(r))
		reader_fail(r, "section length exceeds the remaining data");
	p = reader_bytes(r, (size_t) len);
	reader_init(sub, p, (size_t) len, r->error_kind, what);
}
