/*
 * sql_export.c
 *	  SQL entry points for interchange: profile_to_pprof(),
 *	  profile_from_folded() and profile_to_folded().
 */
#include "sql_module.h"
#include "export_folded.h"
#include "export_pprof.h"
#include "utf8_text.h"

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
	PPBudget	budget = pg_pprof_output_budget("the pprof export");

	MemoryContextSwitchTo(work);
	profile_view_from_datum(PG_GETARG_DATUM(0), &view);
	bytes = pprof_encode(&view, &budget, &len);
	MemoryContextSwitchTo(caller);
	result = bytea_from_bytes(bytes, len);
	MemoryContextDelete(work);
	PG_RETURN_BYTEA_P(result);
}

/*
 * A text argument as UTF-8 without NUL, invalid bytes replaced (a database
 * in SQL_ASCII accepts any bytes; what is stored must read back).
 */
static char *
utf8_text_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *t = PG_GETARG_TEXT_PP(argno);
	size_t		len;
	const char *clean = utf8_sanitize(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), &len);

	return pnstrdup(clean, len);
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
	tree->meta.sample_type = PG_ARGISNULL(1) ? "samples" : utf8_text_arg(fcinfo, 1);
	tree->meta.sample_unit = PG_ARGISNULL(2) ? "count" : utf8_text_arg(fcinfo, 2);
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
	PPBudget	budget = pg_pprof_output_budget("the folded text");

	MemoryContextSwitchTo(work);
	profile_view_from_datum(PG_GETARG_DATUM(0), &view);
	folded = folded_encode(&view, &budget, &len);
	MemoryContextSwitchTo(caller);
	result = text_from_bytes(folded, len);
	MemoryContextDelete(work);
	PG_RETURN_TEXT_P(result);
}
