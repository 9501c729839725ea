/*
 * store.h
 *	  The writers: db_connections threads, each with its own connection,
 *	  take validated requests off one queue and store them in batches.
 *
 * A writer takes every request queued when it gets to the queue, so under
 * load, requests that arrived while all writers were busy share one
 * transaction (one commit).  It holds a batch open for more only while no
 * other writer is idle and more requests are on their way (being received
 * or validated), up to batch_max_profiles and for at most batch_max_delay
 * after the oldest request's last byte: batching never delays an
 * acknowledgement by more than batch_max_delay, and costs nothing when the
 * collector is idle.  When PostgreSQL cannot be reached, the batch goes to
 * the spool instead, and its requests are acknowledged from there.
 */
#ifndef COLLECTOR_STORE_H
#define COLLECTOR_STORE_H

#include <stdbool.h>

#include "request.h"

/* Start the writer threads. */
extern bool store_start(char **error);

/* Queue a validated request for storing. */
extern void store_submit(Request *r);

/* Requests queued or being stored. */
extern long store_pending(void);

/* True when PostgreSQL answered the last time anyone asked. */
extern bool store_db_up(void);
extern void store_set_db_up(bool up);

/* Stop the writers once the queue is empty. */
extern void store_stop(void);

#endif							/* COLLECTOR_STORE_H */
