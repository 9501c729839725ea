/*
 * bytebuf.h
 *	  A growable output buffer and a bounds-checked input cursor, with the
 *	  varint and zigzag codings the storage format is built from.
 */
#ifndef BYTEBUF_H
#define BYTEBUF_H

#include "pp_core.h"

/* A growable byte buffer for writing. */
typedef struct ByteBuf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	PPBudget   *budget;			/* charged as the buffer grows, or NULL */
} ByteBuf;

/* A read cursor over bytes that may be hostile: every read is bounds-checked. */
typedef struct ByteReader
{
	const uint8_t *pos;
	const uint8_t *end;
	PPErrorKind error_kind;		/* what a short or bad read raises */
	const char *what;			/* names the data in error messages */
} ByteReader;

extern void bytebuf_init(ByteBuf *buf, size_t initial_capacity);
extern void bytebuf_init_budget(ByteBuf *buf, size_t initial_capacity, PPBudget *budget);
extern void bytebuf_grow(ByteBuf *buf, size_t extra);

/* Make room for extra more bytes (growing, and its limits, are out of line). */
static inline void
bytebuf_reserve(ByteBuf *buf, size_t extra)
{
	if (extra > buf->cap - buf->len)
		bytebuf_grow(buf, extra);
}

/* Append len bytes. */
static inline void
bytebuf_append(ByteBuf *buf, const void *data, size_t len)
{
	bytebuf_reserve(buf, len);
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
}

/* Append an unsigned LEB128 varint (1 to 10 bytes). */
static inline void
bytebuf_put_varint(ByteBuf *buf, uint64_t value)
{
	uint8_t    *out;

	bytebuf_reserve(buf, 10);
	out = buf->data + buf->len;
	while (value >= 0x80)
	{
		*out++ = (uint8_t) (value | 0x80);
		value >>= 7;
	}
	*out++ = (uint8_t) value;
	buf->len = (size_t) (out - buf->data);
}

/* Map a signed value to an unsigned one so that small magnitudes stay small. */
static inline uint64_t
zigzag_encode(int64_t v)
{
	return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

/* Undo zigzag_encode. */
static inline int64_t
zigzag_decode(uint64_t v)
{
	return (int64_t) (v >> 1) ^ -(int64_t) (v & 1);
}

/* Append a signed value as a zigzag varint. */
static inline void
bytebuf_put_svarint(ByteBuf *buf, int64_t value)
{
	bytebuf_put_varint(buf, zigzag_encode(value));
}

extern void reader_init(ByteReader *r, const void *data, size_t len,
						PPErrorKind error_kind, const char *what);
extern void reader_fail(const ByteReader *r, const char *problem) __attribute__((noreturn));
extern uint64_t reader_varint_slow(ByteReader *r);
extern const uint8_t *reader_bytes(ByteReader *r, size_t len);
extern uint8_t reader_byte(ByteReader *r);
extern void reader_sub(ByteReader *r, ByteReader *sub, const char *what);

/* Read one varint (the one- and two-byte cases inline, as they are the most common). */
static inline uint64_t
reader_varint(ByteReader *r)
{
	if (r->end - r->pos >= 2)
	{
		uint8_t		b0 = r->pos[0];
		uint8_t		b1 = r->pos[1];

		if (b0 < 0x80)
		{
			r->pos += 1;
			return b0;
		}
		if (b1 < 0x80 && b1 != 0)
		{
			r->pos += 2;
			return (uint64_t) (b0 & 0x7f) | ((uint64_t) b1 << 7);
		}
	}
	else if (r->pos < r->end && *r->pos < 0x80)
		return *r->pos++;
	return reader_varint_slow(r);
}

/* Read a zigzag varint. */
static inline int64_t
reader_svarint(ByteReader *r)
{
	return zigzag_decode(reader_varint(r));
}

/* Bytes left to read. */
static inline size_t
reader_remaining(const ByteReader *r)
{
	return (size_t) (r->end - r->pos);
}

/* A stored value times a value scale, checked for overflow. */
static inline int64_t
reader_scaled(const ByteReader *r, int64_t stored, uint64_t scale)
{
	int64_t		v;

	if (scale == 1)
		return stored;
	if (__builtin_mul_overflow(stored, (int64_t) scale, &v))
		reader_fail(r, "scaled value overflows bigint");
	return v;
}

/* Read a count of items that take a byte each at least: no more than the bytes left. */
extern uint32_t reader_count(ByteReader *r, const char *what);

#endif							/* BYTEBUF_H */
