/*
 * request.c
 *	  Requests and their profiles, the answers of each endpoint, and the
 *	  worker threads that validate bodies between the HTTP server and the
 *	  writers.
 */
#include "request.h"
#include "ingest.h"
#include "log.h"
#include "profile_check.h"
#include "push.h"
#include "store.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic long upstream_count;

/* The worker pool: one FIFO queue, n threads. */
static struct
{
	pthread_mutex_t lock;
	pthread_cond_t wake;
	Request    *head;
	Request    *tail;
	bool		stopping;
	pthread_t  *threads;
	int			n_threads;
}			pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

/* A new request of the given kind, with nothing in it. */
Request *
request_new(RequestKind kind, MetricEndpoint endpoint)
{
	Request    *r = xcalloc(1, sizeof(Request));

	r->kind = kind;
	r->endpoint = endpoint;
	buf_init(&r->body);
	buf_init(&r->response);
	r->started = mono_now();
	r->received_us = wall_now_us();
	return r;
}

/* Free one profile's strings and bytes. */
static void
profile_free(Profile *p)
{
	free(p->service);
	free(p->name);
	free(p->labels_json);
	free(p->label_keys);
	free(p->tenant);
	free(p->data);
	profile_inflated_free(p->inflated, p->inflated_len);
}

/* Free a request and everything it holds. */
void
request_free(Request *r)
{
	if (r == NULL)
		return;
	for (int i = 0; i < r->n_profiles; i++)
		profile_free(&r->profiles[i]);
	free(r->profiles);
	free(r->query_name);
	free(r->query_from);
	free(r->query_until);
	free(r->query_format);
	free(r->query_sample_rate);
	free(r->query_spy_name);
	free(r->query_units);
	free(r->content_type);
	free(r->content_encoding);
	free(r->tenant);
	buf_free(&r->body);
	buf_free(&r->response);
	free(r);
}

/* Add a profile (takes ownership of data); returns it for the caller to fill. */
Profile *
request_add_profile(Request *r, uint8_t *data, size_t len)
{
	Profile    *p;

	r->profiles = xrealloc(r->profiles, sizeof(Profile) * (size_t) (r->n_profiles + 1));
	p = &r->profiles[r->n_profiles++];
	memset(p, 0, sizeof(*p));
	uuid_random(p->request_id);
	p->data = data;
	p->len = len;
	p->at_us = r->received_us;
	return p;
}

/* Move the check's inflated bytes into p, which then sends them instead of data. */
void
profile_take_inflated(Profile *p, ProfileFacts *facts)
{
	p->inflated = facts->inflated;
	p->inflated_len = facts->inflated_len;
	facts->inflated = NULL;
}

/* A JSON string literal (with quotes) for s, appended to out. */
void
json_append_quoted(Buf *out, const char *s)
{
	buf_append(out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p == '"' || *p == '\\')
		{
			buf_append(out, "\\", 1);
			buf_append(out, p, 1);
		}
		else if (*p < 0x20)
			buf_printf(out, "\\u%04x", *p);
		else if (*p >= 0x80)
			buf_append(out, "?", 1);	/* messages may quote client bytes */
		else
			buf_append(out, p, 1);
	}
	buf_append(out, "\"", 1);
}

/* The text[] literal of a list of strings: {"a","b"}. */
char *
text_array_literal(char **items, int n)
{
	Buf			out;

	buf_init(&out);
	buf_append(&out, "{", 1);
	for (int i = 0; i < n; i++)
	{
		if (i)
			buf_append(&out, ",", 1);
		buf_append(&out, "\"", 1);
		for (const char *p = items[i]; *p; p++)
		{
			if (*p == '"' || *p == '\\')
				buf_append(&out, "\\", 1);
			buf_append(&out, p, 1);
		}
		buf_append(&out, "\"", 1);
	}
	buf_append(&out, "}", 1);
	return (char *) buf_steal(&out, NULL);
}

/* The HTTP status and Connect code of a failure. */
static void
fail_codes(FailKind kind, int *http_status, int *connect_status, const char **connect_code)
{
	switch (kind)
	{
		case FAIL_BAD_REQUEST:
			*http_status = 400, *connect_status = 400, *connect_code = "invalid_argument";
			return;
		case FAIL_UNAUTHENTICATED:
			*http_status = 401, *connect_status = 401, *connect_code = "unauthenticated";
			return;
		case FAIL_TIMEOUT:
			*http_status = 408, *connect_status = 504, *connect_code = "deadline_exceeded";
			return;
		case FAIL_TOO_LARGE:
			*http_status = 413, *connect_status = 429, *connect_code = "resource_exhausted";
			return;
		case FAIL_UNSUPPORTED:
			*http_status = 415, *connect_status = 501, *connect_code = "unimplemented";
			return;
		case FAIL_INVALID_PROFILE:
			*http_status = 422, *connect_status = 400, *connect_code = "invalid_argument";
			return;
		case FAIL_TOO_MANY:
			*http_status = 429, *connect_status = 429, *connect_code = "resource_exhausted";
			return;
		case FAIL_INTERNAL:
			*http_status = 500, *connect_status = 500, *connect_code = "internal";
			return;
		case FAIL_UNAVAILABLE:
			*http_status = 503, *connect_status = 503, *connect_code = "unavailable";
			return;
	}
	*http_status = 500, *connect_status = 500, *connect_code = "internal";
}

/* Fail the request with an answer suited to its endpoint (does not finish it). */
void
request_fail(Request *r, FailKind kind, RejectReason reason, const char *fmt,...)
{
	char		message[1024];
	va_list		args;
	int			http_status,
				connect_status;
	const char *connect_code;

	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	/* one line: the reason must not break the answer or the log */
	for (char *p = message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fail_codes(kind, &http_status, &connect_status, &connect_code);
	r->response.len = 0;
	if (r->kind == REQ_PUSH)
	{
		r->status = connect_status;
		r->response_type = "application/json";
		buf_printf(&r->response, "{\"code\":\"%s\",\"message\":", connect_code);
		json_append_quoted(&r->response, message);
		buf_append(&r->response, "}", 1);
	}
	else
	{
		r->status = http_status;
		r->response_type = "text/plain; charset=utf-8";
		buf_printf(&r->response, "%s\n", message);
	}
	metrics_reject(reason);
	if (r->kind == REQ_SCRAPE)
		log_line(LOG_WARN, "scrape_rejected", "reason=%s message=%s",
				 reject_reason_name(reason), lq(message));
	else
		log_warn_limited("request_rejected", "endpoint=%s status=%d reason=%s message=%s",
						 r->endpoint == EP_PUSH ? "push" : "ingest", r->status,
						 reject_reason_name(reason), lq(message));
}

/* Mark the request stored (200, with the endpoint's empty answer). */
void
request_succeed(Request *r)
{
	r->status = 200;
	r->response.len = 0;
	if (r->kind == REQ_PUSH)
	{
		bool		json = r->content_type && str_has_prefix_ci(r->content_type, "application/json");

		/* PushResponse {} is empty in both encodings */
		r->response_type = json ? "application/json" : "application/proto";
		if (json)
			buf_append_str(&r->response, "{}");
	}
	else
		r->response_type = "text/plain; charset=utf-8";
}

/* Finish the request: count it, record the latency and call on_done. */
void
request_finish(Request *r)
{
	request_upstream_leave(r);
	r->finished = true;
	if (r->kind != REQ_SCRAPE)
	{
		metrics_request(r->endpoint, r->status);
		if (r->status == 200 && r->body_done > 0)
			metrics_ack_latency(mono_now() - r->body_done);
	}
	if (r->on_done)
		r->on_done(r);
}

/* Count a request as on its way to the writers. */
void
request_upstream_enter(Request *r)
{
	if (!r->upstream)
	{
		r->upstream = true;
		atomic_fetch_add(&upstream_count, 1);
	}
}

/* The request is with the writers now, or finished. */
void
request_upstream_leave(Request *r)
{
	if (r->upstream)
	{
		r->upstream = false;
		atomic_fetch_sub(&upstream_count, 1);
	}
}

/* Requests received or being validated, not yet with the writers. */
long
request_upstream_count(void)
{
	return atomic_load(&upstream_count);
}

/* Turn a request's body into profiles; true when they are to be stored. */
bool
request_parse(Request *r)
{
	if (r->kind == REQ_INGEST)
		ingest_parse(r);
	else if (r->kind == REQ_PUSH)
		push_parse(r);
	if (r->status != 0)
		return false;
	/* the body is no longer needed once the profiles are out of it */
	buf_free(&r->body);
	if (r->n_profiles == 0)
	{
		/* an empty upload: Pyroscope answers 200 and stores nothing */
		request_succeed(r);
		return false;
	}
	return true;
}

/* Validate a request's body into profiles, then store it or answer it. */
static void
process_request(Request *r)
{
	if (request_parse(r))
		store_submit(r);
	else
		request_finish(r);
}

/* A worker thread: take requests from the queue until told to stop. */
static void *
worker_main(void *arg)
{
	(void) arg;
	for (;;)
	{
		Request    *r;

		pthread_mutex_lock(&pool.lock);
		while (pool.head == NULL && !pool.stopping)
			pthread_cond_wait(&pool.wake, &pool.lock);
		r = pool.head;
		if (r)
		{
			pool.head = r->next;
			if (pool.head == NULL)
				pool.tail = NULL;
		}
		pthread_mutex_unlock(&pool.lock);
		if (r == NULL)
			return NULL;
		r->next = NULL;
		process_request(r);
	}
}

/* Start the worker threads that validate bodies. */
bool
workers_start(int n)
{
	pool.threads = xcalloc((size_t) n, sizeof(pthread_t));
	for (int i = 0; i < n; i++)
	{
		if (pthread_create(&pool.threads[i], NULL, worker_main, NULL) != 0)
			return false;
		pool.n_threads++;
	}
	return true;
}

/* Hand a fully received request to the workers. */
void
workers_submit(Request *r)
{
	r->next = NULL;
	pthread_mutex_lock(&pool.lock);
	if (pool.tail)
		pool.tail->next = r;
	else
		pool.head = r;
	pool.tail = r;
	pthread_cond_signal(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
}

/* Stop the workers once their queue is empty. */
void
workers_stop(void)
{
	pthread_mutex_lock(&pool.lock);
	pool.stopping = true;
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	for (int i = 0; i < pool.n_threads; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	pool.threads = NULL;
	pool.n_threads = 0;
}
