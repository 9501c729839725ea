/*
 * views.h
 *	  Views of a call tree: flame-graph rows (with Pyroscope-style
 *	  truncation), pprof-style focus/ignore/hide filters, and the top table.
 */
#ifndef VIEWS_H
#define VIEWS_H

#include "calltree.h"

/* Per-symbol filter flags. */
#define FLAME_FOCUS 0x01
#define FLAME_IGNORE 0x02
#define FLAME_HIDE 0x04

/* One flame-graph row, in depth-first pre-order. */
typedef struct FlameRow
{
	uint32_t	level;
	int64_t		value;			/* subtree total */
	int64_t		self;
	int64_t		value_right;	/* diffs only */
	int64_t		self_right;
	const char *label;			/* not NUL-terminated */
	uint32_t	label_len;
} FlameRow;

/* One row of the top table. */
typedef struct TopRow
{
	const char *function;		/* not NUL-terminated */
	uint32_t	function_len;
	int64_t		self;			/* flat */
	int64_t		total;			/* cum: each sample once per function */
} TopRow;

/*
 * A new tree holding src's samples filtered as pprof's -focus, -ignore and
 * -hide do.  flags[symbol] holds FLAME_* bits for src's symbol table;
 * has_focus says a focus pattern was given.  Samples that keep no frame
 * are dropped, as pprof drops them.
 */
extern CallTree *flame_filter(const CallTree *src, const uint8_t *flags, bool has_focus);

/*
 * Flame-graph rows of tree.  right_self (or NULL) holds a second self
 * value per node for diffs.  With max_nodes > 0 and more nodes than that,
 * children whose |value| (+ |value_right|) is below the max_nodes-th
 * largest are folded into one "other" child per parent.  Each row, with its
 * label, is charged to budget (NULL: none) as it is made.
 */
extern FlameRow *flame_rows(const CallTree *tree, const int64_t *right_self,
							int64_t max_nodes, PPBudget *budget, uint32_t *row_count);

/*
 * One tree of both sides of a diff, for flame_rows(): baseline's nodes with
 * comparison's added, and in *right_self the comparison's self value per
 * node.  baseline is extended in place; a NULL side counts as empty.  The
 * sides must be of one sample type and unit (PP_ERR_MISMATCH).
 */
extern CallTree *flame_diff_tree(CallTree *baseline, const CallTree *comparison,
								 int64_t **right_self);

/* All functions with their flat and cum values, ordered by self desc, name. */
extern TopRow *flame_top(const CallTree *tree, uint32_t *row_count);

#endif							/* VIEWS_H */
