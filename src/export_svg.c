/*
 * export_svg.c
 *	  A standalone SVG flame graph from flame rows, laid out as Brendan
 *	  Gregg's flamegraph.pl lays it out.
 *
 * The document has no script: each frame is a <g> holding a <title> (the
 * tooltip), a <rect> and, when it fits, a <text> with the name clipped to
 * the frame width.  Colours come from flamegraph.pl's "hot" palette, picked
 * by a hash of the function name, so a function has the same colour in
 * every graph.  Every string from the profile or the caller goes through
 * put_xml_text(), which escapes XML metacharacters and replaces what XML
 * 1.0 cannot carry (controls, U+FFFE, U+FFFF, invalid UTF-8).
 *
 * Numbers are formatted with integer arithmetic only, so the output does
 * not depend on LC_NUMERIC.  The document holds no newline, tab, carriage
 * return or backslash (backslashes in names become &#92;), so COPY's text
 * format, and so psql's \copy, write it out unchanged.
 */
#include "export_svg.h"

#include "bytebuf.h"
#include "utf8_text.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Geometry, as flamegraph.pl's defaults. */
#define FRAME_HEIGHT 16			/* one stack level */
#define FRAME_PAD 1				/* vertical gap between levels */
#define FONT_SIZE 12
#define FONT_WIDTH 0.59			/* average glyph width / font size */
#define TITLE_FONT_SIZE 17
#define XPAD 10					/* left and right margins */
#define YPAD_TOP 60				/* title and total */
#define YPAD_BOTTOM 12
#define TEXT_XPAD 3				/* text inset from the frame's left edge */
#define MIN_FRAME_PX 1.0		/* narrower frames are not drawn */

#define REPLACEMENT "\xEF\xBF\xBD"	/* U+FFFD */

/* How a unit's values are printed. */
typedef enum UnitKind
{
	UNIT_TIME,					/* scaled to nanoseconds, then ns .. h */
	UNIT_BYTES,					/* scaled to bytes, then B .. EiB */
	UNIT_COUNT,					/* plain, k, M, ...; "count" and "" */
	UNIT_OTHER					/* as UNIT_COUNT, then the unit's name */
} UnitKind;

typedef struct UnitInfo
{
	const char *name;
	UnitKind	kind;
	double		scale;			/* to nanoseconds or bytes */
} UnitInfo;

/* pprof's unit names (and the short forms some producers write). */
static const UnitInfo known_units[] = {
	{"nanoseconds", UNIT_TIME, 1}, {"nanosecond", UNIT_TIME, 1}, {"ns", UNIT_TIME, 1},
	{"microseconds", UNIT_TIME, 1e3}, {"microsecond", UNIT_TIME, 1e3}, {"us", UNIT_TIME, 1e3},
	{"milliseconds", UNIT_TIME, 1e6}, {"millisecond", UNIT_TIME, 1e6}, {"ms", UNIT_TIME, 1e6},
	{"seconds", UNIT_TIME, 1e9}, {"second", UNIT_TIME, 1e9}, {"s", UNIT_TIME, 1e9},
	{"bytes", UNIT_BYTES, 1}, {"byte", UNIT_BYTES, 1}, {"b", UNIT_BYTES, 1},
	{"kilobytes", UNIT_BYTES, 1024.0}, {"kb", UNIT_BYTES, 1024.0},
	{"megabytes", UNIT_BYTES, 1048576.0}, {"mb", UNIT_BYTES, 1048576.0},
	{"gigabytes", UNIT_BYTES, 1073741824.0}, {"gb", UNIT_BYTES, 1073741824.0},
	{"count", UNIT_COUNT, 1}, {"", UNIT_COUNT, 1},
};

/* ASCII case-insensitive equality. */
static bool
ascii_equal_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
	{
		char		x = (*a >= 'A' && *a <= 'Z') ? *a + 32 : *a;
		char		y = (*b >= 'A' && *b <= 'Z') ? *b + 32 : *b;

		if (x != y)
			return false;
	}
	return *a == *b;
}

/* How unit (NULL = count) is printed. */
static UnitInfo
unit_info(const char *unit)
{
	UnitInfo	other = {unit, UNIT_OTHER, 1};

	if (unit == NULL)
		unit = "";
	for (size_t i = 0; i < sizeof(known_units) / sizeof(known_units[0]); i++)
		if (ascii_equal_ci(unit, known_units[i].name))
			return known_units[i];
	return other;
}

/*
 * Print v >= 0 with three significant digits ("1.52", "15.2", "152") and
 * suffix into buf.  Integer arithmetic only, so no locale applies.
 */
static void
format_3digits(char *buf, size_t bufsize, const char *sign, double v, const char *suffix)
{
	int			decimals;
	uint64_t	pow10,
				scaled;

	if (!(v >= 0))
		v = 0;
	if (v > 1e18)
		v = 1e18;
	decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
	pow10 = decimals == 2 ? 100 : decimals == 1 ? 10 : 1;
	scaled = (uint64_t) (v * (double) pow10 + 0.5);
	if (decimals == 0)
		snprintf(buf, bufsize, "%s%" PRIu64 "%s", sign, scaled, suffix);
	else
		snprintf(buf, bufsize, "%s%" PRIu64 ".%0*" PRIu64 "%s", sign, scaled / pow10,
				 decimals, scaled % pow10, suffix);
}

/*
 * Format value in unit for humans: "1.52 s" (time), "3.40 MiB" (bytes),
 * "523", "12.3k" (counts).  For units it does not know it prints the number
 * only; svg_render appends the unit's name.
 */
void
svg_format_value(char *buf, size_t bufsize, int64_t value, const char *unit)
{
	static const char *const byte_suffix[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB", " EiB"};
	static const char *const count_suffix[] = {"", "k", "M", "G", "T", "P", "E"};
	UnitInfo	info = unit_info(unit);
	const char *sign = value < 0 ? "-" : "";
	uint64_t	mag = pp_magnitude(value);
	double		v = (double) mag * info.scale;

	if (info.kind == UNIT_TIME)
	{
		if (v < 1e3 && info.scale == 1)
			snprintf(buf, bufsize, "%s%" PRIu64 " ns", sign, mag);
		else if (v < 999.5)
			format_3digits(buf, bufsize, sign, v, " ns");
		else if (v < 999.5e3)
			format_3digits(buf, bufsize, sign, v / 1e3, " \xC2\xB5s");	/* µs */
		else if (v < 999.5e6)
			format_3digits(buf, bufsize, sign, v / 1e6, " ms");
		else if (v < 59.995e9)
			format_3digits(buf, bufsize, sign, v / 1e9, " s");
		else if (v < 3599.5e9)
			format_3digits(buf, bufsize, sign, v / 60e9, " min");
		else
			format_3digits(buf, bufsize, sign, v / 3600e9, " h");
	}
	else if (info.kind == UNIT_BYTES)
	{
		int			i = 0;

		if (v < 1024 && info.scale == 1)
		{
			snprintf(buf, bufsize, "%s%" PRIu64 " B", sign, mag);
			return;
		}
		while (i < 6 && v >= 1023.5)
		{
			v /= 1024;
			i++;
		}
		format_3digits(buf, bufsize, sign, v, byte_suffix[i]);
	}
	else
	{
		int			i = 0;

		if (mag < 1000)
		{
			snprintf(buf, bufsize, "%s%" PRIu64, sign, mag);
			return;
		}
		while (i < 6 && v >= 999.5)
		{
			v /= 1000;
			i++;
		}
		format_3digits(buf, bufsize, sign, v, count_suffix[i]);
	}
}

/* Append a NUL-terminated string. */
static void
put_str(ByteBuf *buf, const char *s)
{
	bytebuf_append(buf, s, strlen(s));
}

/* Append a non-negative pixel coordinate with two decimals. */
static void
put_px(ByteBuf *buf, double v)
{
	char		tmp[48];
	uint64_t	scaled;

	if (!(v >= 0))
		v = 0;
	if (v > 1e12)
		v = 1e12;
	scaled = (uint64_t) (v * 100 + 0.5);
	if (scaled % 100 == 0)
		snprintf(tmp, sizeof(tmp), "%" PRIu64, scaled / 100);
	else
		snprintf(tmp, sizeof(tmp), "%" PRIu64 ".%02" PRIu64, scaled / 100, scaled % 100);
	put_str(buf, tmp);
}

/* Append an integer. */
static void
put_int(ByteBuf *buf, int64_t v)
{
	char		tmp[32];

	snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	put_str(buf, tmp);
}

/* Decode the code point at s (valid UTF-8, n bytes long). */
static uint32_t
decode_utf8(const uint8_t *s, size_t n)
{
	switch (n)
	{
		case 1:
			return s[0];
		case 2:
			return ((uint32_t) (s[0] & 0x1F) << 6) | (s[1] & 0x3F);
		case 3:
			return ((uint32_t) (s[0] & 0x0F) << 12) | ((uint32_t) (s[1] & 0x3F) << 6) |
				(s[2] & 0x3F);
		default:
			return ((uint32_t) (s[0] & 0x07) << 18) | ((uint32_t) (s[1] & 0x3F) << 12) |
				((uint32_t) (s[2] & 0x3F) << 6) | (s[3] & 0x3F);
	}
}

/* Length of the UTF-8 sequence whose lead byte is c (input is valid). */
static inline size_t
utf8_lead_length(uint8_t c)
{
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

/*
 * Append s[0..len) as XML character data.  Invalid UTF-8 and NULs become
 * U+FFFD (utf8_sanitize); & < > " ' and backslash become entities; TAB,
 * LF and CR become spaces (valid XML, but the document stays one line for
 * COPY, and a label one line); the other
 * C0 controls, DEL, the C1 controls and U+FFFE/U+FFFF, which XML 1.0 cannot
 * carry or discourages, become U+FFFD.
 *
 * With max_chars >= 0 and more code points than that, only the first
 * max_chars - 2 are written, followed by "..", as flamegraph.pl clips.
 */
static void
put_xml_text(ByteBuf *buf, const char *s, size_t len, int64_t max_chars)
{
	size_t		clean_len;
	const uint8_t *p = (const uint8_t *) utf8_sanitize(s, len, &clean_len);
	int64_t		limit = -1;
	int64_t		written = 0;
	size_t		i = 0;

	if (max_chars >= 0)
	{
		int64_t		chars = 0;

		for (size_t k = 0; k < clean_len; k++)
			chars += (p[k] & 0xC0) != 0x80;
		if (chars > max_chars)
			limit = max_chars >= 2 ? max_chars - 2 : 0;
	}
	bytebuf_reserve(buf, clean_len + 16);
	while (i < clean_len)
	{
		size_t		n = utf8_lead_length(p[i]);
		uint32_t	cp = decode_utf8(p + i, n);

		if (limit >= 0 && written == limit)
			break;
		switch (cp)
		{
			case '&':
				put_str(buf, "&amp;");
				break;
			case '<':
				put_str(buf, "&lt;");
				break;
			case '>':
				put_str(buf, "&gt;");
				break;
			case '"':
				put_str(buf, "&quot;");
				break;
			case '\\':
				/* so that COPY's text format writes the document unchanged */
				put_str(buf, "&#92;");
				break;
			case '\'':
				put_str(buf, "&apos;");
				break;
			case '\t':
			case '\n':
			case '\r':
				put_str(buf, " ");
				break;
			default:
				if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF)
					put_str(buf, REPLACEMENT);
				else
					bytebuf_append(buf, p + i, n);
				break;
		}
		written++;
		i += n;
	}
	if (limit >= 0)
		put_str(buf, "..");
	if ((const char *) p != s)
		pp_free((void *) p);
}

/* Append a value formatted in the unit, naming units svg_format_value does not know. */
static void
put_value(ByteBuf *buf, int64_t value, const char *unit)
{
	char		tmp[64];

	svg_format_value(tmp, sizeof(tmp), value, unit);
	put_str(buf, tmp);
	if (unit_info(unit).kind == UNIT_OTHER)
	{
		put_str(buf, " ");
		put_xml_text(buf, unit, strlen(unit), -1);
	}
}

/* Append part / whole as a percentage with two decimals ("12.34%"). */
static void
put_percent(ByteBuf *buf, double part, double whole)
{
	char		tmp[48];
	double		pct = part / whole * 100;
	uint64_t	scaled;

	if (!(pct >= 0))
		pct = 0;
	if (pct > 1e9)
		pct = 1e9;
	scaled = (uint64_t) (pct * 100 + 0.5);
	snprintf(tmp, sizeof(tmp), "%" PRIu64 ".%02" PRIu64 "%%", scaled / 100, scaled % 100);
	put_str(buf, tmp);
}

/* FNV-1a over the name: the colour must not depend on anything else. */
static uint32_t
name_hash(const char *s, size_t len)
{
	uint32_t	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
	{
		h ^= (uint8_t) s[i];
		h *= 16777619u;
	}
	/* final avalanche, so that names differing in the last byte differ in colour */
	h ^= h >> 15;
	h *= 0x2c1b3c6dU;
	h ^= h >> 12;
	return h;
}

/* flamegraph.pl's "hot" colour for a name: r 205..255, g 0..230, b 0..55. */
static void
put_fill(ByteBuf *buf, const char *name, size_t len)
{
	uint32_t	h = name_hash(name, len);
	char		tmp[40];
	unsigned	v1 = h & 0xFF,
				v2 = (h >> 8) & 0xFF,
				v3 = (h >> 16) & 0xFF;

	snprintf(tmp, sizeof(tmp), "rgb(%u,%u,%u)", 205 + 50 * v3 / 255, 230 * v1 / 255,
			 55 * v2 / 255);
	put_str(buf, tmp);
}

/* Raise PP_ERR_LIMIT once the document outgrows what a text value can hold. */
static void
check_size(const ByteBuf *buf)
{
	if (buf->len > SVG_MAX_BYTES)
		pp_error_ext(PP_ERR_LIMIT, NULL, "Lower max_nodes or the width.",
				 "SVG document would exceed %zu bytes", (size_t) SVG_MAX_BYTES);
}

/* Check that rows are a pre-order walk with one root; returns the deepest level. */
static uint32_t
check_rows(const FlameRow *rows, uint32_t nrows)
{
	uint32_t	max_level = 0;

	if (nrows == 0 || rows[0].level != 0)
		pp_error(PP_ERR_INTERNAL, "flame rows must start with the root");
	for (uint32_t i = 1; i < nrows; i++)
	{
		if (rows[i].level == 0 || rows[i].level > rows[i - 1].level + 1)
			pp_error(PP_ERR_INTERNAL, "flame rows are not in pre-order");
		if (rows[i].level > max_level)
			max_level = rows[i].level;
	}
	return max_level;
}

/* Where every row goes: the result of the layout passes. */
typedef struct SvgLayout
{
	double	   *span;			/* per row: drawn width in value units */
	double	   *x;				/* per row: left edge in pixels */
	uint8_t    *drawn;			/* per row */
	double		scale;			/* pixels per value unit */
	double		chart_width;	/* pixels between the margins */
	uint32_t	depth;			/* deepest drawn level */
	uint32_t	hidden;			/* frames not drawn (too narrow or <= 0) */
	int64_t		height;			/* of the whole image */
	double		max_shift;		/* diffs: largest |share change| of a drawn frame */
} SvgLayout;

/* The part of a row's value that takes room: both sides in a diff, never < 0. */
static double
row_weight(const FlameRow *r, bool diff)
{
	double		w = r->value > 0 ? (double) r->value : 0;

	if (diff && r->value_right > 0)
		w += (double) r->value_right;
	return w;
}

/*
 * First layout pass, backward: a row's span is max(weight, spans of its
 * drawn children); rows without weight (value <= 0), and so their subtrees,
 * get no span.  Scanning pre-order backwards meets every child before its
 * parent, and the children of a row at level L are the level L + 1 rows met
 * since the previous row at level <= L.
 */
static double *
layout_spans(const FlameRow *rows, uint32_t nrows, uint32_t max_level, bool diff)
{
	double	   *span = pp_alloc_array(nrows, sizeof(double));
	double	   *acc = pp_alloc0(pp_mul_size((size_t) max_level + 2, sizeof(double)));

	for (uint32_t i = nrows; i-- > 0;)
	{
		uint32_t	level = rows[i].level;
		double		children = acc[level + 1];
		double		w = row_weight(&rows[i], diff);

		acc[level + 1] = 0;
		if (i == 0 || w > 0)
			span[i] = w > children ? w : children;
		else
			span[i] = 0;
		acc[level] += span[i];
		if ((i & 0xfff) == 0)
			pp_check_interrupts();
	}
	pp_free(acc);
	return span;
}

/* A diff row's change in share: comparison share minus baseline share. */
static double
share_shift(const FlameRow *r, const FlameRow *root)
{
	double		left = root->value > 0 ? (double) r->value / (double) root->value : 0;
	double		right = root->value_right > 0
		? (double) r->value_right / (double) root->value_right : 0;

	return right - left;
}

/*
 * Second layout pass, forward: each child starts where its previous sibling
 * ended.  A row is drawn when its parent is and it is at least MIN_FRAME_PX
 * wide; a row that is not drawn still takes its room in the parent.
 */
static void
layout_positions(const FlameRow *rows, uint32_t nrows, uint32_t max_level, bool diff,
				 SvgLayout *lay)
{
	double	   *cursor = pp_alloc0(pp_mul_size((size_t) max_level + 1, sizeof(double)));
	uint8_t    *level_drawn = pp_alloc0((size_t) max_level + 1);

	lay->scale = lay->span[0] > 0 ? lay->chart_width / lay->span[0] : 0;
	lay->x = pp_alloc_array(nrows, sizeof(double));
	lay->drawn = pp_alloc0(nrows);
	lay->x[0] = XPAD;
	lay->drawn[0] = 1;
	cursor[0] = XPAD;
	level_drawn[0] = 1;
	for (uint32_t i = 1; i < nrows; i++)
	{
		uint32_t	level = rows[i].level;
		double		w = lay->span[i] * lay->scale;

		lay->x[i] = cursor[level - 1];
		cursor[level - 1] += w;
		cursor[level] = lay->x[i];
		lay->drawn[i] = level_drawn[level - 1] && lay->span[i] > 0 && w >= MIN_FRAME_PX;
		level_drawn[level] = lay->drawn[i];
		if (lay->drawn[i] && level > lay->depth)
			lay->depth = level;
		if (!lay->drawn[i] && level_drawn[level - 1])
			lay->hidden++;
		if (diff && lay->drawn[i])
		{
			double		shift = fabs(share_shift(&rows[i], &rows[0]));

			if (shift > lay->max_shift)
				lay->max_shift = shift;
		}
		if ((i & 0xfff) == 0)
			pp_check_interrupts();
	}
	pp_free(cursor);
	pp_free(level_drawn);
}

/* Lay every row out (see svg.h for the rules). */
static void
svg_layout(const FlameRow *rows, uint32_t nrows, int width, bool diff, SvgLayout *lay)
{
	uint32_t	max_level = check_rows(rows, nrows);

	memset(lay, 0, sizeof(*lay));
	lay->chart_width = (double) width - 2 * XPAD;
	lay->span = layout_spans(rows, nrows, max_level, diff);
	layout_positions(rows, nrows, max_level, diff, lay);
	lay->height = YPAD_TOP + (int64_t) (lay->depth + 1) * FRAME_HEIGHT + YPAD_BOTTOM;
}

/*
 * A diff frame's colour, as flamegraph.pl's differential graphs: red where
 * the function's share of the total grew in the comparison, blue where it
 * shrank, white where it stayed, deeper with the size of the change.
 */
static void
put_diff_fill(ByteBuf *buf, double shift, double max_shift)
{
	double		t = max_shift > 0 ? fabs(shift) / max_shift : 0;
	unsigned	fade = (unsigned) (255 - 200 * (t > 1 ? 1 : t) + 0.5);
	char		tmp[40];

	if (shift > 0)
		snprintf(tmp, sizeof(tmp), "rgb(255,%u,%u)", fade, fade);
	else if (shift < 0)
		snprintf(tmp, sizeof(tmp), "rgb(%u,%u,255)", fade, fade);
	else
		snprintf(tmp, sizeof(tmp), "rgb(255,255,255)");
	put_str(buf, tmp);
}

/* Append the title: the caller's, or "<sample_type> [diff ]flame graph". */
static void
put_title_text(ByteBuf *buf, const SvgOptions *o, int64_t max_chars)
{
	const char *suffix = o->diff ? "diff flame graph" : "flame graph";
	int64_t		type_chars = max_chars - (int64_t) strlen(suffix) - 1;

	if (o->title)
	{
		put_xml_text(buf, o->title, strlen(o->title), max_chars);
		return;
	}
	/* max_chars < 0 means no clipping; the suffix always shows in full */
	put_xml_text(buf, o->sample_type, strlen(o->sample_type),
				 max_chars < 0 ? -1 : type_chars < 0 ? 0 : type_chars);
	if (*o->sample_type)
		put_str(buf, " ");
	put_str(buf, suffix);
}

/* Append the document's head, style, title and the header lines. */
static void
put_header(ByteBuf *buf, const FlameRow *root, const SvgOptions *o, const SvgLayout *lay)
{
	char		tmp[64];

	put_str(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>");
	put_str(buf, "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"");
	put_int(buf, o->width);
	put_str(buf, "\" height=\"");
	put_int(buf, lay->height);
	put_str(buf, "\" viewBox=\"0 0 ");
	put_int(buf, o->width);
	put_str(buf, " ");
	put_int(buf, lay->height);
	put_str(buf, "\"><title>");
	put_title_text(buf, o, -1);
	put_str(buf, "</title><defs><linearGradient id=\"background\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
			"<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" offset=\"95%\"/>"
			"</linearGradient></defs><style>"
			"text{font-family:Verdana,\"DejaVu Sans\",sans-serif;font-size:12px;fill:#000}"
			".title{font-size:17px;text-anchor:middle}.sub{fill:#444}"
			"g.f:hover rect{stroke:#000;stroke-width:0.5}"
			"</style><rect x=\"0\" y=\"0\" width=\"100%\" height=\"100%\" fill=\"url(#background)\"/>");

	/* The title, clipped to the width. */
	put_str(buf, "<text class=\"title\" x=\"");
	put_px(buf, (double) o->width / 2);
	put_str(buf, "\" y=\"24\">");
	put_title_text(buf, o, (int64_t) (lay->chart_width / (TITLE_FONT_SIZE * FONT_WIDTH)));

	/* The totals, and how many frames were left out. */
	put_str(buf, "</text><text class=\"sub\" x=\"");
	put_int(buf, XPAD);
	put_str(buf, "\" y=\"46\">");
	if (o->diff)
	{
		put_str(buf, "Baseline: ");
		put_value(buf, root->value, o->unit);
		put_str(buf, ", comparison: ");
		put_value(buf, root->value_right, o->unit);
	}
	else
	{
		put_str(buf, "Total: ");
		put_value(buf, root->value, o->unit);
	}
	if (*o->sample_type || *o->unit)
	{
		put_str(buf, " (");
		put_xml_text(buf, o->sample_type, strlen(o->sample_type), 64);
		put_str(buf, *o->sample_type && *o->unit ? ", " : "");
		put_xml_text(buf, o->unit, strlen(o->unit), 64);
		put_str(buf, ")");
	}
	if (o->diff)
		put_str(buf, "; red: a larger share in the comparison, blue: a smaller one");
	if (lay->hidden > 0)
	{
		snprintf(tmp, sizeof(tmp), "; %" PRIu32 " frame%s not drawn", lay->hidden,
				 lay->hidden == 1 ? "" : "s");
		put_str(buf, tmp);
		put_str(buf, lay->scale > 0 ? " (narrower than 1 px, or a value \xE2\x89\xA4 0)" : "");
	}
	put_str(buf, "</text><g>");
}

/* Append a frame's tooltip: its name, value, share and self (both sides in a diff). */
static void
put_tooltip(ByteBuf *buf, const FlameRow *r, const FlameRow *root, const SvgOptions *o)
{
	put_str(buf, "<title>");
	put_xml_text(buf, r->label, r->label_len, -1);
	put_str(buf, " (");
	if (o->diff)
	{
		double		shift = share_shift(r, root) * 100;

		put_str(buf, "baseline ");
		put_value(buf, r->value, o->unit);
		put_str(buf, ", comparison ");
		put_value(buf, r->value_right, o->unit);
		put_str(buf, ", share ");
		put_str(buf, shift < 0 ? "-" : "+");
		put_percent(buf, fabs(shift), 100);
	}
	else
	{
		put_value(buf, r->value, o->unit);
		if (root->value > 0)
		{
			put_str(buf, ", ");
			put_percent(buf, (double) r->value, (double) root->value);
		}
		if (r->self != 0 && r->self != r->value)
		{
			put_str(buf, ", self ");
			put_value(buf, r->self, o->unit);
		}
	}
	put_str(buf, ")</title>");
}

/* Append one drawn frame: tooltip, rectangle and (when it fits) its clipped name. */
static void
put_frame(ByteBuf *buf, const FlameRow *rows, uint32_t i, const SvgOptions *o,
		  const SvgLayout *lay)
{
	const FlameRow *r = &rows[i];
	double		w = i == 0 ? lay->chart_width : lay->span[i] * lay->scale;
	int64_t		y = lay->height - YPAD_BOTTOM - (int64_t) (r->level + 1) * FRAME_HEIGHT;
	int64_t		max_chars;

	put_str(buf, "<g class=\"f\">");
	put_tooltip(buf, r, &rows[0], o);
	put_str(buf, "<rect x=\"");
	put_px(buf, lay->x[i]);
	put_str(buf, "\" y=\"");
	put_int(buf, y);
	put_str(buf, "\" width=\"");
	put_px(buf, w);
	put_str(buf, "\" height=\"");
	put_int(buf, FRAME_HEIGHT - FRAME_PAD);
	put_str(buf, "\" rx=\"2\" ry=\"2\" fill=\"");
	if (o->diff)
		put_diff_fill(buf, share_shift(r, &rows[0]), lay->max_shift);
	else
		put_fill(buf, r->label, r->label_len);
	put_str(buf, "\"/>");
	/* flamegraph.pl: no text under 3 characters, else clip with "..". */
	max_chars = (int64_t) ((w - TEXT_XPAD) / (FONT_SIZE * FONT_WIDTH));
	if (max_chars >= 3)
	{
		put_str(buf, "<text x=\"");
		put_px(buf, lay->x[i] + TEXT_XPAD);
		put_str(buf, "\" y=\"");
		put_px(buf, (double) y + 11.5);
		put_str(buf, "\">");
		put_xml_text(buf, r->label, r->label_len, max_chars);
		put_str(buf, "</text>");
	}
	put_str(buf, "</g>");
}

/* The SVG document of rows (see svg.h). */
char *
svg_render(const FlameRow *rows, uint32_t nrows, const SvgOptions *options, size_t *len)
{
	SvgOptions	o = *options;
	SvgLayout	lay;
	ByteBuf		buf;

	if (o.width < SVG_MIN_WIDTH || o.width > SVG_MAX_WIDTH)
		pp_error(PP_ERR_BAD_ARGUMENT, "width must be between %d and %d pixels",
				 SVG_MIN_WIDTH, SVG_MAX_WIDTH);
	if (o.sample_type == NULL)
		o.sample_type = "";
	if (o.unit == NULL)
		o.unit = "";
	svg_layout(rows, nrows, o.width, o.diff, &lay);

	bytebuf_init_budget(&buf, 4096, o.budget);
	put_header(&buf, &rows[0], &o, &lay);
	for (uint32_t i = 0; i < nrows; i++)
	{
		if (!lay.drawn[i])
			continue;
		put_frame(&buf, rows, i, &o, &lay);
		check_size(&buf);
		pp_check_interrupts();	/* a frame's label may be megabytes */
	}
	put_str(&buf, "</g></svg>");
	check_size(&buf);
	bytebuf_append(&buf, "", 1);	/* the NUL, not counted in len */
	pp_free(lay.span);
	pp_free(lay.x);
	pp_free(lay.drawn);
	if (len)
		*len = buf.len - 1;
	return (char *) buf.data;
}
