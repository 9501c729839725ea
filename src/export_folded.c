/*
 * export_folded.c
 *	  Folded (collapsed) stacks, Brendan Gregg's format: one stack per line,
 *	  "root;caller;leaf count", as written by stackcollapse-perf.pl,
 *	  async-profiler, py-spy --format raw, rbspy and others.
 */
#include "export_folded.h"
#include "bytebuf.h"
#include "utf8_text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FOLDED_SHOWN_LINE 200	/* bytes of a bad line shown in errors */

/*
 * Raise a malformed-line error naming the line and showing (the start of)
 * it, cut at a character boundary and with invalid UTF-8 replaced, so the
 * message itself is always valid text.
 */
static void
folded_fail(uint64_t line_no, const char *line, size_t len, const char *problem)
{
	size_t		shown = len > FOLDED_SHOWN_LINE ? FOLDED_SHOWN_LINE : len;
	size_t		clean_len;
	const char *clean;
	char	   *detail;

	while (shown > 0 && shown < len && ((uint8_t) line[shown] & 0xC0) == 0x80)
		shown--;
	clean = utf8_sanitize(line, shown, &clean_len);
	detail = pp_alloc(clean_len + 32);
	snprintf(detail, clean_len + 32, "The line reads \"%.*s%s\".", (int) clean_len, clean,
			 shown < len ? "..." : "");
	pp_error_ext(PP_ERR_BAD_TEXT, detail, NULL, "invalid folded stack on line %" PRIu64 ": %s",
				 line_no, problem);
}

/* True for the blanks that separate the count from the stack. */
static inline bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Intern one frame name, with invalid UTF-8 replaced as pprof names are: a
 * database in SQL_ASCII hands over any bytes, and stored names must be UTF-8.
 */
static uint32_t
intern_frame(SymbolTable *symbols, const char *name, size_t len)
{
	size_t		clean_len;
	const char *clean = utf8_sanitize(name, len, &clean_len);
	uint32_t	id = symtab_intern(symbols, clean, clean_len, NULL, 0);

	if (clean != name)
		pp_free((void *) clean);
	return id;
}

/* Parse folded stacks into a tree over symbols (see export_folded.h). */
CallTree *
folded_decode(const char *text, size_t len, SymbolTable *symbols, uint32_t max_stack_depth)
{
	CallTree   *tree = calltree_create(symbols);
	uint32_t	capacity = 64;
	uint32_t   *frames = pp_alloc_array(capacity, sizeof(uint32_t));
	size_t		pos = 0;
	uint64_t	line_no = 0;

	while (pos < len)
	{
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t		line_len = nl ? (size_t) (nl - line) : len - pos;
		size_t		end = line_len;
		size_t		count_start;
		uint64_t	count = 0;
		uint32_t	depth = 0;
		size_t		frame_start = 0;

		pos += line_len + (nl ? 1 : 0);
		line_no++;
		if ((line_no & 0xfff) == 0)
			pp_check_interrupts();
		/* Trailing blanks and a CR (CRLF files) are not part of the count. */
		while (end > 0 && (is_blank(line[end - 1]) || line[end - 1] == '\r'))
			end--;
		if (end == 0)
			continue;			/* blank line */
		count_start = end;
		while (count_start > 0 && !is_blank(line[count_start - 1]))
			count_start--;
		if (count_start == 0)
			folded_fail(line_no, line, line_len, "expected a stack and a count separated by a space");
		for (size_t i = count_start; i < end; i++)
		{
			if (line[i] < '0' || line[i] > '9')
				folded_fail(line_no, line, line_len, "the count is not a non-negative integer");
			if (count > (uint64_t) (INT64_MAX - (line[i] - '0')) / 10)
				folded_fail(line_no, line, line_len, "the count is out of range for type bigint");
			count = count * 10 + (uint64_t) (line[i] - '0');
		}
		end = count_start;
		while (end > 0 && is_blank(line[end - 1]))
			end--;
		if (end == 0)
			folded_fail(line_no, line, line_len, "the stack has no frames");
		for (size_t i = 0; i <= end; i++)
		{
			if (i < end && line[i] != ';')
				continue;
			if (i == frame_start)
				folded_fail(line_no, line, line_len, "a frame name is empty");
			if (depth >= max_stack_depth)
				pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_stack_depth to accept deeper stacks.",
						 "stack on line %" PRIu64 " exceeds pg_pprof.max_stack_depth (%u)",
						 line_no, max_stack_depth);
			if (depth == capacity)
			{
				capacity *= 2;
				frames = pp_realloc(frames, pp_mul_size(capacity, sizeof(uint32_t)));
			}
			frames[depth++] = intern_frame(symbols, line + frame_start, i - frame_start);
			frame_start = i + 1;
		}
		if (count != 0)
			calltree_add_stack(tree, frames, depth, (int64_t) count);
	}
	pp_free(frames);
	return tree;
}

/* A line of the folded output: where it starts and how long it is. */
typedef struct FoldedLine
{
	size_t		offset;
	size_t		len;
} FoldedLine;

static const char *folded_base;	/* qsort has no context argument */

/* qsort comparator: byte order of lines. */
static int
compare_lines(const void *a, const void *b)
{
	const FoldedLine *x = a;
	const FoldedLine *y = b;

	return bytes_compare(folded_base + x->offset, x->len, folded_base + y->offset, y->len);
}

/* Folded stacks of a decoded profile, sorted; NUL-terminated. */
char *
folded_encode(const ProfileView *view, PPBudget *budget, size_t *out_len)
{
	ByteBuf		lines;
	ByteBuf		out;
	uint32_t   *path = pp_alloc_array((size_t) view->node_count + 1, sizeof(uint32_t));
	FoldedLine *index;
	uint32_t	nlines = 0;

	pp_budget_charge(budget, pp_mul_size((size_t) view->node_count + 1, sizeof(FoldedLine)));
	index = pp_alloc_array((size_t) view->node_count + 1, sizeof(FoldedLine));
	bytebuf_init_budget(&lines, 4096, budget);
	for (uint32_t i = 0; i < view->node_count; i++)
	{
		uint32_t	depth = view->node_depth[i];
		char		num[32];
		int			n;

		path[depth - 1] = view->node_symbol[i];
		if (view->node_self[i] == 0)
			continue;
		index[nlines].offset = lines.len;
		for (uint32_t d = 0; d < depth; d++)
		{
			const PPString *name = &view->symbols[path[d]];

			if (d > 0)
				bytebuf_append(&lines, ";", 1);
			bytebuf_append(&lines, name->data, name->len);
		}
		n = snprintf(num, sizeof(num), " %" PRId64, view->node_self[i]);
		bytebuf_append(&lines, num, (size_t) n);
		index[nlines].len = lines.len - index[nlines].offset;
		nlines++;
		pp_check_interrupts();	/* a line repeats its whole path */
	}
	folded_base = (const char *) lines.data;
	qsort(index, nlines, sizeof(FoldedLine), compare_lines);
	bytebuf_init_budget(&out, lines.len + nlines + 1, budget);
	for (uint32_t l = 0; l < nlines; l++)
	{
		bytebuf_append(&out, lines.data + index[l].offset, index[l].len);
		bytebuf_append(&out, "\n", 1);
		pp_check_interrupts();
	}
	bytebuf_append(&out, "", 1);
	pp_free(lines.data);
	pp_free(index);
	pp_free(path);
	*out_len = out.len - 1;
	return (char *) out.data;
}
