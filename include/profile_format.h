/*
 * profile_format.h
 *	  The stored form of a `profile` value, and a decoded read-only view of it.
 *
 * Stored bytes (after the varlena header), version 1 (a plain value):
 *
 *	 byte 0    format version (PROFILE_FORMAT_VERSION, 1)
 *	 byte 1    flags (PROFILE_FLAG_ZSTD: the body is one zstd frame)
 *	 varint    length of the uncompressed body
 *	 ...       body, zstd-compressed or raw
 *
 * Version 2 (a packed value, from profile_pack: the merge of many profiles
 * plus its timeline, each source's values under its time):
 *
 *	 byte 0    format version (PROFILE_FORMAT_PACKED, 2)
 *	 byte 1    flags (PROFILE_FLAG_ZSTD, for the body)
 *	 varint    number of timeline points
 *	 zigzag    time of the first point, of the last (nanoseconds since 1970)
 *	 varint    length of the uncompressed body
 *	 varint    length of the body as stored
 *	 ...       body (the same sections as version 1: the merged profile)
 *	 ...       the timeline frame, to the end (see profile_timeline.h)
 *
 * Readers that need only the merged profile (the aggregate, the views, the
 * exports) read the body and skip the timeline frame; the first and last
 * time come from the first bytes alone.
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
#define PROFILE_FORMAT_PACKED 2
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
	/* a packed value's timeline frame, found but not read (profile_timeline.h) */
	const uint8_t *timeline;	/* NULL for a plain value */
	size_t		timeline_len;
	uint32_t	timeline_points;
	int64_t		timeline_first;
	int64_t		timeline_last;
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

/* Encode a call tree into the stored form (version 1); returns pp_alloc'd bytes. */
extern uint8_t *profile_encode(const CallTree *tree, const ProfileLimits *limits,
							   size_t *out_len);

/*
 * Encode a call tree's body alone: returns the uncompressed body, and with
 * preorder (tree->count entries) each node's stored number (0 = the root,
 * i = the i-th node in pre-order), which a timeline refers to.
 */
extern uint8_t *profile_encode_body(const CallTree *tree, const ProfileLimits *limits,
									uint32_t *preorder, size_t *out_len);

/*
 * Compress src into one zstd frame at dst (ZSTD_compressBound(len) bytes of
 * room) in pieces, with interrupt checks; returns the compressed size.
 * raw_literals trades some size for faster decompression (no Huffman).
 */
extern size_t profile_compress(uint8_t *dst, size_t capacity, const uint8_t *src, size_t len,
							   int level, bool raw_literals);

/*
 * Take stored bytes src as raw_len bytes: check and decompress one zstd
 * frame, or check the length of raw bytes; what names the data in errors.
 * Returns src itself when not compressed, else a new allocation.
 */
extern const uint8_t *profile_inflate(const uint8_t *src, size_t src_len, bool compressed,
									  uint64_t raw_len, const ProfileLimits *limits,
									  const char *what);

/* Decode and fully validate stored bytes; raises PP_ERR_CORRUPT if bad. */
extern void profile_decode(const uint8_t *data, size_t len, const ProfileLimits *limits,
						   ProfileView *view);

/*
 * Decode and validate stored bytes, adding the nodes straight into tree
 * (the merge path: no per-node arrays).  view gets everything else.  With
 * node_map, *node_map receives each stored node's node in tree (0 = root).
 * The timeline is never read here, so a packed value's bytes may end after
 * its body (profile_stored_body_end: a TOAST slice without the timeline).
 */
extern void profile_decode_into_tree(const uint8_t *data, size_t len,
									 const ProfileLimits *limits, ProfileView *view,
									 CallTree *tree, SymbolCache *cache, uint32_t **node_map);

/*
 * A packed value's timeline span from its first bytes (data may be a
 * prefix of the value, 32 bytes are enough): false for a plain value.
 */
extern bool profile_stored_span(const uint8_t *data, size_t len, uint32_t *points,
								int64_t *first, int64_t *last);

/*
 * The body of stored bytes, decompressed when it is compressed, with the
 * header checked but not the sections (for comparing and hashing values
 * that were validated when they were stored).  *owned is the allocation to
 * free, or NULL when the body points into data.  Raises PP_ERR_CORRUPT.
 */
extern const uint8_t *profile_stored_body(const uint8_t *data, size_t len,
										  const ProfileLimits *limits, size_t *body_len,
										  uint8_t **owned);

/*
 * For a packed value, true and *end = how many leading bytes hold its header
 * and body (data: the value's first bytes, 48 are enough); false for a
 * plain value.  Readers of the merge alone fetch just those bytes.
 */
extern bool profile_stored_body_end(const uint8_t *data, size_t len, size_t *end);

/*
 * The plain (version 1) value of a packed value's merge: its body as
 * stored, rewrapped, with nothing decompressed.  data may end after the
 * body (profile_stored_body_end).  Returns new bytes.
 */
extern uint8_t *profile_packed_to_plain(const uint8_t *data, size_t len, size_t *out_len);

/*
 * A packed value's timeline frame as stored, header checked but not the
 * frame (timeline_payload reads it): false for a plain value.
 */
extern bool profile_stored_timeline(const uint8_t *data, size_t len, const uint8_t **frame,
									size_t *frame_len);

/* Free what decoding allocated for a view. */
extern void profile_view_free(ProfileView *view);

/*
 * Add every node of a decoded profile into a tree; with node_map
 * (node_count + 1 entries), record each stored node's node in tree.
 */
extern void profile_view_add_to_tree(const ProfileView *view, CallTree *tree, uint32_t *node_map);

/* Decode and validate stored bytes straight into a new tree (see node_map above). */
extern CallTree *profile_decode_to_tree(const uint8_t *data, size_t len,
										const ProfileLimits *limits, ProfileView *view,
										uint32_t **node_map);

#endif							/* PROFILE_FORMAT_H */
