/*
 * store.c
 *	  Writer threads: batching, pprof_ingest transactions, and the spool
 *	  when PostgreSQL is unreachable.
 *
 * What each failure does:
 *	  - the profile or its arguments are refused (SQLSTATE classes 22, 23,
 *	    54): its request is answered 422 / invalid_argument, the rest of the
 *	    batch is tried again without it;
 *	  - any other SQL error (privileges, a missing table, row-level security):
 *	    its request is answered 500 / internal, the rest tried again;
 *	  - serialization failures and deadlocks: the batch is tried again;
 *	  - PostgreSQL unreachable, shutting down, out of resources or timed out:
 *	    the connection is dropped and the whole batch is spooled.
 * Nothing is acknowledged before its COMMIT or its spool fsync.
 */
#include "store.h"
#include "collector.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "profile_check.h"
#include "spool.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RETRIES 3

static struct
{
	pthread_mutex_t lock;
	pthread_cond_t wake;
	Request    *head;
	Request    *tail;
	int			queued_profiles;
	int			idle_writers;	/* waiting for work */
	bool		stopping;
	pthread_t  *threads;
	int			n_threads;
}			queue = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static _Atomic long pending;
static _Atomic int db_state = -1;	/* -1 not known yet, 0 down, 1 up */

/* True when PostgreSQL answered the last time anyone asked. */
bool
store_db_up(void)
{
	return atomic_load(&db_state) == 1;
}

/* Record whether PostgreSQL answers (and log the changes). */
void
store_set_db_up(bool up)
{
	int			was = atomic_exchange(&db_state, up ? 1 : 0);

	metrics_gauge_set(GAUGE_DB_UP, up ? 1 : 0);
	/* log the changes only: the first state is in the start line */
	if (was == 1 && !up)
		log_line(LOG_ERROR, "postgres_unreachable", "spool_entries=%ld", spool_count());
	else if (was == 0 && up)
		log_line(LOG_INFO, "postgres_reachable", "spool_entries=%ld", spool_count());
}

/* Requests queued or being stored. */
long
store_pending(void)
{
	return atomic_load(&pending);
}

/* Queue a validated request for storing. */
void
store_submit(Request *r)
{
	atomic_fetch_add(&pending, 1);
	r->next = NULL;
	pthread_mutex_lock(&queue.lock);
	if (queue.tail)
		queue.tail->next = r;
	else
		queue.head = r;
	queue.tail = r;
	queue.queued_profiles += r->n_profiles;
	/* the request is with the writers now: it no longer holds a batch open */
	request_upstream_leave(r);
	/* wake every writer: an idle one takes it, a lingering one may close its batch */
	pthread_cond_broadcast(&queue.wake);
	pthread_mutex_unlock(&queue.lock);
}

/* Finish a request the writers are done with. */
static void
finish(Request *r)
{
	request_finish(r);
	atomic_fetch_sub(&pending, 1);
}

/* A timespec ms milliseconds from now (for condition waits). */
static struct timespec
deadline_in_ms(double ms)
{
	struct timespec ts;
	long		ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = ts.tv_nsec + (long) (ms * 1e6);
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	return ts;
}

/*
 * Take the next batch off the queue (waiting for one); returns how many
 * requests went into batch, 0 when stopping with nothing left.
 */
static int
take_batch(Request ***batch, int *cap)
{
	const Config *cfg = collector_config;
	int			n = 0;
	int			profiles = 0;

	pthread_mutex_lock(&queue.lock);
	for (;;)
	{
		double		close_at;

		queue.idle_writers++;
		while (queue.head == NULL && !queue.stopping)
			pthread_cond_wait(&queue.wake, &queue.lock);
		queue.idle_writers--;
		if (queue.head == NULL)
		{
			pthread_mutex_unlock(&queue.lock);
			return 0;
		}
		/*
		 * Hold the batch open while more is on its way, up to the delay, but
		 * only when no other writer is idle: an idle one would store that
		 * request at once, on another connection (another core).
		 */
		close_at = (queue.head->body_done > 0 ? queue.head->body_done : mono_now()) +
			(double) cfg->batch_max_delay_ms / 1000.0;
		while (!queue.stopping && queue.head && queue.queued_profiles < cfg->batch_max_profiles &&
			   queue.idle_writers == 0 && request_upstream_count() > 0 && mono_now() < close_at)
		{
			struct timespec ts = deadline_in_ms(2);

			pthread_cond_timedwait(&queue.wake, &queue.lock, &ts);
		}
		/* another writer may have taken everything meanwhile */
		if (queue.head != NULL)
			break;
	}
	while (queue.head && (n == 0 || profiles + queue.head->n_profiles <= cfg->batch_max_profiles))
	{
		Request    *r = queue.head;

		queue.head = r->next;
		if (queue.head == NULL)
			queue.tail = NULL;
		r->next = NULL;
		queue.queued_profiles -= r->n_profiles;
		profiles += r->n_profiles;
		if (n == *cap)
		{
			*cap *= 2;
			*batch = xrealloc(*batch, sizeof(Request *) * (size_t) *cap);
		}
		(*batch)[n++] = r;
	}
	pthread_mutex_unlock(&queue.lock);
	return n;
}

/*
 * Validate fully every profile that had only the quick check: only what
 * pprof_ingest() will accept may wait in the spool.  Fails the request
 * (422) when one is invalid.
 */
static bool
validate_for_spool(Request *r)
{
	ProfileCheckOptions opts = profile_check_defaults();

	opts.full = true;
	for (int i = 0; i < r->n_profiles; i++)
	{
		Profile    *p = &r->profiles[i];
		ProfileFacts facts;
		char		why[600];

		if (p->validated)
			continue;
		/* the quick check's inflated copy, when kept, spares a second gunzip */
		if (!profile_check(p->inflated ? p->inflated : p->data, p->inflated ? p->inflated_len : p->len,
						   &opts, &facts, why, sizeof(why)))
		{
			request_fail(r, FAIL_INVALID_PROFILE, facts.too_large ? REJ_TOO_LARGE : REJ_INVALID_PROFILE,
						 "failed to parse pprof: %s", why);
			return false;
		}
		profile_facts_free(&facts);
		p->validated = true;
	}
	return true;
}

/* Spool the requests of a batch and answer each from the outcome. */
static void
spool_batch(Request **batch, int n)
{
	SpoolResult *results;
	int			kept = 0;

	/* refuse what would never replay, and spool the rest */
	for (int i = 0; i < n; i++)
	{
		if (validate_for_spool(batch[i]))
			batch[kept++] = batch[i];
		else
			finish(batch[i]);
	}
	n = kept;
	if (n == 0)
		return;
	results = xcalloc((size_t) n, sizeof(SpoolResult));
	spool_write(batch, n, results);
	for (int i = 0; i < n; i++)
	{
		Request    *r = batch[i];

		if (results[i] == SPOOL_WRITTEN)
		{
			r->spooled = true;
			request_succeed(r);
			metrics_spooled(1);
		}
		else if (results[i] == SPOOL_FULL)
			request_fail(r, FAIL_UNAVAILABLE, REJ_SPOOL_FULL,
						 "PostgreSQL is unreachable and the spool is full; retry later");
		else
			request_fail(r, FAIL_UNAVAILABLE, REJ_SPOOL_FULL,
						 "PostgreSQL is unreachable and the spool cannot be written; retry later");
		finish(r);
	}
	free(results);
}

/* The request of batch[0..n) that holds profile number index. */
static int
request_of_profile(Request **batch, int n, int index)
{
	for (int i = 0; i < n; i++)
	{
		if (index < batch[i]->n_profiles)
			return i;
		index -= batch[i]->n_profiles;
	}
	return -1;
}

/* One writer's state: its connection and when it may try to connect again. */
typedef struct Writer
{
	PGconn	   *conn;
	double		next_connect;
	int			id;
} Writer;

/* Make sure the writer has a connection, if it is time to try; false if none. */
static bool
ensure_connection(Writer *w)
{
	char	   *error = NULL;

	if (db_usable(w->conn))
		return true;
	if (w->conn)
	{
		PQfinish(w->conn);
		w->conn = NULL;
	}
	if (mono_now() < w->next_connect)
		return false;
	w->conn = db_connect(&error);
	if (w->conn == NULL)
	{
		w->next_connect = mono_now() + (double) collector_config->reconnect_interval_ms / 1000.0;
		if (store_db_up())
			log_line(LOG_ERROR, "postgres_connect_failed", "writer=%d error=%s", w->id, lq(error));
		store_set_db_up(false);
		free(error);
		return false;
	}
	store_set_db_up(true);
	return true;
}

/* Store one batch: commit it, or answer its refused requests, or spool it. */
static void
store_batch(Writer *w, Request **batch, int n)
{
	Profile   **profiles = NULL;
	int			retries = 0;

	while (n > 0)
	{
		int			total = 0;
		DbResult	res;

		if (!ensure_connection(w))
		{
			spool_batch(batch, n);
			break;
		}
		for (int i = 0; i < n; i++)
			total += batch[i]->n_profiles;
		profiles = xrealloc(profiles, sizeof(Profile *) * (size_t) (total ? total : 1));
		total = 0;
		for (int i = 0; i < n; i++)
			for (int k = 0; k < batch[i]->n_profiles; k++)
				profiles[total++] = &batch[i]->profiles[k];
		res = db_ingest(w->conn, profiles, total);
		metrics_batch(total);
		if (res.error == DBE_NONE)
		{
			metrics_stored(total - res.duplicates, res.rows, false);
			for (int i = 0; i < n; i++)
			{
				request_succeed(batch[i]);
				finish(batch[i]);
			}
			store_set_db_up(true);
			break;
		}
		if (res.error == DBE_RETRY && retries++ < MAX_RETRIES)
			continue;
		if (res.error == DBE_UNAVAILABLE || res.error == DBE_RETRY)
		{
			log_line(LOG_ERROR, "postgres_write_failed", "writer=%d sqlstate=%s error=%s requests=%d action=spool",
					 w->id, res.sqlstate[0] ? res.sqlstate : "none", lq(res.message), n);
			PQfinish(w->conn);
			w->conn = NULL;
			store_set_db_up(false);
			spool_batch(batch, n);
			break;
		}
		/* refused: answer the request at fault and try the rest again */
		{
			int			bad = res.failed_index >= 0 ? request_of_profile(batch, n, res.failed_index) : -1;
			FailKind	kind = res.error == DBE_DATA ? FAIL_INVALID_PROFILE : FAIL_INTERNAL;

			if (bad < 0)
			{
				/* the COMMIT itself failed: nothing is stored, nothing to single out */
				for (int i = 0; i < n; i++)
				{
					request_fail(batch[i], FAIL_INTERNAL, REJ_DB_REJECTED,
								 "PostgreSQL refused the transaction: %s", res.message);
					finish(batch[i]);
				}
				break;
			}
			request_fail(batch[bad], kind, REJ_DB_REJECTED, "PostgreSQL refused the profile: %s (SQLSTATE %s)",
						 res.message, res.sqlstate);
			finish(batch[bad]);
			memmove(&batch[bad], &batch[bad + 1], sizeof(Request *) * (size_t) (n - bad - 1));
			n--;
		}
	}
	free(profiles);
}

/* A writer thread: take batches and store them until told to stop. */
static void *
writer_main(void *arg)
{
	Writer		w;
	int			cap = 64;
	Request   **batch = xmalloc(sizeof(Request *) * (size_t) cap);
	int			n;

	memset(&w, 0, sizeof(w));
	w.id = (int) (intptr_t) arg;
	while ((n = take_batch(&batch, &cap)) > 0)
		store_batch(&w, batch, n);
	if (w.conn)
		PQfinish(w.conn);
	free(batch);
	return NULL;
}

/* Start the writer threads. */
bool
store_start(char **error)
{
	int			n = collector_config->db_connections;

	queue.threads = xcalloc((size_t) n, sizeof(pthread_t));
	for (int i = 0; i < n; i++)
	{
		if (pthread_create(&queue.threads[i], NULL, writer_main, (void *) (intptr_t) (i + 1)) != 0)
		{
			*error = xprintf("cannot start writer threads");
			return false;
		}
		queue.n_threads++;
	}
	return true;
}

/* Stop the writers once the queue is empty. */
void
store_stop(void)
{
	pthread_mutex_lock(&queue.lock);
	queue.stopping = true;
	pthread_cond_broadcast(&queue.wake);
	pthread_mutex_unlock(&queue.lock);
	for (int i = 0; i < queue.n_threads; i++)
		pthread_join(queue.threads[i], NULL);
	free(queue.threads);
	queue.threads = NULL;
	queue.n_threads = 0;
}
