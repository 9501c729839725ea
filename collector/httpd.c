/*
 * httpd.c
 *	  libmicrohttpd in epoll mode: routing, limits, bodies, suspension
 *	  while a request is stored, and the slow-client sweeper.
 *
 * A request's connection is suspended (MHD_suspend_connection) once its
 * body is complete and resumed by whichever thread finishes the request;
 * the access handler then queues the answer.  Suspension happens before the
 * request leaves this thread, so a quick worker can never resume a
 * connection that is not suspended yet.
 */
#include "httpd.h"
#include "auth.h"
#include "collector.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "store.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUSH_PATH "/push.v1.PusherService/Push"
/* Bodies up to this size are parsed on the HTTP thread while PostgreSQL answers. */
#define INLINE_PARSE_BYTES (256 * 1024)

/* What a connection is doing, for the sweeper. */
typedef enum ConnPhase
{
	CONN_WAITING,				/* for (more of) a request's headers */
	CONN_RECEIVING,				/* a request's body */
	CONN_PROCESSING				/* the request is with the workers or writers */
} ConnPhase;

/* One open connection, as the sweeper sees it. */
typedef struct ConnEntry
{
	int			fd;
	ConnPhase	phase;
	double		phase_start;
	bool		shut;			/* the sweeper already shut it down */
	struct ConnEntry *prev;
	struct ConnEntry *next;
} ConnEntry;

static struct MHD_Daemon *daemon_handle;
static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static ConnEntry conn_list = {-1, CONN_WAITING, 0, false, &conn_list, &conn_list};

/* Route MHD's own error messages into the log. */
static void
mhd_logger(void *cls, const char *fmt, va_list ap)
{
	char		message[512];
	size_t		n;

	(void) cls;
	vsnprintf(message, sizeof(message), fmt, ap);
	n = strlen(message);
	while (n > 0 && (message[n - 1] == '\n' || message[n - 1] == '\r'))
		message[--n] = '\0';
	log_line(LOG_WARN, "http_library", "message=%s", lq(message));
}

/* Track connections as they open and close (the sweeper's list). */
static void
notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
				  enum MHD_ConnectionNotificationCode code)
{
	(void) cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED)
	{
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		ConnEntry  *e = xcalloc(1, sizeof(ConnEntry));

		e->fd = info ? info->connect_fd : -1;
		e->phase = CONN_WAITING;
		e->phase_start = mono_now();
		pthread_mutex_lock(&conn_lock);
		e->next = conn_list.next;
		e->prev = &conn_list;
		conn_list.next->prev = e;
		conn_list.next = e;
		pthread_mutex_unlock(&conn_lock);
		*socket_context = e;
		metrics_gauge_add(GAUGE_CONNECTIONS, 1);
	}
	else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context)
	{
		ConnEntry  *e = *socket_context;

		/* this runs before MHD closes the socket: the sweeper never sees a reused fd */
		pthread_mutex_lock(&conn_lock);
		e->prev->next = e->next;
		e->next->prev = e->prev;
		pthread_mutex_unlock(&conn_lock);
		free(e);
		*socket_context = NULL;
		metrics_gauge_add(GAUGE_CONNECTIONS, -1);
	}
}

/* The sweeper's entry of a connection. */
static ConnEntry *
conn_entry(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? (ConnEntry *) info->socket_context : NULL;
}

/* Move a connection to another phase. */
static void
set_phase(struct MHD_Connection *conn, ConnPhase phase)
{
	ConnEntry  *e = conn_entry(conn);

	if (e == NULL)
		return;
	pthread_mutex_lock(&conn_lock);
	e->phase = phase;
	e->phase_start = mono_now();
	pthread_mutex_unlock(&conn_lock);
}

/* Close connections that are too slow to deliver a request. */
void
httpd_sweep(void)
{
	double		now = mono_now();
	double		limit = (double) collector_config->request_timeout_ms / 1000.0;
	int			swept = 0;

	pthread_mutex_lock(&conn_lock);
	for (ConnEntry *e = conn_list.next; e != &conn_list; e = e->next)
	{
		/* a request being stored is waiting on us, not on the client */
		if (e->phase == CONN_PROCESSING || e->shut || e->fd < 0)
			continue;
		if (now - e->phase_start > limit + 0.5)
		{
			shutdown(e->fd, SHUT_RDWR);
			e->shut = true;
			swept++;
		}
	}
	pthread_mutex_unlock(&conn_lock);
	if (swept > 0)
	{
		for (int i = 0; i < swept; i++)
			metrics_reject(REJ_TIMEOUT);
		log_warn_limited("slow_clients_closed", "connections=%d request_timeout_ms=%llu", swept,
						 (unsigned long long) collector_config->request_timeout_ms);
	}
}

/* Queue an answer; a 401 carries the Basic challenge. */
static enum MHD_Result
send_answer(struct MHD_Connection *conn, int status, const char *type, const void *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *) body,
																MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (resp == NULL)
		return MHD_NO;
	if (type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (status == 401)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
								"Basic realm=\"pg_pprof_collector\"");
	ret = MHD_queue_response(conn, (unsigned int) status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* Queue a finished request's answer. */
static enum MHD_Result
send_request_answer(struct MHD_Connection *conn, Request *r)
{
	return send_answer(conn, r->status, r->response_type, r->response.data, r->response.len);
}

/* Answer a request refused before its body was read (and count it). */
static enum MHD_Result
refuse_early(struct MHD_Connection *conn, RequestKind kind, MetricEndpoint endpoint, FailKind fail,
			 RejectReason reason, const char *message)
{
	Request    *r = request_new(kind, endpoint);
	enum MHD_Result ret;

	request_fail(r, fail, reason, "%s", message);
	metrics_request(endpoint, r->status);
	ret = send_request_answer(conn, r);
	request_free(r);
	return ret;
}

/* Answer GET /ready: 200 when PostgreSQL answered lately, else 503. */
static enum MHD_Result
answer_ready(struct MHD_Connection *conn)
{
	bool		up = store_db_up();
	const char *text = up ? "ready\n" : "PostgreSQL is unreachable; requests are spooled\n";
	int			status = up ? 200 : 503;

	metrics_request(EP_READY, status);
	return send_answer(conn, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Answer GET /metrics in Prometheus text format. */
static enum MHD_Result
answer_metrics(struct MHD_Connection *conn)
{
	Buf			out;
	enum MHD_Result ret;

	buf_init(&out);
	metrics_render(&out);
	metrics_request(EP_METRICS, 200);
	ret = send_answer(conn, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
	buf_free(&out);
	return ret;
}

/* A tenant id as Pyroscope (dskit) allows it: 1-150 of [A-Za-z0-9!-_.*'()], not . or .. */
static bool
valid_tenant(const char *t)
{
	size_t		n = strlen(t);

	if (n == 0 || n > 150 || strcmp(t, ".") == 0 || strcmp(t, "..") == 0)
		return false;
	for (const char *p = t; *p; p++)
		if (!isalnum((unsigned char) *p) && strchr("!-_.*'()", *p) == NULL)
			return false;
	return true;
}

/* A copy of a query argument or header, or NULL. */
static char *
lookup_copy(struct MHD_Connection *conn, enum MHD_ValueKind kind, const char *key)
{
	return xstrdup(MHD_lookup_connection_value(conn, kind, key));
}

/* Reserve n more body bytes in the shared budget; false when it is spent. */
static bool
reserve_bytes(Request *r, size_t n)
{
	int64_t		after = metrics_gauge_get(GAUGE_BUFFERED_BYTES) + (int64_t) n;

	if (after > (int64_t) collector_config->max_buffered_bytes)
		return false;
	metrics_gauge_add(GAUGE_BUFFERED_BYTES, (int64_t) n);
	r->reserved_bytes += n;
	return true;
}

/* The first call for a POST to an ingest endpoint: check, then set up a Request. */
static enum MHD_Result
begin_upload(struct MHD_Connection *conn, RequestKind kind, MetricEndpoint endpoint, void **req_cls)
{
	const Config *cfg = collector_config;
	const char *length_text = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
														  MHD_HTTP_HEADER_CONTENT_LENGTH);
	const char *tenant = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Scope-OrgID");
	unsigned long long length = length_text ? strtoull(length_text, NULL, 10) : 0;
	size_t		initial;
	Request    *r;

	if (collector_stopping())
		return refuse_early(conn, kind, endpoint, FAIL_UNAVAILABLE, REJ_SHUTTING_DOWN,
							"the collector is shutting down");
	if (!auth_check(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												MHD_HTTP_HEADER_AUTHORIZATION)))
		return refuse_early(conn, kind, endpoint, FAIL_UNAUTHENTICATED, REJ_UNAUTHORIZED,
							"missing or wrong credentials");
	if (cfg->tenants && tenant == NULL)
		return refuse_early(conn, kind, endpoint, FAIL_UNAUTHENTICATED, REJ_BAD_TENANT,
							"no org id: the X-Scope-OrgID header is required");
	if (cfg->tenants && !valid_tenant(tenant))
		return refuse_early(conn, kind, endpoint, FAIL_BAD_REQUEST, REJ_BAD_TENANT,
							"invalid X-Scope-OrgID: use 1 to 150 of A-Z a-z 0-9 ! - _ . * ' ( )");
	if (length > cfg->max_body_bytes)
	{
		char		message[160];

		snprintf(message, sizeof(message), "request body too large: %llu bytes, the limit is %llu",
				 length, (unsigned long long) cfg->max_body_bytes);
		return refuse_early(conn, kind, endpoint, FAIL_TOO_LARGE, REJ_TOO_LARGE, message);
	}
	if (metrics_gauge_get(GAUGE_INFLIGHT) >= cfg->max_inflight)
		return refuse_early(conn, kind, endpoint, FAIL_TOO_MANY, REJ_TOO_MANY_REQUESTS,
							"too many requests in flight; retry later");

	r = request_new(kind, endpoint);
	initial = length ? (size_t) length : 64 * 1024;
	if (!reserve_bytes(r, initial))
	{
		request_free(r);
		return refuse_early(conn, kind, endpoint, FAIL_TOO_MANY, REJ_TOO_MANY_REQUESTS,
							"too much request data buffered; retry later");
	}
	metrics_gauge_add(GAUGE_INFLIGHT, 1);
	r->conn = conn;
	r->content_type = lookup_copy(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	r->content_encoding = lookup_copy(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (cfg->tenants)
		r->tenant = xstrdup(tenant);
	if (kind == REQ_INGEST)
	{
		r->query_name = lookup_copy(conn, MHD_GET_ARGUMENT_KIND, "name");
		r->query_from = lookup_copy(conn, MHD_GET_ARGUMENT_KIND, "from");
		r->query_until = lookup_copy(conn, MHD_GET_ARGUMENT_KIND, "until");
		r->query_format = lookup_copy(conn, MHD_GET_ARGUMENT_KIND, "format");
		r->query_sample_rate = lookup_copy(conn, MHD_GET_ARGUMENT_KIND, "sampleRate");
		r->query_spy_name = lookup_copy(conn, MHD_GET_ARGUMENT_KIND, "spyName");
		r->query_units = lookup_copy(conn, MHD_GET_ARGUMENT_KIND, "units");
	}
	buf_reserve(&r->body, length ? (size_t) length : 0);
	request_upstream_enter(r);
	set_phase(conn, CONN_RECEIVING);
	*req_cls = r;
	return MHD_YES;
}

/* Resume a finished request's connection (on_done of HTTP requests). */
static void
resume_connection(Request *r)
{
	MHD_resume_connection(r->conn);
}

/* Take more body bytes, enforcing the size, memory and time limits. */
static void
take_body(Request *r, const char *data, size_t size)
{
	const Config *cfg = collector_config;

	if (r->status != 0)
		return;					/* already refused: the rest is discarded */
	metrics_received_bytes(r->endpoint, size);
	if (mono_now() - r->started > (double) cfg->request_timeout_ms / 1000.0)
	{
		request_fail(r, FAIL_TIMEOUT, REJ_TIMEOUT, "request not received within %llu ms",
					 (unsigned long long) cfg->request_timeout_ms);
		return;
	}
	if (r->body.len + size > cfg->max_body_bytes)
	{
		request_fail(r, FAIL_TOO_LARGE, REJ_TOO_LARGE,
					 "request body too large: more than %llu bytes",
					 (unsigned long long) cfg->max_body_bytes);
		return;
	}
	if (r->body.len + size > r->reserved_bytes &&
		!reserve_bytes(r, r->body.len + size - r->reserved_bytes))
	{
		request_fail(r, FAIL_TOO_MANY, REJ_TOO_MANY_REQUESTS,
					 "too much request data buffered; retry later");
		return;
	}
	buf_append(&r->body, data, size);
}

/* The access handler: every call MHD makes for a request. */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size, void **req_cls)
{
	Request    *r = *req_cls;

	(void) cls;
	(void) version;
	if (r == NULL)
	{
		bool		is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
		bool		is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
			strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

		if (strcmp(url, "/ingest") == 0 || strcmp(url, "/pyroscope/ingest") == 0)
			return is_post ? begin_upload(conn, REQ_INGEST, EP_INGEST, req_cls)
				: refuse_early(conn, REQ_INGEST, EP_INGEST, FAIL_BAD_REQUEST, REJ_BAD_REQUEST,
							   "use POST");
		if (strcmp(url, PUSH_PATH) == 0)
			return is_post ? begin_upload(conn, REQ_PUSH, EP_PUSH, req_cls)
				: refuse_early(conn, REQ_PUSH, EP_PUSH, FAIL_BAD_REQUEST, REJ_BAD_REQUEST,
							   "Connect unary requests use POST");
		if (strcmp(url, "/ready") == 0 && is_get)
			return answer_ready(conn);
		if (strcmp(url, "/metrics") == 0 && is_get)
			return answer_metrics(conn);
		metrics_request(EP_OTHER, 404);
		return send_answer(conn, 404, "text/plain; charset=utf-8", "not found\n", 10);
	}
	if (*upload_data_size != 0)
	{
		take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->finished)
		return send_request_answer(conn, r);
	if (r->status != 0)
	{
		/* refused while the body came in */
		request_finish(r);
		return send_request_answer(conn, r);
	}
	/* the body is complete */
	r->body_done = mono_now();
	if (r->body.len <= INLINE_PARSE_BYTES && store_db_up())
	{
		/*
		 * A small body while PostgreSQL answers takes only the quick check
		 * (profile_check.h): parse it here, saving two thread switches.
		 */
		if (!request_parse(r))
		{
			request_finish(r);
			return send_request_answer(conn, r);
		}
		r->on_done = resume_connection;
		r->suspended = true;
		set_phase(conn, CONN_PROCESSING);
		MHD_suspend_connection(conn);
		store_submit(r);
		return MHD_YES;
	}
	/* suspend first, then hand over to the workers */
	r->on_done = resume_connection;
	r->suspended = true;
	set_phase(conn, CONN_PROCESSING);
	MHD_suspend_connection(conn);
	workers_submit(r);
	return MHD_YES;
}

/* A request is over (answered, or the client went away): free it. */
static void
request_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
				  enum MHD_RequestTerminationCode code)
{
	Request    *r = *req_cls;

	(void) cls;
	(void) code;
	if (r == NULL)
		return;
	metrics_gauge_add(GAUGE_BUFFERED_BYTES, -(int64_t) r->reserved_bytes);
	metrics_gauge_add(GAUGE_INFLIGHT, -1);
	request_upstream_leave(r);
	request_free(r);
	*req_cls = NULL;
	set_phase(conn, CONN_WAITING);
}

/* Resolve the listen address: host:port, [v6]:port or :port. */
static bool
resolve_listen(const char *listen, struct sockaddr_storage *addr, bool *ipv6, char **error)
{
	char	   *copy = xstrdup(listen);
	char	   *host = copy;
	char	   *port;
	struct addrinfo hints;
	struct addrinfo *res = NULL;
	int			rc;

	if (*host == '[')
	{
		char	   *close = strchr(host, ']');

		if (close == NULL || close[1] != ':')
		{
			*error = xprintf("listen address %s: expected [address]:port", listen);
			free(copy);
			return false;
		}
		*close = '\0';
		host++;
		port = close + 2;
	}
	else
	{
		port = strrchr(host, ':');
		if (port == NULL)
		{
			*error = xprintf("listen address %s: expected host:port", listen);
			free(copy);
			return false;
		}
		*port++ = '\0';
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(*host ? host : NULL, port, &hints, &res);
	if (rc != 0 || res == NULL)
	{
		*error = xprintf("listen address %s: %s", listen, gai_strerror(rc));
		free(copy);
		return false;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*ipv6 = res->ai_family == AF_INET6;
	freeaddrinfo(res);
	free(copy);
	return true;
}

/* Start serving on the configured address. */
bool
httpd_start(char **error)
{
	const Config *cfg = collector_config;
	struct sockaddr_storage addr;
	bool		ipv6 = false;
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
		MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	unsigned int idle_seconds = (unsigned int) ((cfg->idle_timeout_ms + 999) / 1000);

	if (!resolve_listen(cfg->listen, &addr, &ipv6, error))
		return false;
	if (ipv6)
		flags |= MHD_USE_IPv6;
	daemon_handle = MHD_start_daemon(flags, 0, NULL, NULL, handle, NULL,
									 MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL,
									 MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
									 MHD_OPTION_THREAD_POOL_SIZE, (unsigned int) cfg->http_threads,
									 MHD_OPTION_CONNECTION_LIMIT, (unsigned int) cfg->max_connections,
									 MHD_OPTION_CONNECTION_TIMEOUT, idle_seconds,
									 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (128 * 1024),
									 MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096U,
									 MHD_OPTION_NOTIFY_COMPLETED, request_completed, NULL,
									 MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL,
									 MHD_OPTION_END);
	if (daemon_handle == NULL)
	{
		*error = xprintf("cannot listen on %s: %s", cfg->listen,
						 errno ? strerror(errno) : "libmicrohttpd refused the settings");
		return false;
	}
	return true;
}

/* Stop accepting new connections (the listening socket closes). */
void
httpd_quiesce(void)
{
	MHD_socket fd;

	if (daemon_handle == NULL)
		return;
	fd = MHD_quiesce_daemon(daemon_handle);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
}

/* Stop the server: every request must be finished. */
void
httpd_stop(void)
{
	if (daemon_handle)
		MHD_stop_daemon(daemon_handle);
	daemon_handle = NULL;
}
