/*
 * pprof_decode.h
 *	  pprof bytes (gzip or raw protobuf) -> resolved stacks -> call trees.
 *
 * pprof_open() inflates, unpacks and validates a pprof file, and resolves
 * every location into its function-level frames (inlined frames expanded,
 * drop_frames/keep_frames applied as pprof applies them on load).  Trees
 * are then built per sample type, or per sample type and label combination.
 */
#ifndef PPROF_DECODE_H
#define PPROF_DECODE_H

#include "calltree.h"

struct Pprof__Profile;

/*
 * Decides whether a frame is dropped: the function name (simplified as pprof
 * does) matches ^(drop)$ and does not match keep.  keep may be NULL.
 */
typedef bool (*PprofDropFrameFn) (void *arg, const char *drop_re, const char *keep_re,
								  const char *name, size_t name_len);

/* Limits and host callbacks for decoding. */
typedef struct PprofOptions
{
	size_t		max_input_bytes;	/* cap on decompressed pprof bytes */
	uint32_t	max_stack_depth;	/* cap on frames per sample */
	PprofDropFrameFn drop_frame;	/* NULL: drop_frames is ignored */
	void	   *drop_frame_arg;
} PprofOptions;

/* A hash map from non-zero uint64 ids to dense indexes. */
typedef struct IdMap
{
	uint64_t   *keys;			/* 0 = empty */
	uint32_t   *values;
	uint32_t	mask;
} IdMap;

/* A decoded pprof file with every location resolved to frames. */
typedef struct PprofFile
{
	struct Pprof__Profile *msg;
	uint32_t	sample_type_count;
	const char **type_names;	/* sanitised, NUL-terminated */
	const char **unit_names;
	int			default_type;	/* pprof's default sample type index */
	SymbolTable symbols;
	ProfileMeta meta;			/* period, time and duration; no sample type */
	/* per location index: frames, root first, after pruning */
	uint32_t   *loc_frame_start;
	uint32_t   *loc_frame_count;
	uint8_t    *loc_prune;		/* PPROF_PRUNE_* flags */
	bool		has_pruning;	/* some location matched drop_frames */
	uint32_t   *frames;
	IdMap		locations;		/* location id -> location index */
	/* scratch for one sample's stack */
	uint32_t   *stack;
	uint32_t	stack_capacity;
	uint32_t	max_stack_depth;
} PprofFile;

/* One label combination of pprof_split, with its trees per sample type. */
typedef struct PprofGroup
{
	char	   *labels_json;	/* a JSON object, e.g. {"endpoint": "/api"} */
	CallTree  **trees;			/* one per sample type */
} PprofGroup;

/* Inflate if gzip, unpack, validate and resolve locations. */
extern PprofFile *pprof_open(const uint8_t *data, size_t len, const PprofOptions *options);

/*
 * Index of the sample type named name (or given as a decimal index), or
 * pprof's default when name is NULL.  Raises PP_ERR_BAD_ARGUMENT, listing
 * the available types, when there is no such type.
 */
extern int	pprof_find_sample_type(const PprofFile *file, const char *name);

/* Build the call tree of one sample type. */
extern CallTree *pprof_build_tree(PprofFile *file, int type_index);

/*
 * Split by the values of the given label keys: one group per distinct
 * combination seen, in order of first appearance; with no keys, one group.
 */
extern PprofGroup *pprof_build_groups(PprofFile *file, const char *const *keys,
									  int key_count, uint32_t *group_count);

#endif							/* PPROF_DECODE_H */
