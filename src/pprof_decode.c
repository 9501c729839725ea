/*
 * pprof_decode.c
 *	  pprof bytes -> validated message -> resolved frames -> call trees.
 *
 * What pprof does on load is mirrored here (google/pprof profile.Parse,
 * CheckValid and RemoveUninteresting): the same files are accepted, the
 * same stacks come out.  Where pprof would crash or loop, a limit raises an
 * error instead.
 */
#include "pprof_decode.h"
#include "bytebuf.h"
#include "gzip_io.h"
#include "keyed_hash.h"
#include "utf8_text.h"
#include "profile.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* protobuf-c may allocate this many times the message size, plus 16 MB. */
#define PB_BUDGET_FACTOR 16
#define PB_BUDGET_EXTRA (16 * 1024 * 1024)

#define PPROF_PRUNE_WHOLE 0x01	/* the location's top frame matched */
#define PPROF_PRUNE_BENEATH 0x02	/* some frame of the location matched */

/* A hash map from non-zero uint64 ids to dense indexes. */
typedef struct IdMap
{
	uint64_t   *keys;			/* 0 = empty */
	uint32_t   *values;
	uint32_t	mask;
} IdMap;

/* Sanitised strings of the string table. */
typedef struct StringTable
{
	size_t		count;
	const char **str;			/* NUL-terminated */
	size_t	   *len;
} StringTable;

/* What protobuf-c may still allocate for one message. */
typedef struct PbBudget
{
	size_t		left;
} PbBudget;

/*
 * protobuf-c allocation through pp_alloc, so the host owns the memory, and
 * within a budget: protobuf-c builds a struct for every (even empty)
 * message before we can validate anything, so a small hostile input could
 * otherwise ask for many times its size.
 */
static void *
pb_alloc(void *data, size_t size)
{
	PbBudget   *budget = data;

	if (size > budget->left)
		pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_input_bytes to accept larger profiles.",
				 "decoding the pprof message needs more than %d times its size in memory",
				 PB_BUDGET_FACTOR);
	budget->left -= size;
	return pp_alloc(size ? size : 1);
}

/* protobuf-c release through pp_free. */
static void
pb_free(void *data, void *ptr)
{
	(void) data;
	if (ptr)
		pp_free(ptr);
}


/* Raise a malformed-pprof error. */
#define bad_pprof(...) pp_error(PP_ERR_BAD_PPROF, __VA_ARGS__)

/* Make an id map with room for n entries. */
static void
idmap_init(IdMap *map, size_t n)
{
	size_t		size = 16;

	while (size < n * 2)
		size *= 2;
	map->keys = pp_alloc0(pp_mul_size(size, sizeof(uint64_t)));
	map->values = pp_alloc_array(size, sizeof(uint32_t));
	map->mask = (uint32_t) (size - 1);
}

/* An id's slot hash: ids are chosen by the input, so the hash is keyed. */
static inline uint32_t
hash_id(uint64_t id)
{
	return (uint32_t) keyed_hash_u64(id);
}

/* Insert id -> value; false if the id is already present. */
static bool
idmap_insert(IdMap *map, uint64_t id, uint32_t value)
{
	uint32_t	i = hash_id(id) & map->mask;

	while (map->keys[i] != 0)
	{
		if (map->keys[i] == id)
			return false;
		i = (i + 1) & map->mask;
	}
	map->keys[i] = id;
	map->values[i] = value;
	return true;
}

/* Look an id up; CALLTREE_NONE when absent. */
static inline uint32_t
idmap_lookup(const IdMap *map, uint64_t id)
{
	uint32_t	i = hash_id(id) & map->mask;

	if (id == 0)
		return CALLTREE_NONE;
	while (map->keys[i] != 0)
	{
		if (map->keys[i] == id)
			return map->values[i];
		i = (i + 1) & map->mask;
	}
	return CALLTREE_NONE;
}

/* Sanitise every string of the string table; entry 0 must be empty. */
static void
load_strings(const Pprof__Profile *msg, StringTable *st)
{
	st->count = msg->n_string_table;
	if (st->count == 0 || msg->string_table[0].len != 0)
		bad_pprof("invalid pprof: string_table[0] must be the empty string");
	st->str = pp_alloc_array(st->count, sizeof(char *));
	st->len = pp_alloc_array(st->count, sizeof(size_t));
	for (size_t i = 0; i < st->count; i++)
	{
		const ProtobufCBinaryData *b = &msg->string_table[i];
		size_t		n;
		const char *s = utf8_sanitize((const char *) b->data, b->len, &n);

		st->str[i] = pp_strndup(s, n);
		st->len[i] = n;
		if (s != (const char *) b->data)
			pp_free((void *) s);
		if ((i & 0xfff) == 0xfff)
			pp_check_interrupts();
	}
}

/* The string at index idx, or an error naming what referenced it. */
static const char *
string_at(const StringTable *st, int64_t idx, const char *what, size_t *len)
{
	if (idx < 0 || (uint64_t) idx >= st->count)
		bad_pprof("invalid pprof: %s refers to string %" PRId64 " but the string table has %zu entries",
				  what, idx, st->count);
	if (len)
		*len = st->len[idx];
	return st->str[idx];
}

/* Trim a name as pprof's simplifyFunc does before matching drop_frames. */
static size_t
simplify_function_name(const char **name, size_t len)
{
	static const char anon[] = "(anonymous namespace)";
	static const char call_op[] = "operator()";
	const char *s = *name;
	size_t		i = 0;

	if (len > 0 && s[0] == '.')
	{
		s++;
		len--;
	}
	*name = s;
	while (i < len)
	{
		if (len - i >= sizeof(anon) - 1 && memcmp(s + i, anon, sizeof(anon) - 1) == 0)
			i += sizeof(anon) - 1;
		else if (len - i >= sizeof(call_op) - 1 &&
				 memcmp(s + i, call_op, sizeof(call_op) - 1) == 0)
			i += sizeof(call_op) - 1;
		else if (s[i] == '(')
			return i;
		else
			i++;
	}
	return len;
}

/* The label of a frame without a function name: its address. */
static uint32_t
intern_address_frame(SymbolTable *symbols, uint64_t address)
{
	char		buf[32];
	int			n;

	if (address == 0)
		n = snprintf(buf, sizeof(buf), "(unknown)");
	else
		n = snprintf(buf, sizeof(buf), "0x%" PRIx64, address);
	return symtab_intern(symbols, buf, (size_t) n, NULL, 0);
}

/* Index functions by id and check them as pprof's CheckValid does. */
static void
index_functions(const Pprof__Profile *msg, const StringTable *st, IdMap *map)
{
	idmap_init(map, msg->n_function);
	for (size_t i = 0; i < msg->n_function; i++)
	{
		const Pprof__Function *f = msg->function[i];

		if (f->id == 0)
			bad_pprof("invalid pprof: found function with reserved id 0");
		if (!idmap_insert(map, f->id, (uint32_t) i))
			bad_pprof("invalid pprof: multiple functions with id %" PRIu64, f->id);
		(void) string_at(st, f->name, "function name", NULL);
		(void) string_at(st, f->system_name, "function system_name", NULL);
		(void) string_at(st, f->filename, "function filename", NULL);
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
}

/* Check mapping ids and strings; mappings are otherwise not needed. */
static void
check_mappings(const Pprof__Profile *msg, const StringTable *st)
{
	IdMap		map;

	idmap_init(&map, msg->n_mapping);
	for (size_t i = 0; i < msg->n_mapping; i++)
	{
		const Pprof__Mapping *m = msg->mapping[i];

		if (m->id == 0)
			bad_pprof("invalid pprof: found mapping with reserved id 0");
		if (!idmap_insert(&map, m->id, (uint32_t) i))
			bad_pprof("invalid pprof: multiple mappings with id %" PRIu64, m->id);
		(void) string_at(st, m->filename, "mapping filename", NULL);
		(void) string_at(st, m->build_id, "mapping build_id", NULL);
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	pp_free(map.keys);
	pp_free(map.values);
}

/*
 * Resolve each location to its frames, root first: a location's Line[0] is
 * the innermost inlined call, so lines are taken in reverse.  With
 * drop_frames set, mark locations as pprof's Prune does: scanning from the
 * caller end, the first matching line cuts it and everything inlined into it.
 */
static void
resolve_locations(PprofFile *file, const StringTable *st, const IdMap *functions,
				  const char *drop_re, const char *keep_re, const PprofOptions *options)
{
	const Pprof__Profile *msg = file->msg;
	size_t		nloc = msg->n_location;
	size_t		total_frames = 0;
	size_t		pos = 0;

	for (size_t i = 0; i < nloc; i++)
	{
		size_t		n = msg->location[i]->n_line;

		total_frames += n ? n : 1;
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	file->frames = pp_alloc_array(total_frames ? total_frames : 1, sizeof(uint32_t));
	file->loc_frame_start = pp_alloc_array(nloc ? nloc : 1, sizeof(uint32_t));
	file->loc_frame_count = pp_alloc_array(nloc ? nloc : 1, sizeof(uint32_t));
	file->loc_prune = pp_alloc0(nloc ? nloc : 1);
	file->locations = pp_alloc(sizeof(IdMap));
	idmap_init(file->locations, nloc);

	for (size_t i = 0; i < nloc; i++)
	{
		const Pprof__Location *loc = msg->location[i];
		size_t		nline = loc->n_line;
		int			cut = -1;	/* Line index where drop_frames matched */

		if (loc->id == 0)
			bad_pprof("invalid pprof: found location with reserved id 0");
		if (!idmap_insert(file->locations, loc->id, (uint32_t) i))
			bad_pprof("invalid pprof: multiple locations with id %" PRIu64, loc->id);
		if (nline > UINT32_MAX / 2)
			bad_pprof("invalid pprof: location has too many lines");
		file->loc_frame_start[i] = (uint32_t) pos;
		if (nline == 0)
			file->frames[pos++] = intern_address_frame(&file->symbols, loc->address);
		for (size_t k = nline; k-- > 0;)
		{
			const Pprof__Line *line = loc->line[k];
			uint32_t	fi;
			const Pprof__Function *fn;
			size_t		name_len,
						file_len;
			const char *name,
					   *fname;

			if (line->function_id == 0)
				bad_pprof("invalid pprof: location %" PRIu64 " has a line with no function",
						  loc->id);
			fi = idmap_lookup(functions, line->function_id);
			if (fi == CALLTREE_NONE)
				bad_pprof("invalid pprof: location %" PRIu64 " refers to unknown function %" PRIu64,
						  loc->id, line->function_id);
			fn = msg->function[fi];
			name = string_at(st, fn->name, "function name", &name_len);
			fname = string_at(st, fn->filename, "function filename", &file_len);
			if (name_len == 0)
				file->frames[pos++] = intern_address_frame(&file->symbols, loc->address);
			else
			{
				file->frames[pos++] = symtab_intern(&file->symbols, name, name_len,
													fname, file_len);
				if (drop_re != NULL && cut < 0)
				{
					const char *simple = name;
					size_t		simple_len = simplify_function_name(&simple, name_len);

					if (options->drop_frame(options->drop_frame_arg, drop_re, keep_re,
											simple, simple_len))
						cut = (int) k;
				}
			}
		}
		file->loc_frame_count[i] = (uint32_t) (pos - file->loc_frame_start[i]);
		if (cut >= 0)
		{
			file->has_pruning = true;
			file->loc_prune[i] = PPROF_PRUNE_BENEATH;
			if ((size_t) cut == nline - 1)
				file->loc_prune[i] |= PPROF_PRUNE_WHOLE;
			else
				/* keep Line[cut+1:], the callers: the first frames, root first */
				file->loc_frame_count[i] = (uint32_t) (nline - 1 - (size_t) cut);
		}
		if ((i & 0xfff) == 0xfff)
			pp_check_interrupts();
	}
}

/* Check every sample's shape, location references and label strings. */
static void
check_samples(PprofFile *file, const StringTable *st)
{
	const Pprof__Profile *msg = file->msg;

	if (msg->n_sample_type == 0 && msg->n_sample != 0)
		bad_pprof("invalid pprof: samples present but no sample types");
	for (size_t i = 0; i < msg->n_sample; i++)
	{
		const Pprof__Sample *s = msg->sample[i];

		if (s->n_value != msg->n_sample_type)
			bad_pprof("invalid pprof: sample has %zu values but the profile has %zu sample types",
					  s->n_value, msg->n_sample_type);
		for (size_t k = 0; k < s->n_location_id; k++)
		{
			uint32_t	li = idmap_lookup(file->locations, s->location_id[k]);

			if (li == CALLTREE_NONE)
				bad_pprof("invalid pprof: sample refers to unknown location %" PRIu64,
						  s->location_id[k]);
			/* from here on the field holds the location index, not the id */
			s->location_id[k] = li;
			PP_CHECK_INTERRUPTS_EVERY(k);
		}
		for (size_t k = 0; k < s->n_label; k++)
		{
			(void) string_at(st, s->label[k]->key, "label key", NULL);
			(void) string_at(st, s->label[k]->str, "label value", NULL);
			(void) string_at(st, s->label[k]->num_unit, "label unit", NULL);
			PP_CHECK_INTERRUPTS_EVERY(k);
		}
		if ((i & 0xfff) == 0xfff)
			pp_check_interrupts();
	}
}

/* Fill the period, time and duration metadata and the sample type names. */
static void
load_header(PprofFile *file, const StringTable *st)
{
	const Pprof__Profile *msg = file->msg;
	const char *dflt;
	ProfileMeta *m = &file->meta;

	profile_meta_init(m);
	file->sample_type_count = (uint32_t) msg->n_sample_type;
	file->type_names = pp_alloc_array(msg->n_sample_type + 1, sizeof(char *));
	file->unit_names = pp_alloc_array(msg->n_sample_type + 1, sizeof(char *));
	for (size_t i = 0; i < msg->n_sample_type; i++)
	{
		file->type_names[i] = string_at(st, msg->sample_type[i]->type, "sample type", NULL);
		file->unit_names[i] = string_at(st, msg->sample_type[i]->unit, "sample unit", NULL);
		PP_CHECK_INTERRUPTS_EVERY(i);
	}
	if (msg->period_type)
	{
		m->period_type = (char *) string_at(st, msg->period_type->type, "period type", NULL);
		m->period_unit = (char *) string_at(st, msg->period_type->unit, "period unit", NULL);
	}
	(void) string_at(st, msg->drop_frames, "drop_frames", NULL);
	(void) string_at(st, msg->keep_frames, "keep_frames", NULL);
	for (size_t i = 0; i < msg->n_comment; i++)
		(void) string_at(st, msg->comment[i], "comment", NULL);
	m->period = msg->period;
	m->duration_ns = msg->duration_nanos;
	m->start_ns = msg->time_nanos;
	m->end_ns = msg->time_nanos == 0 ? 0 : pp_add_int64(msg->time_nanos,
														msg->duration_nanos > 0 ? msg->duration_nanos : 0);
	m->profile_count = 1;

	/* pprof's rule: default_sample_type if it names a type, else the last. */
	file->default_type = (int) msg->n_sample_type - 1;
	dflt = string_at(st, msg->default_sample_type, "default_sample_type", NULL);
	if (dflt[0] != '\0')
		for (size_t i = 0; i < msg->n_sample_type; i++)
			if (strcmp(file->type_names[i], dflt) == 0)
			{
				file->default_type = (int) i;
				break;
			}
}

/* Inflate if gzip, unpack, validate and resolve locations. */
PprofFile *
pprof_open(const uint8_t *data, size_t len, const PprofOptions *options)
{
	PprofFile  *file = pp_alloc0(sizeof(PprofFile));
	StringTable st;
	IdMap		functions;
	const char *drop_re = NULL;
	const char *keep_re = NULL;
	PbBudget	budget;
	ProtobufCAllocator allocator = {pb_alloc, pb_free, &budget};

	if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b)
		data = gunzip(data, len, options->max_input_bytes, &len);
	else if (len > options->max_input_bytes)
		pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_input_bytes to accept larger profiles.",
				 "pprof input of %zu bytes exceeds pg_pprof.max_input_bytes (%zu bytes)",
				 len, options->max_input_bytes);
	if (len == 0)
		bad_pprof("invalid pprof: empty input");

	budget.left = PB_BUDGET_EXTRA + pp_mul_size(len, PB_BUDGET_FACTOR);
	file->msg = pprof__profile__unpack(&allocator, len, data);
	if (file->msg == NULL)
		bad_pprof("invalid pprof: not a pprof protobuf message, or truncated");
	pp_check_interrupts();

	load_strings(file->msg, &st);
	load_header(file, &st);
	symtab_init(&file->symbols);
	index_functions(file->msg, &st, &functions);
	check_mappings(file->msg, &st);
	if (file->msg->drop_frames != 0 && options->drop_frame != NULL)
	{
		drop_re = string_at(&st, file->msg->drop_frames, "drop_frames", NULL);
		if (file->msg->keep_frames != 0)
			keep_re = string_at(&st, file->msg->keep_frames, "keep_frames", NULL);
	}
	resolve_locations(file, &st, &functions, drop_re, keep_re, options);
	check_samples(file, &st);

	file->max_stack_depth = options->max_stack_depth;
	file->stack_capacity = 256;
	file->stack = pp_alloc_array(file->stack_capacity, sizeof(uint32_t));
	return file;
}

/* Index of a sample type by decimal index or name, or the default for NULL. */
int
pprof_find_sample_type(const PprofFile *file, const char *name)
{
	ByteBuf		list;
	const char *no_inuse;
	char	   *end;
	long		idx;

	if (file->sample_type_count == 0)
		pp_error(PP_ERR_BAD_ARGUMENT, "profile has no sample types");
	if (name == NULL)
		return file->default_type;
	idx = strtol(name, &end, 10);
	if (name[0] != '\0' && *end == '\0' && idx >= 0 && idx < (long) file->sample_type_count)
		return (int) idx;
	/* pprof also accepts "inuse_space" for a type named "space". */
	no_inuse = strncmp(name, "inuse_", 6) == 0 ? name + 6 : name;
	for (uint32_t i = 0; i < file->sample_type_count; i++)
		if (strcmp(file->type_names[i], name) == 0 || strcmp(file->type_names[i], no_inuse) == 0)
			return (int) i;

	bytebuf_init(&list, 128);
	bytebuf_append(&list, "Available sample types: ", 24);
	for (uint32_t i = 0; i < file->sample_type_count; i++)
	{
		if (i > 0)
			bytebuf_append(&list, ", ", 2);
		bytebuf_append(&list, file->type_names[i], strlen(file->type_names[i]));
		bytebuf_append(&list, "/", 1);
		bytebuf_append(&list, file->unit_names[i], strlen(file->unit_names[i]));
	}
	bytebuf_append(&list, ".", 2);	/* with the NUL */
	pp_error_ext(PP_ERR_BAD_ARGUMENT, (const char *) list.data, NULL,
			 "sample type \"%s\" not found in profile", name);
}

/*
 * The root-first frames of sample i, with drop_frames applied as pprof's
 * Prune does: scanning from the root, frames before the first unmatched
 * ("user") location are never cut; at the first matched location after it
 * the stack ends (the location itself is kept if only frames inlined into
 * it matched).  Returns the depth; frames are in file->stack.
 */
uint32_t
pprof_sample_stack(PprofFile *file, const Pprof__Sample *s)
{
	size_t		n = s->n_location_id;
	size_t		leaf_end = 0;	/* locations [leaf_end, n) are kept */
	bool		found_user = false;
	uint32_t	depth = 0;

	for (size_t i = file->has_pruning ? n : 0; i-- > 0;)
	{
		uint8_t		flags = file->loc_prune[s->location_id[i]];

		if (flags == 0)
		{
			found_user = true;
			continue;
		}
		if (!found_user)
			continue;
		leaf_end = (flags & PPROF_PRUNE_WHOLE) ? i + 1 : i;
		break;
	}
	for (size_t i = n; i-- > leaf_end;)
	{
		uint32_t	li = (uint32_t) s->location_id[i];	/* resolved by check_samples */
		uint32_t	count = file->loc_frame_count[li];

		if ((uint64_t) depth + count > file->max_stack_depth)
			pp_error_ext(PP_ERR_LIMIT, NULL, "Raise pg_pprof.max_stack_depth to accept deeper stacks.",
					 "stack of more than %u frames exceeds pg_pprof.max_stack_depth",
					 file->max_stack_depth);
		if (depth + count > file->stack_capacity)
		{
			while (depth + count > file->stack_capacity)
				file->stack_capacity *= 2;
			file->stack = pp_realloc(file->stack,
									 pp_mul_size(file->stack_capacity, sizeof(uint32_t)));
		}
		memcpy(file->stack + depth, file->frames + file->loc_frame_start[li],
			   sizeof(uint32_t) * count);
		depth += count;
	}
	return depth;
}

/* The metadata of one sample type of the file. */
ProfileMeta
pprof_type_meta(const PprofFile *file, int type_index)
{
	ProfileMeta meta = file->meta;

	meta.sample_type = (char *) file->type_names[type_index];
	meta.sample_unit = (char *) file->unit_names[type_index];
	return meta;
}

/*
 * A guess at the node count of a tree, to size it once: the number of
 * location references, capped so hostile counts cannot reserve much.
 */
uint32_t
pprof_estimate_nodes(const PprofFile *file)
{
	size_t		refs = 0;

	for (size_t i = 0; i < file->msg->n_sample && refs < (1 << 20); i++)
		refs += file->msg->sample[i]->n_location_id;
	return refs < (1 << 20) ? (uint32_t) refs : (1 << 20);
}

/* Build the call tree of one sample type. */
CallTree *
pprof_build_tree(PprofFile *file, int type_index)
{
	const Pprof__Profile *msg = file->msg;
	CallTree   *tree = calltree_create(&file->symbols);

	tree->meta = pprof_type_meta(file, type_index);
	calltree_reserve(tree, pprof_estimate_nodes(file));
	for (size_t i = 0; i < msg->n_sample; i++)
	{
		const Pprof__Sample *s = msg->sample[i];
		int64_t		v = s->value[type_index];
		uint32_t	depth;

		if (v == 0)
			continue;
		depth = pprof_sample_stack(file, s);
		calltree_add_stack(tree, file->stack, depth, v);
		if ((i & 0x3ff) == 0x3ff)
			pp_check_interrupts();
	}
	return tree;
}

/* Pyroscope's default display names of Go's sample types (its DefaultSampleTypeMapping). */
static const char *
default_display_name(void *arg, const char *type)
{
	static const char *const names[][2] = {
		{"samples", "cpu"}, {"goroutine", "goroutines"},
		{"contentions", "mutex_count"}, {"delay", "mutex_duration"},
	};

	(void) arg;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(type, names[i][0]) == 0)
			return names[i][1];
	return NULL;
}

/* What Pyroscope calls the profile (see pprof_decode.h). */
const char *
pprof_profile_name(const PprofFile *file, PprofDisplayNameFn display_name, void *arg)
{
	const char *st = "";

	if (display_name == NULL)
		display_name = default_display_name;
	for (uint32_t i = 0; i < file->sample_type_count; i++)
		if (strcmp(file->type_names[i], "wall") == 0)
			return "wall";
	for (uint32_t i = 0; i < file->sample_type_count; i++)
	{
		const char *shown = display_name(arg, file->type_names[i]);

		st = shown && shown[0] ? shown : file->type_names[i];
		if (strstr(st, "cpu"))
			return "process_cpu";
		if (strstr(st, "alloc_") || strstr(st, "inuse_") || strcmp(st, "space") == 0 ||
			strcmp(st, "objects") == 0)
			return "memory";
		if (strstr(st, "mutex_"))
			return "mutex";
		if (strstr(st, "block_"))
			return "block";
		if (strstr(st, "goroutines"))
			return "goroutines";
	}
	/* as Pyroscope: the last sample type's (display) name */
	return st;
}
