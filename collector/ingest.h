/*
 * ingest.h
 *	  POST /ingest, Pyroscope's legacy push, as every SDK sends it:
 *	  format=pprof with a raw body (gzip or not); a multipart form with a
 *	  `profile` part and an optional `sample_type_config` (pyroscope-go);
 *	  folded text (format=lines, or no format); format=jfr is refused with
 *	  415 until Java ingest exists.  Answers match Pyroscope's: 200 with an
 *	  empty body, 400 for a bad name, 413 oversized, 422 invalid profile.
 */
#ifndef COLLECTOR_INGEST_H
#define COLLECTOR_INGEST_H

#include "request.h"

/* Turn an /ingest request's body into profiles, or fail it. */
extern void ingest_parse(Request *r);

#endif							/* COLLECTOR_INGEST_H */
