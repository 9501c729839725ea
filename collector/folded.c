/*
 * folded.c
 *	  Folded text (groups or lines) to a raw pprof, with Pyroscope's type
 *	  suffixes and sampleRate scaling.
 */
#include "folded.h"
#include "util.h"

#include "profile.pb-c.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STACK_FRAMES 65536

/* Pyroscope's app-name suffixes (pkg/ingester/pyroscope convertMetadata). */
static const struct
{
	const char *suffix;
	FoldedType	type;
}			folded_types[] = {
	{"cpu", {"process_cpu", "samples", "count", true}},
	{"itimer", {"process_cpu", "samples", "count", true}},
	{"wall", {"wall", "samples", "count", true}},
	{"seconds", {"wall", "samples", "count", true}},
	{"nanoseconds", {"wall", "samples", "count", true}},
	{"microseconds", {"wall", "samples", "count", true}},
	{"milliseconds", {"wall", "samples", "count", true}},
	{"inuse_objects", {"memory", "inuse_objects", "count", false}},
	{"inuse_space", {"memory", "inuse_space", "bytes", false}},
	{"alloc_objects", {"memory", "alloc_objects", "count", false}},
	{"alloc_space", {"memory", "alloc_space", "bytes", false}},
	{"alloc_in_new_tlab_objects", {"memory", "alloc_in_new_tlab_objects", "count", false}},
	{"alloc_in_new_tlab_bytes", {"memory", "alloc_in_new_tlab_bytes", "bytes", false}},
	{"alloc_outside_tlab_objects", {"memory", "alloc_outside_tlab_objects", "count", false}},
	{"alloc_outside_tlab_bytes", {"memory", "alloc_outside_tlab_bytes", "bytes", false}},
	{"live", {"memory", "live", "count", false}},
	{"bytes", {"memory", "samples", "bytes", false}},
	{"goroutines", {"goroutine", "goroutines", "count", false}},
	{"mutex_count", {"mutex", "contentions", "count", false}},
	{"mutex_duration", {"mutex", "delay", "nanoseconds", false}},
	{"block_count", {"block", "contentions", "count", false}},
	{"block_duration", {"block", "delay", "nanoseconds", false}},
	{"lock_count", {"block", "contentions", "count", false}},
	{"lock_duration", {"block", "delay", "nanoseconds", false}},
	{"exceptions", {"exceptions", "samples", "count", false}},
};

/* Split app into the service and its type suffix. */
bool
folded_type_of(const char *app, char **service, FoldedType *type, char *why, size_t why_len)
{
	const char *dot = strrchr(app, '.');
	const char *suffix = dot ? dot + 1 : "cpu";

	for (size_t i = 0; i < sizeof(folded_types) / sizeof(folded_types[0]); i++)
	{
		if (strcmp(folded_types[i].suffix, suffix) == 0)
		{
			*type = folded_types[i].type;
			*service = dot ? xstrndup(app, (size_t) (dot - app)) : xstrdup(app);
			return true;
		}
	}
	snprintf(why, why_len, "unknown profile type: %s", suffix);
	return false;
}

/* Interned strings of the string table, with a hash index. */
typedef struct StringPool
{
	char	  **strings;
	size_t		n;
	size_t		cap;
	int64_t    *slots;			/* string index + 1; 0 = empty */
	size_t		mask;
} StringPool;

/* FNV-1a of a byte string. */
static uint64_t
hash_bytes(const char *s, size_t len)
{
	uint64_t	h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char) s[i]) * 1099511628211ULL;
	return h;
}

/* Grow the hash index to twice its size. */
static void
pool_rehash(StringPool *p)
{
	size_t		size = (p->mask + 1) * 2;

	free(p->slots);
	p->slots = xcalloc(size, sizeof(int64_t));
	p->mask = size - 1;
	for (size_t i = 0; i < p->n; i++)
	{
		size_t		h = (size_t) hash_bytes(p->strings[i], strlen(p->strings[i])) & p->mask;

		while (p->slots[h])
			h = (h + 1) & p->mask;
		p->slots[h] = (int64_t) i + 1;
	}
}

/* The string-table index of s[0..len), added if new. */
static int64_t
pool_intern(StringPool *p, const char *s, size_t len)
{
	size_t		h;

	if ((p->n + 1) * 2 > p->mask + 1)
		pool_rehash(p);
	h = (size_t) hash_bytes(s, len) & p->mask;
	while (p->slots[h])
	{
		const char *t = p->strings[p->slots[h] - 1];

		if (strlen(t) == len && memcmp(t, s, len) == 0)
			return p->slots[h] - 1;
		h = (h + 1) & p->mask;
	}
	if (p->n == p->cap)
	{
		p->cap = p->cap ? p->cap * 2 : 64;
		p->strings = xrealloc(p->strings, sizeof(char *) * p->cap);
	}
	p->strings[p->n] = xstrndup(s, len);
	p->slots[h] = (int64_t) ++p->n;
	return (int64_t) p->n - 1;
}

/* One stack: its frames' string indexes (root first) and its count. */
typedef struct FoldedStack
{
	int64_t    *frames;
	size_t		n_frames;
	int64_t		value;
} FoldedStack;

/* Parse a non-negative count; false if it is not one. */
static bool
parse_count(const char *s, size_t len, int64_t *out)
{
	int64_t		v = 0;
	size_t		i = 0;

	if (len > 0 && s[0] == '+')
		i++;
	if (i == len)
		return false;
	for (; i < len; i++)
	{
		if (!isdigit((unsigned char) s[i]) || v > (INT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Split a stack on ';' into interned frames (empty frames are skipped). */
static FoldedStack
split_stack(StringPool *pool, const char *s, size_t len, bool *too_deep)
{
	FoldedStack st = {NULL, 0, 0};
	size_t		cap = 0;
	size_t		start = 0;

	for (size_t i = 0; i <= len; i++)
	{
		if (i < len && s[i] != ';')
			continue;
		if (i > start)
		{
			if (st.n_frames == MAX_STACK_FRAMES)
			{
				*too_deep = true;
				break;
			}
			if (st.n_frames == cap)
			{
				cap = cap ? cap * 2 : 16;
				st.frames = xrealloc(st.frames, sizeof(int64_t) * cap);
			}
			st.frames[st.n_frames++] = pool_intern(pool, s + start, i - start);
		}
		start = i + 1;
	}
	return st;
}

/* Build the pprof message from the stacks and pack it. */
static uint8_t *
pack_profile(StringPool *pool, FoldedStack *stacks, size_t n_stacks, const FoldedType *type,
			 int64_t sample_rate, int64_t time_ns, int64_t duration_ns, size_t *out_len)
{
	Pprof__Profile prof = PPROF__PROFILE__INIT;
	Pprof__ValueType st = PPROF__VALUE_TYPE__INIT;
	Pprof__ValueType pt = PPROF__VALUE_TYPE__INIT;
	Pprof__ValueType *st_list[1] = {&st};
	bool		timed = type->timed && sample_rate > 0;
	size_t		n_strings = pool->n;
	/* every frame string is a function with one location of the same id */
	Pprof__Function *functions = xcalloc(n_strings, sizeof(Pprof__Function));
	Pprof__Function **function_list = xcalloc(n_strings, sizeof(Pprof__Function *));
	Pprof__Location *locations = xcalloc(n_strings, sizeof(Pprof__Location));
	Pprof__Location **location_list = xcalloc(n_strings, sizeof(Pprof__Location *));
	Pprof__Line *lines = xcalloc(n_strings, sizeof(Pprof__Line));
	Pprof__Line **line_list = xcalloc(n_strings, sizeof(Pprof__Line *));
	Pprof__Sample *samples = xcalloc(n_stacks ? n_stacks : 1, sizeof(Pprof__Sample));
	Pprof__Sample **sample_list = xcalloc(n_stacks ? n_stacks : 1, sizeof(Pprof__Sample *));
	bool	   *used = xcalloc(n_strings ? n_strings : 1, sizeof(bool));
	size_t		n_funcs = 0;
	uint8_t    *out;

	/* a timed profile counts nanoseconds of cpu (or wall) time, as Pyroscope scales it */
	const char *type_name = !timed ? type->sample_type :
		strcmp(type->profile_name, "wall") == 0 ? "wall" : "cpu";
	const char *unit_name = timed ? "nanoseconds" : type->unit;

	st.type = pool_intern(pool, type_name, strlen(type_name));
	st.unit = pool_intern(pool, unit_name, strlen(unit_name));
	prof.n_sample_type = 1;
	prof.sample_type = st_list;
	if (timed)
	{
		pt.type = pool_intern(pool, "cpu", 3);
		pt.unit = pool_intern(pool, "nanoseconds", 11);
		prof.period_type = &pt;
		prof.period = 1000000000LL / sample_rate;
	}
	for (size_t i = 0; i < n_stacks; i++)
		for (size_t k = 0; k < stacks[i].n_frames; k++)
			used[stacks[i].frames[k]] = true;
	for (size_t s = 1; s < n_strings; s++)
	{
		if (!used[s])
			continue;
		pprof__function__init(&functions[n_funcs]);
		pprof__location__init(&locations[n_funcs]);
		pprof__line__init(&lines[n_funcs]);
		functions[n_funcs].id = (uint64_t) s;
		functions[n_funcs].name = (int64_t) s;
		functions[n_funcs].system_name = (int64_t) s;
		lines[n_funcs].function_id = (uint64_t) s;
		line_list[n_funcs] = &lines[n_funcs];
		locations[n_funcs].id = (uint64_t) s;
		locations[n_funcs].n_line = 1;
		locations[n_funcs].line = &line_list[n_funcs];
		function_list[n_funcs] = &functions[n_funcs];
		location_list[n_funcs] = &locations[n_funcs];
		n_funcs++;
	}
	prof.n_function = n_funcs;
	prof.function = function_list;
	prof.n_location = n_funcs;
	prof.location = location_list;
	for (size_t i = 0; i < n_stacks; i++)
	{
		Pprof__Sample *sm = &samples[i];
		uint64_t   *ids = xmalloc(sizeof(uint64_t) * (stacks[i].n_frames ? stacks[i].n_frames : 1));

		pprof__sample__init(sm);
		/* pprof lists the leaf first */
		for (size_t k = 0; k < stacks[i].n_frames; k++)
			ids[k] = (uint64_t) stacks[i].frames[stacks[i].n_frames - 1 - k];
		sm->n_location_id = stacks[i].n_frames;
		sm->location_id = ids;
		sm->n_value = 1;
		sm->value = &stacks[i].value;
		sample_list[i] = sm;
	}
	prof.n_sample = n_stacks;
	prof.sample = sample_list;
	prof.n_string_table = pool->n;
	prof.string_table = xcalloc(pool->n, sizeof(ProtobufCBinaryData));
	for (size_t s = 0; s < pool->n; s++)
	{
		prof.string_table[s].data = (uint8_t *) pool->strings[s];
		prof.string_table[s].len = strlen(pool->strings[s]);
	}
	prof.time_nanos = time_ns;
	prof.duration_nanos = duration_ns > 0 ? duration_ns : 0;
	*out_len = pprof__profile__get_packed_size(&prof);
	out = xmalloc(*out_len ? *out_len : 1);
	pprof__profile__pack(&prof, out);

	for (size_t i = 0; i < n_stacks; i++)
		free(samples[i].location_id);
	free(prof.string_table);
	free(functions);
	free(function_list);
	free(locations);
	free(location_list);
	free(lines);
	free(line_list);
	free(samples);
	free(sample_list);
	free(used);
	return out;
}

/* Build a raw pprof from folded text. */
uint8_t *
folded_to_pprof(const uint8_t *text, size_t len, bool individual_lines, const FoldedType *type,
				int64_t sample_rate, int64_t time_ns, int64_t duration_ns, size_t *out_len,
				char *why, size_t why_len)
{
	StringPool	pool;
	FoldedStack *stacks = NULL;
	size_t		n_stacks = 0,
				cap = 0;
	const char *p = (const char *) text;
	const char *end = p + len;
	int			lineno = 0;
	bool		timed = type->timed && sample_rate > 0;
	int64_t		scale = timed ? 1000000000LL / sample_rate : 1;
	uint8_t    *out = NULL;
	bool		failed = false;

	memset(&pool, 0, sizeof(pool));
	pool.slots = xcalloc(64, sizeof(int64_t));
	pool.mask = 63;
	pool_intern(&pool, "", 0);	/* string_table[0] is "" */
	while (p < end && !failed)
	{
		const char *eol = memchr(p, '\n', (size_t) (end - p));
		const char *line_end = eol ? eol : end;
		const char *stack_end = line_end;
		int64_t		count = 1;
		bool		too_deep = false;
		FoldedStack st;

		lineno++;
		if (line_end > p && line_end[-1] == '\r')
			line_end--, stack_end--;
		if (!individual_lines)
		{
			const char *space = NULL;

			for (const char *q = line_end; q > p; q--)
				if (q[-1] == ' ')
				{
					space = q - 1;
					break;
				}
			/* as Pyroscope: a line without a space is skipped */
			if (space == NULL)
			{
				p = eol ? eol + 1 : end;
				continue;
			}
			if (!parse_count(space + 1, (size_t) (line_end - space - 1), &count))
			{
				snprintf(why, why_len, "line %d: the count after the last space is not a number", lineno);
				failed = true;
				break;
			}
			stack_end = space;
		}
		st = split_stack(&pool, p, (size_t) (stack_end - p), &too_deep);
		if (too_deep)
		{
			snprintf(why, why_len, "line %d: more than %d frames", lineno, MAX_STACK_FRAMES);
			free(st.frames);
			failed = true;
			break;
		}
		if (__builtin_mul_overflow(count, scale, &st.value))
		{
			snprintf(why, why_len, "line %d: the value is out of range", lineno);
			free(st.frames);
			failed = true;
			break;
		}
		if (st.n_frames == 0 || st.value == 0)
			free(st.frames);
		else
		{
			if (n_stacks == cap)
			{
				cap = cap ? cap * 2 : 64;
				stacks = xrealloc(stacks, sizeof(FoldedStack) * cap);
			}
			stacks[n_stacks++] = st;
		}
		p = eol ? eol + 1 : end;
	}
	if (!failed)
		out = pack_profile(&pool, stacks, n_stacks, type, sample_rate, time_ns, duration_ns, out_len);
	for (size_t i = 0; i < n_stacks; i++)
		free(stacks[i].frames);
	free(stacks);
	for (size_t s = 0; s < pool.n; s++)
		free(pool.strings[s]);
	free(pool.strings);
	free(pool.slots);
	return out;
}
