/*
 * profile_timeline.h
 *	  The timeline of a packed profile: every source profile's values under
 *	  its time, stored in a frame of its own after the merged body.
 *
 * The frame (the end of a version 2 value, see profile_format.h):
 *
 *	 uint32    CRC-32 of the uncompressed payload (little-endian)
 *	 byte      flags (PROFILE_FLAG_ZSTD: the payload is one zstd frame)
 *	 varint    length of the uncompressed payload
 *	 ...       payload, zstd-compressed or raw, to the end
 *
 * The payload:
 *
 *	 varint    points (the count in the value's header), entries
 *	 varint    value scale (every value below is stored divided by it)
 *	 then five length-prefixed streams:
 *	 times     per point, zigzag difference from the previous point's
 *	           time (the first from 0); strictly increasing
 *	 metas     per point: zigzag start, end, duration; varint source
 *	           profile count; zigzag period
 *	 counts    per point, varint number of entries
 *	 nodes     per entry, its node: 0 is the root, i the i-th node of the
 *	           body in pre-order; varint difference from the previous
 *	           entry's node in the point (the first from 0); strictly
 *	           increasing within a point
 *	 values    per entry, zigzag value
 *
 * A point's entries are its source profiles' nodes that have a value or
 * are leaves (a leaf whose values cancel still has its node), so a point
 * rebuilds exactly the tree of its sources: its entries and their
 * ancestors.  Summed over the points, the values are the body's self
 * values, which every reader of the timeline checks.
 */
#ifndef PROFILE_TIMELINE_H
#define PROFILE_TIMELINE_H

#include "profile_format.h"

/* A timeline: its points and their entries. */
typedef struct Timeline
{
	uint32_t	points;
	int64_t    *time;			/* per point (nanoseconds since 1970) */
	ProfileMeta *meta;			/* per point: start, end, duration, count, period */
	uint32_t   *first_entry;	/* per point and one more: entries [first_entry[p], first_entry[p + 1]) */
	uint32_t	entries;
	uint32_t   *node;			/* per entry: a node number (stored: 0 root, i-th in pre-order) */
	int64_t    *value;			/* per entry: the point's self value of that node */
} Timeline;

/*
 * Read a packed value's timeline (view from profile_decode or its kin),
 * checking its checksum and structure: counts against the data, times
 * strictly increasing and as the header says, nodes in range and strictly
 * increasing within each point.  Raises PP_ERR_CORRUPT.
 */
extern void timeline_decode(const ProfileView *view, const ProfileLimits *limits, Timeline *tl);

/*
 * The uncompressed payload of a timeline frame, its checksum checked: for
 * comparing and hashing packed values.  The result points into the frame
 * when the payload is stored raw, else it is a new allocation.
 */
extern const uint8_t *timeline_payload(const uint8_t *frame, size_t frame_len,
									   const ProfileLimits *limits, size_t *len);

/* Free a decoded timeline's arrays. */
extern void timeline_free(Timeline *tl);

/*
 * Check a decoded timeline against its body (view with node arrays, from
 * profile_decode): every node's values over the points sum to its self
 * value, and the source counts to the body's.  Raises PP_ERR_CORRUPT.
 */
extern void timeline_check_body(const ProfileView *view, const Timeline *tl);

/*
 * The same check when the body was decoded into a tree of its own (by
 * profile_decode_to_tree, whose node_map gives each stored node's node).
 */
extern void timeline_check_tree(const ProfileView *view, const CallTree *tree,
								const uint32_t *node_map, const Timeline *tl);

/*
 * Encode a packed value: tree is the merge, tl its timeline over tree's
 * node numbers (entries in any order, repeated nodes summed), points in
 * strictly increasing time.  Returns the version 2 stored bytes.
 */
extern uint8_t *profile_encode_packed(const CallTree *tree, const Timeline *tl,
									  const ProfileLimits *limits, size_t *out_len);

/*
 * The tree of some points of a timeline: the tree of the value's body
 * (decoded into tree, with node_map from the decode), keeping the nodes
 * of the chosen points' entries and their ancestors, with the sum of their
 * values, and the merge of their metadata.  pick[p] chooses point p.
 */
extern CallTree *timeline_points_tree(const CallTree *tree, const uint32_t *node_map,
									  const Timeline *tl, const uint8_t *pick);

#endif							/* PROFILE_TIMELINE_H */
