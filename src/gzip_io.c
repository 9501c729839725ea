/*
 * gzip_io.c
 *	  gzip in and out through zlib, with zlib's memory from pp_alloc so an
 *	  error raised midway cannot leak it.
 */
#include "gzip_io.h"
#include "bytebuf.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

/* zlib allocation through pp_alloc, so an error cannot leak zlib's state. */
static voidpf
zlib_alloc(voidpf opaque, uInt items, uInt size)
{
	(void) opaque;
	return pp_alloc(pp_mul_size(items, size));
}

/* zlib release through pp_free. */
static void
zlib_free(voidpf opaque, voidpf ptr)
{
	(void) opaque;
	pp_free(ptr);
}

/*
 * Inflate a gzip member, refusing more than max_bytes of output and any
 * bytes after the member (pprof rejects concatenated profiles).
 */
uint8_t *
gunzip(const uint8_t *data, size_t len, size_t max_bytes, size_t *out_len)
{
	z_stream	zs;
	ByteBuf		out;
	int			rc;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = zlib_alloc;
	zs.zfree = zlib_free;
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		pp_error(PP_ERR_INTERNAL, "could not initialise zlib");
	bytebuf_init(&out, len * 4 < max_bytes ? len * 4 : max_bytes);
	zs.next_in = (Bytef *) data;
	zs.avail_in = (uInt) (len > UINT32_MAX ? UINT32_MAX : len);
	for (;;)
	{
		if (out.len == out.cap)
		{
			if (out.len >= max_bytes)
			{
				inflateEnd(&zs);
				pp_error_ext(PP_ERR_LIMIT, NULL,
						 "Raise pg_pprof.max_input_bytes to accept larger profiles.",
						 "decompressed pprof exceeds pg_pprof.max_input_bytes (%zu bytes)",
						 max_bytes);
			}
			bytebuf_reserve(&out, out.cap);
		}
		zs.next_out = out.data + out.len;
		zs.avail_out = (uInt) (out.cap - out.len);
		if (out.len + zs.avail_out > max_bytes)
			zs.avail_out = (uInt) (max_bytes - out.len + 1 > zs.avail_out
								   ? zs.avail_out : max_bytes - out.len + 1);
		rc = inflate(&zs, Z_NO_FLUSH);
		out.len = (size_t) (zs.next_out - out.data);
		if (out.len > max_bytes)
		{
			inflateEnd(&zs);
			pp_error_ext(PP_ERR_LIMIT, NULL,
					 "Raise pg_pprof.max_input_bytes to accept larger profiles.",
					 "decompressed pprof exceeds pg_pprof.max_input_bytes (%zu bytes)",
					 max_bytes);
		}
		if (rc == Z_STREAM_END)
			break;
		if (rc == Z_BUF_ERROR && zs.avail_in == 0)
		{
			inflateEnd(&zs);
			pp_error(PP_ERR_BAD_PPROF, "invalid pprof: gzip data is truncated");
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR)
		{
			const char *msg = zs.msg ? zs.msg : "unknown error";
			char		copy[128];

			snprintf(copy, sizeof(copy), "%s", msg);
			inflateEnd(&zs);
			pp_error(PP_ERR_BAD_PPROF, "invalid pprof: gzip data is corrupt: %s", copy);
		}
		pp_check_interrupts();
	}
	if (zs.avail_in != 0 || zs.total_in != len)
	{
		inflateEnd(&zs);
		pp_error(PP_ERR_BAD_PPROF, "invalid pprof: unexpected data after the gzip stream");
	}
	inflateEnd(&zs);
	*out_len = out.len;
	return out.data;
}

/*
 * gzip bytes deterministically (no name, no time in the header).  zlib
 * counts in 32 bits, so the input is fed and the output taken in chunks of
 * at most GZIP_CHUNK bytes, with a chance to cancel between them.
 */
#define GZIP_CHUNK ((size_t) 1 << 20)

uint8_t *
gzip_bytes(const uint8_t *data, size_t len, PPBudget *budget, size_t *out_len)
{
	z_stream	zs;
	ByteBuf		out;
	size_t		fed = 0;
	int			rc = Z_OK;

	memset(&zs, 0, sizeof(zs));
	zs.zalloc = zlib_alloc;
	zs.zfree = zlib_free;
	if (deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		pp_error(PP_ERR_INTERNAL, "could not initialise zlib");
	bytebuf_init_budget(&out, len / 4 + 64, budget);
	while (rc != Z_STREAM_END)
	{
		size_t		chunk = len - fed < GZIP_CHUNK ? len - fed : GZIP_CHUNK;

		if (zs.avail_in == 0 && chunk > 0)
		{
			zs.next_in = (Bytef *) data + fed;
			zs.avail_in = (uInt) chunk;
			fed += chunk;
		}
		bytebuf_reserve(&out, GZIP_CHUNK);
		zs.next_out = out.data + out.len;
		zs.avail_out = (uInt) (out.cap - out.len < GZIP_CHUNK ? out.cap - out.len : GZIP_CHUNK);
		rc = deflate(&zs, fed == len && zs.avail_in == 0 ? Z_FINISH : Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
		{
			deflateEnd(&zs);
			pp_error(PP_ERR_INTERNAL, "gzip compression failed");
		}
		out.len = (size_t) (zs.next_out - out.data);
		pp_check_interrupts();
	}
	deflateEnd(&zs);
	*out_len = out.len;
	return out.data;
}

