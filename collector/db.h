/*
 * db.h
 *	  PostgreSQL through libpq: connecting, checking the target table, and
 *	  storing profiles with pprof_ingest() in one pipelined transaction.
 */
#ifndef COLLECTOR_DB_H
#define COLLECTOR_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "request.h"

/* What a failure means for the profiles that met it. */
typedef enum DbErrorClass
{
	DBE_NONE,
	DBE_DATA,					/* the profile or its arguments are refused (SQLSTATE 22, 23, 54) */
	DBE_UNAVAILABLE,			/* PostgreSQL is down, restarting, overloaded or timed out */
	DBE_RETRY,					/* serialization failure or deadlock: try again */
	DBE_OTHER					/* anything else: privileges, a missing table, ... */
} DbErrorClass;

/* The outcome of one transaction. */
typedef struct DbResult
{
	DbErrorClass error;
	int			failed_index;	/* the profile that failed, -1 if none or unknown */
	char		sqlstate[6];
	char		message[512];
	long		rows;			/* rows pprof_ingest inserted */
	long		duplicates;		/* profiles whose request_id was stored before */
} DbResult;

/*
 * Connect with the configured connection string and prepare the session
 * (statement_timeout, the pprof_ingest statement).  NULL with *error (to
 * free) on failure.
 */
extern PGconn *db_connect(char **error);

/*
 * Check that the target table exists and takes INSERTs from this role;
 * false with *error when it does not (the collector cannot work then).
 */
extern bool db_check_table(PGconn *conn, char **error);

/* Store profiles[0..n) in one transaction: one pipeline, one Sync. */
extern DbResult db_ingest(PGconn *conn, Profile *const *profiles, int n);

/* True when the connection is still usable. */
extern bool db_usable(PGconn *conn);

/* Learn the server's pg_pprof.max_input_bytes (once the library is loaded). */
extern void db_learn_server_limits(PGconn *conn);

#endif							/* COLLECTOR_DB_H */
