/*
 * sql_ingest.c
 *	  SQL entry points that turn pprof bytes into `profile` values:
 *	  profile_from_pprof(), pprof_split(), and pprof_ingest(), which splits
 *	  and inserts into a table in one call (the collector's way in).
 */
#include "sql_module.h"
#include "pprof_split.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/array.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

PG_FUNCTION_INFO_V1(profile_from_pprof);
PG_FUNCTION_INFO_V1(pprof_split);
PG_FUNCTION_INFO_V1(pprof_ingest);

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

/* The non-NULL strings of a text[] argument (the core drops repeats). */
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
		if (!nulls[i])
			keys[kept++] = TextDatumGetCString(elems[i]);
		if ((i & 0xfff) == 0xfff)
			CHECK_FOR_INTERRUPTS();
	}
	*count = kept;
	return keys;
}

/* Receives one row of a split: sample type t of a group, its labels and profile. */
typedef void (*SplitRowFn) (void *arg, const PprofFile *file, uint32 t, Datum labels,
							bytea *profile);

/*
 * Decode data, split it by the label keys and hand every row to emit: for
 * each sample type, each group in order of first appearance.  Each row's
 * tree and value are built in a context of their own, reset after emit, so
 * memory holds the groups and one row; the groups and every row are charged
 * to one pg_pprof.max_output_bytes budget.
 */
static void
for_each_split_row(bytea *data, const char **keys, int key_count, SplitRowFn emit, void *arg)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work = AllocSetContextCreate(caller, "pg_pprof split", ALLOCSET_DEFAULT_SIZES);
	MemoryContext row = AllocSetContextCreate(work, "pg_pprof split row", ALLOCSET_DEFAULT_SIZES);
	PPBudget	budget = pg_pprof_output_budget("pprof_split's groups and rows");
	PprofFile  *file;
	PprofSplit *split;
	uint32		groups;

	MemoryContextSwitchTo(work);
	file = open_pprof_arg(data);
	split = pprof_split_build(file, keys, key_count, &budget);
	groups = pprof_split_group_count(split);
	for (uint32 t = 0; t < file->sample_type_count; t++)
	{
		for (uint32 g = 0; g < groups; g++)
		{
			const char *labels = pprof_split_labels(split, g);
			bytea	   *profile;

			MemoryContextSwitchTo(row);
			profile = profile_datum_from_tree(pprof_split_tree(split, g, t), row);
			pp_budget_charge(&budget, VARSIZE(profile) + strlen(labels) + 64);
			emit(arg, file, t, DirectFunctionCall1(jsonb_in, CStringGetDatum(labels)), profile);
			MemoryContextSwitchTo(work);
			MemoryContextReset(row);
			CHECK_FOR_INTERRUPTS();
		}
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
}

/* pprof_split's row: into the result set. */
static void
put_split_row(void *arg, const PprofFile *file, uint32 t, Datum labels, bytea *profile)
{
	ReturnSetInfo *rsinfo = arg;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(file->type_names[t]);
	values[1] = CStringGetTextDatum(file->unit_names[t]);
	values[2] = labels;
	values[3] = PointerGetDatum(profile);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * pprof_split(data bytea, label_keys text[] DEFAULT '{}'): one row per
 * sample type and per distinct combination of the named labels.
 */
Datum
pprof_split(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const char **keys;
	int			key_count;

	InitMaterializedSRF(fcinfo, 0);
	keys = label_keys_arg(PG_GETARG_ARRAYTYPE_P(1), &key_count);
	for_each_split_row(PG_GETARG_BYTEA_PP(0), keys, key_count, put_split_row, rsinfo);
	return (Datum) 0;
}

/* The schema pg_pprof is installed in: that of the running function. */
static Oid
extension_schema(FunctionCallInfo fcinfo)
{
	return get_func_namespace(fcinfo->flinfo->fn_oid);
}

/* Raise 22004 for a NULL argument that must not be NULL. */
static void
require_arg(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR, (errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						errmsg("%s must not be NULL", name)));
}

/*
 * Record request_id in pprof_ingest_requests; false if it was there already
 * (the request was stored before, by this or a concurrent transaction, so
 * this call is a no-op).  A concurrent insert of the same id waits for the
 * other transaction and then sees the conflict.
 */
static bool
claim_request(FunctionCallInfo fcinfo, Datum request_id)
{
	char	   *sql = psprintf("INSERT INTO %s.pprof_ingest_requests (request_id) VALUES ($1) "
							   "ON CONFLICT (request_id) DO NOTHING",
							   quote_identifier(get_namespace_name(extension_schema(fcinfo))));
	Oid			types[1] = {UUIDOID};
	Datum		values[1] = {request_id};

	if (SPI_execute_with_args(sql, 1, types, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "pprof_ingest: recording the request id failed");
	return SPI_processed == 1;
}

/*
 * The INSERT of one row into target, with parameters for every value: the
 * caller's text never becomes SQL, and the table name is quoted.
 */
static SPIPlanPtr
prepare_row_insert(FunctionCallInfo fcinfo, Oid target, bool with_tenant)
{
	Oid			profile_type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											   CStringGetDatum("profile"),
											   ObjectIdGetDatum(extension_schema(fcinfo)));
	Oid			types[8] = {TIMESTAMPTZOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, JSONBOID,
		profile_type, TEXTOID};
	char	   *relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(target)),
													 get_rel_name(target));
	char	   *sql = psprintf("INSERT INTO %s (time, service, name, sample_type, unit, labels, "
							   "profile%s) VALUES ($1, $2, $3, $4, $5, $6, $7%s)",
							   relname, with_tenant ? ", tenant" : "", with_tenant ? ", $8" : "");
	SPIPlanPtr	plan = SPI_prepare(sql, with_tenant ? 8 : 7, types);

	if (plan == NULL)
		ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						errmsg("cannot insert into %s: %s", relname,
							   SPI_result_code_string(SPI_result)),
						errhint("The table needs the columns time, service, name, sample_type, unit, labels and profile%s.",
								with_tenant ? ", and tenant" : "")));
	return plan;
}

/*
 * The row time: the profile's own time_nanos, or at when that is unknown or
 * in 1970 (old pyspy, rbspy and pyroscope-rs send microseconds), as
 * Pyroscope replaces it.
 */
static TimestampTz
row_time(const PprofFile *file, TimestampTz at)
{
	const int64 year_1971_ns = INT64CONST(31536000) * 1000000000;
	int64		ns = file->meta.start_ns;

	if (ns < year_1971_ns)
		return at;
	return (TimestampTz) (ns / 1000) -
		((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY);
}

/* What pprof_ingest's rows share, and where they go. */
typedef struct IngestRows
{
	FunctionCallInfo fcinfo;
	SPIPlanPtr	plan;
	Jsonb	   *caller_labels;	/* or NULL */
	TimestampTz at;
	bool		with_tenant;
	bool		named;			/* name derived or taken: once per file */
	text	   *name;
	TimestampTz time;
	int64		rows;
} IngestRows;

/* pprof_ingest's row: one INSERT into the target. */
static void
insert_split_row(void *arg, const PprofFile *file, uint32 t, Datum labels, bytea *profile)
{
	IngestRows *ir = arg;
	FunctionCallInfo fcinfo = ir->fcinfo;
	Datum		values[8];

	if (!ir->named)
	{
		MemoryContext old = MemoryContextSwitchTo(fcinfo->flinfo->fn_mcxt);

		ir->name = PG_ARGISNULL(3) ? cstring_to_text(pprof_profile_name(file, NULL, NULL))
			: PG_GETARG_TEXT_P_COPY(3);
		MemoryContextSwitchTo(old);
		ir->time = row_time(file, ir->at);
		ir->named = true;
	}
	if (ir->caller_labels)
		labels = DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(ir->caller_labels), labels);
	values[0] = TimestampTzGetDatum(ir->time);
	values[1] = PG_GETARG_DATUM(2);
	values[2] = PointerGetDatum(ir->name);
	values[3] = CStringGetTextDatum(file->type_names[t]);
	values[4] = CStringGetTextDatum(file->unit_names[t]);
	values[5] = labels;
	values[6] = PointerGetDatum(profile);
	values[7] = ir->with_tenant ? PG_GETARG_DATUM(7) : (Datum) 0;
	if (SPI_execute_plan(ir->plan, values, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "pprof_ingest: insert failed");
	ir->rows += SPI_processed;
}

/*
 * pprof_ingest(target, data, service, name, labels, at, label_keys, tenant,
 * request_id): split data as pprof_split does and insert one row per sample
 * type and label combination into target; returns the number of rows.
 * labels are the caller's labels with the selected pprof sample labels
 * merged in (the sample labels win on a shared key, as in Pyroscope, where
 * they split a series further); a NULL name is derived as Pyroscope derives
 * it; a repeated request_id makes the call a no-op that returns 0.
 */
Datum
pprof_ingest(PG_FUNCTION_ARGS)
{
	IngestRows	ir;
	const char **keys = NULL;
	int			key_count = 0;

	require_arg(fcinfo, 0, "target");
	require_arg(fcinfo, 1, "data");
	require_arg(fcinfo, 2, "service");
	memset(&ir, 0, sizeof(ir));
	ir.fcinfo = fcinfo;
	ir.with_tenant = !PG_ARGISNULL(7);
	ir.caller_labels = PG_ARGISNULL(4) ? NULL : PG_GETARG_JSONB_P(4);
	ir.at = PG_ARGISNULL(5) ? GetCurrentTransactionStartTimestamp() : PG_GETARG_TIMESTAMPTZ(5);
	if (!PG_ARGISNULL(6))
		keys = label_keys_arg(PG_GETARG_ARRAYTYPE_P(6), &key_count);

	SPI_connect();
	if (!PG_ARGISNULL(8) && !claim_request(fcinfo, PG_GETARG_DATUM(8)))
	{
		SPI_finish();
		PG_RETURN_INT32(0);
	}
	ir.plan = prepare_row_insert(fcinfo, PG_GETARG_OID(0), ir.with_tenant);
	for_each_split_row(PG_GETARG_BYTEA_PP(1), keys, key_count, insert_split_row, &ir);
	SPI_finish();
	PG_RETURN_INT32((int32) Min(ir.rows, PG_INT32_MAX));
}
