/*
 * sql_pack.c
 *	  SQL packing: the profile_pack aggregate, and the readers of a packed
 *	  value's timeline (profile_slice, profile_unpack, profile_points).
 *
 * A packed value is the merge of its sources plus a timeline (see
 * profile_timeline.h).  Every other function reads the merge and skips the
 * timeline; these read it, and check it whole (checksum, structure, and its
 * sums against the merge) before they use it.
 *
 * Times: SQL gives microseconds since 2000, the format keeps nanoseconds
 * since 1970.  A time that has no nanosecond value (before 1677 or after
 * 2262) is refused where it would be stored and clamped where it bounds a
 * range.
 */
#include "sql_module.h"
#include "profile_pack.h"

#include "common/int.h"
#include "datatype/timestamp.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(profile_pack_transfn);
PG_FUNCTION_INFO_V1(profile_pack_combinefn);
PG_FUNCTION_INFO_V1(profile_pack_serialfn);
PG_FUNCTION_INFO_V1(profile_pack_deserialfn);
PG_FUNCTION_INFO_V1(profile_pack_finalfn);
PG_FUNCTION_INFO_V1(profile_slice);
PG_FUNCTION_INFO_V1(profile_unpack);
PG_FUNCTION_INFO_V1(profile_points);
PG_FUNCTION_INFO_V1(profile_is_packed);

/* Microseconds from 1970 to 2000, PostgreSQL's epoch. */
#define UNIX_TO_PG_USECS ((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* A header slice long enough for any version's header (profile_stored_span). */
#define HEADER_SLICE_BYTES 32

/* Nanoseconds since 1970 of a timestamp, or false when it has none. */
static bool
timestamp_to_ns(TimestampTz ts, int64 *ns)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		return false;
	return !pg_add_s64_overflow(ts, UNIX_TO_PG_USECS, &ts) && !pg_mul_s64_overflow(ts, 1000, ns);
}

/* Nanoseconds of a time to store; an error (22008) when it has none. */
static int64
stored_ns(TimestampTz ts)
{
	int64		ns;

	if (!timestamp_to_ns(ts, &ns))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("profile_pack: time %s is out of range", timestamptz_to_str(ts)),
				 errdetail("A timeline keeps nanoseconds since 1970, which reach from 1677 to 2262.")));
	return ns;
}

/* Nanoseconds of a range bound, clamped (an infinite bound has no limit). */
static int64
bound_ns(TimestampTz ts)
{
	int64		ns;

	if (timestamp_to_ns(ts, &ns))
		return ns;
	return ts < 0 ? PG_INT64_MIN : PG_INT64_MAX;
}

/* The timestamp of nanoseconds since 1970 (rounded down to microseconds). */
static TimestampTz
ns_to_timestamp(int64 ns)
{
	int64		us = ns / 1000 - (ns % 1000 < 0 ? 1 : 0);

	return us - UNIX_TO_PG_USECS;
}

/*
 * The aggregate ------------------------------------------------------------
 *
 * The state is a ProfilePacker in the aggregate context: the merged tree,
 * and per input its entries over that tree.  Each input is detoasted in a
 * scratch context reset after the row.  The serialized state is a packed
 * value, validated when it is read back, so partial states can travel
 * between parallel workers and nodes.
 */

/* The aggregate's working state. */
typedef struct PackState
{
	MemoryContext context;		/* where the packing lives */
	MemoryContext scratch;		/* per-input detoasting, reset after each row */
	ProfilePacker packer;
} PackState;

/* A new, empty state in context. */
static PackState *
pack_state_create(MemoryContext context)
{
	MemoryContext old = MemoryContextSwitchTo(context);
	PackState  *state = palloc0(sizeof(PackState));

	state->context = context;
	state->scratch = AllocSetContextCreate(context, "profile_pack scratch",
										   ALLOCSET_DEFAULT_SIZES);
	profile_packer_init(&state->packer);
	MemoryContextSwitchTo(old);
	return state;
}

/* Fold one stored profile datum into the state, at time when has_time. */
static void
pack_state_add_datum(PackState *state, Datum datum, bool has_time, int64 time)
{
	MemoryContext old = MemoryContextSwitchTo(state->scratch);
	bytea	   *value = (bytea *) PG_DETOAST_DATUM(datum);
	ProfileLimits limits = pg_pprof_limits();

	MemoryContextSwitchTo(state->context);
	profile_packer_add_stored(&state->packer, (const uint8_t *) VARDATA(value),
							  VARSIZE(value) - VARHDRSZ, &limits, has_time, time);
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->scratch);
}

/* The packed value of a state, as a `profile` datum in the current context. */
static bytea *
pack_state_result(const PackState *state)
{
	ProfileLimits limits = pg_pprof_limits();
	size_t		len;
	uint8_t    *bytes = profile_packer_encode(&state->packer, &limits, &len);
	bytea	   *result = bytea_from_bytes(bytes, len);

	pp_free(bytes);
	return result;
}

/* Transition: fold one profile at its time (NULL profiles are skipped). */
Datum
profile_pack_transfn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg_pprof_aggregate_context(fcinfo, "profile_pack");
	PackState  *state = PG_ARGISNULL(0) ? NULL : (PackState *) PG_GETARG_POINTER(0);
	bool		has_time = !PG_ARGISNULL(2);
	int64		time = has_time ? stored_ns(PG_GETARG_TIMESTAMPTZ(2)) : 0;

	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
		state = pack_state_create(context);
	pack_state_add_datum(state, PG_GETARG_DATUM(1), has_time, time);
	PG_RETURN_POINTER(state);
}

/* Combine two partial states (either may be NULL). */
Datum
profile_pack_combinefn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg_pprof_aggregate_context(fcinfo, "profile_pack");
	PackState  *a = PG_ARGISNULL(0) ? NULL : (PackState *) PG_GETARG_POINTER(0);
	PackState  *b = PG_ARGISNULL(1) ? NULL : (PackState *) PG_GETARG_POINTER(1);
	MemoryContext old;

	if (b == NULL)
	{
		if (a == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(a);
	}
	if (a == NULL)
		a = pack_state_create(context);	/* copy b into our context */
	old = MemoryContextSwitchTo(a->context);
	profile_packer_add_packer(&a->packer, &b->packer);
	MemoryContextSwitchTo(old);
	PG_RETURN_POINTER(a);
}

/* Serialize a state as a packed profile (portable, validated on read). */
Datum
profile_pack_serialfn(PG_FUNCTION_ARGS)
{
	PackState  *state = (PackState *) PG_GETARG_POINTER(0);

	PG_RETURN_BYTEA_P(pack_state_result(state));
}

/* Deserialize a state, validating it (and its timeline) like any input. */
Datum
profile_pack_deserialfn(PG_FUNCTION_ARGS)
{
	MemoryContext context = pg_pprof_aggregate_context(fcinfo, "profile_pack");
	PackState  *state = pack_state_create(context);

	pack_state_add_datum(state, PG_GETARG_DATUM(0), false, 0);
	PG_RETURN_POINTER(state);
}

/* Final: the packed profile (the state is left unchanged). */
Datum
profile_pack_finalfn(PG_FUNCTION_ARGS)
{
	PackState  *state;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (PackState *) PG_GETARG_POINTER(0);
	if (state->packer.count == 0)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(pack_state_result(state));
}

/*
 * Readers of the timeline ---------------------------------------------------
 */

/* A packed value decoded for reading its points: tree, node map, timeline. */
typedef struct PackedValue
{
	ProfileView view;
	CallTree   *tree;			/* the merged body, a tree of its own */
	uint32_t   *node_map;		/* stored node -> node of tree */
	Timeline	timeline;		/* checked against the tree */
} PackedValue;

/*
 * Decode a detoasted value with every check: the body, and for a packed
 * value its timeline and the timeline's sums.  Returns false for a plain
 * value (only the view and tree are filled).
 */
static bool
packed_value_decode(const bytea *value, PackedValue *pv)
{
	ProfileLimits limits = pg_pprof_limits();

	memset(pv, 0, sizeof(*pv));
	pv->tree = profile_decode_to_tree((const uint8_t *) VARDATA(value), VARSIZE(value) - VARHDRSZ,
									  &limits, &pv->view, &pv->node_map);
	pv->view.stored_bytes = VARSIZE(value);
	if (pv->view.timeline == NULL)
		return false;
	timeline_decode(&pv->view, &limits, &pv->timeline);
	timeline_check_tree(&pv->view, pv->tree, pv->node_map, &pv->timeline);
	return true;
}

/* A plain value's one row: (its start time, or NULL when it has none; second). */
static void
put_plain_row(ReturnSetInfo *rsinfo, const ProfileView *view, Datum second)
{
	Datum		values[2];
	bool		nulls[2] = {view->meta.start_ns == 0, false};

	values[0] = TimestampTzGetDatum(nulls[0] ? 0 : ns_to_timestamp(view->meta.start_ns));
	values[1] = second;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/* The plain value of a packed value's merge, as a `profile` datum (nothing decoded). */
static bytea *
packed_merge_datum(const bytea *value)
{
	size_t		len;
	uint8_t    *bytes = profile_packed_to_plain((const uint8_t *) VARDATA(value),
											VARSIZE(value) - VARHDRSZ, &len);
	bytea	   *result = bytea_from_bytes(bytes, len);

	pp_free(bytes);
	return result;
}

/* The points of a packed value in [since_ns, until_ns) merged, or NULL when none is. */
static bytea *
packed_slice(Datum datum, int64 since_ns, int64 until_ns)
{
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work = AllocSetContextCreate(caller, "profile_slice", ALLOCSET_DEFAULT_SIZES);
	PackedValue pv;
	uint8_t    *pick;
	uint32_t	picked = 0;
	bytea	   *result = NULL;

	MemoryContextSwitchTo(work);
	if (!packed_value_decode((bytea *) PG_DETOAST_DATUM(datum), &pv))
		pp_error(PP_ERR_INTERNAL, "packed_slice called on a plain value");
	pick = palloc0(pv.timeline.points);
	for (uint32_t p = 0; p < pv.timeline.points; p++)
		if (pv.timeline.time[p] >= since_ns && pv.timeline.time[p] < until_ns)
		{
			pick[p] = 1;
			picked++;
		}
	if (picked > 0)
		result = profile_datum_from_tree(timeline_points_tree(pv.tree, pv.node_map, &pv.timeline, pick),
										 caller);
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return result;
}

/*
 * profile_slice(p, since, until, at): the merge of the points in
 * [since, until), as a plain value, or NULL.  A plain value is one point at
 * `at` (or its start time).  The header alone decides a packed value that
 * lies wholly outside (NULL) or wholly inside: then its merge is its body,
 * rewrapped as a plain value and fetched without the timeline.  Only a
 * value that straddles a bound has its timeline read.
 */
Datum
profile_slice(PG_FUNCTION_ARGS)
{
	Datum		datum = PG_GETARG_DATUM(0);
	TimestampTz since,
				until;
	bool		have_at = !PG_ARGISNULL(3);
	bool		at_inside = false;
	int64		since_ns,
				until_ns,
				first,
				last;
	uint32_t	points;
	bytea	   *value = NULL;	/* the value for its merge (profile_detoast_merge) */
	bytea	   *header;
	bytea	   *result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_NULL();
	since = PG_GETARG_TIMESTAMPTZ(1);
	until = PG_GETARG_TIMESTAMPTZ(2);
	if (since >= until)
		PG_RETURN_NULL();
	if (have_at)
		at_inside = PG_GETARG_TIMESTAMPTZ(3) >= since && PG_GETARG_TIMESTAMPTZ(3) < until;

	/*
	 * A row that is likely wanted (its time inside, or unknown) is fetched
	 * once, for its merge; any other row only for its header.
	 */
	if (at_inside || !have_at)
		header = value = profile_detoast_merge(datum);
	else
		header = (bytea *) PG_DETOAST_DATUM_SLICE(datum, 0, HEADER_SLICE_BYTES);
	since_ns = bound_ns(since);
	until_ns = bound_ns(until);

	if (!profile_stored_span((const uint8_t *) VARDATA(header), VARSIZE(header) - VARHDRSZ,
							 &points, &first, &last))
	{
		/* a plain value: one point, at `at` or at its start time */
		ProfileView view;
		ProfileLimits limits = pg_pprof_limits();
		int64		start;

		if (have_at)
		{
			if (!at_inside)
				PG_RETURN_NULL();
			PG_RETURN_BYTEA_P(value);
		}
		profile_decode((const uint8_t *) VARDATA(value), VARSIZE(value) - VARHDRSZ, &limits, &view);
		start = view.meta.start_ns;
		profile_view_free(&view);
		if (start < since_ns || start >= until_ns)
			PG_RETURN_NULL();
		PG_RETURN_BYTEA_P(value);
	}
	if (last < since_ns || first >= until_ns)
		PG_RETURN_NULL();
	if (first >= since_ns && last < until_ns)
	{
		if (value == NULL)
			value = profile_detoast_merge(datum);
		PG_RETURN_BYTEA_P(packed_merge_datum(value));
	}
	result = packed_slice(datum, since_ns, until_ns);
	if (result == NULL)
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(result);
}

/*
 * profile_unpack(p): one row per point, (time, profile), each point a plain
 * profile again: its sources' stacks, totals and metadata.  A plain value
 * is one row, itself at its start time.
 */
Datum
profile_unpack(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *value = (bytea *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	PPBudget	budget = pg_pprof_output_budget("profile_unpack rows");
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work,
				per_point;
	PackedValue pv;
	uint8_t    *pick;

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(caller, "profile_unpack", ALLOCSET_DEFAULT_SIZES);
	per_point = AllocSetContextCreate(work, "profile_unpack point", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	if (!packed_value_decode(value, &pv))
		put_plain_row(rsinfo, &pv.view, PointerGetDatum(value));
	else
	{
		pick = palloc0(pv.timeline.points);
		for (uint32_t p = 0; p < pv.timeline.points; p++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};
			CallTree   *tree;
			bytea	   *point;

			MemoryContextSwitchTo(per_point);
			pick[p] = 1;
			tree = timeline_points_tree(pv.tree, pv.node_map, &pv.timeline, pick);
			pick[p] = 0;
			point = profile_datum_from_tree(tree, per_point);
			pp_budget_charge(&budget, VARSIZE(point) + 64);
			values[0] = TimestampTzGetDatum(ns_to_timestamp(pv.timeline.time[p]));
			values[1] = PointerGetDatum(point);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextReset(per_point);
			CHECK_FOR_INTERRUPTS();
		}
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return (Datum) 0;
}

/* profile_points(p): one row per point, (time, total); a time series. */
Datum
profile_points(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bytea	   *value = (bytea *) PG_DETOAST_DATUM(PG_GETARG_DATUM(0));
	MemoryContext caller = CurrentMemoryContext;
	MemoryContext work;
	PackedValue pv;

	InitMaterializedSRF(fcinfo, 0);
	work = AllocSetContextCreate(caller, "profile_points", ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(work);
	if (!packed_value_decode(value, &pv))
		put_plain_row(rsinfo, &pv.view, Int64GetDatum(pv.view.total));
	else
	{
		const Timeline *tl = &pv.timeline;

		for (uint32_t p = 0; p < tl->points; p++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};
			int64		total = 0;

			/* the sums were checked against the body, whose total fits */
			for (uint32_t e = tl->first_entry[p]; e < tl->first_entry[p + 1]; e++)
				total = pp_add_int64(total, tl->value[e]);
			values[0] = TimestampTzGetDatum(ns_to_timestamp(tl->time[p]));
			values[1] = Int64GetDatum(total);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			PP_CHECK_INTERRUPTS_EVERY(p);
		}
	}
	MemoryContextSwitchTo(caller);
	MemoryContextDelete(work);
	return (Datum) 0;
}

/* profile_is_packed(p): whether p has a timeline, from its first bytes alone. */
Datum
profile_is_packed(PG_FUNCTION_ARGS)
{
	bytea	   *header = (bytea *) PG_DETOAST_DATUM_SLICE(PG_GETARG_DATUM(0), 0, HEADER_SLICE_BYTES);
	uint32_t	points;
	int64		first,
				last;

	PG_RETURN_BOOL(profile_stored_span((const uint8_t *) VARDATA(header),
									   VARSIZE(header) - VARHDRSZ, &points, &first, &last));
}
