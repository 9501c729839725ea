/*
 * store.h
 *	  The writers: db_connections threads, each with its own connection,
 *	  take validated requests off one queue and store them in batches.
 *
 * A batch is closed when it holds batch_max_profiles profiles, when its
 * oldest request has waited batch_max_delay, or as soon as no other request
 * is on its way (being received or validated), so batching never delays an
 * acknowledgement by more than batch_max_delay and costs nothing when the
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
