/*
 * pprof_split.h
 *	  A decoded pprof file split by the values of chosen sample labels, with
 *	  one call tree per label combination and sample type.
 */
#ifndef PPROF_SPLIT_H
#define PPROF_SPLIT_H

#include "pprof_decode.h"

/* The groups of a split: label combinations, each with its samples. */
typedef struct PprofSplit PprofSplit;

/*
 * Split the file's samples by the values of the given label keys (repeats
 * among them count once): one group per distinct combination seen, in order
 * of first appearance; with no keys, one group.  The groups' memory is
 * charged to budget (NULL: none) as it grows.
 */
extern PprofSplit *pprof_split_build(PprofFile *file, const char *const *keys, int key_count,
									 PPBudget *budget);

/* The number of groups. */
extern uint32_t pprof_split_group_count(const PprofSplit *split);

/* The labels of group g as a JSON object, e.g. {"endpoint": "/api"}. */
extern const char *pprof_split_labels(const PprofSplit *split, uint32_t g);

/*
 * The call tree of sample type t in group g, exactly as pprof_build_tree
 * would build it from the group's samples.  Built on each call, so that
 * only one per-type tree need exist at a time.
 */
extern CallTree *pprof_split_tree(const PprofSplit *split, uint32_t g, uint32_t t);

#endif							/* PPROF_SPLIT_H */
