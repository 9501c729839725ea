/*
 * fuzz_target.h
 *	  The code under test, driven as the server drives it, with invariant
 *	  checks on what comes out.
 */
#ifndef FUZZ_TARGET_H
#define FUZZ_TARGET_H

#include "fuzz_mutate.h"
#include "pp_core.h"

#define FUZZ_KIND_COUNT (PP_ERR_INTERNAL + 1)

/* What one input did. */
typedef struct FuzzResult
{
	int			ok;				/* no pp_error */
	PPErrorKind kind;			/* the error raised, when !ok */
	int			invariant_failed;	/* a round-trip check failed (a finding) */
	char		message[1200];
} FuzzResult;

/*
 * pprof bytes -> pprof_open -> for every sample type pprof_build_tree ->
 * profile_encode -> profile_decode (which must accept what the encoder
 * wrote) -> profile_view_add_to_tree -> encode again (must give the same
 * bytes); then the label split with and without keys.  When stored is not NULL, it receives the encoded
 * bytes of the default sample type's tree (malloc'd), for stored mutations.
 */
extern void fuzz_pprof(const uint8_t *data, size_t len, Bytes *stored, FuzzResult *result);

/*
 * Stored profile bytes -> profile_decode; a value that decodes must also
 * load into a tree and encode and decode again.  A packed value's timeline
 * is read and checked too; once accepted, each point must encode and
 * decode, their totals sum to the value's, and it must pack again.
 */
extern void fuzz_stored(const uint8_t *data, size_t len, FuzzResult *result);

/* pprof bytes -> every sample type's tree and the label split, invariants checked. */
extern void fuzz_pprof_decode(const uint8_t *data, size_t len, FuzzResult *result);

/*
 * Two stored values through one ProfileMerger, as the aggregate folds rows
 * (the second meets the first's names in the symbol cache); input: a varint
 * length, the first value, the second.  The merge must encode and decode.
 */
extern void fuzz_merge_pair(const uint8_t *data, size_t len, FuzzResult *result);

/* Folded text -> tree -> stored value (which must decode) -> folded text. */
extern void fuzz_folded(const uint8_t *data, size_t len, FuzzResult *result);

/* The folded text of a stored value into out; false if it does not decode. */
extern int	stored_folded(const uint8_t *data, size_t len, Bytes *out);

/*
 * A packed value (malloc'd into out) of stored value a at two times and b
 * at a third, or a alone when b does not pack with it; false if a fails.
 */
extern int	stored_packed(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, Bytes *out);

/* The body of stored bytes (decompressed when zstd); false if not parseable. */
extern int	stored_body(const uint8_t *data, size_t len, Bytes *body);

/* Stored bytes around body: raw (flags 0) or zstd-compressed (level 1). */
extern void stored_wrap(const uint8_t *body, size_t len, int zstd, Bytes *out);

#endif							/* FUZZ_TARGET_H */
