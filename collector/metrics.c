/*
 * metrics.c
 *	  Lock-free counters (C11 atomics) and their Prometheus text rendering.
 */
#include "metrics.h"

#include <stdatomic.h>
#include <stdio.h>

#define MIN_STATUS 100
#define MAX_STATUS 599

static _Atomic long requests[EP_COUNT][MAX_STATUS - MIN_STATUS + 1];
static _Atomic long received_bytes[EP_COUNT];
static _Atomic long rejected[REJ_COUNT];
static _Atomic long profiles_stored;
static _Atomic long profiles_replayed;
static _Atomic long rows_stored;
static _Atomic long requests_spooled;
static _Atomic long spool_rejected;
static _Atomic long batches;
static _Atomic long batch_profiles;
static _Atomic int64_t gauges[GAUGE_COUNT];

/* Acknowledgement latency buckets (seconds), Prometheus style. */
static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
0.5, 1, 2.5, 5, 10};
#define N_BOUNDS (sizeof(latency_bounds) / sizeof(latency_bounds[0]))
static _Atomic long latency_buckets[N_BOUNDS + 1];
static _Atomic long latency_count;
static _Atomic long latency_sum_us;

static MetricsRenderFn extra_render;

/* The endpoint's label value. */
static const char *
endpoint_name(MetricEndpoint endpoint)
{
	static const char *const names[] = {"ingest", "push", "ready", "metrics", "other"};

	return endpoint < EP_COUNT ? names[endpoint] : "other";
}

/* The reason's label value. */
const char *
reject_reason_name(RejectReason reason)
{
	static const char *const names[] = {
		"bad_name", "bad_request", "too_large", "invalid_profile", "unsupported_format",
		"unauthorized", "bad_tenant", "too_many_requests", "spool_full", "timeout",
		"rejected_by_postgres", "shutting_down",
	};

	return reason < REJ_COUNT ? names[reason] : "other";
}

/* Count one answered request. */
void
metrics_request(MetricEndpoint endpoint, int status)
{
	if (endpoint >= EP_COUNT)
		endpoint = EP_OTHER;
	if (status < MIN_STATUS || status > MAX_STATUS)
		status = 500;
	atomic_fetch_add(&requests[endpoint][status - MIN_STATUS], 1);
}

/* Count request body bytes received. */
void
metrics_received_bytes(MetricEndpoint endpoint, size_t bytes)
{
	atomic_fetch_add(&received_bytes[endpoint < EP_COUNT ? endpoint : EP_OTHER], (long) bytes);
}

/* Count one refusal. */
void
metrics_reject(RejectReason reason)
{
	if (reason < REJ_COUNT)
		atomic_fetch_add(&rejected[reason], 1);
}

/* Count profiles and rows committed (from a live request or a spool replay). */
void
metrics_stored(long profiles, long rows, bool replayed)
{
	atomic_fetch_add(&profiles_stored, profiles);
	atomic_fetch_add(&rows_stored, rows);
	if (replayed)
		atomic_fetch_add(&profiles_replayed, profiles);
}

/* Count requests acknowledged from the spool. */
void
metrics_spooled(long count)
{
	atomic_fetch_add(&requests_spooled, count);
}

/* Count spool entries PostgreSQL refused on replay (moved aside). */
void
metrics_spool_rejected(long entries)
{
	atomic_fetch_add(&spool_rejected, entries);
}

/* Count one transaction of the writers and its profiles. */
void
metrics_batch(long profiles)
{
	atomic_fetch_add(&batches, 1);
	atomic_fetch_add(&batch_profiles, profiles);
}

/* Record one acknowledgement latency. */
void
metrics_ack_latency(double seconds)
{
	size_t		i = 0;

	while (i < N_BOUNDS && seconds > latency_bounds[i])
		i++;
	atomic_fetch_add(&latency_buckets[i], 1);
	atomic_fetch_add(&latency_count, 1);
	atomic_fetch_add(&latency_sum_us, (long) (seconds * 1e6));
}

/* Move a gauge by delta. */
void
metrics_gauge_add(MetricGauge gauge, int64_t delta)
{
	atomic_fetch_add(&gauges[gauge], delta);
}

/* Set a gauge. */
void
metrics_gauge_set(MetricGauge gauge, int64_t value)
{
	atomic_store(&gauges[gauge], value);
}

/* Read a gauge. */
int64_t
metrics_gauge_get(MetricGauge gauge)
{
	return atomic_load(&gauges[gauge]);
}

/* A source of more metric lines (the scrape loops add theirs). */
void
metrics_set_extra(MetricsRenderFn fn)
{
	extra_render = fn;
}

/* Write a metric family's HELP and TYPE lines. */
static void
family(Buf *out, const char *name, const char *type, const char *help)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* The whole exposition, in Prometheus text format 0.0.4. */
void
metrics_render(Buf *out)
{
	static const struct
	{
		MetricGauge gauge;
		const char *name;
		const char *help;
	}			gauge_info[] = {
		{GAUGE_CONNECTIONS, "pg_pprof_collector_connections", "Open HTTP connections."},
		{GAUGE_INFLIGHT, "pg_pprof_collector_inflight_requests", "Requests being received, validated or stored."},
		{GAUGE_BUFFERED_BYTES, "pg_pprof_collector_buffered_bytes", "Request bodies, and inflated copies of gzip profiles, held in memory."},
		{GAUGE_SPOOL_ENTRIES, "pg_pprof_collector_spool_entries", "Requests waiting in the spool for PostgreSQL."},
		{GAUGE_SPOOL_BYTES, "pg_pprof_collector_spool_bytes", "Bytes in the spool."},
		{GAUGE_DB_UP, "pg_pprof_collector_postgres_up", "1 when the last contact with PostgreSQL succeeded."},
	};
	long		cumulative = 0;

	family(out, "pg_pprof_collector_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
	for (int e = 0; e < EP_COUNT; e++)
		for (int s = 0; s <= MAX_STATUS - MIN_STATUS; s++)
		{
			long		n = atomic_load(&requests[e][s]);

			if (n)
				buf_printf(out, "pg_pprof_collector_requests_total{endpoint=\"%s\",code=\"%d\"} %ld\n",
						   endpoint_name((MetricEndpoint) e), s + MIN_STATUS, n);
		}
	family(out, "pg_pprof_collector_received_bytes_total", "counter", "Request body bytes received, by endpoint.");
	for (int e = 0; e < EP_COUNT; e++)
		buf_printf(out, "pg_pprof_collector_received_bytes_total{endpoint=\"%s\"} %ld\n",
				   endpoint_name((MetricEndpoint) e), atomic_load(&received_bytes[e]));
	family(out, "pg_pprof_collector_rejected_total", "counter", "Requests or profiles refused, by reason.");
	for (int r = 0; r < REJ_COUNT; r++)
		buf_printf(out, "pg_pprof_collector_rejected_total{reason=\"%s\"} %ld\n",
				   reject_reason_name((RejectReason) r), atomic_load(&rejected[r]));
	family(out, "pg_pprof_collector_profiles_stored_total", "counter", "Profiles committed to PostgreSQL (replays included).");
	buf_printf(out, "pg_pprof_collector_profiles_stored_total %ld\n", atomic_load(&profiles_stored));
	family(out, "pg_pprof_collector_profiles_replayed_total", "counter", "Profiles committed from the spool.");
	buf_printf(out, "pg_pprof_collector_profiles_replayed_total %ld\n", atomic_load(&profiles_replayed));
	family(out, "pg_pprof_collector_rows_stored_total", "counter", "Rows inserted by pprof_ingest.");
	buf_printf(out, "pg_pprof_collector_rows_stored_total %ld\n", atomic_load(&rows_stored));
	family(out, "pg_pprof_collector_spooled_requests_total", "counter", "Requests acknowledged from the spool because PostgreSQL was unreachable.");
	buf_printf(out, "pg_pprof_collector_spooled_requests_total %ld\n", atomic_load(&requests_spooled));
	family(out, "pg_pprof_collector_spool_rejected_total", "counter", "Spool entries PostgreSQL refused on replay, moved to the rejected folder.");
	buf_printf(out, "pg_pprof_collector_spool_rejected_total %ld\n", atomic_load(&spool_rejected));
	family(out, "pg_pprof_collector_transactions_total", "counter", "Transactions the writers committed or tried.");
	buf_printf(out, "pg_pprof_collector_transactions_total %ld\n", atomic_load(&batches));
	family(out, "pg_pprof_collector_transaction_profiles_total", "counter", "Profiles in those transactions.");
	buf_printf(out, "pg_pprof_collector_transaction_profiles_total %ld\n", atomic_load(&batch_profiles));
	for (size_t g = 0; g < sizeof(gauge_info) / sizeof(gauge_info[0]); g++)
	{
		family(out, gauge_info[g].name, "gauge", gauge_info[g].help);
		buf_printf(out, "%s %lld\n", gauge_info[g].name,
				   (long long) atomic_load(&gauges[gauge_info[g].gauge]));
	}
	family(out, "pg_pprof_collector_ack_latency_seconds", "histogram",
		   "Time from a request's last body byte to its acknowledgement.");
	for (size_t i = 0; i <= N_BOUNDS; i++)
	{
		cumulative += atomic_load(&latency_buckets[i]);
		if (i < N_BOUNDS)
			buf_printf(out, "pg_pprof_collector_ack_latency_seconds_bucket{le=\"%g\"} %ld\n",
					   latency_bounds[i], cumulative);
		else
			buf_printf(out, "pg_pprof_collector_ack_latency_seconds_bucket{le=\"+Inf\"} %ld\n", cumulative);
	}
	buf_printf(out, "pg_pprof_collector_ack_latency_seconds_sum %.6f\n",
			   (double) atomic_load(&latency_sum_us) / 1e6);
	buf_printf(out, "pg_pprof_collector_ack_latency_seconds_count %ld\n", atomic_load(&latency_count));
	if (extra_render)
		extra_render(out);
}
