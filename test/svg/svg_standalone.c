/*
 * svg_standalone.c
 *	  The SVG renderer outside the server, built with ASan/UBSan by
 *	  test/svg.sh.
 *
 *	  svg_standalone render FILE [WIDTH [MAX_NODES [TITLE]]] > out.svg
 *	      decode a pprof file (default sample type) and render it
 *	  svg_standalone selftest
 *	      unit checks of formatting, escaping, pruning and negative values;
 *	      prints "ok ..." / "FAIL ..." lines and exits non-zero on failure
 */
#include "views.h"
#include "pp_standalone.h"
#include "pprof_decode.h"
#include "export_svg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int	failures;

static void
expect(bool cond, const char *what)
{
	printf("%s %s\n", cond ? "ok  " : "FAIL", what);
	if (!cond)
		failures++;
}

/* Read a whole file. */
static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *data = NULL;
	size_t		cap = 0,
				n = 0;

	if (!f)
	{
		perror(path);
		exit(2);
	}
	for (;;)
	{
		if (n == cap)
		{
			cap = cap ? cap * 2 : 65536;
			data = realloc(data, cap);
		}
		size_t		got = fread(data + n, 1, cap - n, f);

		if (got == 0)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return data;
}

typedef struct RenderArgs
{
	const uint8_t *data;
	size_t		len;
	int			width;
	int64_t		max_nodes;
	const char *title;
	char	   *out;
	size_t		out_len;
} RenderArgs;

static void
render(void *arg)
{
	RenderArgs *a = arg;
	PprofOptions options = {(size_t) 1 << 30, 65536, NULL, NULL};
	PprofFile  *file = pprof_open(a->data, a->len, &options);
	CallTree   *tree = pprof_build_tree(file, pprof_find_sample_type(file, NULL));
	uint32_t	nrows;
	FlameRow   *rows = flame_rows(tree, NULL, a->max_nodes, NULL, &nrows);

	SvgOptions	o = {a->title, tree->meta.sample_type, tree->meta.sample_unit, a->width, false};

	a->out = svg_render(rows, nrows, &o, &a->out_len);
}

/* A tree from stacks given as "a;b;c=value" strings. */
static CallTree *
tree_of(const char *const *stacks, int n)
{
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));
	CallTree   *tree;

	symtab_init(symbols);
	tree = calltree_create(symbols);
	tree->meta.sample_type = "cpu";
	tree->meta.sample_unit = "nanoseconds";
	for (int i = 0; i < n; i++)
	{
		uint32_t	frames[64];
		uint32_t	depth = 0;
		const char *s = stacks[i];
		const char *eq = strrchr(s, '=');

		while (s < eq)
		{
			const char *end = memchr(s, ';', (size_t) (eq - s));

			if (!end)
				end = eq;
			frames[depth++] = symtab_intern(symbols, s, (size_t) (end - s), NULL, 0);
			s = end < eq ? end + 1 : eq;
		}
		calltree_add_stack(tree, frames, depth, strtoll(eq + 1, NULL, 10));
	}
	return tree;
}

/* Render stacks; NULL on error. */
typedef struct SelfArgs
{
	const char *const *stacks;
	int			n;
	int			width;
	const char *title;
	const char *unit;
	char	   *out;
} SelfArgs;

static void
render_stacks(void *arg)
{
	SelfArgs   *a = arg;
	CallTree   *tree = tree_of(a->stacks, a->n);
	uint32_t	nrows;
	FlameRow   *rows = flame_rows(tree, NULL, 0, NULL, &nrows);

	SvgOptions	o = {a->title, "cpu", a->unit ? a->unit : "nanoseconds", a->width, false};

	a->out = svg_render(rows, nrows, &o, NULL);
}

static char *
svg_of(const char *const *stacks, int n, int width, const char *title, const char *unit)
{
	SelfArgs	a = {stacks, n, width, title, unit, NULL};

	if (!pp_standalone_run(render_stacks, &a))
		return NULL;
	return a.out;
}

/* Render the diff of two sets of stacks; NULL on error. */
typedef struct DiffArgs
{
	const char *const *left;
	int			nleft;
	const char *const *right;
	int			nright;
	const char *right_unit;		/* NULL: nanoseconds, as the left side */
	char	   *out;
} DiffArgs;

static void
render_diff(void *arg)
{
	DiffArgs   *a = arg;
	int64_t    *right_self;
	CallTree   *comparison = tree_of(a->right, a->nright);
	CallTree   *tree;
	uint32_t	nrows;
	FlameRow   *rows;
	SvgOptions	o = {NULL, "cpu", "nanoseconds", 1000, true};

	if (a->right_unit)
		comparison->meta.sample_unit = (char *) a->right_unit;
	tree = flame_diff_tree(tree_of(a->left, a->nleft), comparison, &right_self);
	rows = flame_rows(tree, right_self, 0, NULL, &nrows);
	a->out = svg_render(rows, nrows, &o, NULL);
}

static int
count(const char *hay, const char *needle)
{
	int			c = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		c++;
	return c;
}

static void
check_format(int64_t v, const char *unit, const char *want)
{
	char		buf[64],
				what[160];

	svg_format_value(buf, sizeof(buf), v, unit);
	snprintf(what, sizeof(what), "format %lld %s = \"%s\" (got \"%s\")", (long long) v, unit,
			 want, buf);
	expect(strcmp(buf, want) == 0, what);
}

static int
selftest(void)
{
	char	   *svg;

	check_format(1520000000, "nanoseconds", "1.52 s");
	check_format(999, "nanoseconds", "999 ns");
	check_format(1500, "nanoseconds", "1.50 \xC2\xB5s");
	check_format(10000000, "nanoseconds", "10.0 ms");
	check_format(90000000000LL, "nanoseconds", "1.50 min");
	check_format(7200000000000LL, "nanoseconds", "2.00 h");
	check_format(-1520000000, "nanoseconds", "-1.52 s");
	check_format(INT64_MIN, "nanoseconds", "-2562048 h");
	check_format(3, "seconds", "3.00 s");
	check_format(3565158, "bytes", "3.40 MiB");
	check_format(512, "bytes", "512 B");
	check_format(INT64_MAX, "bytes", "8.00 EiB");
	check_format(2048, "kilobytes", "2.00 MiB");
	check_format(42, "count", "42");
	check_format(12345, "count", "12.3k");
	check_format(3400000, "", "3.40M");
	check_format(999999, "count", "1.00M");
	check_format(1234, "widgets", "1.23k");

	/* escaping, control characters, invalid UTF-8 */
	{
		const char *const stacks[] = {
			"main;<script>&\"'evil</script>=600",
			"main;tab\there;nul\x01" "bell\x7f\xC2\x85;bad\xff\xfeutf8=300",
			"main;nonchar\xEF\xBF\xBE\xEF\xBF\xBF=100",
			"main;C:\\\\dir\\\\file=1",
		};

		svg = svg_of(stacks, 4, 1200, "T<i>tle & \"quotes\"", NULL);
		expect(svg != NULL, "hostile names render");
		if (svg)
		{
			expect(strstr(svg, "&lt;script&gt;&amp;&quot;&apos;evil&lt;/script&gt;") != NULL,
				   "names are XML-escaped");
			expect(strstr(svg, "<script") == NULL, "no raw <script");
			expect(strstr(svg, "T&lt;i&gt;tle &amp; &quot;quotes&quot;") != NULL, "title escaped");
			expect(strstr(svg, "tab here") != NULL, "TAB becomes a space");
			for (const char *p = svg; *p; p++)
				if ((unsigned char) *p < 0x20 || *p == '\\')
				{
					expect(false, "no control characters or backslashes in the document");
					break;
				}
			expect(strstr(svg, "\x7f") == NULL && strstr(svg, "\xC2\x85") == NULL,
				   "no DEL or C1 controls");
			expect(strstr(svg, "\xEF\xBF\xBE") == NULL && strstr(svg, "\xEF\xBF\xBF") == NULL,
				   "no U+FFFE / U+FFFF");
			expect(strstr(svg, "\xff") == NULL, "invalid UTF-8 replaced");
			expect(strstr(svg, "nul\xEF\xBF\xBD" "bell\xEF\xBF\xBD\xEF\xBF\xBD") != NULL,
				   "controls become U+FFFD");
			expect(strstr(svg, "<title>T&lt;i&gt;tle") != NULL, "document title");
			expect(strstr(svg, "C:&#92;&#92;dir&#92;&#92;file") != NULL, "backslash as &#92;");
			expect(strstr(svg, "Total: 1.00 \xC2\xB5s") != NULL, "header total");
			expect(strstr(svg, "(600 ns, 59.94%)") != NULL, "tooltip value and percent");
		}
	}

	/* default title, and clipping of long names with ".." */
	{
		const char *const stacks[] = {
			"main;a_very_long_function_name_that_does_not_fit_in_a_small_frame_at_all=10",
			"main;b=990",
		};

		svg = svg_of(stacks, 2, 1200, NULL, NULL);
		expect(svg && strstr(svg, "<title>cpu flame graph</title>") != NULL, "default title");
		/* 11.8 px wide frame: too narrow for text (< 3 chars) */
		expect(svg && count(svg, "\">a_very_long") == 0, "no text in a 12 px frame");
		expect(svg && count(svg, "<title>a_very_long_function_name_that_does_not_fit_in_a_small_frame_at_all (") == 1,
			   "narrow frame still drawn with its tooltip");
	}
	{
		const char *const stacks[] = {
			"main;a_very_long_function_name_that_does_not_fit_in_a_small_frame_at_all=100",
			"main;b=900",
		};

		svg = svg_of(stacks, 2, 1200, NULL, NULL);
		/* 118 px: (118 - 3) / 7.08 = 16 chars -> 14 + ".." */
		expect(svg && strstr(svg, ">a_very_long_fu..</text>") != NULL, "long name clipped with ..");
	}

	/* frames under one pixel are skipped with their children */
	{
		const char *const stacks[] = {
			"main;tiny;tinychild=1",
			"main;big=100000",
		};

		svg = svg_of(stacks, 2, 1200, NULL, NULL);
		expect(svg && strstr(svg, "<title>tiny") == NULL, "sub-pixel frame not drawn");
		expect(svg && strstr(svg, "<title>tinychild") == NULL, "its child not drawn");
		expect(svg && strstr(svg, "<title>big (") != NULL, "wide sibling drawn");
		expect(svg && strstr(svg, "1 frame not drawn") != NULL, "hidden frames counted");
	}

	/* negative values: not drawn; parents stay wide enough for children */
	{
		const char *const stacks[] = {
			"main;grew=500",
			"main;shrank=-300",
			"other;x=-100",
		};

		svg = svg_of(stacks, 3, 1000, NULL, NULL);
		expect(svg != NULL, "delta profile renders");
		expect(svg && strstr(svg, "<title>shrank") == NULL, "negative frame not drawn");
		expect(svg && strstr(svg, "<title>x (") == NULL, "negative subtree not drawn");
		expect(svg && strstr(svg, "<title>grew (500 ns, 500.00%)") != NULL, "positive frame drawn");
		/* main's value is 200 but its drawn child 500: main spans the chart */
		expect(svg && strstr(svg, "<title>main (200 ns, 200.00%, self") == NULL, "no bogus self");
		expect(svg && strstr(svg, "x=\"10\" y=\"") != NULL, "main starts at the left edge");
		expect(svg && strstr(svg, "width=\"980\"") != NULL, "frames fit the chart");
	}

	/* an empty profile: just the root */
	{
		svg = svg_of(NULL, 0, 400, NULL, "bytes");
		expect(svg && strstr(svg, "Total: 0 B") != NULL, "empty profile total");
		expect(svg && count(svg, "<g class=\"f\">") == 1, "empty profile draws the root only");
	}

	/* width is validated */
	{
		const char *const stacks[] = {"main=1"};

		expect(svg_of(stacks, 1, 99, NULL, NULL) == NULL &&
			   pp_standalone_last_error()->kind == PP_ERR_BAD_ARGUMENT, "width 99 rejected");
		expect(svg_of(stacks, 1, 100001, NULL, NULL) == NULL, "width 100001 rejected");
		expect(svg_of(stacks, 1, 100, NULL, NULL) != NULL, "width 100 accepted");
		expect(svg_of(stacks, 1, 100000, NULL, NULL) != NULL, "width 100000 accepted");
	}

	/* a diff: both sides' widths, red where the share grew, blue where it shrank */
	{
		const char *const left[] = {"main;grew=100", "main;shrank=700", "main;same=200"};
		const char *const right[] = {"main;grew=600", "main;shrank=200", "main;same=200", "main;new=0"};
		DiffArgs	a = {left, 3, right, 4, NULL, NULL};

		expect(pp_standalone_run(render_diff, &a), "diff renders");
		svg = a.out;
		expect(svg && strstr(svg, "<title>cpu diff flame graph</title>") != NULL, "diff title");
		expect(svg && strstr(svg, "Baseline: 1.00 \xC2\xB5s, comparison: 1.00 \xC2\xB5s") != NULL,
			   "diff header shows both totals");
		expect(svg && strstr(svg, "<title>grew (baseline 100 ns, comparison 600 ns, share +50.00%)") != NULL,
			   "diff tooltip of a grown frame");
		expect(svg && strstr(svg, "<title>shrank (baseline 700 ns, comparison 200 ns, share -50.00%)") != NULL,
			   "diff tooltip of a shrunk frame");
		expect(svg && strstr(svg, "fill=\"rgb(255,55,55)\"") != NULL, "largest growth is deep red");
		expect(svg && strstr(svg, "fill=\"rgb(55,55,255)\"") != NULL, "largest shrink is deep blue");
		expect(svg && strstr(svg, "fill=\"rgb(255,255,255)\"") != NULL, "unchanged share is white");
		/* grew spans 700 of 2000 units over 980 px */
		expect(svg && strstr(svg, "width=\"343\"") != NULL, "a frame is as wide as both sides");
	}
	{
		const char *const left[] = {"main;a=1"};
		const char *const right[] = {"main;a=1"};
		DiffArgs	a = {left, 1, right, 1, "bytes", NULL};

		expect(!pp_standalone_run(render_diff, &a) &&
			   pp_standalone_last_error()->kind == PP_ERR_MISMATCH, "diff of two units is refused");
	}

	/* same name, same colour; deterministic output */
	{
		const char *const stacks[] = {"a;f=10", "b;f=10"};
		char	   *s1 = svg_of(stacks, 2, 1200, NULL, NULL);
		char	   *s2 = svg_of(stacks, 2, 1200, NULL, NULL);
		const char *p1,
				   *p2;

		expect(s1 && s2 && strcmp(s1, s2) == 0, "output is deterministic");
		p1 = s1 ? strstr(s1, "<title>f (") : NULL;
		p2 = p1 ? strstr(p1 + 1, "<title>f (") : NULL;
		if (p1 && p2)
		{
			const char *f1 = strstr(p1, "fill=\""),
					   *f2 = strstr(p2, "fill=\"");

			expect(strncmp(f1, f2, 24) == 0, "same function, same colour");
		}
		else
			expect(false, "same function, same colour");
	}

	pp_standalone_free_all();
	printf("selftest: %d failure(s)\n", failures);
	return failures ? 1 : 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "selftest") == 0)
		return selftest();
	if (argc >= 3 && strcmp(argv[1], "render") == 0)
	{
		RenderArgs	a = {0};

		a.data = read_file(argv[2], &a.len);
		a.width = argc > 3 ? atoi(argv[3]) : SVG_DEFAULT_WIDTH;
		a.max_nodes = argc > 4 ? atoll(argv[4]) : 8192;
		a.title = argc > 5 ? argv[5] : NULL;
		if (!pp_standalone_run(render, &a))
		{
			fprintf(stderr, "error: %s\n", pp_standalone_last_error()->message);
			return 1;
		}
		fwrite(a.out, 1, a.out_len, stdout);
		pp_standalone_free_all();
		free((void *) a.data);
		return 0;
	}
	fprintf(stderr, "usage: svg_standalone selftest | render FILE [WIDTH [MAX_NODES [TITLE]]]\n");
	return 2;
}
