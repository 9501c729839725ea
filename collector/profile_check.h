/*
 * profile_check.h
 *	  Validate a pprof before acknowledging it, with the very code the
 *	  server runs (pprof_open() of the project's cores), and learn what
 *	  pprof_ingest() needs to be told: Pyroscope's profile name, from
 *	  pprof_profile_name() with the client's display names, and the sample
 *	  labels that split the profile into rows.
 *
 * Two depths: the full check decodes and validates the whole profile as
 * the server will, so that what goes into the spool can be replayed later;
 * while PostgreSQL answers, the quick one (pprof_scan.c) reads only the
 * fields above and leaves validation to pprof_ingest() itself, whose
 * refusal the client then gets (422), and the writers run the full check
 * on any such profile before they spool it.
 */
#ifndef COLLECTOR_PROFILE_CHECK_H
#define COLLECTOR_PROFILE_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pprof_decode.h"

/* What the check needs to know. */
typedef struct ProfileCheckOptions
{
	size_t		max_profile_bytes;	/* decompressed size limit */
	uint32_t	max_stack_depth;
	PprofDisplayNameFn display_name;	/* NULL: Pyroscope's Go defaults */
	void	   *display_name_arg;
	char	  **ignore_labels;	/* sample labels that never split rows */
	int			n_ignore_labels;
	bool		full;			/* validate everything (else the quick scan) */
	bool		keep_inflated;	/* keep a gzip profile's inflated bytes */
} ProfileCheckOptions;

/* What the check learnt. */
typedef struct ProfileFacts
{
	char	   *name;			/* Pyroscope's profile name (malloc) */
	char	   *label_keys;		/* the string sample labels, a text[] literal (malloc) */
	int64_t		time_ns;		/* the profile's time_nanos, 0 if unknown */
	bool		too_large;		/* failed on a size limit */
	bool		validated;		/* the full check ran */
	/*
	 * With keep_inflated, the quick check's decompressed bytes of a gzip
	 * profile (malloc), counted in the buffered-bytes budget; NULL when the
	 * profile was not gzip or the budget had no room.
	 */
	uint8_t    *inflated;
	size_t		inflated_len;
} ProfileFacts;

/*
 * Check data; on success fill facts and return true, else write a one-line
 * reason into why and return false.
 */
extern bool profile_check(const uint8_t *data, size_t len, const ProfileCheckOptions *options,
						  ProfileFacts *facts, char *why, size_t why_len);

/* Free what profile_check put into facts. */
extern void profile_facts_free(ProfileFacts *facts);

/* Free inflated bytes from ProfileFacts and return them to the budget. */
extern void profile_inflated_free(uint8_t *inflated, size_t len);

/*
 * The options from the collector's settings (display names left NULL):
 * the quick check while PostgreSQL answers, the full one otherwise.
 */
extern ProfileCheckOptions profile_check_defaults(void);

/* Lower the decompressed size limit to the server's pg_pprof.max_input_bytes. */
extern void profile_check_set_server_limit(size_t max_input_bytes);

#endif							/* COLLECTOR_PROFILE_CHECK_H */
