/*
 * sql_merge.c
 *	  SQL merging: the profile_merge aggregate (parallel and partial
 *	  aggregation capable), profile_merge(a, b) and the + operator.
 *
 * The aggregate state is a call tree in the aggregate memory context.  Each
 * input is decoded in a scratch context that is reset after the row, so
 * memory grows with the merged tree, not with the number of inputs.  The
 * serialized state is the stored profile format, validated when read back,
 * so partial states can travel between processes and nodes.
 */
#include "sql_module.h"
#include "profile_merge.h"

#include "utils/memutils.h"

PG_FUNCTION_INFO_V1(profile_merge_transfn);
PG_FUNCTION_INFO_V1(profile_merge_combinefn);
PG_FUNCTION_INFO_V1(profile_merge_serialfn);
PG_FUNCTION_INFO_V1(profile_merge_deserialfn);
PG_FUNCTION_INFO_V1(profile_merge_finalfn);
PG_FUNCTION_INFO_V1(profile_merge_pair);

/* The aggregate's working state. */
typedef struct MergeState
{
	MemoryContext context;		/* where the merge lives */
	MemoryContext scratch;		/* per-input detoasting, reset after each row */
	ProfileMerger merger;
} MergeState;

/* Check a state's tree where it crosses a state boundary (assertion builds). */
static inline void
AssertCheckMergeState(const MergeState *state)
{
#ifdef USE_ASSERT_CHECKING
	profile_merger_check(&state->merger);
#endif
	(void) state;
}

/* A new, empty state in context. */
static MergeState *
merge_state_create(MemoryContext context)
{
	MemoryContext old = MemoryContextSwitchTo(context);
	MergeState *state = palloc0(sizeof(MergeState));

	state->context = context;
	state->scratch = AllocSetContextCreate(context, "profile_merge scratch",
										   ALLOCSET_DEFAULT_SIZES);
	profile_merger_init(&state->merger);
	MemoryContextSwitchTo(old);
	return state;
}

/*
 * Fold one stored profile datum into the state.  The value is detoasted in
 * the scratch context (a packed value without its timeline) and decoded
 * straight into the tree, with no per-node arrays; what decoding allocates
 * besides the tree is freed at once.
 */
static void
merge_state_add_datum(MergeState *state, Datum datum)
{
	MemoryContext old = MemoryContextSwitchTo(state->scratch);
	bytea	   *value = profile_detoast_merge(datum);
	ProfileLimits limits = pg_pprof_limits();

	MemoryContextSwitchTo(state->context);
	profile_merger_add_stored(&state->merger, (const uint8_t *) VARDATA(value),
							  VARSIZE(value) - VARHDRSZ, &limits);
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->scratch);
	AssertCheckMergeState(state);
}

/* Fold another state's tree into the state. */
static void
merge_state_add_state(MergeState *state, const MergeState *other)
{
	MemoryContext old = MemoryContextSwitchTo(state->context);

	AssertCheckMergeState(other);
	profile_merger_add_merger(&state->merger, &other->merger);
	MemoryContextSwitchTo(old);
	AssertCheckMergeState(state);
}

/* The merged profile of a state, as a `profile` datum in the current context. */
static bytea *
merge_state_result(const MergeState *state)
{
	AssertCheckMergeState(state);
	return profile_datum_from_tree(state->merger.tree, CurrentMemoryContext);
}

/* Transition: fold one profile (NULLs are skipped). */
Datum
profile_merge_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg_pprof_aggregate_context(fcinfo, "profile_merge");
	MergeState *state = PG_ARGISNULL(0) ? NULL : (MergeState *) PG_GETARG_POINTER(0);

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = merge_state_create(context);
	merge_state_add_datum(state, PG_GETARG_DATUM(1));
	PG_RETURN_POINTER(state);
}

/* Combine two partial states (either may be NULL). */
Datum
profile_merge_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg_pprof_aggregate_context(fcinfo, "profile_merge");
	MergeState *a = PG_ARGISNULL(0) ? NULL : (MergeState *) PG_GETARG_POINTER(0);
	MergeState *b = PG_ARGISNULL(1) ? NULL : (MergeState *) PG_GETARG_POINTER(1);

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = merge_state_create(context);	/* copy b into our context */
	merge_state_add_state(a, b);
	PG_RETURN_POINTER(a);
}

/* Serialize a state as a stored profile (portable, validated on read). */
Datum
profile_merge_serialfn(PG_FUNCTION_ARGS)
{
	MergeState *state = (MergeState *) PG_GETARG_POINTER(0);

	PG_RETURN_BYTEA_P(merge_state_result(state));
}

/* Deserialize a state, validating it like any stored profile. */
Datum
profile_merge_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg_pprof_aggregate_context(fcinfo, "profile_merge");
	MergeState *state = merge_state_create(context);

	merge_state_add_datum(state, PG_GETARG_DATUM(0));
	PG_RETURN_POINTER(state);
}

/* Final: the merged profile (the state is left unchanged). */
Datum
profile_merge_finalfn(PG_FUNCTION_ARGS)
{
	MergeState *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (MergeState *) PG_GETARG_POINTER(0);
	if (state->merger.empty)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(merge_state_result(state));
}

/* profile_merge(a, b) and a + b: the aggregate over two rows. */
Datum
profile_merge_pair(PG_FUNCTION_ARGS)
{
	MemoryContext work;
	MemoryContext caller = CurrentMemoryContext;
	MergeState *state;
	bytea	   *result;

	if (PG_ARGISNULL(0) && PG_ARGISNULL(1))
		PG_RETURN_NULL();
	work = AllocSetContextCreate(caller, "profile_merge pair", ALLOCSET_DEFAULT_SIZES);
	state = merge_state_create(work);
	for (int i = 0; i < 2; i++)
		if (!PG_ARGISNULL(i))
			merge_state_add_datum(state, PG_GETARG_DATUM(i));
	MemoryContextSwitchTo(work);
	AssertCheckMergeState(state);
	result = profile_datum_from_tree(state->merger.tree, caller);
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	PG_RETURN_BYTEA_P(result);
}
