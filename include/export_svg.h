/*
 * export_svg.h
 *	  A standalone SVG flame graph (flamegraph.pl style) from flame rows.
 *
 * Plain C over pp_core.h: no PostgreSQL headers, so the renderer runs in
 * the server (profile_to_svg) and in standalone tools alike.
 */
#ifndef EXPORT_SVG_H
#define EXPORT_SVG_H

#include "views.h"

/* Limits of the width argument, in pixels. */
#define SVG_MIN_WIDTH 100
#define SVG_MAX_WIDTH 100000
#define SVG_DEFAULT_WIDTH 1200

/* Largest document svg_render produces (a text datum must stay below 1 GB). */
#define SVG_MAX_BYTES ((size_t) 0x3FFFFFFF - 64)

/* What to draw and how. */
typedef struct SvgOptions
{
	const char *title;			/* the header line; NULL: "<sample_type> flame graph" */
	const char *sample_type;	/* the profile's sample type and unit (may be NULL) */
	const char *unit;
	int			width;			/* SVG_MIN_WIDTH .. SVG_MAX_WIDTH, else PP_ERR_BAD_ARGUMENT */
	bool		diff;			/* rows carry a comparison side (value_right) */
	PPBudget   *budget;			/* the document is charged to it as it grows (may be NULL) */
} SvgOptions;

/*
 * Render rows (flame_rows() output: depth-first pre-order, rows[0] the
 * level-0 root) as one standalone SVG document.
 *
 * Layout is flamegraph.pl's: the root at the bottom, each frame as wide as
 * its value, siblings in row order.  Frames narrower than one pixel are not
 * drawn, nor their descendants; the parent keeps its full width.  Frames
 * with a value <= 0 (delta profiles) are not drawn either, nor their
 * descendants: the graph shows where the value grew.  A frame is drawn
 * max(value, sum of its drawn children) wide, so children always fit inside
 * their parent even when negative siblings offset a positive one.
 *
 * A diff (options->diff) is drawn as Grafana's diff view sizes it: each
 * frame as wide as both sides together (value + value_right), coloured as
 * flamegraph.pl's differential graphs: red where the function's share of
 * its side's total grew in the comparison, blue where it shrank.
 *
 * The document is one line with no tab or backslash, so COPY's text format
 * (psql's \copy) writes it unchanged.
 *
 * Returns a NUL-terminated document allocated with pp_alloc; *len (if not
 * NULL) receives its length without the NUL.
 */
extern char *svg_render(const FlameRow *rows, uint32_t nrows, const SvgOptions *options,
						size_t *len);

/*
 * Format value in unit for humans into buf (at least 32 bytes): "1.52 s"
 * for nanoseconds, "3.40 MiB" for bytes, "12.3k" for counts.  Exposed for
 * tests.
 */
extern void svg_format_value(char *buf, size_t bufsize, int64_t value, const char *unit);

#endif							/* EXPORT_SVG_H */
