/*
 * httpd.h
 *	  The HTTP server (libmicrohttpd in epoll mode, a small thread pool):
 *	  POST /ingest (and /pyroscope/ingest), POST
 *	  /push.v1.PusherService/Push, GET /ready and GET /metrics.
 *
 * It checks credentials, tenant, size and concurrency limits before a body
 * is read, buffers bodies, hands each complete request to the workers and
 * suspends its connection until the request is stored or spooled.  A
 * sweeper closes connections that take longer than request_timeout to
 * deliver a request (slow-loris clients), whatever they trickle.
 */
#ifndef COLLECTOR_HTTPD_H
#define COLLECTOR_HTTPD_H

#include <stdbool.h>

/* Start serving on the configured address; false with *error on failure. */
extern bool httpd_start(char **error);

/* Stop accepting new connections (the listening socket closes). */
extern void httpd_quiesce(void);

/* Close connections that are too slow to deliver a request; call every second. */
extern void httpd_sweep(void);

/* Stop the server: every request must be finished. */
extern void httpd_stop(void);

#endif							/* COLLECTOR_HTTPD_H */
