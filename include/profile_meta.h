/*
 * profile_meta.h
 *	  What a profile records besides its tree, and how merging combines it.
 */
#ifndef PROFILE_META_H
#define PROFILE_META_H

#include "pp_core.h"

/* The metadata of one sample type of one or more merged profiles. */
typedef struct ProfileMeta
{
	char	   *sample_type;	/* NUL-terminated, never NULL */
	char	   *sample_unit;
	char	   *period_type;
	char	   *period_unit;
	int64_t		period;
	int64_t		start_ns;		/* earliest time_nanos, 0 if unknown */
	int64_t		end_ns;			/* latest time_nanos + duration */
	int64_t		duration_ns;	/* summed duration_nanos */
	int64_t		profile_count;	/* how many source profiles were merged */
} ProfileMeta;

/* Fill in empty metadata (empty strings, zero numbers). */
extern void profile_meta_init(ProfileMeta *meta);

/*
 * Fold from's metadata into into's: sample type and unit must match (else
 * PP_ERR_MISMATCH naming both, and operation, e.g. "merge"); start is the
 * min and end the max of the known times, duration and profile count are
 * summed, period is the max.  into_empty says into holds nothing yet, in
 * which case from is copied.
 */
extern void profile_meta_merge(ProfileMeta *into, const ProfileMeta *from, bool into_empty,
							   const char *operation);

/*
 * Fold from's numbers into into's by the same rules (earliest start, latest
 * end, summed durations and counts, largest period), strings untouched.
 */
extern void profile_meta_merge_numbers(ProfileMeta *into, const ProfileMeta *from);

#endif							/* PROFILE_META_H */
