/*
 * push.h
 *	  POST /push.v1.PusherService/Push: Connect unary, as Grafana Alloy's
 *	  pyroscope.write sends it, with application/proto or application/json
 *	  bodies, gzip-compressed or not (Content-Encoding).
 *
 * Each series' labels give service_name (to service), __name__ (to name)
 * and the rest (to labels; other "__" labels are dropped).  Errors are
 * Connect JSON bodies; a bad profile answers invalid_argument, which Alloy
 * does not retry.
 */
#ifndef COLLECTOR_PUSH_H
#define COLLECTOR_PUSH_H

#include "request.h"

/* Turn a push request's body into profiles, or fail it. */
extern void push_parse(Request *r);

#endif							/* COLLECTOR_PUSH_H */
