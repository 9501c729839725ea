/*
 * pprof_decode.h
 *	  pprof bytes (gzip or raw protobuf) -> resolved stacks -> call trees.
 *
 * pprof_open() inflates, unpacks and validates a pprof file, and resolves
 * every location into its function-level frames (inlined frames expanded,
 * drop_frames/keep_frames applied as pprof applies them on load).  Trees
 * are then built per sample type here, or per sample type and label
 * combination by pprof_split.c.
 */
#ifndef PPROF_DECODE_H
#define PPROF_DECODE_H

#include "calltree.h"

struct Pprof__Profile;
struct Pprof__Sample;
struct IdMap;

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
	struct IdMap *locations;	/* location id -> location index */
	/* scratch for one sample's stack */
	uint32_t   *stack;
	uint32_t	stack_capacity;
	uint32_t	max_stack_depth;
} PprofFile;

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
 * The root-first frames of one sample of the file, with drop_frames
 * applied: returns the depth, and the frames are in file->stack.  Raises
 * PP_ERR_LIMIT past the configured maximum depth.
 */
extern uint32_t pprof_sample_stack(PprofFile *file, const struct Pprof__Sample *sample);

/* The metadata of one sample type of the file. */
extern ProfileMeta pprof_type_meta(const PprofFile *file, int type_index);

/* A sample type's display name, or NULL to keep the type's own name. */
typedef const char *(*PprofDisplayNameFn) (void *arg, const char *sample_type);

/*
 * What Pyroscope calls the profile (its __name__): "wall" when a sample type
 * is named wall; else, over the sample types in order, each by its display
 * name (display_name; NULL gives Pyroscope's defaults for Go, such as
 * contentions -> mutex_count), the first that contains "cpu" gives
 * "process_cpu", alloc_/inuse_/space/objects "memory", mutex_ "mutex",
 * block_ "block", goroutines "goroutines"; else the last type's display
 * name.  A Go block profile has the same sample types as a mutex profile,
 * so only a display name (or the caller) can tell them apart.
 */
extern const char *pprof_profile_name(const PprofFile *file, PprofDisplayNameFn display_name,
									  void *arg);

/* A node count to size a tree of the file with (capped against hostile counts). */
extern uint32_t pprof_estimate_nodes(const PprofFile *file);

#endif							/* PPROF_DECODE_H */
