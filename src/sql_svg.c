/*
 * sql_svg.c
 *	  profile_to_svg() and profile_diff_to_svg(): standalone SVG flame graphs.
 *
 * The document comes from the plain C renderer in svg.c; this file only
 * checks the arguments, decodes the profiles and returns the text.
 */
#include "sql_module.h"
#include "views.h"
#include "export_svg.h"

#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(profile_to_svg);
PG_FUNCTION_INFO_V1(profile_diff_to_svg);

/*
 * The title, width and max_nodes arguments, from argument number first on:
 * a NULL title gives the default title, a NULL width 1200, and max_nodes
 * NULL or 0 no truncation (as flamegraph()).
 */
static void
svg_args(FunctionCallInfo fcinfo, int first, SvgOptions *options, int64 *max_nodes,
		 PPBudget *budget)
{
	memset(options, 0, sizeof(*options));
	*budget = pg_pprof_output_budget("the SVG document and its rows");
	options->budget = budget;
	options->width = SVG_DEFAULT_WIDTH;
	if (!PG_ARGISNULL(first + 1))
	{
		options->width = PG_GETARG_INT32(first + 1);
		if (options->width < SVG_MIN_WIDTH || options->width > SVG_MAX_WIDTH)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("width must be between %d and %d pixels",
								   SVG_MIN_WIDTH, SVG_MAX_WIDTH)));
	}
	*max_nodes = pg_pprof_max_nodes_arg(fcinfo, first + 2);
	if (!PG_ARGISNULL(first))
		options->title = text_to_cstring(PG_GETARG_TEXT_PP(first));
}

/* Render rows into a text value in the caller's context. */
static text *
svg_text(const FlameRow *rows, uint32 nrows, const SvgOptions *options,
		 MemoryContext caller)
{
	size_t		len;
	char	   *svg = svg_render(rows, nrows, options, &len);

	MemoryContextSwitchTo(caller);
	return text_from_bytes(svg, len);
}

/* profile_to_svg(p, title, width, max_nodes): flamegraph.pl-style SVG; NULL for NULL. */
Datum
profile_to_svg(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	SvgOptions	options;
	PPBudget	budget;
	int64		max_nodes;
	ProfileView view;
	CallTree   *tree;
	FlameRow   *rows;
	uint32		nrows;
	text	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	svg_args(fcinfo, 1, &options, &max_nodes, &budget);
	work = AllocSetContextCreate(caller, "profile_to_svg", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	tree = profile_tree_from_datum(PG_GETARG_DATUM(0), &view);
	rows = flame_rows(tree, NULL, max_nodes, options.budget, &nrows);
	options.sample_type = view.meta.sample_type;
	options.unit = view.meta.sample_unit;
	result = svg_text(rows, nrows, &options, caller);
	MemoryContextDelete(work);
	PG_RETURN_TEXT_P(result);
}

/*
 * profile_diff_to_svg(baseline, comparison, title, width, max_nodes): a
 * differential SVG of the tree flamegraph_diff() returns.  A NULL side
 * counts as empty; both NULL give NULL.
 */
Datum
profile_diff_to_svg(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	SvgOptions	options;
	PPBudget	budget;
	int64		max_nodes;
	ProfileView view;
	CallTree   *tree;
	int64_t    *right;
	FlameRow   *rows;
	uint32		nrows;
	text	   *result;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	svg_args(fcinfo, 2, &options, &max_nodes, &budget);
	options.diff = true;
	work = AllocSetContextCreate(caller, "profile_diff_to_svg", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	tree = flame_diff_tree(PG_ARGISNULL(0) ? NULL : profile_tree_from_datum(PG_GETARG_DATUM(0), &view),
						   PG_ARGISNULL(1) ? NULL : profile_tree_from_datum(PG_GETARG_DATUM(1), &view),
						   &right);
	rows = flame_rows(tree, right, max_nodes, options.budget, &nrows);
	options.sample_type = view.meta.sample_type;
	options.unit = view.meta.sample_unit;
	result = svg_text(rows, nrows, &options, caller);
	MemoryContextDelete(work);
	PG_RETURN_TEXT_P(result);
}
