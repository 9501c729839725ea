/*
 * profile_merge.h
 *	  Merging profiles: tree-into-tree addition, and a running merge of
 *	  stored values (the core of the profile_merge aggregate).
 */
#ifndef PROFILE_MERGE_H
#define PROFILE_MERGE_H

#include "calltree.h"
#include "profile_format.h"

/* A running merge of stored profiles: the aggregate's state, without PostgreSQL. */
typedef struct ProfileMerger
{
	SymbolTable symbols;
	SymbolCache names_seen;		/* the previous input's symbols, by name */
	CallTree   *tree;			/* the merge so far; its meta is the merged metadata */
	bool		empty;			/* nothing folded in yet */
} ProfileMerger;

/*
 * Add every node of src into dst.  With right_self non-NULL, src's self
 * values go to right_self[dst node] instead of dst's self (for diffs);
 * right_self must have room for dst->count + src->count entries.  With
 * src_map (src->count entries), record each src node's node in dst.
 */
extern void profile_merge_tree(CallTree *dst, const CallTree *src, int64_t *right_self,
							   uint32_t *src_map);

/* Start an empty merge. */
extern void profile_merger_init(ProfileMerger *merger);

/*
 * Decode stored bytes (validated as every read is) straight into the merge.
 * The decoding's scratch is freed before it returns; if the value is
 * corrupt, the merge may hold part of it when the error is raised.
 */
extern void profile_merger_add_stored(ProfileMerger *merger, const uint8_t *data, size_t len,
									  const ProfileLimits *limits);

/* Fold another merge into this one. */
extern void profile_merger_add_merger(ProfileMerger *merger, const ProfileMerger *other);

/* Check the merge's tree (calltree_check_invariants); for assertion builds. */
extern void profile_merger_check(const ProfileMerger *merger);

#endif							/* PROFILE_MERGE_H */
