/*
 * metrics.h
 *	  The collector's counters, gauges and the acknowledgement-latency
 *	  histogram, rendered by GET /metrics in Prometheus' text format.
 *	  Every label has a bounded set of values.
 */
#ifndef COLLECTOR_METRICS_H
#define COLLECTOR_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* The endpoints requests are counted by. */
typedef enum MetricEndpoint
{
	EP_INGEST,
	EP_PUSH,
	EP_READY,
	EP_METRICS,
	EP_OTHER,
	EP_COUNT
} MetricEndpoint;

/* Why a request or profile was refused. */
typedef enum RejectReason
{
	REJ_BAD_NAME,
	REJ_BAD_REQUEST,
	REJ_TOO_LARGE,
	REJ_INVALID_PROFILE,
	REJ_UNSUPPORTED_FORMAT,
	REJ_UNAUTHORIZED,
	REJ_BAD_TENANT,
	REJ_TOO_MANY_REQUESTS,
	REJ_SPOOL_FULL,
	REJ_TIMEOUT,
	REJ_DB_REJECTED,
	REJ_SHUTTING_DOWN,
	REJ_COUNT
} RejectReason;

/* Gauges. */
typedef enum MetricGauge
{
	GAUGE_CONNECTIONS,
	GAUGE_INFLIGHT,
	GAUGE_BUFFERED_BYTES,
	GAUGE_SPOOL_ENTRIES,
	GAUGE_SPOOL_BYTES,
	GAUGE_DB_UP,
	GAUGE_COUNT
} MetricGauge;

extern void metrics_request(MetricEndpoint endpoint, int status);
extern void metrics_received_bytes(MetricEndpoint endpoint, size_t bytes);
extern void metrics_reject(RejectReason reason);
extern void metrics_stored(long profiles, long rows, bool replayed);
extern void metrics_spooled(long requests);
extern void metrics_spool_rejected(long entries);
extern void metrics_batch(long profiles);
extern void metrics_ack_latency(double seconds);
extern void metrics_gauge_add(MetricGauge gauge, int64_t delta);
extern void metrics_gauge_set(MetricGauge gauge, int64_t value);
extern int64_t metrics_gauge_get(MetricGauge gauge);

/* A source of more metric lines (the scrape loops add theirs). */
typedef void (*MetricsRenderFn) (Buf *out);
extern void metrics_set_extra(MetricsRenderFn fn);

/* The whole exposition, in Prometheus text format 0.0.4. */
extern void metrics_render(Buf *out);

/* The reason's label value. */
extern const char *reject_reason_name(RejectReason reason);

#endif							/* COLLECTOR_METRICS_H */
