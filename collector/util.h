/*
 * util.h
 *	  Small helpers shared by the collector: growable buffers, clocks,
 *	  sizes and durations, UUIDs, base64, bounded gunzip and strings.
 *
 * Everything here uses malloc and aborts on out-of-memory (the collector
 * cannot do anything useful without memory); the pprof cores use their
 * own allocator (core_host.c).
 */
#ifndef COLLECTOR_UTIL_H
#define COLLECTOR_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* A growable byte buffer; data is always NUL-terminated for convenience. */
typedef struct Buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} Buf;

extern void *xmalloc(size_t size);
extern void *xcalloc(size_t count, size_t size);
extern void *xrealloc(void *ptr, size_t size);
extern char *xstrdup(const char *s);
extern char *xstrndup(const char *s, size_t len);
extern char *xprintf(const char *fmt,...) __attribute__((format(printf, 1, 2)));

extern void buf_init(Buf *b);
extern void buf_free(Buf *b);
extern void buf_reserve(Buf *b, size_t extra);
extern void buf_append(Buf *b, const void *data, size_t len);
extern void buf_append_str(Buf *b, const char *s);
extern void buf_printf(Buf *b, const char *fmt,...) __attribute__((format(printf, 2, 3)));
/* Hand the bytes over to the caller and leave the buffer empty. */
extern uint8_t *buf_steal(Buf *b, size_t *len);

/* Seconds on a monotonic clock. */
extern double mono_now(void);
/* Microseconds since the Unix epoch. */
extern int64_t wall_now_us(void);
/* Format Unix microseconds as PostgreSQL timestamptz text (UTC). */
extern void format_timestamp_us(int64_t us, char *out, size_t outlen);
/* Format Unix microseconds as RFC 3339 with milliseconds (for logs). */
extern void format_log_time(int64_t us, char *out, size_t outlen);

/* "16MB", "512kB", "1GB", "1024": bytes (1024-based units); false if malformed. */
extern bool parse_size(const char *text, uint64_t *bytes);
/* "200ms", "15s", "2m", "1h", "30": milliseconds (a bare number is seconds). */
extern bool parse_duration_ms(const char *text, uint64_t *ms);
/* "on"/"off", "true"/"false", "yes"/"no", "1"/"0". */
extern bool parse_bool(const char *text, bool *value);

/* Fill out with a random (version 4) UUID. */
extern void uuid_random(uint8_t out[16]);
/* Format a UUID as 36 characters plus NUL. */
extern void uuid_format(const uint8_t id[16], char out[37]);

/* Decode standard or URL-safe base64, padded or not; NULL if malformed. */
extern uint8_t *base64_decode(const char *text, size_t len, size_t *out_len);

/*
 * Inflate one gzip member of data into out, refusing more than max_bytes;
 * returns NULL on success or a static reason.
 */
extern const char *gunzip_bounded(const uint8_t *data, size_t len, size_t max_bytes, Buf *out);

/* True when data starts with the gzip magic bytes. */
extern bool is_gzip(const uint8_t *data, size_t len);

/* Compare two byte strings in time that depends only on expected's length. */
extern bool constant_time_equal(const void *given, size_t given_len,
								const void *expected, size_t expected_len);

/* Trim ASCII white space from both ends in place; returns s. */
extern char *str_trim(char *s);
/* Case-insensitive prefix test. */
extern bool str_has_prefix_ci(const char *s, const char *prefix);
/* True when s is valid UTF-8 with no NUL byte inside its len bytes. */
extern bool utf8_valid(const char *s, size_t len);

/*
 * protobuf-c allocation within a budget, since a hostile message can ask for
 * far more than its size: pass &budget->allocator to an unpack function.
 */
typedef struct PbBudget
{
	ProtobufCAllocator allocator;
	size_t		left;
} PbBudget;

/* A budget for unpacking a message of len bytes: 16 times it, plus 16 MB. */
extern void pb_budget_init(PbBudget *budget, size_t len);

#endif							/* COLLECTOR_UTIL_H */
