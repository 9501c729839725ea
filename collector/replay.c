/*
 * replay.c
 *	  In-order, idempotent replay of the spool, and PostgreSQL health checks.
 */
#include "replay.h"
#include "collector.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "spool.h"
#include "store.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPLAY_CHUNK 32
#define HEALTH_INTERVAL 2.0

static pthread_t replay_thread;
static _Atomic bool replay_stopping;
static bool replay_running;

/* Sleep for ms milliseconds (short, so that stopping is noticed). */
static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Connect if there is no usable connection and it is time to try. */
static PGconn *
ensure_connection(PGconn *conn, double *next_try)
{
	char	   *error = NULL;

	if (db_usable(conn))
		return conn;
	if (conn)
		PQfinish(conn);
	if (mono_now() < *next_try)
		return NULL;
	conn = db_connect(&error);
	if (conn == NULL)
	{
		*next_try = mono_now() + (double) collector_config->reconnect_interval_ms / 1000.0;
		store_set_db_up(false);
		free(error);
		return NULL;
	}
	store_set_db_up(true);
	return conn;
}

/* Ask PostgreSQL whether it is there. */
static bool
ping(PGconn *conn)
{
	PGresult   *res = PQexec(conn, "SELECT 1");
	bool		ok = PQresultStatus(res) == PGRES_TUPLES_OK;

	PQclear(res);
	return ok;
}

/*
 * True when the target table takes this role's INSERTs: a refusal on
 * replay is then the entry's own fault (row-level security, say).
 */
static bool
table_usable(PGconn *conn)
{
	char	   *error = NULL;
	bool		ok = db_check_table(conn, &error);

	free(error);
	return ok;
}

/*
 * Replay up to REPLAY_CHUNK of the oldest entries; returns false when
 * PostgreSQL went away (the connection is then closed).
 */
static bool
replay_chunk(PGconn **conn, long *replayed)
{
	char	  **names;
	int			n = spool_list(&names, REPLAY_CHUNK);
	char	  **done = xcalloc((size_t) (n ? n : 1), sizeof(char *));
	uint64_t   *sizes = xcalloc((size_t) (n ? n : 1), sizeof(uint64_t));
	int			n_done = 0;
	bool		alive = true;
	int			rate = collector_config->replay_max_per_second;

	for (int i = 0; i < n && !atomic_load(&replay_stopping); i++)
	{
		SpoolEntry	entry;
		char	   *error = NULL;
		Profile   **profiles;
		DbResult	res;

		if (!spool_read(names[i], &entry, &error))
		{
			spool_reject(names[i], entry.bytes, error);
			free(error);
			spool_entry_free(&entry);
			continue;
		}
		profiles = xcalloc((size_t) (entry.n_profiles ? entry.n_profiles : 1), sizeof(Profile *));
		for (int k = 0; k < entry.n_profiles; k++)
			profiles[k] = &entry.profiles[k];
		res = db_ingest(*conn, profiles, entry.n_profiles);
		free(profiles);
		if (res.error == DBE_NONE)
		{
			metrics_stored(entry.n_profiles - res.duplicates, res.rows, true);
			done[n_done] = names[i];
			sizes[n_done++] = entry.bytes;
			names[i] = NULL;
			(*replayed)++;
		}
		else if (res.error == DBE_DATA || (res.error == DBE_OTHER && table_usable(*conn)))
			spool_reject(names[i], entry.bytes, res.message);
		else if (res.error == DBE_OTHER)
		{
			/* the table itself is the problem (missing, no privilege): wait for a fix */
			log_warn_limited("spool_replay_blocked", "sqlstate=%s error=%s", res.sqlstate, lq(res.message));
			alive = false;
			spool_entry_free(&entry);
			break;
		}
		else
		{
			if (res.error == DBE_UNAVAILABLE)
			{
				log_line(LOG_ERROR, "spool_replay_interrupted", "sqlstate=%s error=%s",
						 res.sqlstate[0] ? res.sqlstate : "none", lq(res.message));
				PQfinish(*conn);
				*conn = NULL;
				store_set_db_up(false);
			}
			alive = false;
			spool_entry_free(&entry);
			break;
		}
		spool_entry_free(&entry);
		if (rate > 0)
			sleep_ms(1000 / rate);
	}
	/* committed entries go; a crash before this replays them as no-ops */
	spool_remove(done, sizes, n_done);
	spool_free_names(done, n_done);
	free(sizes);
	spool_free_names(names, n);
	return alive;
}

/* The replay thread. */
static void *
replay_main(void *arg)
{
	PGconn	   *conn = NULL;
	double		next_try = 0;
	double		next_ping = 0;
	long		replayed = 0;
	bool		replaying = false;

	(void) arg;
	while (!atomic_load(&replay_stopping))
	{
		long		waiting = spool_count();

		if (waiting == 0)
		{
			if (replaying)
			{
				log_line(LOG_INFO, "spool_replayed", "entries=%ld", replayed);
				replaying = false;
				replayed = 0;
			}
			if (mono_now() >= next_ping)
			{
				conn = ensure_connection(conn, &next_try);
				if (conn && !ping(conn))
				{
					PQfinish(conn);
					conn = NULL;
					store_set_db_up(false);
				}
				next_ping = mono_now() + HEALTH_INTERVAL;
			}
			spool_wait_for_entries(500);
			continue;
		}
		conn = ensure_connection(conn, &next_try);
		if (conn == NULL)
		{
			sleep_ms(200);
			continue;
		}
		if (!replaying)
		{
			log_line(LOG_INFO, "spool_replay_started", "entries=%ld bytes=%llu", waiting,
					 (unsigned long long) spool_bytes());
			replaying = true;
		}
		/* PostgreSQL went away, or the table needs fixing: try again later */
		if (!replay_chunk(&conn, &replayed))
			sleep_ms((long) collector_config->reconnect_interval_ms);
	}
	if (conn)
		PQfinish(conn);
	return NULL;
}

/* Start the replay thread. */
bool
replay_start(void)
{
	replay_running = pthread_create(&replay_thread, NULL, replay_main, NULL) == 0;
	return replay_running;
}

/* Stop it after the entry it is replaying. */
void
replay_stop(void)
{
	atomic_store(&replay_stopping, true);
	if (replay_running)
		pthread_join(replay_thread, NULL);
	replay_running = false;
}
