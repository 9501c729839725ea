/*
 * sql_module.h
 *	  Server-side glue shared by the SQL wrappers: settings, and conversion
 *	  between call trees, decoded views and `profile` datums.
 */
#ifndef PG_PPROF_H
#define PG_PPROF_H

#include "postgres.h"
#include "fmgr.h"

#include "calltree.h"
#include "pprof_decode.h"
#include "profile_format.h"

/* GUC values (see _PG_init for their documentation). */
extern int	pg_pprof_max_input_bytes;
extern int	pg_pprof_max_stack_depth;
extern int	pg_pprof_compression_level;
extern int	pg_pprof_max_output_bytes;

/* Limits for the stored format, from the GUCs. */
extern ProfileLimits pg_pprof_limits(void);

/* Decoding options for pprof input, from the GUCs, with PostgreSQL regexes. */
extern PprofOptions pg_pprof_options(void);

/* A budget of pg_pprof.max_output_bytes for one call's result, named what. */
extern PPBudget pg_pprof_output_budget(const char *what);

/* A text value of len bytes, refused (54000) when no text value can be that long. */
extern text *text_from_bytes(const char *bytes, size_t len);

/* Copy len bytes into a new varlena (bytea or profile) in the current context. */
extern bytea *bytea_from_bytes(const void *bytes, size_t len);

/* Encode a tree as a `profile` varlena allocated in result_context. */
extern bytea *profile_datum_from_tree(const CallTree *tree, MemoryContext result_context);

/* The aggregate context of a state function of aggregate, or an error (0A000). */
extern MemoryContext pg_pprof_aggregate_context(FunctionCallInfo fcinfo, const char *aggregate);

/* Out-of-line values from this size up are fetched in slices by profile_detoast_merge. */
#define PROFILE_SLICE_MIN_BYTES 16384

/* Detoast a `profile` datum for reading its merge only (a packed value's timeline left out). */
extern bytea *profile_detoast_merge(Datum datum);

/* Detoast and decode a `profile` datum straight into a new call tree. */
extern CallTree *profile_tree_from_datum(Datum datum, ProfileView *view);

/* Detoast and decode a `profile` datum into a validated view. */
extern void profile_view_from_datum(Datum datum, ProfileView *view);

/* A max_nodes argument: 0 (no truncation) when NULL; negative values are refused. */
extern int64 pg_pprof_max_nodes_arg(FunctionCallInfo fcinfo, int argno);

#define PG_GETARG_PROFILE_VIEW(n, view) profile_view_from_datum(PG_GETARG_DATUM(n), (view))

#endif							/* PG_PPROF_H */
