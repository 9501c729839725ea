/*
 * views.c
 *	  Views of a call tree: filters, flame-graph rows and the top table.
 *
 * Trees here are CallTrees, whose nodes are created parent first, so a
 * forward pass over node indexes visits parents before children and a
 * backward pass visits children before parents.  No walk recurses.
 */
#include "views.h"
#include "profile_merge.h"

#include <stdlib.h>
#include <string.h>

#define FLAME_OTHER "other"
#define FLAME_ROOT "total"

/* Path state bits in flame_filter. */
#define PATH_FOCUSED 0x01
#define PATH_IGNORED 0x02

/*
 * The dst node that src node i maps to, creating the path down to it; hidden
 * frames map to their parent's node.  mapped[] caches every answer.
 */
static uint32_t
map_path(const CallTree *src, CallTree *dst, const uint8_t *flags, uint32_t *mapped,
		 uint32_t *pending, uint32_t i)
{
	uint32_t	npending = 0;
	uint32_t	start = i;

	while (mapped[i] == CALLTREE_NONE)
	{
		pending[npending++] = i;
		i = src->nodes[i].parent;
	}
	while (npending > 0)
	{
		uint32_t	k = pending[--npending];
		const CallTreeNode *node = &src->nodes[k];
		uint32_t	parent = mapped[node->parent];

		mapped[k] = (flags[node->symbol] & FLAME_HIDE) ? parent
			: calltree_child(dst, parent, node->symbol);
	}
	return mapped[start];
}

/* A filtered copy of src, as pprof's -focus/-ignore/-hide (see flame.h). */
CallTree *
flame_filter(const CallTree *src, const uint8_t *flags, bool has_focus)
{
	CallTree   *dst = calltree_create(src->symbols);
	uint32_t	count = src->count;
	uint8_t    *path = pp_alloc0(count);
	uint32_t   *mapped = pp_alloc_array(count, sizeof(uint32_t));
	uint32_t   *pending = pp_alloc_array(count, sizeof(uint32_t));

	dst->meta = src->meta;
	mapped[CALLTREE_ROOT] = CALLTREE_ROOT;
	for (uint32_t i = 1; i < count; i++)
	{
		const CallTreeNode *node = &src->nodes[i];
		uint8_t		f = flags[node->symbol];
		uint32_t	d;

		path[i] = path[node->parent] |
			((f & FLAME_FOCUS) ? PATH_FOCUSED : 0) |
			((f & FLAME_IGNORE) ? PATH_IGNORED : 0);
		mapped[i] = CALLTREE_NONE;
		if (node->self == 0 || (path[i] & PATH_IGNORED) ||
			(has_focus && !(path[i] & PATH_FOCUSED)))
			continue;
		d = map_path(src, dst, flags, mapped, pending, i);
		/* A sample whose every frame is hidden is dropped, as in pprof. */
		if (d != CALLTREE_ROOT)
			dst->nodes[d].self = pp_add_int64(dst->nodes[d].self, node->self);
		if ((i & 0xffff) == 0xffff)
			pp_check_interrupts();
	}
	pp_free(path);
	pp_free(mapped);
	pp_free(pending);
	return dst;
}

/* Subtree totals of every node: self plus the totals of its children. */
static int64_t *
subtree_totals(const CallTree *tree, const int64_t *self_values)
{
	int64_t    *total = pp_alloc_array(tree->count, sizeof(int64_t));

	for (uint32_t n = 0; n < tree->count; n++)
		total[n] = self_values ? self_values[n] : tree->nodes[n].self;
	for (uint32_t n = tree->count; n-- > 1;)
	{
		uint32_t	p = tree->nodes[n].parent;

		total[p] = pp_add_int64(total[p], total[n]);
		PP_CHECK_INTERRUPTS_EVERY(n);
	}
	return total;
}

/*
 * The k-th largest of a[0..n) (1-based k), by radix selection on the bytes
 * from the most significant down: each pass counts the candidates' values of
 * one byte, keeps those in the byte value where the k-th lies, and moves on
 * to the next byte.  At most eight passes over shrinking candidate sets, so
 * O(n) whatever the order of the values (a quickselect's bad orders cost
 * O(n^2)).  Reorders a.
 */
static uint64_t
kth_largest(uint64_t *a, size_t n, size_t k)
{
	uint64_t	prefix = 0;

	for (int shift = 56; shift >= 0; shift -= 8)
	{
		size_t		count[256] = {0};
		size_t		kept = 0;
		int			digit = 255;

		for (size_t i = 0; i < n; i++)
		{
			count[(a[i] >> shift) & 0xff]++;
			if ((i & 0xffff) == 0xffff)
				pp_check_interrupts();
		}
		/* the byte value of the k-th largest: walk the counts from the top */
		while (count[digit] < k)
			k -= count[digit--];
		prefix |= (uint64_t) digit << shift;
		for (size_t i = 0; i < n; i++)
			if ((int) ((a[i] >> shift) & 0xff) == digit)
				a[kept++] = a[i];
		n = kept;
	}
	return prefix;
}

/* What a row costs the budget: the row, its label, and a result tuple's overhead. */
#define FLAME_ROW_COST(label_len) (sizeof(FlameRow) + 48 + (size_t) (label_len))

/* Append a row, growing the array as needed, and charge it to the budget. */
static void
push_row(FlameRow **rows, uint32_t *count, uint32_t *capacity, PPBudget *budget,
		 uint32_t level, int64_t value, int64_t self, int64_t value_right, int64_t self_right,
		 const char *label, uint32_t label_len)
{
	FlameRow   *r;

	pp_budget_charge(budget, FLAME_ROW_COST(label_len));
	if (*count == *capacity)
	{
		*capacity *= 2;
		*rows = pp_realloc(*rows, pp_mul_size(*capacity, sizeof(FlameRow)));
	}
	r = &(*rows)[(*count)++];
	r->level = level;
	r->value = value;
	r->self = self;
	r->value_right = value_right;
	r->self_right = self_right;
	r->label = label;
	r->label_len = label_len;
}

/* Flame-graph rows in pre-order with byte-ordered siblings, "other" last. */
FlameRow *
flame_rows(const CallTree *tree, const int64_t *right_self, int64_t max_nodes,
		   PPBudget *budget, uint32_t *row_count)
{
	uint32_t	count = tree->count;
	const StringInterner *names = &tree->symbols->names;
	int64_t    *value = subtree_totals(tree, NULL);
	int64_t    *value_right = right_self ? subtree_totals(tree, right_self) : NULL;
	uint8_t    *folded = pp_alloc0(count);
	uint32_t   *rank = calltree_symbol_ranks(tree);
	CallTreeChildren groups;
	uint32_t   *stack_node = pp_alloc_array(count, sizeof(uint32_t));
	uint32_t   *stack_next = pp_alloc_array(count, sizeof(uint32_t));
	int64_t    *other = pp_alloc0(pp_mul_size(count, sizeof(int64_t)));
	int64_t    *other_right = pp_alloc0(pp_mul_size(count, sizeof(int64_t)));
	uint8_t    *has_other = pp_alloc0(count);
	uint32_t	capacity = 1024;
	uint32_t	nrows = 0;
	uint32_t	depth;
	FlameRow   *rows = pp_alloc_array(capacity, sizeof(FlameRow));

	/* Pyroscope's rule: the cutoff is the max_nodes-th largest node value. */
	if (max_nodes > 0 && (uint64_t) (count - 1) > (uint64_t) max_nodes)
	{
		uint64_t   *weight = pp_alloc_array(count, sizeof(uint64_t));
		uint64_t   *work = pp_alloc_array(count, sizeof(uint64_t));
		uint64_t	cutoff;

		for (uint32_t n = 1; n < count; n++)
		{
			weight[n] = pp_magnitude(value[n]);
			if (value_right)
				weight[n] += pp_magnitude(value_right[n]);
			work[n - 1] = weight[n];
			PP_CHECK_INTERRUPTS_EVERY(n);
		}
		cutoff = kth_largest(work, count - 1, (size_t) max_nodes);
		for (uint32_t n = 1; n < count; n++)
			folded[n] = weight[n] < cutoff;
		pp_free(weight);
		pp_free(work);
	}

	calltree_sorted_children(tree, rank, &groups);
	push_row(&rows, &nrows, &capacity, budget, 0, value[0], tree->nodes[0].self,
			 value_right ? value_right[0] : 0, right_self ? right_self[0] : 0,
			 FLAME_ROOT, sizeof(FLAME_ROOT) - 1);
	stack_node[0] = CALLTREE_ROOT;
	stack_next[0] = groups.child_start[0];
	depth = 1;
	while (depth > 0)
	{
		uint32_t	top = depth - 1;
		uint32_t	parent = stack_node[top];
		uint32_t	n;

		if (stack_next[top] == groups.child_start[parent + 1])
		{
			if (has_other[top])
				push_row(&rows, &nrows, &capacity, budget, depth, other[top], other[top],
						 other_right[top], other_right[top],
						 FLAME_OTHER, sizeof(FLAME_OTHER) - 1);
			depth--;
			continue;
		}
		n = (uint32_t) groups.children[stack_next[top]++];
		if (folded[n])
		{
			has_other[top] = 1;
			other[top] = pp_add_int64(other[top], value[n]);
			if (value_right)
				other_right[top] = pp_add_int64(other_right[top], value_right[n]);
			continue;
		}
		push_row(&rows, &nrows, &capacity, budget, depth, value[n], tree->nodes[n].self,
				 value_right ? value_right[n] : 0, right_self ? right_self[n] : 0,
				 names->strings[tree->nodes[n].symbol], names->lengths[tree->nodes[n].symbol]);
		stack_node[depth] = n;
		stack_next[depth] = groups.child_start[n];
		has_other[depth] = 0;
		other[depth] = 0;
		other_right[depth] = 0;
		depth++;
		if ((nrows & 0xfff) == 0)
			pp_check_interrupts();
	}

	pp_free(value);
	if (value_right)
		pp_free(value_right);
	pp_free(folded);
	pp_free(rank);
	pp_free(groups.child_start);
	pp_free(groups.children);
	pp_free(stack_node);
	pp_free(stack_next);
	pp_free(other);
	pp_free(other_right);
	pp_free(has_other);
	*row_count = nrows;
	return rows;
}

/* One tree of both sides of a diff (see flame.h). */
CallTree *
flame_diff_tree(CallTree *baseline, const CallTree *comparison, int64_t **right_self)
{
	CallTree   *tree = baseline;
	size_t		room;

	if (tree == NULL)
	{
		SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));

		symtab_init(symbols);
		tree = calltree_create(symbols);
	}
	room = (size_t) tree->count + (comparison ? comparison->count : 0) + 1;
	*right_self = pp_alloc0(pp_mul_size(room, sizeof(int64_t)));
	if (comparison != NULL)
	{
		ProfileMeta meta = tree->meta;

		/* both sides must measure the same thing */
		profile_meta_merge(&meta, &comparison->meta, baseline == NULL, "compare");
		profile_merge_tree(tree, comparison, *right_self, NULL);
	}
	return tree;
}

/* qsort comparator: self descending, then function name in byte order. */
static int
compare_top_rows(const void *a, const void *b)
{
	const TopRow *x = a;
	const TopRow *y = b;

	if (x->self != y->self)
		return x->self > y->self ? -1 : 1;
	return bytes_compare(x->function, x->function_len, y->function, y->function_len);
}

/*
 * Flat and cum per function.  cum adds a node's subtree total only at the
 * topmost occurrence of its function on the path, so each sample counts
 * once per function even under recursion.  The walk follows first_child
 * and next_sibling links, climbing back through parents, with no stack.
 */
TopRow *
flame_top(const CallTree *tree, uint32_t *row_count)
{
	const StringInterner *names = &tree->symbols->names;
	uint32_t	nsym = names->count;
	int64_t    *value = subtree_totals(tree, NULL);
	int64_t    *flat = pp_alloc0(pp_mul_size(nsym + 1, sizeof(int64_t)));
	int64_t    *cum = pp_alloc0(pp_mul_size(nsym + 1, sizeof(int64_t)));
	uint32_t   *on_path = pp_alloc0(pp_mul_size(nsym + 1, sizeof(uint32_t)));
	uint8_t    *seen = pp_alloc0(nsym + 1);
	TopRow	   *rows;
	uint32_t	nrows = 0;
	uint32_t	n = tree->nodes[CALLTREE_ROOT].first_child;
	uint32_t	visited = 0;

	while (n != CALLTREE_NONE)
	{
		const CallTreeNode *node = &tree->nodes[n];

		PP_CHECK_INTERRUPTS_EVERY(visited++);
		/* enter n */
		flat[node->symbol] = pp_add_int64(flat[node->symbol], node->self);
		if (on_path[node->symbol]++ == 0)
			cum[node->symbol] = pp_add_int64(cum[node->symbol], value[n]);
		seen[node->symbol] = 1;
		if (node->first_child != CALLTREE_NONE)
		{
			n = node->first_child;
			continue;
		}
		/* leave n and every ancestor whose children are done */
		for (;;)
		{
			on_path[tree->nodes[n].symbol]--;
			if (tree->nodes[n].next_sibling != CALLTREE_NONE)
			{
				n = tree->nodes[n].next_sibling;
				break;
			}
			n = tree->nodes[n].parent;
			if (n == CALLTREE_ROOT)
			{
				n = CALLTREE_NONE;
				break;
			}
		}
	}

	rows = pp_alloc_array(nsym + 1, sizeof(TopRow));
	for (uint32_t s = 0; s < nsym; s++)
	{
		if (!seen[s] || (flat[s] == 0 && cum[s] == 0))
			continue;
		rows[nrows].function = names->strings[s];
		rows[nrows].function_len = names->lengths[s];
		rows[nrows].self = flat[s];
		rows[nrows].total = cum[s];
		nrows++;
	}
	qsort(rows, nrows, sizeof(TopRow), compare_top_rows);
	pp_free(value);
	pp_free(flat);
	pp_free(cum);
	pp_free(on_path);
	pp_free(seen);
	*row_count = nrows;
	return rows;
}
