/*
 * sql_export.c
 *	  SQL entry points for interchange: profile_to_pprof(),
 *	  profile_from_folded() and profile_to_folded().
 */
#include "sql_module.h"
#include "export_folded.h"
#include "export_pprof.h"

#include "utils/builtins.h"
#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(profile_to_pprof);
PG_FUNCTION_INFO_V1(profile_from_folded);
PG_FUNCTION_INFO_V1(profile_to_folded);

/* profile_to_pprof(p): a gzip pprof that go tool pprof reads. */
Datum
profile_to_pprof(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work = AllocSetContextCreate(caller, "profile_to_pprof", ALLOCSET_DEFAULT_SIZES);
	ProfileView view;
	uint8_t    *bytes;
	size_t		len;
	bytea	   *result;

	MemoryContextSwitchTo(work);
	profile_view_from_datum(PG_GETARG_DATUM(0), &view);
	bytes = pprof_encode(&view, &len);
	MemoryContextSwitchTo(caller);
	result = bytea_from_bytes(bytes, len);
	MemoryContextDelete(work);
	PG_RETURN_BYTEA_P(result);
}

/* profile_from_folded(data, sample_type, unit): parse folded stacks. */
Datum
profile_from_folded(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	text	   *data;
	SymbolTable *symbols;
	CallTree   *tree;
	bytea	   *result;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	data = PG_GETARG_TEXT_PP(0);
	work = AllocSetContextCreate(caller, "profile_from_folded", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	symbols = palloc(sizeof(SymbolTable));
	symtab_init(symbols);
	tree = folded_decode(VARDATA_ANY(data), VARSIZE_ANY_EXHDR(data), symbols,
						 (uint32_t) pg_pprof_max_stack_depth);
	tree->meta.sample_type = PG_ARGISNULL(1) ? "samples" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	tree->meta.sample_unit = PG_ARGISNULL(2) ? "count" : text_to_cstring(PG_GETARG_TEXT_PP(2));
	tree->meta.profile_count = 1;
	result = profile_datum_from_tree(tree, caller);
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	PG_RETURN_BYTEA_P(result);
}

/* profile_to_folded(p): one sorted line per distinct stack. */
Datum
profile_to_folded(PG_FUNCTION_ARGS)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work = AllocSetContextCreate(caller, "profile_to_folded", ALLOCSET_DEFAULT_SIZES);
	ProfileView view;
	char	   *folded;
	size_t		len;
	text	   *result;

	MemoryContextSwitchTo(work);
	profile_view_from_datum(PG_GETARG_DATUM(0), &view);
	folded = folded_encode(&view, &len);
	MemoryContextSwitchTo(caller);
	result = cstring_to_text_with_len(folded, (int) len);
	MemoryContextDelete(work);
	PG_RETURN_TEXT_P(result);
}
