/*
 * db.c
 *	  libpq: connections, the table check and pipelined pprof_ingest calls.
 *
 * Every pprof_ingest() of a batch is sent in pipeline mode with a single
 * Sync at the end, so the server runs them in one implicit transaction:
 * one round trip and one commit for the batch, and all or nothing.
 */
#include "db.h"
#include "collector.h"
#include "log.h"
#include "profile_check.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INGEST_STATEMENT "pg_pprof_collector_ingest"
#define INGEST_SQL \
	"SELECT pprof_ingest($1::regclass, $2::bytea, $3::text, $4::text, $5::jsonb, " \
	"$6::timestamptz, $7::text[], $8::text, $9::uuid)"

/* Run a command that returns nothing; false with *error on failure. */
static bool
run_command(PGconn *conn, const char *sql, char **error)
{
	PGresult   *res = PQexec(conn, sql);
	bool		ok = PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		*error = xprintf("%s", str_trim(PQerrorMessage(conn)));
	PQclear(res);
	return ok;
}

/* Connect and prepare the session. */
PGconn *
db_connect(char **error)
{
	const Config *cfg = collector_config;
	/* the defaults come first so that the connection string overrides them */
	const char *keywords[] = {"connect_timeout", "fallback_application_name", "keepalives",
	"keepalives_idle", "dbname", NULL};
	const char *values[] = {"5", "pg_pprof_collector", "1", "30", cfg->dsn, NULL};
	PGconn	   *conn = PQconnectdbParams(keywords, values, 1);
	char		sql[128];
	PGresult   *res;

	if (conn == NULL || PQstatus(conn) != CONNECTION_OK)
	{
		*error = xprintf("%s", conn ? str_trim(PQerrorMessage(conn)) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	snprintf(sql, sizeof(sql), "SET statement_timeout = %llu",
			 (unsigned long long) cfg->statement_timeout_ms);
	if (!run_command(conn, sql, error) ||
		!run_command(conn, "SET client_min_messages = warning", error))
	{
		PQfinish(conn);
		return NULL;
	}
	res = PQprepare(conn, INGEST_STATEMENT, INGEST_SQL, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
	{
		*error = xprintf("cannot prepare the pprof_ingest call (is pg_pprof 0.2.0 installed in "
						 "this database?): %s", str_trim(PQerrorMessage(conn)));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	PQclear(res);
	db_learn_server_limits(conn);
	return conn;
}

/* Learn the server's pg_pprof.max_input_bytes (once the library is loaded). */
void
db_learn_server_limits(PGconn *conn)
{
	PGresult   *res = PQexec(conn, "SELECT current_setting('pg_pprof.max_input_bytes', true)");
	uint64_t	bytes;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
	{
		char	   *text = PQgetvalue(res, 0, 0);

		if (parse_size(text, &bytes) && bytes > 0)
			profile_check_set_server_limit((size_t) bytes);
	}
	PQclear(res);
}

/* Check that the target table exists and takes INSERTs from this role. */
bool
db_check_table(PGconn *conn, char **error)
{
	const char *params[1] = {collector_config->table};
	PGresult   *res = PQexecParams(conn,
								   "SELECT has_table_privilege($1::regclass, 'INSERT'), "
								   "(SELECT count(*) FROM pg_attribute WHERE attrelid = $1::regclass "
								   " AND attname IN ('time', 'service', 'name', 'sample_type', 'unit', "
								   " 'labels', 'profile') AND NOT attisdropped), "
								   "EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = $1::regclass "
								   " AND attname = 'tenant' AND NOT attisdropped)",
								   1, NULL, params, NULL, NULL, 0);
	bool		ok = false;

	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		*error = xprintf("table %s: %s", collector_config->table, str_trim(PQerrorMessage(conn)));
	else if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		*error = xprintf("the collector's role may not INSERT into %s (see the README's GRANTs)",
						 collector_config->table);
	else if (atoi(PQgetvalue(res, 0, 1)) != 7)
		*error = xprintf("table %s lacks some of the columns time, service, name, sample_type, "
						 "unit, labels, profile (see the README, \"Ingest into a table\")",
						 collector_config->table);
	else if (collector_config->tenants && strcmp(PQgetvalue(res, 0, 2), "t") != 0)
		*error = xprintf("tenants = on, but table %s has no tenant column", collector_config->table);
	else
		ok = true;
	PQclear(res);
	return ok;
}

/* True when the connection is still usable. */
bool
db_usable(PGconn *conn)
{
	return conn != NULL && PQstatus(conn) == CONNECTION_OK &&
		PQtransactionStatus(conn) == PQTRANS_IDLE;
}

/* What a SQLSTATE means for the profiles that met it. */
static DbErrorClass
classify(PGconn *conn, const char *sqlstate)
{
	if (PQstatus(conn) != CONNECTION_OK || sqlstate == NULL || strlen(sqlstate) != 5)
		return DBE_UNAVAILABLE;
	if (strcmp(sqlstate, "40001") == 0 || strcmp(sqlstate, "40P01") == 0)
		return DBE_RETRY;
	if (strncmp(sqlstate, "08", 2) == 0 || strncmp(sqlstate, "53", 2) == 0 ||
		strncmp(sqlstate, "57", 2) == 0 || strncmp(sqlstate, "58", 2) == 0 ||
		strcmp(sqlstate, "55P03") == 0)
		return DBE_UNAVAILABLE;
	if (strncmp(sqlstate, "22", 2) == 0 || strncmp(sqlstate, "23", 2) == 0 ||
		strncmp(sqlstate, "54", 2) == 0)
		return DBE_DATA;
	return DBE_OTHER;
}

/* Record the first failure of a batch. */
static void
note_failure(DbResult *out, PGconn *conn, const PGresult *res, int index)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);

	if (out->error != DBE_NONE)
		return;
	out->error = classify(conn, state);
	out->failed_index = index;
	snprintf(out->sqlstate, sizeof(out->sqlstate), "%s", state ? state : "");
	snprintf(out->message, sizeof(out->message), "%s", message && *message ? message : "connection lost");
	str_trim(out->message);
	for (char *p = out->message; *p; p++)
		if (*p == '\n')
			*p = ' ';
}

/* Send one pprof_ingest call of the pipeline. */
static bool
send_one(PGconn *conn, const Profile *p)
{
	char		at[48];
	char		id[37];
	const char *values[9];
	int			lengths[9] = {0};
	int			formats[9] = {0};

	format_timestamp_us(p->at_us, at, sizeof(at));
	uuid_format(p->request_id, id);
	values[0] = collector_config->table;
	/* the check's inflated copy, when there is one, spares the server a gunzip */
	values[1] = (const char *) (p->inflated ? p->inflated : p->data);
	lengths[1] = (int) (p->inflated ? p->inflated_len : p->len);
	formats[1] = 1;				/* bytea in binary: no escaping of the profile */
	values[2] = p->service;
	values[3] = p->name;
	values[4] = p->labels_json ? p->labels_json : "{}";
	values[5] = at;
	values[6] = p->label_keys ? p->label_keys : "{}";
	values[7] = p->tenant;
	values[8] = id;
	return PQsendQueryPrepared(conn, INGEST_STATEMENT, 9, values, lengths, formats, 0) == 1;
}

/* Store profiles[0..n) in one transaction: one pipeline, one Sync. */
DbResult
db_ingest(PGconn *conn, Profile *const *profiles, int n)
{
	DbResult	out;
	int			sent = 0;
	PGresult   *res;

	memset(&out, 0, sizeof(out));
	out.failed_index = -1;
	if (!PQenterPipelineMode(conn))
	{
		note_failure(&out, conn, NULL, -1);
		return out;
	}
	for (; sent < n; sent++)
		if (!send_one(conn, profiles[sent]))
			break;
	if (sent < n || !PQpipelineSync(conn))
	{
		note_failure(&out, conn, NULL, sent < n ? sent : -1);
		/* the connection is broken; PQfinish by the caller cleans up */
		return out;
	}
	for (int i = 0; i < sent; i++)
	{
		while ((res = PQgetResult(conn)) != NULL)
		{
			ExecStatusType st = PQresultStatus(res);

			if (st == PGRES_TUPLES_OK && PQntuples(res) == 1)
			{
				long		rows = atol(PQgetvalue(res, 0, 0));

				out.rows += rows;
				/* 0 rows: the request_id was stored before (a replay), or an empty profile */
				if (rows == 0)
					out.duplicates++;
			}
			else if (st == PGRES_FATAL_ERROR)
				note_failure(&out, conn, res, i);
			else if (st != PGRES_PIPELINE_ABORTED)
				note_failure(&out, conn, res, i);
			PQclear(res);
		}
		if (PQstatus(conn) != CONNECTION_OK)
		{
			note_failure(&out, conn, NULL, i);
			return out;
		}
	}
	/* the commit happens at the Sync; an error there comes before its result */
	while ((res = PQgetResult(conn)) != NULL)
	{
		ExecStatusType st = PQresultStatus(res);

		if (st == PGRES_PIPELINE_SYNC)
		{
			PQclear(res);
			break;
		}
		if (st == PGRES_FATAL_ERROR)
			note_failure(&out, conn, res, -1);
		PQclear(res);
	}
	if (PQstatus(conn) != CONNECTION_OK)
		note_failure(&out, conn, NULL, -1);
	else if (!PQexitPipelineMode(conn))
		note_failure(&out, conn, NULL, -1);
	return out;
}
