/*
 * collector.h
 *	  What every part of pg_pprof_collector shares: the settings (read-only
 *	  once the threads run) and whether it is shutting down.
 *
 * The data flow, file by file:
 *
 *	  httpd.c        HTTP in (libmicrohttpd, epoll): auth, limits, bodies
 *	  scrape.c       HTTP out (libcurl): Go /debug/pprof endpoints
 *	  delta.c        cumulative scrape profiles -> per-interval deltas
 *	  request.c      requests, answers, and the workers that validate them
 *	  ingest.c       POST /ingest (labelset.c, multipart.c, folded.c)
 *	  push.c         POST /push.v1.PusherService/Push (Connect)
 *	  profile_check.c  pprof validation and naming with the project's cores
 *	  store.c        writers: batched pprof_ingest() calls over libpq
 *	  spool.c        fsync'd spool entries while PostgreSQL is unreachable
 *	  replay.c       in-order, idempotent replay of the spool
 *	  metrics.c, log.c, config.c, util.c, core_host.c, auth.c
 */
#ifndef COLLECTOR_H
#define COLLECTOR_H

#include <stdbool.h>

#include "config.h"

#define COLLECTOR_VERSION "0.2.0"

/* The settings; set once at start-up, before any thread starts. */
extern const Config *collector_config;

/* True once SIGTERM or SIGINT arrived. */
extern bool collector_stopping(void);

#endif							/* COLLECTOR_H */
