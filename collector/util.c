/*
 * util.c
 *	  Buffers, clocks, sizes and durations, UUIDs, base64, bounded gunzip
 *	  and string helpers for the collector.
 */
#include "util.h"

#include <ctype.h>
#include <libdeflate.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Report an allocation failure and stop: nothing can go on without memory. */
static void
out_of_memory(size_t size)
{
	fprintf(stderr, "pg_pprof_collector: out of memory allocating %zu bytes\n", size);
	abort();
}

/* malloc that never returns NULL. */
void *
xmalloc(size_t size)
{
	void	   *p = malloc(size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

/* calloc that never returns NULL. */
void *
xcalloc(size_t count, size_t size)
{
	void	   *p = calloc(count ? count : 1, size ? size : 1);

	if (p == NULL)
		out_of_memory(count * size);
	return p;
}

/* realloc that never returns NULL. */
void *
xrealloc(void *ptr, size_t size)
{
	void	   *p = realloc(ptr, size ? size : 1);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

/* strdup that never returns NULL (and maps NULL to NULL). */
char *
xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

/* Copy len bytes of s into a new NUL-terminated string. */
char *
xstrndup(const char *s, size_t len)
{
	char	   *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* A newly allocated formatted string. */
char *
xprintf(const char *fmt,...)
{
	va_list		args;
	char	   *out;

	va_start(args, fmt);
	if (vasprintf(&out, fmt, args) < 0)
		out_of_memory(strlen(fmt));
	va_end(args);
	return out;
}

/* An empty buffer. */
void
buf_init(Buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/* Release a buffer's memory. */
void
buf_free(Buf *b)
{
	free(b->data);
	buf_init(b);
}

/* Make room for extra more bytes (and the terminating NUL). */
void
buf_reserve(Buf *b, size_t extra)
{
	size_t		need = b->len + extra + 1;
	size_t		cap = b->cap ? b->cap : 256;

	if (need <= b->cap)
		return;
	while (cap < need)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

/* Append len bytes. */
void
buf_append(Buf *b, const void *data, size_t len)
{
	buf_reserve(b, len);
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Append a C string. */
void
buf_append_str(Buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/* Append formatted text. */
void
buf_printf(Buf *b, const char *fmt,...)
{
	va_list		args;
	int			n;

	va_start(args, fmt);
	n = vsnprintf(NULL, 0, fmt, args);
	va_end(args);
	if (n < 0)
		return;
	buf_reserve(b, (size_t) n);
	va_start(args, fmt);
	vsnprintf((char *) b->data + b->len, (size_t) n + 1, fmt, args);
	va_end(args);
	b->len += (size_t) n;
}

/* Hand the bytes over to the caller and leave the buffer empty. */
uint8_t *
buf_steal(Buf *b, size_t *len)
{
	uint8_t    *data = b->data ? b->data : xcalloc(1, 1);

	if (len)
		*len = b->len;
	buf_init(b);
	return data;
}

/* Seconds on a monotonic clock. */
double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* Microseconds since the Unix epoch. */
int64_t
wall_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Split Unix microseconds into a UTC struct tm and the microsecond part. */
static void
split_time_us(int64_t us, struct tm *tm, int *micros)
{
	time_t		secs = (time_t) (us / 1000000);
	int			rest = (int) (us % 1000000);

	if (rest < 0)
	{
		rest += 1000000;
		secs -= 1;
	}
	gmtime_r(&secs, tm);
	*micros = rest;
}

/* Format Unix microseconds as PostgreSQL timestamptz text (UTC). */
void
format_timestamp_us(int64_t us, char *out, size_t outlen)
{
	struct tm	tm;
	int			micros;

	split_time_us(us, &tm, &micros);
	snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, micros);
}

/* Format Unix microseconds as RFC 3339 with milliseconds (for logs). */
void
format_log_time(int64_t us, char *out, size_t outlen)
{
	struct tm	tm;
	int			micros;

	split_time_us(us, &tm, &micros);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, micros / 1000);
}

/* Read a non-negative decimal number and its unit suffix (spaces allowed between). */
static bool
split_number_unit(const char *text, uint64_t *number, const char **unit)
{
	const char *p = text;
	uint64_t	n = 0;

	while (isspace((unsigned char) *p))
		p++;
	if (!isdigit((unsigned char) *p))
		return false;
	while (isdigit((unsigned char) *p))
	{
		if (n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t) (*p++ - '0');
	}
	while (isspace((unsigned char) *p))
		p++;
	*number = n;
	*unit = p;
	return true;
}

/* True when unit (up to trailing spaces) equals name. */
static bool
unit_is(const char *unit, const char *name)
{
	size_t		n = strlen(name);

	if (strncmp(unit, name, n) != 0)
		return false;
	for (unit += n; *unit; unit++)
		if (!isspace((unsigned char) *unit))
			return false;
	return true;
}

/* A unit suffix and what it multiplies by. */
typedef struct UnitFactor
{
	const char *name;
	uint64_t	factor;
} UnitFactor;

/* A number with one of units' suffixes, scaled; false if malformed or too large. */
static bool
parse_scaled(const char *text, const UnitFactor *units, size_t n_units, uint64_t *out)
{
	uint64_t	n;
	const char *unit;

	if (!split_number_unit(text, &n, &unit))
		return false;
	for (size_t i = 0; i < n_units; i++)
	{
		if (unit_is(unit, units[i].name))
		{
			if (n > UINT64_MAX / units[i].factor)
				return false;
			*out = n * units[i].factor;
			return true;
		}
	}
	return false;
}

/* "16MB", "512kB", "1GB", "1024": bytes (1024-based units); false if malformed. */
bool
parse_size(const char *text, uint64_t *bytes)
{
	static const UnitFactor units[] = {
		{"", 1}, {"B", 1}, {"kB", 1024}, {"KB", 1024}, {"MB", 1024 * 1024},
		{"GB", 1024ULL * 1024 * 1024}, {"TB", 1024ULL * 1024 * 1024 * 1024},
	};

	return parse_scaled(text, units, sizeof(units) / sizeof(units[0]), bytes);
}

/* "200ms", "15s", "2m", "1h", "30": milliseconds (a bare number is seconds). */
bool
parse_duration_ms(const char *text, uint64_t *ms)
{
	static const UnitFactor units[] = {
		{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"min", 60 * 1000},
		{"h", 3600 * 1000},
	};

	return parse_scaled(text, units, sizeof(units) / sizeof(units[0]), ms);
}

/* "on"/"off", "true"/"false", "yes"/"no", "1"/"0". */
bool
parse_bool(const char *text, bool *value)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	for (int i = 0; i < 4; i++)
	{
		if (strcasecmp(text, yes[i]) == 0)
		{
			*value = true;
			return true;
		}
		if (strcasecmp(text, no[i]) == 0)
		{
			*value = false;
			return true;
		}
	}
	return false;
}

/* Fill out with a random (version 4) UUID. */
void
uuid_random(uint8_t out[16])
{
	size_t		got = 0;

	while (got < 16)
	{
		ssize_t		n = getrandom(out + got, 16 - got, 0);

		if (n > 0)
			got += (size_t) n;
	}
	out[6] = (uint8_t) ((out[6] & 0x0f) | 0x40);
	out[8] = (uint8_t) ((out[8] & 0x3f) | 0x80);
}

/* Format a UUID as 36 characters plus NUL. */
void
uuid_format(const uint8_t id[16], char out[37])
{
	static const char hex[] = "0123456789abcdef";
	int			o = 0;

	for (int i = 0; i < 16; i++)
	{
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[id[i] >> 4];
		out[o++] = hex[id[i] & 15];
	}
	out[o] = '\0';
}

/* The value of one base64 character (both alphabets), or -1. */
static int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode standard or URL-safe base64, padded or not; NULL if malformed. */
uint8_t *
base64_decode(const char *text, size_t len, size_t *out_len)
{
	uint8_t    *out = xmalloc(len / 4 * 3 + 3);
	size_t		o = 0;
	uint32_t	acc = 0;
	int			bits = 0;
	size_t		i;

	while (len > 0 && text[len - 1] == '=')
		len--;
	for (i = 0; i < len; i++)
	{
		int			v = base64_value((unsigned char) text[i]);

		if (v < 0)
		{
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[o++] = (uint8_t) (acc >> bits);
		}
	}
	if (bits >= 6)				/* a lone trailing character carries no byte */
	{
		free(out);
		return NULL;
	}
	*out_len = o;
	return out;
}

/* True when data starts with the gzip magic bytes. */
bool
is_gzip(const uint8_t *data, size_t len)
{
	return len >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

/*
 * Inflate one gzip member of data into out, refusing more than max_bytes;
 * returns NULL on success or a static reason.
 *
 * libdeflate inflates a whole buffer at once, about 1.5 times as fast as
 * zlib's streaming inflate on these profiles, so it needs the output's size
 * up front: the member's trailer gives it (ISIZE, the size modulo 2^32, which
 * libdeflate checks with the CRC).  When that is too small, or a size deflate
 * could not reach from len bytes (it expands 1032:1 at most), the buffer is
 * grown fourfold and the member inflated again, never past max_bytes: a
 * hostile trailer costs a few retries, not memory.
 */
const char *
gunzip_bounded(const uint8_t *data, size_t len, size_t max_bytes, Buf *out)
{
	struct libdeflate_decompressor *decoder;
	enum libdeflate_result rc;
	size_t		ratio_bound;
	size_t		bound;
	size_t		claimed;
	size_t		cap;
	size_t		used = 0;
	size_t		got = 0;

	out->len = 0;
	/* a 10-byte header and an 8-byte trailer at least */
	if (len < 18)
		return "the gzip data is truncated";
	ratio_bound = len < (SIZE_MAX - 1024) / 1032 ? len * 1032 + 1024 : SIZE_MAX;
	bound = ratio_bound < max_bytes ? ratio_bound : max_bytes;
	claimed = (size_t) data[len - 4] | ((size_t) data[len - 3] << 8) |
		((size_t) data[len - 2] << 16) | ((size_t) data[len - 1] << 24);
	if (claimed <= ratio_bound && claimed > max_bytes)
		return "the gzip data inflates past the size limit";
	/* a size no member of len bytes can have: bytes follow it, or it lies */
	cap = claimed <= ratio_bound ? claimed : (len < bound / 4 ? len * 4 : bound);
	decoder = libdeflate_alloc_decompressor();
	if (decoder == NULL)
		return "cannot allocate a gzip decoder";
	for (;;)
	{
		buf_reserve(out, cap);
		rc = libdeflate_gzip_decompress_ex(decoder, data, len, out->data, cap, &used, &got);
		if (rc != LIBDEFLATE_INSUFFICIENT_SPACE || cap >= bound)
			break;
		/* the trailer's size was modulo 2^32, or false: try a larger buffer */
		cap = cap < 4096 ? 4096 : cap;
		cap = cap > bound / 4 ? bound : cap * 4;
	}
	libdeflate_free_decompressor(decoder);
	if (rc == LIBDEFLATE_INSUFFICIENT_SPACE)
		return bound == max_bytes ? "the gzip data inflates past the size limit" : "the gzip data is corrupt";
	if (rc != LIBDEFLATE_SUCCESS)
		return "the gzip data is corrupt or truncated";
	if (used != len)
		return "bytes follow the gzip data";
	out->len = got;
	out->data[got] = '\0';
	return NULL;
}

/* Compare two byte strings in time that depends only on expected's length. */
bool
constant_time_equal(const void *given, size_t given_len, const void *expected, size_t expected_len)
{
	const volatile unsigned char *g = given;
	const volatile unsigned char *e = expected;
	unsigned int diff = (unsigned int) (given_len != expected_len);

	for (size_t i = 0; i < expected_len; i++)
	{
		unsigned char gc = given_len ? g[i % given_len] : 0;

		diff |= (unsigned int) (gc ^ e[i]);
	}
	return diff == 0;
}

/* Trim ASCII white space from both ends in place; returns s. */
char *
str_trim(char *s)
{
	char	   *end;

	while (isspace((unsigned char) *s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return s;
}

/* Case-insensitive prefix test. */
bool
str_has_prefix_ci(const char *s, const char *prefix)
{
	return s != NULL && strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/* True when s is valid UTF-8 with no NUL byte inside its len bytes. */
bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *) s;
	size_t		i = 0;

	while (i < len)
	{
		unsigned char c = p[i];
		size_t		n;
		uint32_t	cp;

		if (c == 0)
			return false;
		if (c < 0x80)
		{
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0)
			n = 2, cp = c & 0x1f;
		else if ((c & 0xf0) == 0xe0)
			n = 3, cp = c & 0x0f;
		else if ((c & 0xf8) == 0xf0)
			n = 4, cp = c & 0x07;
		else
			return false;
		if (i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
		{
			if ((p[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
			cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

/* protobuf-c allocation within the budget. */
static void *
pb_budget_alloc(void *data, size_t size)
{
	PbBudget   *b = data;

	if (size > b->left)
		return NULL;
	b->left -= size;
	return malloc(size ? size : 1);
}

/* protobuf-c release. */
static void
pb_budget_free(void *data, void *ptr)
{
	(void) data;
	free(ptr);
}

/* A budget for unpacking a message of len bytes: 16 times it, plus 16 MB. */
void
pb_budget_init(PbBudget *budget, size_t len)
{
	budget->allocator.alloc = pb_budget_alloc;
	budget->allocator.free = pb_budget_free;
	budget->allocator.allocator_data = budget;
	budget->left = 16 * 1024 * 1024 + (len > SIZE_MAX / 32 ? SIZE_MAX / 2 : len * 16);
}
