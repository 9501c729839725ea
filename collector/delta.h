/*
 * delta.h
 *	  Cumulative scrape profiles as per-interval deltas, as Alloy's
 *	  pyroscope.scrape computes them.
 *
 * Go's allocs, mutex and block profiles count from the process start.  For
 * the cumulative sample types (alloc_objects/count and alloc_space/bytes of
 * allocs; contentions/count and delay/nanoseconds of mutex and block) each
 * sample's value becomes its growth since the previous scrape; other types
 * (inuse_*) pass unchanged.  Samples are matched by their stack (address
 * and function, file and line of every frame) and labels.  The first scrape
 * only primes the state and stores nothing.  A value that went down (the
 * process restarted) counts from zero, so no delta is ever negative, and
 * samples whose values are all zero are dropped.
 */
#ifndef COLLECTOR_DELTA_H
#define COLLECTOR_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util.h"

typedef struct DeltaState DeltaState;

/* What delta_apply did. */
typedef enum DeltaOutcome
{
	DELTA_PRIMED,				/* the first scrape: remembered, nothing to store */
	DELTA_READY,				/* out holds the delta profile (raw pprof) */
	DELTA_FAILED				/* the scrape is not a usable pprof; why says so */
} DeltaOutcome;

/* True when the profile kind has cumulative sample types. */
extern bool delta_needed(ProfileKind kind);

extern DeltaState *delta_new(ProfileKind kind);
extern void delta_free(DeltaState *state);

/* The delta of data (gzip or raw pprof) against the previous scrape. */
extern DeltaOutcome delta_apply(DeltaState *state, const uint8_t *data, size_t len, size_t max_bytes,
								Buf *out, char *why, size_t why_len);

#endif							/* COLLECTOR_DELTA_H */
