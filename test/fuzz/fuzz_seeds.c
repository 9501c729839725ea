/*
 * fuzz_seeds.c
 *	  Finding, reading and gunzipping seed files.
 */
#define _XOPEN_SOURCE 700
#include "fuzz_seeds.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static SeedList *walk_list;

/* Append one seed path to the list. */
static void
add_seed(SeedList *list, const char *path)
{
	if (list->count == list->cap)
	{
		list->cap = list->cap ? list->cap * 2 : 32;
		list->seeds = realloc(list->seeds, list->cap * sizeof(Seed));
		if (list->seeds == NULL)
			abort();
	}
	memset(&list->seeds[list->count], 0, sizeof(Seed));
	list->seeds[list->count++].path = strdup(path);
}

/* nftw callback: keep regular files. */
static int
walk_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void) st;
	(void) ftw;
	if (type == FTW_F)
		add_seed(walk_list, path);
	return 0;
}

/* Add path (a file, or every regular file under a directory). */
void
seeds_add_path(SeedList *list, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode))
	{
		walk_list = list;
		nftw(path, walk_entry, 16, FTW_PHYS);
	}
	else if (S_ISREG(st.st_mode))
		add_seed(list, path);
}

/* qsort comparator: seeds by path. */
static int
compare_seeds(const void *a, const void *b)
{
	return strcmp(((const Seed *) a)->path, ((const Seed *) b)->path);
}

/* Sort by path and load every seed's bytes, gunzipping where needed. */
void
seeds_load(SeedList *list)
{
	qsort(list->seeds, list->count, sizeof(Seed), compare_seeds);
	for (size_t i = 0; i < list->count; i++)
	{
		Seed	   *s = &list->seeds[i];

		if (!read_file(s->path, &s->file))
			fprintf(stderr, "fuzz: cannot read %s\n", s->path);
		s->gzipped = s->file.len >= 2 && s->file.data[0] == 0x1f && s->file.data[1] == 0x8b &&
			gunzip_bytes(s->file.data, s->file.len, (size_t) 64 << 20, &s->plain);
		if (!s->gzipped)
			bytes_set(&s->plain, s->file.data, s->file.len);
		field_index_build(&s->index, s->plain.data, s->plain.len);
	}
}

/* Free the seeds and everything loaded for them. */
void
seeds_free(SeedList *list)
{
	for (size_t i = 0; i < list->count; i++)
	{
		Seed	   *s = &list->seeds[i];

		free(s->path);
		bytes_free(&s->file);
		bytes_free(&s->plain);
		bytes_free(&s->stored);
		bytes_free(&s->body);
		bytes_free(&s->packed);
		field_index_free(&s->index);
	}
	free(list->seeds);
	memset(list, 0, sizeof(*list));
}

/* Read a whole file; false on error. */
int
read_file(const char *path, Bytes *out)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t		buf[65536];
	size_t		n;

	out->len = 0;
	if (f == NULL)
		return 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		bytes_append(out, buf, n);
	fclose(f);
	return 1;
}

/* Write a whole file; false on error. */
int
write_file(const char *path, const uint8_t *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");
	int			ok;

	if (f == NULL)
		return 0;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

/* Gunzip the first member, up to about max bytes; false if not valid gzip. */
int
gunzip_bytes(const uint8_t *data, size_t len, size_t max, Bytes *out)
{
	z_stream	zs;
	uint8_t		buf[65536];
	int			rc = Z_OK;

	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return 0;
	out->len = 0;
	zs.next_in = (Bytef *) data;
	zs.avail_in = (uInt) len;
	while (rc == Z_OK && out->len <= max)
	{
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		rc = inflate(&zs, Z_NO_FLUSH);
		bytes_append(out, buf, sizeof(buf) - zs.avail_out);
		if (rc == Z_BUF_ERROR && zs.avail_out != 0)
			break;
		if (rc == Z_BUF_ERROR)
			rc = Z_OK;
	}
	inflateEnd(&zs);
	return rc == Z_STREAM_END;
}

/* Gzip data at the given level. */
void
seed_gzip(const uint8_t *data, size_t len, int level, Bytes *out)
{
	z_stream	zs;
	uint8_t		buf[65536];
	int			rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	out->len = 0;
	zs.next_in = (Bytef *) data;
	zs.avail_in = (uInt) len;
	do
	{
		zs.next_out = buf;
		zs.avail_out = sizeof(buf);
		rc = deflate(&zs, Z_FINISH);
		bytes_append(out, buf, sizeof(buf) - zs.avail_out);
	} while (rc == Z_OK);
	deflateEnd(&zs);
}
