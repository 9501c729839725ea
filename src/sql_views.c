/*
 * sql_views.c
 *	  SQL views of a profile: flamegraph() rows for Grafana's Flame Graph
 *	  panel, flamegraph_diff() and profile_top().
 */
#include "sql_module.h"
#include "views.h"

#include "catalog/pg_collation.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(flamegraph);
PG_FUNCTION_INFO_V1(flamegraph_diff);
PG_FUNCTION_INFO_V1(profile_top);

/* Decode a profile argument straight into a new call tree. */
static CallTree *
tree_arg(FunctionCallInfo fcinfo, int argno)
{
	ProfileView view;

	return profile_tree_from_datum(PG_GETARG_DATUM(argno), &view);
}

/*
 * Set flag in flags[symbol] for every function name of the tree that the
 * regular expression argument argno matches (PostgreSQL's syntax,
 * unanchored, as pprof's filters).  Returns false when the argument is NULL.
 */
static bool
mark_matches(FunctionCallInfo fcinfo, int argno, const CallTree *tree, uint8_t *flags,
			 uint8_t flag)
{
	const StringInterner *names = &tree->symbols->names;
	text	   *pattern;

	if (PG_ARGISNULL(argno))
		return false;
	pattern = PG_GETARG_TEXT_PP(argno);
	for (uint32 s = 0; s < names->count; s++)
	{
		if (RE_compile_and_execute(pattern, (char *) names->strings[s], names->lengths[s],
								   REG_ADVANCED, C_COLLATION_OID, 0, NULL))
			flags[s] |= flag;
		if ((s & 0xfff) == 0xfff)
			CHECK_FOR_INTERRUPTS();
	}
	return true;
}

/*
 * Store flame rows as (level, value, self, label[, valueRight, selfRight]).
 * The label is built in one reused text buffer: tuplestore_putvalues
 * copies it.
 */
static void
put_flame_rows(ReturnSetInfo *rsinfo, const FlameRow *rows, uint32 nrows, bool diff)
{
	size_t		longest = 0;
	text	   *label;

	for (uint32 i = 0; i < nrows; i++)
		if (rows[i].label_len > longest)
			longest = rows[i].label_len;
	if (longest > MaxAllocSize - VARHDRSZ)
		ereport(ERROR, (errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						errmsg("flame-graph label of %zu bytes is too long", longest)));
	label = palloc(VARHDRSZ + longest);
	for (uint32 i = 0; i < nrows; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		SET_VARSIZE(label, VARHDRSZ + rows[i].label_len);
		memcpy(VARDATA(label), rows[i].label, rows[i].label_len);
		values[0] = Int32GetDatum((int32) rows[i].level);
		values[1] = Int64GetDatum(rows[i].value);
		values[2] = Int64GetDatum(rows[i].self);
		values[3] = PointerGetDatum(label);
		if (diff)
		{
			values[4] = Int64GetDatum(rows[i].value_right);
			values[5] = Int64GetDatum(rows[i].self_right);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		if ((i & 0xff) == 0 || rows[i].label_len > 65536)
			CHECK_FOR_INTERRUPTS();	/* a label may be megabytes */
	}
	pfree(label);
}

/*
 * The single zero "total" row given for a NULL profile (no data in the time
 * range): Grafana's panel breaks on an empty frame.
 */
static void
put_empty_root(ReturnSetInfo *rsinfo, bool diff)
{
	FlameRow	root = {0, 0, 0, 0, 0, "total", 5};

	put_flame_rows(rsinfo, &root, 1, diff);
}

/*
 * flamegraph(p, max_nodes, focus, ignore, hide): one row per node in
 * depth-first pre-order, the root first, as Grafana's Flame Graph expects.
 */
Datum
flamegraph(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	CallTree   *tree;
	FlameRow   *rows;
	uint32		nrows;
	int64		max_nodes;
	PPBudget	budget = pg_pprof_output_budget("flame-graph rows");

	InitMaterializedSRF(fcinfo, 0);
	max_nodes = pg_pprof_max_nodes_arg(fcinfo, 1);
	if (PG_ARGISNULL(0))
	{
		put_empty_root(rsinfo, false);
		return (Datum) 0;
	}
	work = AllocSetContextCreate(caller, "flamegraph", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	tree = tree_arg(fcinfo, 0);
	if (!PG_ARGISNULL(2) || !PG_ARGISNULL(3) || !PG_ARGISNULL(4))
	{
		uint8_t    *flags = palloc0(tree->symbols->names.count + 1);
		bool		has_focus = mark_matches(fcinfo, 2, tree, flags, FLAME_FOCUS);

		mark_matches(fcinfo, 3, tree, flags, FLAME_IGNORE);
		mark_matches(fcinfo, 4, tree, flags, FLAME_HIDE);
		tree = flame_filter(tree, flags, has_focus);
	}
	rows = flame_rows(tree, NULL, max_nodes, &budget, &nrows);
	put_flame_rows(rsinfo, rows, nrows, false);
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return (Datum) 0;
}

/*
 * flamegraph_diff(baseline, comparison, max_nodes): one tree of both
 * sides; value/self from the baseline, valueRight/selfRight from the
 * comparison, 0 where a side lacks a node.  A NULL side counts as empty.
 */
Datum
flamegraph_diff(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	CallTree   *tree;
	int64_t    *right;
	FlameRow   *rows;
	uint32		nrows;
	int64		max_nodes;
	PPBudget	budget = pg_pprof_output_budget("flame-graph rows");

	InitMaterializedSRF(fcinfo, 0);
	max_nodes = pg_pprof_max_nodes_arg(fcinfo, 2);
	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
	{
		put_empty_root(rsinfo, true);
		return (Datum) 0;
	}
	work = AllocSetContextCreate(caller, "flamegraph_diff", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	tree = flame_diff_tree(PG_ARGISNULL(0) ? NULL : tree_arg(fcinfo, 0),
						   PG_ARGISNULL(1) ? NULL : tree_arg(fcinfo, 1), &right);
	rows = flame_rows(tree, right, max_nodes, &budget, &nrows);
	put_flame_rows(rsinfo, rows, nrows, true);
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return (Datum) 0;
}

/* profile_top(p, n): functions by self value, with pprof's cum as total. */
Datum
profile_top(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	TopRow	   *rows;
	uint32		nrows;
	int64		limit;

	InitMaterializedSRF(fcinfo, 0);
	if (!PG_ARGISNULL(1) && PG_GETARG_INT32(1) < 0)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("n must not be negative"),
						errhint("Pass NULL or 0 for every function.")));
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	limit = PG_ARGISNULL(1) || PG_GETARG_INT32(1) == 0 ? PG_INT64_MAX : PG_GETARG_INT32(1);
	work = AllocSetContextCreate(caller, "profile_top", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	rows = flame_top(tree_arg(fcinfo, 0), &nrows);
	for (uint32 i = 0; i < nrows && i < limit; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = PointerGetDatum(cstring_to_text_with_len(rows[i].function,
															 rows[i].function_len));
		values[1] = Int64GetDatum(rows[i].self);
		values[2] = Int64GetDatum(rows[i].total);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return (Datum) 0;
}
