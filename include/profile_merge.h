/*
 * profile_merge.h
 *	  Merging profiles: metadata rules and tree-into-tree addition.
 */
#ifndef PROFILE_MERGE_H
#define PROFILE_MERGE_H

#include "calltree.h"

/*
 * Fold from's metadata into into's: sample type and unit must match (else
 * PP_ERR_MISMATCH naming both, and operation, e.g. "merge"); start is the min and end the max of the
 * known times, duration and profile count are summed, period is the max.
 * into_empty says into holds nothing yet, in which case from is copied.
 */
extern void profile_meta_merge(ProfileMeta *into, const ProfileMeta *from, bool into_empty,
							   const char *operation);

/*
 * Add every node of src into dst.  With right_self non-NULL, src's self
 * values go to right_self[dst node] instead of dst's self (for diffs);
 * right_self must have room for dst->count + src->count entries.
 */
extern void calltree_add_tree(CallTree *dst, const CallTree *src, int64_t *right_self);

#endif							/* PROFILE_MERGE_H */
