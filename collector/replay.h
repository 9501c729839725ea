/*
 * replay.h
 *	  The replay thread: stores spool entries in order once PostgreSQL is
 *	  back, each in its own transaction, then removes them.  Entries carry
 *	  their request ids, so an entry replayed twice (a crash between COMMIT
 *	  and unlink) stores nothing the second time.  While the spool is
 *	  empty, the same thread checks every couple of seconds that
 *	  PostgreSQL answers, for GET /ready.
 */
#ifndef COLLECTOR_REPLAY_H
#define COLLECTOR_REPLAY_H

#include <stdbool.h>

extern bool replay_start(void);
extern void replay_stop(void);

#endif							/* COLLECTOR_REPLAY_H */
