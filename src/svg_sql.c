/*
 * svg_sql.c
 *	  profile_to_svg(): a standalone SVG flame graph of a profile.
 *
 * The document comes from the plain C renderer in svg.c; this file only
 * checks the arguments, decodes the profile and returns the text.
 */
#include "pg_pprof.h"
#include "flame.h"
#include "svg.h"

#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(profile_to_svg);

/*
 * profile_to_svg(p, title, width, max_nodes): flamegraph.pl-style SVG.
 * A NULL profile gives NULL; a NULL title the default title; a NULL width
 * 1200; max_nodes NULL or 0 no truncation (as flamegraph()).
 */
Datum
profile_to_svg(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	ProfileView view;
	CallTree   *tree;
	FlameRow   *rows;
	uint32		nrows;
	char	   *title = NULL;
	int			width = SVG_DEFAULT_WIDTH;
	int64		max_nodes = 0;
	char	   *svg;
	size_t		len;
	text	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(2))
	{
		width = PG_GETARG_INT32(2);
		if (width < SVG_MIN_WIDTH || width > SVG_MAX_WIDTH)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("width must be between %d and %d pixels",
								   SVG_MIN_WIDTH, SVG_MAX_WIDTH)));
	}
	if (!PG_ARGISNULL(3))
	{
		if (PG_GETARG_INT32(3) < 0)
			ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							errmsg("max_nodes must not be negative")));
		max_nodes = PG_GETARG_INT32(3);
	}
	if (!PG_ARGISNULL(1))
		title = text_to_cstring(PG_GETARG_TEXT_PP(1));

	work = AllocSetContextCreate(caller, "profile_to_svg", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	tree = profile_tree_from_datum(PG_GETARG_DATUM(0), &view);
	rows = flame_rows(tree, NULL, max_nodes, &nrows);
	svg = svg_render(rows, nrows, title, view.meta.sample_type, view.meta.sample_unit,
					 width, &len);
	MemoryContextSwitchTo(caller);
	result = cstring_to_text_with_len(svg, (int) len);
	MemoryContextDelete(work);
	PG_RETURN_TEXT_P(result);
}
