/*
 * profile_pack.h
 *	  Packing: the merge of many profiles of one series plus its timeline,
 *	  each source's values under its time (the core of profile_pack).
 */
#ifndef PROFILE_PACK_H
#define PROFILE_PACK_H

#include "profile_merge.h"
#include "profile_timeline.h"

/* One point being packed: the sources of one time, over the merge's nodes. */
typedef struct PackPoint
{
	int64_t		time;			/* nanoseconds since 1970 */
	ProfileMeta meta;			/* start, end, duration, count, period */
	uint32_t   *node;			/* entries: nodes of the packer's tree, any order */
	int64_t    *value;
	uint32_t	count;
	uint32_t	capacity;
} PackPoint;

/* A packing in progress (the aggregate's state, without PostgreSQL). */
typedef struct ProfilePacker
{
	ProfileMerger merger;		/* the merged tree and metadata */
	PackPoint  *points;			/* in arrival order; equal times are summed on encoding */
	uint32_t	count;
	uint32_t	capacity;
} ProfilePacker;

/* Start an empty packing. */
extern void profile_packer_init(ProfilePacker *packer);

/*
 * Add a stored value, fully validated (a packed one's timeline too): a
 * plain value becomes one point at time (its own start time when has_time
 * is false); a packed value brings its own points and time is ignored.
 */
extern void profile_packer_add_stored(ProfilePacker *packer, const uint8_t *data, size_t len,
									  const ProfileLimits *limits, bool has_time, int64_t time);

/* Add another packing (the aggregate's combine). */
extern void profile_packer_add_packer(ProfilePacker *packer, const ProfilePacker *other);

/* Encode the packing: a packed (version 2) value; points of one time summed. */
extern uint8_t *profile_packer_encode(const ProfilePacker *packer, const ProfileLimits *limits,
									  size_t *out_len);

#endif							/* PROFILE_PACK_H */
