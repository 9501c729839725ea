/*
 * fuzz_seeds.h
 *	  Seed files for the mutation loop, and gzip helpers.
 */
#ifndef FUZZ_SEEDS_H
#define FUZZ_SEEDS_H

#include "fuzz_mutate.h"

/* One seed file and what the loop derives from it. */
typedef struct Seed
{
	char	   *path;
	Bytes		file;			/* the bytes as stored on disk */
	Bytes		plain;			/* decompressed protobuf (= file when not gzip) */
	int			gzipped;
	FieldIndex	index;			/* fields of plain */
	Bytes		stored;			/* encoded profile of the default type, if it loads */
	Bytes		body;			/* its uncompressed body */
	Bytes		packed;			/* a packed value of stored and the next seed's */
} Seed;

/* A list of seeds, sorted by path so runs are reproducible. */
typedef struct SeedList
{
	Seed	   *seeds;
	size_t		count;
	size_t		cap;
} SeedList;

/* Add path (a file, or every regular file under a directory). */
extern void seeds_add_path(SeedList *list, const char *path);

/* Sort by path and load every seed's bytes, gunzipping where needed. */
extern void seeds_load(SeedList *list);

/* Free the seeds and everything loaded for them. */
extern void seeds_free(SeedList *list);

/* Read a whole file; false on error. */
extern int	read_file(const char *path, Bytes *out);

/* Write a whole file; false on error. */
extern int	write_file(const char *path, const uint8_t *data, size_t len);

/* Gunzip the first member, up to about max bytes; false if not valid gzip. */
extern int	gunzip_bytes(const uint8_t *data, size_t len, size_t max, Bytes *out);

/* Gzip data at the given level. */
extern void seed_gzip(const uint8_t *data, size_t len, int level, Bytes *out);

#endif							/* FUZZ_SEEDS_H */
