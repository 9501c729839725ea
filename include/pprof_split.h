/*
 * pprof_split.h
 *	  A decoded pprof file split by the values of chosen sample labels, with
 *	  one call tree per label combination and sample type.
 */
#ifndef PPROF_SPLIT_H
#define PPROF_SPLIT_H

#include "pprof_decode.h"

/* One label combination of pprof_split, with its trees per sample type. */
typedef struct PprofGroup
{
	char	   *labels_json;	/* a JSON object, e.g. {"endpoint": "/api"} */
	CallTree  **trees;			/* one per sample type */
} PprofGroup;

/*
 * Split by the values of the given label keys: one group per distinct
 * combination seen, in order of first appearance; with no keys, one group.
 */
extern PprofGroup *pprof_build_groups(PprofFile *file, const char *const *keys,
									  int key_count, uint32_t *group_count);

#endif							/* PPROF_SPLIT_H */
