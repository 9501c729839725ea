/*
 * calltree.c
 *	  Interned symbols and the in-memory call tree.
 */
#include "calltree.h"
#include "keyed_hash.h"

#include <stdlib.h>
#include <string.h>

#define INTERNER_ARENA_BLOCK 65536
#define MAX_TABLE_ENTRIES (UINT32_MAX / 4)

/* The interner's 32-bit hash of a string: keyed, so input cannot flood a slot. */
static inline uint32_t
hash_string(const char *s, size_t len)
{
	return (uint32_t) keyed_hash_bytes(s, len);
}

/* Mix a (parent, symbol) pair into a slot hash (keyed, see keyed_hash.h). */
static inline uint32_t
hash_edge(uint32_t parent, uint32_t symbol)
{
	return (uint32_t) keyed_mix_u64(((uint64_t) parent << 32) | symbol);
}

/* Start an empty interner. */
void
interner_init(StringInterner *in)
{
	in->count = 0;
	in->capacity = 64;
	in->strings = pp_alloc_array(in->capacity, sizeof(char *));
	in->lengths = pp_alloc_array(in->capacity, sizeof(uint32_t));
	in->hashes = pp_alloc_array(in->capacity, sizeof(uint32_t));
	in->slot_mask = 127;
	in->slots = pp_alloc0(sizeof(uint32_t) * 128);
	in->arena = NULL;
	in->arena_left = 0;
}

/* Copy a string into the interner's arena. */
static const char *
interner_copy(StringInterner *in, const char *s, size_t len)
{
	char	   *dst;

	if (len == 0)
		return "";
	if (len > in->arena_left)
	{
		size_t		block = len > INTERNER_ARENA_BLOCK ? len : INTERNER_ARENA_BLOCK;

		in->arena = pp_alloc(block);
		in->arena_left = block;
	}
	dst = in->arena;
	if (len > 0)
		memcpy(dst, s, len);
	in->arena += len;
	in->arena_left -= len;
	return dst;
}

/* Double the slot table and re-insert every id. */
static void
interner_grow_slots(StringInterner *in)
{
	uint32_t	new_mask = in->slot_mask * 2 + 1;
	uint32_t   *slots = pp_alloc0(pp_mul_size((size_t) new_mask + 1, sizeof(uint32_t)));

	for (uint32_t id = 0; id < in->count; id++)
	{
		uint32_t	i = in->hashes[id] & new_mask;

		while (slots[i] != 0)
			i = (i + 1) & new_mask;
		slots[i] = id + 1;
		PP_CHECK_INTERRUPTS_EVERY(id);
	}
	pp_free(in->slots);
	in->slots = slots;
	in->slot_mask = new_mask;
}

/* Find the id of a string, or CALLTREE_NONE if it was never interned. */
uint32_t
interner_lookup(const StringInterner *in, const char *s, size_t len)
{
	uint32_t	h = hash_string(s, len);
	uint32_t	i = h & in->slot_mask;

	while (in->slots[i] != 0)
	{
		uint32_t	id = in->slots[i] - 1;

		if (in->hashes[id] == h && in->lengths[id] == len &&
			(len == 0 || memcmp(in->strings[id], s, len) == 0))
			return id;
		i = (i + 1) & in->slot_mask;
	}
	return CALLTREE_NONE;
}

/* Return the id of a string, adding a copy of it if it is new. */
uint32_t
interner_intern(StringInterner *in, const char *s, size_t len)
{
	uint32_t	h = hash_string(s, len);
	uint32_t	i = h & in->slot_mask;
	uint32_t	id;

	while (in->slots[i] != 0)
	{
		id = in->slots[i] - 1;
		if (in->hashes[id] == h && in->lengths[id] == len &&
			(len == 0 || memcmp(in->strings[id], s, len) == 0))
			return id;
		i = (i + 1) & in->slot_mask;
	}
	if (len > UINT32_MAX || in->count >= MAX_TABLE_ENTRIES)
		pp_error(PP_ERR_LIMIT, "too many or too long strings in one profile");
	if (in->count == in->capacity)
	{
		in->capacity *= 2;
		in->strings = pp_realloc(in->strings, pp_mul_size(in->capacity, sizeof(char *)));
		in->lengths = pp_realloc(in->lengths, pp_mul_size(in->capacity, sizeof(uint32_t)));
		in->hashes = pp_realloc(in->hashes, pp_mul_size(in->capacity, sizeof(uint32_t)));
	}
	id = in->count++;
	in->strings[id] = interner_copy(in, s, len);
	in->lengths[id] = (uint32_t) len;
	in->hashes[id] = h;
	in->slots[i] = id + 1;
	if ((uint64_t) in->count * 2 > in->slot_mask)
		interner_grow_slots(in);
	return id;
}

/* Start an empty symbol table. */
void
symtab_init(SymbolTable *st)
{
	interner_init(&st->names);
	interner_init(&st->files);
	st->name_ranks = NULL;
	st->name_ranks_count = 0;
	st->file_ranks = NULL;
	st->file_ranks_count = 0;
	st->file_of_capacity = 64;
	st->file_of = pp_alloc0(sizeof(uint32_t) * st->file_of_capacity);
}

/*
 * Intern a function by name.  The file name is recorded only the first time
 * a name is seen, or later if it had none; file may be NULL.
 */
uint32_t
symtab_intern(SymbolTable *st, const char *name, size_t name_len,
			  const char *file, size_t file_len)
{
	uint32_t	id = interner_intern(&st->names, name, name_len);

	if (id >= st->file_of_capacity)
	{
		uint32_t	old = st->file_of_capacity;

		st->file_of_capacity = st->names.capacity;
		st->file_of = pp_realloc(st->file_of,
								 pp_mul_size(st->file_of_capacity, sizeof(uint32_t)));
		memset(st->file_of + old, 0, sizeof(uint32_t) * (st->file_of_capacity - old));
	}
	symtab_set_file(st, id, file, file_len);
	return id;
}

/* Give symbol id a file name if it has none yet (first seen wins). */
void
symtab_set_file(SymbolTable *st, uint32_t id, const char *file, size_t file_len)
{
	if (st->file_of[id] == 0 && file != NULL && file_len > 0)
		st->file_of[id] = interner_intern(&st->files, file, file_len) + 1;
}

/* Create a tree holding only its root. */
CallTree *
calltree_create(SymbolTable *symbols)
{
	return calltree_create_sized(symbols, 256);
}

/* Create a tree holding only its root, with room for about nodes nodes. */
CallTree *
calltree_create_sized(SymbolTable *symbols, uint32_t nodes)
{
	CallTree   *tree = pp_alloc0(sizeof(CallTree));
	size_t		slots = 16;

	if (nodes < 4)
		nodes = 4;
	if (nodes > MAX_TABLE_ENTRIES)
		nodes = MAX_TABLE_ENTRIES;
	while (slots < (size_t) nodes * 2)
		slots *= 2;
	tree->symbols = symbols;
	tree->capacity = nodes;
	tree->nodes = pp_alloc_array(tree->capacity, sizeof(CallTreeNode));
	tree->count = 1;
	tree->nodes[0].symbol = CALLTREE_NONE;
	tree->nodes[0].parent = CALLTREE_NONE;
	tree->nodes[0].first_child = CALLTREE_NONE;
	tree->nodes[0].next_sibling = CALLTREE_NONE;
	tree->nodes[0].child_count = 0;
	tree->nodes[0].self = 0;
	tree->slot_mask = (uint32_t) (slots - 1);
	tree->slots = pp_alloc0(pp_mul_size(slots, sizeof(CallTreeSlot)));
	profile_meta_init(&tree->meta);
	return tree;
}

/* Resize the edge hash to at least min_slots slots and re-insert every node. */
static void
calltree_rehash(CallTree *tree, size_t min_slots)
{
	size_t		size = (size_t) tree->slot_mask + 1;
	uint32_t	new_mask;
	CallTreeSlot *slots;

	while (size < min_slots)
		size *= 2;
	if (size > ((size_t) 1 << 32))
		pp_error(PP_ERR_LIMIT, "call tree has too many nodes");
	new_mask = (uint32_t) (size - 1);
	slots = pp_alloc0(pp_mul_size(size, sizeof(CallTreeSlot)));
	for (uint32_t n = 1; n < tree->count; n++)
	{
		uint32_t	parent = tree->nodes[n].parent;
		uint32_t	symbol = tree->nodes[n].symbol;
		uint32_t	i = hash_edge(parent, symbol) & new_mask;

		while (slots[i].node != 0)
			i = (i + 1) & new_mask;
		slots[i].parent = parent;
		slots[i].symbol = symbol;
		slots[i].node = n;
		PP_CHECK_INTERRUPTS_EVERY(n);
	}
	pp_free(tree->slots);
	tree->slots = slots;
	tree->slot_mask = new_mask;
	tree->slots_stale = false;
}

/* Make room for about `nodes` more nodes without rehashing on the way. */
void
calltree_reserve(CallTree *tree, uint32_t nodes)
{
	uint64_t	want = (uint64_t) tree->count + nodes;

	if (want > MAX_TABLE_ENTRIES)
		want = MAX_TABLE_ENTRIES;
	if (want > tree->capacity)
	{
		/* grow geometrically: merges call this once per input */
		if (want < (uint64_t) tree->capacity * 2)
			want = (uint64_t) tree->capacity * 2 < MAX_TABLE_ENTRIES
				? (uint64_t) tree->capacity * 2 : MAX_TABLE_ENTRIES;
		tree->capacity = (uint32_t) want;
		tree->nodes = pp_realloc(tree->nodes,
								 pp_mul_size(tree->capacity, sizeof(CallTreeNode)));
	}
	if (want * 2 > tree->slot_mask && !tree->slots_stale)
		calltree_rehash(tree, (size_t) want * 2 + 2);
}

/* A new node for symbol, linked as parent's first child (not in the edge hash). */
static uint32_t
new_child(CallTree *tree, uint32_t parent, uint32_t symbol)
{
	CallTreeNode *node;
	uint32_t	n;

	if (tree->count >= MAX_TABLE_ENTRIES)
		pp_error(PP_ERR_LIMIT, "call tree has too many nodes");
	if (tree->count == tree->capacity)
	{
		tree->capacity *= 2;
		tree->nodes = pp_realloc(tree->nodes, pp_mul_size(tree->capacity, sizeof(CallTreeNode)));
	}
	n = tree->count++;
	node = &tree->nodes[n];
	node->symbol = symbol;
	node->parent = parent;
	node->first_child = CALLTREE_NONE;
	node->child_count = 0;
	node->self = 0;
	node->next_sibling = tree->nodes[parent].first_child;
	tree->nodes[parent].first_child = n;
	tree->nodes[parent].child_count++;
	return n;
}

/*
 * Add a child of parent for symbol, which parent must not have yet, without
 * the edge hash (rebuilt when a lookup next needs it): for building a tree
 * from a source whose nodes are known to be distinct, a stored value.
 */
uint32_t
calltree_append_child(CallTree *tree, uint32_t parent, uint32_t symbol)
{
	tree->slots_stale = true;
	return new_child(tree, parent, symbol);
}

/*
 * Find the child of parent for symbol, creating it if needed.  Every node
 * is in the edge hash, but narrow nodes are searched through their sibling
 * list: a path of a merged profile then touches nodes that sit together
 * in memory instead of random hash slots.
 */
uint32_t
calltree_child(CallTree *tree, uint32_t parent, uint32_t symbol)
{
	uint32_t	i;
	CallTreeSlot *slot;
	uint32_t	n;

	if (tree->slots_stale)
		calltree_rehash(tree, (size_t) tree->count * 2 + 2);
	if (tree->nodes[parent].child_count <= CALLTREE_SCAN_CHILDREN &&
		tree->count <= CALLTREE_SCAN_MAX_NODES)
	{
		for (n = tree->nodes[parent].first_child; n != CALLTREE_NONE;
			 n = tree->nodes[n].next_sibling)
			if (tree->nodes[n].symbol == symbol)
				return n;
	}
	i = hash_edge(parent, symbol) & tree->slot_mask;
	for (;;)
	{
		slot = &tree->slots[i];
		if (slot->node == 0)
			break;
		if (slot->parent == parent && slot->symbol == symbol)
			return slot->node;
		i = (i + 1) & tree->slot_mask;
	}
	n = new_child(tree, parent, symbol);
	slot->parent = parent;
	slot->symbol = symbol;
	slot->node = n;
	if ((uint64_t) tree->count * 2 > tree->slot_mask)
		calltree_rehash(tree, ((size_t) tree->slot_mask + 1) * 2);
	return n;
}

/* The node of the stack frames[0..depth-1] (root first), created as needed. */
uint32_t
calltree_insert_path(CallTree *tree, const uint32_t *frames, uint32_t depth)
{
	uint32_t	node = CALLTREE_ROOT;

	for (uint32_t i = 0; i < depth; i++)
		node = calltree_child(tree, node, frames[i]);
	return node;
}

/* Add value to the stack frames[0..depth-1], root first. */
void
calltree_add_stack(CallTree *tree, const uint32_t *frames, uint32_t depth, int64_t value)
{
	uint32_t	node = calltree_insert_path(tree, frames, depth);

	tree->nodes[node].self = pp_add_int64(tree->nodes[node].self, value);
}

/*
 * A new tree over src's symbols holding the nodes with keep[n] set (a kept
 * node's parent must be kept too) and self values from self[].  Parents
 * come before children in src, so one forward pass copies the nodes; the
 * edge hash is left to be built if anyone looks a child up later.
 */
CallTree *
calltree_subset(const CallTree *src, const uint8_t *keep, const int64_t *self)
{
	CallTree   *dst = calltree_create(src->symbols);
	uint32_t   *map = pp_alloc_array(src->count, sizeof(uint32_t));
	uint32_t	kept = 1;

	for (uint32_t n = 1; n < src->count; n++)
		kept += keep[n] != 0;
	dst->meta = src->meta;
	if (kept > dst->capacity)
	{
		dst->capacity = kept;
		dst->nodes = pp_realloc(dst->nodes, pp_mul_size(kept, sizeof(CallTreeNode)));
	}
	dst->slots_stale = true;
	map[CALLTREE_ROOT] = CALLTREE_ROOT;
	dst->nodes[CALLTREE_ROOT].self = self[CALLTREE_ROOT];
	for (uint32_t n = 1; n < src->count; n++)
	{
		uint32_t	d;
		CallTreeNode *node;
		CallTreeNode *parent;

		if (!keep[n])
			continue;
		d = dst->count++;
		node = &dst->nodes[d];
		parent = &dst->nodes[map[src->nodes[n].parent]];
		node->symbol = src->nodes[n].symbol;
		node->parent = map[src->nodes[n].parent];
		node->first_child = CALLTREE_NONE;
		node->child_count = 0;
		node->self = self[n];
		node->next_sibling = parent->first_child;
		parent->first_child = d;
		parent->child_count++;
		map[n] = d;
		if ((n & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	pp_free(map);
	return dst;
}

/* Sum of all self values. */
int64_t
calltree_total(const CallTree *tree)
{
	int64_t		total = 0;

	for (uint32_t n = 0; n < tree->count; n++)
	{
		total = pp_add_int64(total, tree->nodes[n].self);
		PP_CHECK_INTERRUPTS_EVERY(n);
	}
	return total;
}

/* qsort comparator for uint64 keys. */
static int
compare_u64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return (x > y) - (x < y);
}

/*
 * Group children by parent, each group in rank order.  Two stable counting
 * sorts, by rank and then by parent, when the ranks span no more than a few
 * times the nodes (always, for ranks over the symbols the tree uses);
 * otherwise a grouping by parent and a sort of each group.
 */
void
calltree_sorted_children(const CallTree *tree, const uint32_t *rank, CallTreeChildren *out)
{
	uint32_t	count = tree->count;
	uint32_t   *fill = pp_alloc_array(count, sizeof(uint32_t));
	uint64_t	ranks = 0;		/* one more than the largest rank */

	out->child_start = pp_alloc0(pp_mul_size((size_t) count + 1, sizeof(uint32_t)));
	out->children = pp_alloc_array(count, sizeof(uint64_t));
	for (uint32_t n = 1; n < count; n++)
	{
		out->child_start[tree->nodes[n].parent + 1]++;
		if (rank[tree->nodes[n].symbol] >= ranks)
			ranks = (uint64_t) rank[tree->nodes[n].symbol] + 1;
	}
	pp_check_interrupts();
	for (uint32_t p = 0; p < count; p++)
		out->child_start[p + 1] += out->child_start[p];
	memcpy(fill, out->child_start, sizeof(uint32_t) * count);
	if (ranks <= (uint64_t) count * 4 + 1024)
	{
		uint32_t   *by_rank = pp_alloc0(pp_mul_size((size_t) ranks + 1, sizeof(uint32_t)));
		uint32_t   *order = pp_alloc_array(count, sizeof(uint32_t));

		for (uint32_t n = 1; n < count; n++)
			by_rank[rank[tree->nodes[n].symbol] + 1]++;
		for (uint64_t r = 0; r < ranks; r++)
			by_rank[r + 1] += by_rank[r];
		for (uint32_t n = 1; n < count; n++)
			order[by_rank[rank[tree->nodes[n].symbol]]++] = n;
		pp_check_interrupts();
		/* distributing in rank order keeps each parent's group in rank order */
		for (uint32_t i = 0; i + 1 < count; i++)
		{
			uint32_t	n = order[i];

			out->children[fill[tree->nodes[n].parent]++] =
				((uint64_t) rank[tree->nodes[n].symbol] << 32) | n;
			PP_CHECK_INTERRUPTS_EVERY(i);
		}
		pp_free(by_rank);
		pp_free(order);
		pp_free(fill);
		return;
	}
	for (uint32_t n = 1; n < count; n++)
	{
		const CallTreeNode *node = &tree->nodes[n];

		out->children[fill[node->parent]++] = ((uint64_t) rank[node->symbol] << 32) | n;
		PP_CHECK_INTERRUPTS_EVERY(n);
	}
	for (uint32_t p = 0; p < count; p++)
	{
		uint32_t	k = out->child_start[p + 1] - out->child_start[p];

		if (k > 1)
			qsort(out->children + out->child_start[p], k, sizeof(uint64_t), compare_u64);
		if ((p & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	pp_free(fill);
}

/* Strings to sort: an id and its bytes. */
typedef struct StringRef
{
	const char *data;
	uint32_t	len;
	uint32_t	id;
} StringRef;

/* qsort comparator: byte order of strings. */
static int
compare_string_refs(const void *a, const void *b)
{
	const StringRef *x = a;
	const StringRef *y = b;

	return bytes_compare(x->data, x->len, y->data, y->len);
}

/* Rank of every string of an interner in byte order. */
uint32_t *
interner_ranks(const StringInterner *in)
{
	uint32_t	n = in->count;
	StringRef  *refs = pp_alloc_array(n ? n : 1, sizeof(StringRef));
	uint32_t   *rank = pp_alloc_array(n ? n : 1, sizeof(uint32_t));

	for (uint32_t i = 0; i < n; i++)
	{
		refs[i].data = in->strings[i];
		refs[i].len = in->lengths[i];
		refs[i].id = i;
	}
	pp_check_interrupts();
	qsort(refs, n, sizeof(StringRef), compare_string_refs);
	pp_check_interrupts();
	for (uint32_t i = 0; i < n; i++)
		rank[refs[i].id] = i;
	pp_free(refs);
	return rank;
}

/* Sort the table's names and files once and keep their ranks (see calltree.h). */
void
symtab_keep_ranks(SymbolTable *st)
{
	st->name_ranks = interner_ranks(&st->names);
	st->name_ranks_count = st->names.count;
	st->file_ranks = interner_ranks(&st->files);
	st->file_ranks_count = st->files.count;
}

/* Rank of every symbol of the tree's table in byte order of its name. */
uint32_t *
calltree_symbol_ranks(const CallTree *tree)
{
	return interner_ranks(&tree->symbols->names);
}

/* The child of parent for symbol through the edge hash alone, or CALLTREE_NONE. */
static uint32_t
hash_find_child(const CallTree *tree, uint32_t parent, uint32_t symbol)
{
	uint32_t	i = hash_edge(parent, symbol) & tree->slot_mask;

	while (tree->slots[i].node != 0)
	{
		if (tree->slots[i].parent == parent && tree->slots[i].symbol == symbol)
			return tree->slots[i].node;
		i = (i + 1) & tree->slot_mask;
	}
	return CALLTREE_NONE;
}

/* Raise an internal error for a broken tree invariant. */
static void
broken(const char *what, uint32_t node)
{
	pp_error(PP_ERR_INTERNAL, "call tree invariant broken at node %u: %s", node, what);
}

/* Check the tree's structure (see calltree.h). */
void
calltree_check_invariants(const CallTree *tree)
{
	uint32_t   *children = pp_alloc0(pp_mul_size(tree->count, sizeof(uint32_t)));
	uint32_t	nsym = tree->symbols->names.count;

	if (tree->count == 0 || tree->count > tree->capacity)
		broken("node count outside 1 .. capacity", 0);
	if (tree->nodes[CALLTREE_ROOT].parent != CALLTREE_NONE ||
		tree->nodes[CALLTREE_ROOT].symbol != CALLTREE_NONE)
		broken("the root has a parent or a symbol", 0);
	for (uint32_t n = 1; n < tree->count; n++)
	{
		const CallTreeNode *node = &tree->nodes[n];

		if (node->parent >= n)
			broken("a parent comes after its child", n);
		if (node->symbol >= nsym)
			broken("symbol id out of range", n);
		children[node->parent]++;
		if (!tree->slots_stale && hash_find_child(tree, node->parent, node->symbol) != n)
			broken("the edge hash does not find the node", n);
		if ((n & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	for (uint32_t n = 0; n < tree->count; n++)
	{
		uint32_t	listed = 0;

		for (uint32_t c = tree->nodes[n].first_child; c != CALLTREE_NONE;
			 c = tree->nodes[c].next_sibling)
		{
			if (c >= tree->count || tree->nodes[c].parent != n || ++listed > children[n])
				broken("a child list holds a node of another parent", n);
		}
		if (listed != children[n] || tree->nodes[n].child_count != children[n])
			broken("child count differs from the child list", n);
		PP_CHECK_INTERRUPTS_EVERY(n);
	}
	pp_free(children);
}
