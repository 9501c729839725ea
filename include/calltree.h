/*
 * calltree.h
 *	  The in-memory call tree at function granularity, and the interned
 *	  function names it points into.
 *
 * A frame's identity is its function name.  Nodes live in one array; node 0
 * is the root ("total").  A hash on (parent, symbol) finds a child in O(1),
 * so inserting a stack or merging a tree costs one probe per frame.
 */
#ifndef CALLTREE_H
#define CALLTREE_H

#include "profile_meta.h"

#define CALLTREE_ROOT 0
#define CALLTREE_NONE UINT32_MAX

/*
 * Children of a node with at most this many children are found by walking
 * its sibling list, which stays in cache while the tree is small (merges);
 * wider nodes, and trees too big for the cache, use the edge hash.
 */
#define CALLTREE_SCAN_CHILDREN 8
#define CALLTREE_SCAN_MAX_NODES 65536

/* Interned strings: each distinct byte string gets a dense id. */
typedef struct StringInterner
{
	uint32_t	count;
	uint32_t	capacity;
	const char **strings;		/* not NUL-terminated */
	uint32_t   *lengths;
	uint32_t   *hashes;
	uint32_t   *slots;			/* open addressing: id + 1, 0 = empty */
	uint32_t	slot_mask;
	char	   *arena;			/* current block that strings are copied into */
	size_t		arena_left;
} StringInterner;

/* Function names, and each function's first-seen file name. */
typedef struct SymbolTable
{
	StringInterner names;		/* symbol id = name id */
	StringInterner files;
	uint32_t   *file_of;		/* per symbol: file id + 1, 0 = none */
	uint32_t	file_of_capacity;
	/* byte-order ranks kept by symtab_keep_ranks, valid while the counts match */
	uint32_t   *name_ranks;
	uint32_t	name_ranks_count;
	uint32_t   *file_ranks;
	uint32_t	file_ranks_count;
} SymbolTable;

/* One call-tree node. */
typedef struct CallTreeNode
{
	uint32_t	symbol;			/* CALLTREE_NONE for the root */
	uint32_t	parent;
	uint32_t	first_child;	/* CALLTREE_NONE when a leaf */
	uint32_t	next_sibling;
	uint32_t	child_count;
	int64_t		self;
} CallTreeNode;

/* One slot of the edge hash: the key is stored inline to save a cache miss. */
typedef struct CallTreeSlot
{
	uint32_t	parent;
	uint32_t	symbol;
	uint32_t	node;			/* 0 = empty (the root is never a child) */
} CallTreeSlot;

/* A call tree over a symbol table (the table may be shared by many trees). */
typedef struct CallTree
{
	SymbolTable *symbols;
	CallTreeNode *nodes;
	uint32_t	count;
	uint32_t	capacity;
	CallTreeSlot *slots;		/* (parent, symbol) -> node */
	uint32_t	slot_mask;
	bool		slots_stale;	/* nodes were added without the hash: rebuild on use */
	ProfileMeta meta;
} CallTree;

extern void interner_init(StringInterner *in);
extern uint32_t interner_intern(StringInterner *in, const char *s, size_t len);
extern uint32_t interner_lookup(const StringInterner *in, const char *s, size_t len);

extern void symtab_init(SymbolTable *st);
extern uint32_t symtab_intern(SymbolTable *st, const char *name, size_t name_len,
							  const char *file, size_t file_len);

extern void symtab_set_file(SymbolTable *st, uint32_t id, const char *file, size_t file_len);

/*
 * Sort the table's names and files once and keep their ranks, for a table
 * that many trees share and encode (pprof_split's rows): every encode then
 * reuses them instead of sorting again.  The ranks are allocated in the
 * current memory context, which must live as long as the table; interning
 * a new name or file later only makes them unused.
 */
extern void symtab_keep_ranks(SymbolTable *st);

extern CallTree *calltree_create(SymbolTable *symbols);
extern CallTree *calltree_create_sized(SymbolTable *symbols, uint32_t nodes);
extern void calltree_reserve(CallTree *tree, uint32_t nodes);
extern uint32_t calltree_child(CallTree *tree, uint32_t parent, uint32_t symbol);
extern uint32_t calltree_append_child(CallTree *tree, uint32_t parent, uint32_t symbol);
extern void calltree_add_stack(CallTree *tree, const uint32_t *frames, uint32_t depth,
							   int64_t value);
extern uint32_t calltree_insert_path(CallTree *tree, const uint32_t *frames, uint32_t depth);
extern CallTree *calltree_subset(const CallTree *src, const uint8_t *keep, const int64_t *self);
extern int64_t calltree_total(const CallTree *tree);

/*
 * Children grouped by parent and sorted by rank[symbol]: the children of
 * node p are children[child_start[p] .. child_start[p + 1]).  Each entry
 * is (rank << 32 | node).  Used to walk a tree in canonical order.
 */
typedef struct CallTreeChildren
{
	uint32_t   *child_start;	/* count + 1 entries */
	uint64_t   *children;		/* count entries (the root is nobody's child) */
} CallTreeChildren;

extern void calltree_sorted_children(const CallTree *tree, const uint32_t *rank,
									 CallTreeChildren *out);
extern uint32_t *calltree_symbol_ranks(const CallTree *tree);
extern uint32_t *interner_ranks(const StringInterner *in);

/*
 * Check the tree's structure (parent links, child lists and counts, symbol
 * ids, the edge hash) and raise PP_ERR_INTERNAL if it is broken.  Costs a
 * walk of the tree: callers use it under USE_ASSERT_CHECKING.
 */
extern void calltree_check_invariants(const CallTree *tree);

#endif							/* CALLTREE_H */
