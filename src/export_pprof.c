/*
 * export_pprof.c
 *	  Decoded profile -> gzip-compressed pprof (the export path).
 *
 * The tree becomes one function and one location (no address) per function
 * name, all in one mapping marked as symbolized, and one sample per node with a non-zero self value,
 * its location ids leaf first.  Everything is written in the stored
 * profile's canonical order, so the same profile gives the same bytes.
 */
#include "export_pprof.h"
#include "bytebuf.h"
#include "gzip_io.h"
#include "profile.pb-c.h"

#include <string.h>

/* Strings of the exported string table, added in a fixed order. */
typedef struct ExportStrings
{
	ProtobufCBinaryData *items;
	size_t		count;
	size_t		capacity;
} ExportStrings;

/* Append a string to the table and return its index. */
static int64_t
add_string(ExportStrings *st, const char *s, size_t len)
{
	if (st->count == st->capacity)
	{
		st->capacity *= 2;
		st->items = pp_realloc(st->items, pp_mul_size(st->capacity, sizeof(ProtobufCBinaryData)));
	}
	st->items[st->count].data = (uint8_t *) s;
	st->items[st->count].len = len;
	return (int64_t) st->count++;
}

/* A new ValueType of two strings. */
static Pprof__ValueType *
value_type(ExportStrings *st, const char *type, const char *unit)
{
	Pprof__ValueType *vt = pp_alloc(sizeof(Pprof__ValueType));

	pprof__value_type__init(vt);
	vt->type = add_string(st, type, strlen(type));
	vt->unit = add_string(st, unit, strlen(unit));
	return vt;
}

/* What one function (with its location and line) costs in the message. */
#define FUNCTION_COST (sizeof(Pprof__Function) + sizeof(Pprof__Location) + \
					   sizeof(Pprof__Line) + 4 * sizeof(void *) + 32)
/* What one sample costs besides its location ids. */
#define SAMPLE_COST (sizeof(Pprof__Sample) + sizeof(int64_t) + sizeof(void *) + 16)

/* A gzip-compressed pprof of a decoded profile. */
uint8_t *
pprof_encode(const ProfileView *view, PPBudget *budget, size_t *out_len)
{
	Pprof__Profile msg;
	ExportStrings st;
	uint32_t	nsym = view->symbol_count;
	uint32_t   *path = pp_alloc_array((size_t) view->node_count + 1, sizeof(uint32_t));
	int64_t    *file_string = pp_alloc_array(view->file_count + 1, sizeof(int64_t));
	size_t		nsamples = 0;
	size_t		packed_len;
	uint8_t    *packed;
	uint8_t    *result;

	pprof__profile__init(&msg);
	st.capacity = 64;
	st.count = 0;
	st.items = pp_alloc_array(st.capacity, sizeof(ProtobufCBinaryData));
	add_string(&st, "", 0);

	msg.n_sample_type = 1;
	msg.sample_type = pp_alloc(sizeof(Pprof__ValueType *));
	msg.sample_type[0] = value_type(&st, view->meta.sample_type, view->meta.sample_unit);
	if (view->meta.period_type[0] != '\0' || view->meta.period_unit[0] != '\0')
		msg.period_type = value_type(&st, view->meta.period_type, view->meta.period_unit);
	msg.period = view->meta.period;
	msg.time_nanos = view->meta.start_ns;
	msg.duration_nanos = view->meta.duration_ns;

	/*
	 * One mapping that says the locations are symbolized already, so that
	 * go tool pprof does not try (and warn about a missing binary).
	 */
	msg.n_mapping = 1;
	msg.mapping = pp_alloc(sizeof(Pprof__Mapping *));
	msg.mapping[0] = pp_alloc(sizeof(Pprof__Mapping));
	pprof__mapping__init(msg.mapping[0]);
	msg.mapping[0]->id = 1;
	msg.mapping[0]->has_functions = true;
	msg.mapping[0]->has_filenames = view->file_count > 0;

	/* Files, then one function and one location per function name. */
	file_string[0] = 0;
	for (uint32_t f = 0; f < view->file_count; f++)
		file_string[f + 1] = add_string(&st, view->files[f].data, view->files[f].len);
	pp_budget_charge(budget, pp_mul_size(nsym + (size_t) view->file_count + 2, FUNCTION_COST));
	msg.n_function = nsym;
	msg.function = pp_alloc_array(nsym + 1, sizeof(Pprof__Function *));
	msg.n_location = nsym;
	msg.location = pp_alloc_array(nsym + 1, sizeof(Pprof__Location *));
	for (uint32_t s = 0; s < nsym; s++)
	{
		Pprof__Function *fn = pp_alloc(sizeof(Pprof__Function));
		Pprof__Location *loc = pp_alloc(sizeof(Pprof__Location));
		Pprof__Line *line = pp_alloc(sizeof(Pprof__Line));

		pprof__function__init(fn);
		fn->id = s + 1;
		fn->name = add_string(&st, view->symbols[s].data, view->symbols[s].len);
		fn->system_name = fn->name;
		fn->filename = file_string[view->symbol_file[s]];
		msg.function[s] = fn;

		pprof__line__init(line);
		line->function_id = s + 1;
		pprof__location__init(loc);
		loc->id = s + 1;
		loc->mapping_id = 1;
		loc->n_line = 1;
		loc->line = pp_alloc(sizeof(Pprof__Line *));
		loc->line[0] = line;
		msg.location[s] = loc;
	}

	/* One sample per node with a self value, locations leaf first. */
	for (uint32_t i = 0; i < view->node_count; i++)
		nsamples += view->node_self[i] != 0;
	nsamples += view->root_self != 0;
	msg.sample = pp_alloc_array(nsamples + 1, sizeof(Pprof__Sample *));
	msg.n_sample = 0;
	if (view->root_self != 0)
	{
		Pprof__Sample *sample = pp_alloc(sizeof(Pprof__Sample));

		pprof__sample__init(sample);
		sample->n_value = 1;
		sample->value = pp_alloc(sizeof(int64_t));
		sample->value[0] = view->root_self;
		msg.sample[msg.n_sample++] = sample;
	}
	for (uint32_t i = 0; i < view->node_count; i++)
	{
		uint32_t	depth = view->node_depth[i];
		Pprof__Sample *sample;

		path[depth - 1] = view->node_symbol[i];
		if (view->node_self[i] == 0)
			continue;
		/* a sample lists its whole path: a deep tree repeats its paths */
		pp_budget_charge(budget, SAMPLE_COST + pp_mul_size(depth, sizeof(uint64_t) + 2));
		sample = pp_alloc(sizeof(Pprof__Sample));
		pprof__sample__init(sample);
		sample->n_value = 1;
		sample->value = pp_alloc(sizeof(int64_t));
		sample->value[0] = view->node_self[i];
		sample->n_location_id = depth;
		sample->location_id = pp_alloc_array(depth, sizeof(uint64_t));
		for (uint32_t d = 0; d < depth; d++)
			sample->location_id[d] = (uint64_t) path[depth - 1 - d] + 1;
		msg.sample[msg.n_sample++] = sample;
		pp_check_interrupts();	/* a sample repeats its whole path */
	}

	msg.n_string_table = st.count;
	msg.string_table = st.items;
	packed_len = pprof__profile__get_packed_size(&msg);
	pp_budget_charge(budget, packed_len);
	packed = pp_alloc(packed_len ? packed_len : 1);
	if (pprof__profile__pack(&msg, packed) != packed_len)
		pp_error(PP_ERR_INTERNAL, "pprof packing gave an unexpected size");
	result = gzip_bytes(packed, packed_len, budget, out_len);
	pp_free(packed);
	pp_free(path);
	return result;
}
