/*
 * request.h
 *	  A request's life: received (httpd.c) or scraped (scrape.c), parsed
 *	  and validated by a worker (ingest.c, push.c), stored or spooled by a
 *	  writer (store.c), then finished: its answer goes back to the client.
 *
 * A request holds the profiles it carries, each with the arguments of one
 * pprof_ingest() call.  A request is the unit of acknowledgement: it is
 * answered 200 only when all its profiles are committed, or when all sit in
 * one fsync'd spool entry.
 */
#ifndef COLLECTOR_REQUEST_H
#define COLLECTOR_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "metrics.h"
#include "util.h"

struct MHD_Connection;

/* One profile to store: the arguments of one pprof_ingest() call. */
typedef struct Profile
{
	uint8_t		request_id[16]; /* pprof_ingest's request_id: replays are no-ops */
	char	   *service;
	char	   *name;			/* Pyroscope's profile name, never NULL */
	char	   *labels_json;	/* the caller's labels, a JSON object */
	char	   *label_keys;		/* sample labels that split rows, a text[] literal */
	char	   *tenant;			/* NULL when tenants are off */
	int64_t		at_us;			/* used when the profile has no time of its own */
	uint8_t    *data;			/* pprof bytes, gzip or raw */
	size_t		len;
	uint8_t    *inflated;		/* data inflated by the check, sent instead */
	size_t		inflated_len;
	bool		validated;		/* fully checked (profile_check.h); spooled only then */
} Profile;

/* Where a request came from. */
typedef enum RequestKind
{
	REQ_INGEST,					/* POST /ingest */
	REQ_PUSH,					/* POST /push.v1.PusherService/Push */
	REQ_SCRAPE					/* a scrape loop's profile */
} RequestKind;

/* How a request failed; each endpoint answers it in its own way. */
typedef enum FailKind
{
	FAIL_BAD_REQUEST,			/* 400, Connect invalid_argument */
	FAIL_UNAUTHENTICATED,		/* 401 */
	FAIL_TIMEOUT,				/* 408, Connect deadline_exceeded */
	FAIL_TOO_LARGE,				/* 413, Connect resource_exhausted */
	FAIL_UNSUPPORTED,			/* 415, Connect unimplemented */
	FAIL_INVALID_PROFILE,		/* 422, Connect invalid_argument */
	FAIL_TOO_MANY,				/* 429, Connect resource_exhausted */
	FAIL_INTERNAL,				/* 500, Connect internal */
	FAIL_UNAVAILABLE			/* 503, Connect unavailable */
} FailKind;

/* One request. */
typedef struct Request
{
	RequestKind kind;
	MetricEndpoint endpoint;

	/* what the handler copied from the HTTP request */
	struct MHD_Connection *conn;
	char	   *query_name;		/* /ingest's name, from, until, ... */
	char	   *query_from;
	char	   *query_until;
	char	   *query_format;
	char	   *query_sample_rate;
	char	   *query_spy_name;
	char	   *query_units;
	char	   *content_type;
	char	   *content_encoding;
	char	   *tenant;
	Buf			body;
	size_t		reserved_bytes; /* counted in the buffered-bytes budget */
	double		started;		/* first callback */
	double		body_done;		/* last body byte */
	int64_t		received_us;	/* wall time of arrival, the default `at` */
	bool		suspended;
	bool		upstream;		/* counted as on its way to the writers */

	/* the outcome */
	bool		finished;
	int			status;
	const char *response_type;
	Buf			response;
	bool		spooled;

	/* what it carries */
	Profile    *profiles;
	int			n_profiles;

	/* called when the request is finished (httpd resumes the connection) */
	void		(*on_done) (struct Request *r);
	void	   *done_arg;

	struct Request *next;		/* queue link */
} Request;

/* A new request of the given kind, with nothing in it. */
extern Request *request_new(RequestKind kind, MetricEndpoint endpoint);
/* Free a request and everything it holds. */
extern void request_free(Request *r);

/* Add a profile (takes ownership of data); returns it for the caller to fill. */
extern Profile *request_add_profile(Request *r, uint8_t *data, size_t len);

struct ProfileFacts;

/* Move the check's inflated bytes into p, which then sends them instead of data. */
extern void profile_take_inflated(Profile *p, struct ProfileFacts *facts);

/* Fail the request with an answer suited to its endpoint (does not finish it). */
extern void request_fail(Request *r, FailKind kind, RejectReason reason, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
/* Mark the request stored (200). */
extern void request_succeed(Request *r);

/*
 * Finish the request: count it, record the acknowledgement latency and
 * call its on_done.  Called exactly once, by whichever stage decided.
 */
extern void request_finish(Request *r);

/* Requests received or being validated, not yet with the writers. */
extern void request_upstream_enter(Request *r);
extern void request_upstream_leave(Request *r);
extern long request_upstream_count(void);

/*
 * Turn a request's body into profiles (ingest.c, push.c); true when they
 * are to be stored, false when the request is answered already (a failure,
 * or an empty upload).
 */
extern bool request_parse(Request *r);

/* Start the worker threads that validate bodies; false on failure. */
extern bool workers_start(int n);
/* Hand a fully received request to the workers. */
extern void workers_submit(Request *r);
/* Stop the workers once their queue is empty. */
extern void workers_stop(void);

/* A JSON string literal (with quotes) for s, appended to out. */
extern void json_append_quoted(Buf *out, const char *s);
/* The text[] literal of a list of strings: {"a","b"}. */
extern char *text_array_literal(char **items, int n);

#endif							/* COLLECTOR_REQUEST_H */
