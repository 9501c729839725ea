/*
 * fuzz_mutate.h
 *	  Deterministic mutations of pprof and stored-profile bytes.
 *
 * Everything is driven by a seeded PRNG, so a run with the same seeds and
 * options feeds exactly the same inputs.  Protobuf-aware mutations use a
 * field index built once per seed (FieldIndex).
 */
#ifndef FUZZ_MUTATE_H
#define FUZZ_MUTATE_H

#include <stddef.h>
#include <stdint.h>

/* A growable malloc'd byte vector (harness memory, not pp_alloc). */
typedef struct Bytes
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
} Bytes;

/* splitmix64 state. */
typedef struct Rng
{
	uint64_t	state;
} Rng;

/* One protobuf field found in a message, at any nesting depth. */
typedef struct FieldRef
{
	uint32_t	tag_off;		/* offset of the tag varint */
	uint32_t	val_off;		/* offset of the value (the length for LEN) */
	uint32_t	val_len;		/* bytes of the varint, or of the length varint */
	uint32_t	payload_len;	/* LEN only: bytes after the length */
	uint8_t		wire_type;
	uint8_t		depth;			/* 0 = top-level Profile field */
	uint16_t	field;			/* field number */
} FieldRef;

/* Every field that parses cleanly, nested messages included. */
typedef struct FieldIndex
{
	FieldRef   *refs;
	size_t		count;
	size_t		cap;
	uint32_t	top_strings;	/* top-level string_table entries */
} FieldIndex;

extern void bytes_set(Bytes *b, const uint8_t *data, size_t len);
extern void bytes_append(Bytes *b, const void *data, size_t len);
extern void bytes_free(Bytes *b);

extern void rng_seed(Rng *rng, uint64_t seed);
extern uint64_t rng_next(Rng *rng);
extern uint64_t rng_below(Rng *rng, uint64_t n);

/* Hash bytes (FNV-1a 64), e.g. to seed the PRNG from a file name. */
extern uint64_t hash64(const void *data, size_t len);

/* Index the fields of a protobuf message (best effort, bounded). */
extern void field_index_build(FieldIndex *index, const uint8_t *data, size_t len);
extern void field_index_free(FieldIndex *index);

/*
 * Replace out with a mutation of in (1-3 stacked edits).  index may be NULL
 * (no protobuf-aware edits); other is splice material (may be NULL);
 * is_pprof enables the drop_frames/keep_frames edits.
 */
extern void mutate(Rng *rng, const uint8_t *in, size_t len, const FieldIndex *index,
				   const uint8_t *other, size_t other_len, int is_pprof, Bytes *out);

#endif							/* FUZZ_MUTATE_H */
