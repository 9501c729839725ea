/*
 * profile_format.h
 *	  The stored form of a `profile` value, and a decoded read-only view of it.
 *
 * Stored bytes (after the varlena header):
 *
 *	 byte 0    format version (PROFILE_FORMAT_VERSION)
 *	 byte 1    flags (PROFILE_FLAG_ZSTD: the body is one zstd frame)
 *	 varint    length of the uncompressed body
 *	 ...       body, zstd-compressed or raw
 *
 * The body is a sequence of length-prefixed sections.  The first three are
 * required and come in this order; any after them are optional extensions
 * (tag varint, length varint, payload) that a reader skips when it does not
 * know the tag, leaving room for, say, per-line values later.
 *
 *	 META     sample type, unit, period type, period unit (length + bytes),
 *	          period, start, end, duration (zigzag), source profile count,
 *	          total (zigzag; checked against the sum of the node values),
 *	          value scale (varint >= 1: every self value below is stored
 *	          divided by it; the encoder uses their greatest common divisor)
 *	 SYMBOLS  file names: count, lengths, bytes; function names: count,
 *	          lengths, bytes; per function its file (0 = none, else index + 1).
 *	          Both lists are strictly increasing in byte order.
 *	 TREE     root self (zigzag), node count, then three length-prefixed
 *	          streams with one entry per node in depth-first pre-order:
 *	          depth step (parent depth + 1 - depth, i.e. how far to climb),
 *	          function index, self value (zigzag).  Siblings are strictly
 *	          increasing by function index, so a value has one encoding.
 */
#ifndef PROFILE_FORMAT_H
#define PROFILE_FORMAT_H

#include "calltree.h"

#define PROFILE_FORMAT_VERSION 1
#define PROFILE_FLAG_ZSTD 0x01
#define PROFILE_KNOWN_FLAGS PROFILE_FLAG_ZSTD

/* A length-delimited byte string inside a decoded body. */
typedef struct PPString
{
	const char *data;			/* not NUL-terminated */
	uint32_t	len;
} PPString;

/* A decoded, validated profile: arrays over one decompressed body. */
typedef struct ProfileView
{
	ProfileMeta meta;
	int64_t		total;
	uint64_t	value_scale;	/* stored values are multiples of this */
	uint32_t	file_count;
	PPString   *files;
	uint32_t	symbol_count;
	PPString   *symbols;
	uint32_t   *symbol_file;	/* file index + 1, 0 = none */
	int64_t		root_self;
	uint32_t	node_count;		/* not counting the root */
	uint32_t   *node_depth;		/* 1 for children of the root */
	uint32_t   *node_symbol;
	int64_t    *node_self;
	size_t		stored_bytes;	/* size of the stored value */
	uint8_t		format_version; /* of the stored value */
	uint8_t    *owned_body;		/* the decompressed body, if allocated */
} ProfileView;

/*
 * The tree symbols of the previous input of a merge, in name order: the
 * next input's names are matched against them without hashing.
 */
typedef struct SymbolCache
{
	uint32_t   *ids;
	uint32_t	count;
	uint32_t	capacity;
} SymbolCache;

/* Limits that guard decoding; the server fills them from GUCs. */
typedef struct ProfileLimits
{
	size_t		max_body_bytes; /* cap on the decompressed size */
	int			zstd_level;
} ProfileLimits;

/* Encode a call tree into the stored form; returns palloc'd bytes. */
extern uint8_t *profile_encode(const CallTree *tree, const ProfileLimits *limits,
							   size_t *out_len);

/* Decode and fully validate stored bytes; raises PP_ERR_CORRUPT if bad. */
extern void profile_decode(const uint8_t *data, size_t len, const ProfileLimits *limits,
						   ProfileView *view);

/*
 * Decode and validate stored bytes, adding the nodes straight into tree
 * (the merge path: no per-node arrays).  view gets everything else.
 */
extern void profile_decode_into_tree(const uint8_t *data, size_t len,
									 const ProfileLimits *limits, ProfileView *view,
									 CallTree *tree, SymbolCache *cache);

/*
 * The body of stored bytes, decompressed when it is compressed, with the
 * header checked but not the sections (for comparing and hashing values
 * that were validated when they were stored).  *owned is the allocation to
 * free, or NULL when the body points into data.  Raises PP_ERR_CORRUPT.
 */
extern const uint8_t *profile_stored_body(const uint8_t *data, size_t len,
										  const ProfileLimits *limits, size_t *body_len,
										  uint8_t **owned);

/* Free what decoding allocated for a view. */
extern void profile_view_free(ProfileView *view);

/* Add every node of a decoded profile into a tree (used by merges). */
extern void profile_view_add_to_tree(const ProfileView *view, CallTree *tree);

/* Decode and validate stored bytes straight into a new tree. */
extern CallTree *profile_decode_to_tree(const uint8_t *data, size_t len,
										const ProfileLimits *limits, ProfileView *view);

#endif							/* PROFILE_FORMAT_H */
