/*
 * sql_ingest.c
 *	  SQL entry points that turn pprof bytes into `profile` values:
 *	  profile_from_pprof() and pprof_split().
 */
#include "sql_module.h"
#include "pprof_split.h"

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/array.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(profile_from_pprof);
PG_FUNCTION_INFO_V1(pprof_split);

/* Decode a pprof bytea with the current settings. */
static PprofFile *
open_pprof_arg(bytea *data)
{
	PprofOptions options = pg_pprof_options();

	return pprof_open((const uint8_t *) VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), &options);
}

/*
 * profile_from_pprof(data bytea, sample_type text DEFAULT NULL): one sample
 * type of a pprof file (pprof's default type when NULL).
 */
Datum
profile_from_pprof(PG_FUNCTION_ARGS)
{
	MemoryContext work;
	MemoryContext caller = CurrentMemoryContext;
	char	   *type_name = NULL;
	bytea	   *result;
	PprofFile  *file;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (!PG_ARGISNULL(1))
		type_name = text_to_cstring(PG_GETARG_TEXT_PP(1));

	work = AllocSetContextCreate(caller, "pg_pprof ingest", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	file = open_pprof_arg(PG_GETARG_BYTEA_PP(0));
	result = profile_datum_from_tree(pprof_build_tree(file, pprof_find_sample_type(file, type_name)),
									 caller);
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	PG_RETURN_BYTEA_P(result);
}

/* The distinct non-NULL strings of a text[] argument. */
static const char **
label_keys_arg(ArrayType *array, int *count)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	const char **keys;
	int			kept = 0;

	deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	keys = palloc(sizeof(char *) * (n + 1));
	for (int i = 0; i < n; i++)
	{
		char	   *key;
		bool		seen = false;

		if (nulls[i])
			continue;
		key = TextDatumGetCString(elems[i]);
		for (int k = 0; k < kept; k++)
			seen |= strcmp(keys[k], key) == 0;
		if (!seen)
			keys[kept++] = key;
	}
	*count = kept;
	return keys;
}

/*
 * pprof_split(data bytea, label_keys text[] DEFAULT '{}'): one row per
 * sample type and per distinct combination of the named labels.
 */
Datum
pprof_split(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	PprofFile  *file;
	PprofGroup *groups;
	uint32		group_count;
	const char **keys;
	int			key_count;

	InitMaterializedSRF(fcinfo, 0);
	keys = label_keys_arg(PG_GETARG_ARRAYTYPE_P(1), &key_count);

	work = AllocSetContextCreate(caller, "pg_pprof split", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	file = open_pprof_arg(PG_GETARG_BYTEA_PP(0));
	groups = pprof_build_groups(file, keys, key_count, &group_count);

	for (uint32 t = 0; t < file->sample_type_count; t++)
	{
		for (uint32 g = 0; g < group_count; g++)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			values[0] = CStringGetTextDatum(file->type_names[t]);
			values[1] = CStringGetTextDatum(file->unit_names[t]);
			values[2] = DirectFunctionCall1(jsonb_in, CStringGetDatum(groups[g].labels_json));
			values[3] = PointerGetDatum(profile_datum_from_tree(groups[g].trees[t], work));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			CHECK_FOR_INTERRUPTS();
		}
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return (Datum) 0;
}
