/*
 * scrape.c
 *	  Scrape loops on libcurl's multi interface, one thread for all.
 */
#include "scrape.h"
#include "collector.h"
#include "delta.h"
#include "log.h"
#include "metrics.h"
#include "profile_check.h"
#include "request.h"
#include "store.h"
#include "util.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How a scrape ended, for pg_pprof_collector_scrapes_total. */
typedef enum ScrapeResult
{
	SCRAPE_OK,
	SCRAPE_PRIMED,
	SCRAPE_TIMEOUT,
	SCRAPE_HTTP_ERROR,
	SCRAPE_CONTENT_TYPE,
	SCRAPE_TOO_LARGE,
	SCRAPE_NETWORK_ERROR,
	SCRAPE_INVALID,
	SCRAPE_RESULT_COUNT
} ScrapeResult;

static const char *const result_names[] = {
	"ok", "primed", "timeout", "http_error", "content_type", "too_large", "network_error", "invalid",
};

/*
 * The counters of one service's one profile kind.  They outlive reloads, so
 * that /metrics counters never go backwards; there are as many as distinct
 * (service, profile) pairs ever configured.
 */
typedef struct ScrapeCounter
{
	char	   *service;
	ProfileKind kind;
	long		results[SCRAPE_RESULT_COUNT];
} ScrapeCounter;

/* One target's one profile: what to fetch, when, and its delta state. */
typedef struct ScrapeLoop
{
	char	   *key;			/* identity across reloads */
	char	   *url;
	char	   *service;
	char	   *labels_json;	/* the target's labels, plus instance */
	ProfileKind kind;
	uint64_t	interval_ms;
	uint64_t	timeout_ms;
	double		next_due;
	CURL	   *easy;			/* the transfer in flight, or NULL */
	Buf			body;
	bool		too_large;
	int64_t		started_us;
	DeltaState *delta;
	ScrapeCounter *counter;
} ScrapeLoop;

static struct
{
	pthread_mutex_t lock;		/* guards loops (for /metrics) and the pending targets */
	ScrapeLoop **loops;
	int			n_loops;
	ScrapeCounter **counters;
	int			n_counters;
	ScrapeTarget *pending;
	int			n_pending;
	bool		has_pending;
	_Atomic bool stopping;
	CURLM	   *multi;
	pthread_t	thread;
	bool		running;
}			sc = {PTHREAD_MUTEX_INITIALIZER};

/* Pyroscope's name for the profiles of a kind. */
static const char *
profile_name_of(ProfileKind kind)
{
	switch (kind)
	{
		case PROFILE_CPU:
			return "process_cpu";
		case PROFILE_ALLOCS:
			return "memory";
		case PROFILE_MUTEX:
			return "mutex";
		case PROFILE_BLOCK:
			return "block";
		case PROFILE_GOROUTINE:
			return "goroutine";
		default:
			return "unknown";
	}
}

/* The path of a kind's endpoint below the prefix. */
static char *
profile_url(const ScrapeTarget *t, ProfileKind kind)
{
	uint64_t	seconds = t->interval_ms / 1000 > 1 ? t->interval_ms / 1000 - 1 : 1;

	switch (kind)
	{
		case PROFILE_CPU:
			return xprintf("%s%s/profile?seconds=%llu", t->url, t->path_prefix, (unsigned long long) seconds);
		case PROFILE_ALLOCS:
			return xprintf("%s%s/allocs", t->url, t->path_prefix);
		case PROFILE_MUTEX:
			return xprintf("%s%s/mutex", t->url, t->path_prefix);
		case PROFILE_BLOCK:
			return xprintf("%s%s/block", t->url, t->path_prefix);
		default:
			return xprintf("%s%s/goroutine", t->url, t->path_prefix);
	}
}

/* The host:port of a URL, for the instance label. */
static char *
url_instance(const char *url)
{
	const char *p = strstr(url, "://");
	const char *end;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "/?#");
	return xstrndup(p, (size_t) (end - p));
}

/* The target's labels with instance added (unless it sets one). */
static char *
loop_labels(const ScrapeTarget *t)
{
	json_t	   *obj = json_loads(t->labels_json, 0, NULL);
	char	   *out;

	if (!json_is_object(obj))
	{
		json_decref(obj);
		obj = json_object();
	}
	if (json_object_get(obj, "instance") == NULL)
	{
		char	   *inst = url_instance(t->url);

		json_object_set_new(obj, "instance", json_string(inst));
		free(inst);
	}
	out = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	return out;
}

/* The counters of a service's profile kind (created on first use; sc.lock held). */
static ScrapeCounter *
counter_for(const char *service, ProfileKind kind)
{
	ScrapeCounter *c;

	for (int i = 0; i < sc.n_counters; i++)
		if (sc.counters[i]->kind == kind && strcmp(sc.counters[i]->service, service) == 0)
			return sc.counters[i];
	c = xcalloc(1, sizeof(ScrapeCounter));
	c->service = xstrdup(service);
	c->kind = kind;
	sc.counters = xrealloc(sc.counters, sizeof(ScrapeCounter *) * (size_t) (sc.n_counters + 1));
	sc.counters[sc.n_counters++] = c;
	return c;
}

/* A new loop for one target's one profile, due after delay seconds (sc.lock held). */
static ScrapeLoop *
loop_new(const ScrapeTarget *t, ProfileKind kind, double delay)
{
	ScrapeLoop *l = xcalloc(1, sizeof(ScrapeLoop));

	l->url = profile_url(t, kind);
	l->service = xstrdup(t->service);
	l->labels_json = loop_labels(t);
	l->kind = kind;
	l->interval_ms = t->interval_ms;
	if (t->timeout_ms)
		l->timeout_ms = t->timeout_ms;
	else
		l->timeout_ms = kind == PROFILE_CPU ? t->interval_ms + 5000 : t->interval_ms;
	l->key = xprintf("%s\x1f%s\x1f%s\x1f%llu", l->url, l->service, l->labels_json,
					 (unsigned long long) l->interval_ms);
	l->next_due = mono_now() + delay;
	l->delta = delta_needed(kind) ? delta_new(kind) : NULL;
	l->counter = counter_for(t->service, kind);
	buf_init(&l->body);
	return l;
}

/* Abandon a loop's transfer, if any. */
static void
loop_abort(ScrapeLoop *l)
{
	if (l->easy)
	{
		curl_multi_remove_handle(sc.multi, l->easy);
		curl_easy_cleanup(l->easy);
		l->easy = NULL;
	}
	buf_free(&l->body);
}

/* Free a loop. */
static void
loop_free(ScrapeLoop *l)
{
	loop_abort(l);
	delta_free(l->delta);
	free(l->key);
	free(l->url);
	free(l->service);
	free(l->labels_json);
	free(l);
}

/* libcurl's write callback: collect the body, up to max_body_bytes. */
static size_t
collect_body(char *data, size_t size, size_t nmemb, void *arg)
{
	ScrapeLoop *l = arg;
	size_t		n = size * nmemb;

	if (l->body.len + n > collector_config->max_body_bytes)
	{
		l->too_large = true;
		return 0;				/* aborts the transfer */
	}
	buf_append(&l->body, data, n);
	return n;
}

/* Start a loop's transfer. */
static void
loop_start(ScrapeLoop *l)
{
	CURL	   *e = curl_easy_init();

	if (e == NULL)
		return;
	l->body.len = 0;
	l->too_large = false;
	l->started_us = wall_now_us();
	curl_easy_setopt(e, CURLOPT_URL, l->url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, l);
	curl_easy_setopt(e, CURLOPT_PRIVATE, l);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) l->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "pg_pprof_collector/" COLLECTOR_VERSION);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) collector_config->max_body_bytes);
	l->easy = e;
	curl_multi_add_handle(sc.multi, e);
}

/* Count a scrape's end, and log it unless it went well. */
static void
loop_result(ScrapeLoop *l, ScrapeResult result, const char *detail)
{
	pthread_mutex_lock(&sc.lock);
	l->counter->results[result]++;
	pthread_mutex_unlock(&sc.lock);
	if (result != SCRAPE_OK && result != SCRAPE_PRIMED)
		log_warn_limited("scrape_failed", "service=%s profile=%s url=%s result=%s detail=%s",
						 lq(l->service), profile_kind_name(l->kind), lq(l->url), result_names[result],
						 lq(detail ? detail : ""));
}

/* A scrape request is finished (stored, spooled or refused): free it. */
static void
scrape_request_done(Request *r)
{
	request_free(r);
}

/* Turn a completed scrape's body into a stored profile. */
static void
loop_store(ScrapeLoop *l)
{
	const uint8_t *data = l->body.data;
	size_t		len = l->body.len;
	Buf			delta;
	char		why[600];
	ProfileCheckOptions opts = profile_check_defaults();
	ProfileFacts facts;
	Request    *r;
	Profile    *p;
	uint8_t    *copy;

	opts.keep_inflated = true;
	buf_init(&delta);
	if (l->delta)
	{
		DeltaOutcome d = delta_apply(l->delta, data, len, (size_t) collector_config->max_profile_bytes,
									 &delta, why, sizeof(why));

		if (d == DELTA_PRIMED)
		{
			loop_result(l, SCRAPE_PRIMED, NULL);
			return;
		}
		if (d == DELTA_FAILED)
		{
			loop_result(l, SCRAPE_INVALID, why);
			buf_free(&delta);
			return;
		}
		data = delta.data;
		len = delta.len;
	}
	if (!profile_check(data, len, &opts, &facts, why, sizeof(why)))
	{
		loop_result(l, SCRAPE_INVALID, why);
		buf_free(&delta);
		return;
	}
	copy = xmalloc(len ? len : 1);
	memcpy(copy, data, len);
	buf_free(&delta);
	r = request_new(REQ_SCRAPE, EP_OTHER);
	p = request_add_profile(r, copy, len);
	profile_take_inflated(p, &facts);
	p->service = xstrdup(l->service);
	/* the endpoint names the profile: a block profile reads like a mutex one */
	p->name = xstrdup(profile_name_of(l->kind));
	p->labels_json = xstrdup(l->labels_json);
	p->label_keys = facts.label_keys;
	p->validated = facts.validated;
	facts.label_keys = NULL;
	p->at_us = l->started_us;
	profile_facts_free(&facts);
	r->on_done = scrape_request_done;
	loop_result(l, SCRAPE_OK, NULL);
	store_submit(r);
}

/* Handle a finished transfer. */
static void
loop_done(ScrapeLoop *l, CURLcode code)
{
	long		status = 0;
	char	   *type = NULL;
	char		detail[200];

	curl_easy_getinfo(l->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(l->easy, CURLINFO_CONTENT_TYPE, &type);
	if (code == CURLE_OPERATION_TIMEDOUT)
		loop_result(l, SCRAPE_TIMEOUT, curl_easy_strerror(code));
	else if (l->too_large || code == CURLE_FILESIZE_EXCEEDED)
		loop_result(l, SCRAPE_TOO_LARGE, "the profile is larger than max_body_bytes");
	else if (code != CURLE_OK)
		loop_result(l, SCRAPE_NETWORK_ERROR, curl_easy_strerror(code));
	else if (status < 200 || status > 299)
	{
		snprintf(detail, sizeof(detail), "HTTP %ld", status);
		loop_result(l, SCRAPE_HTTP_ERROR, detail);
	}
	else if (type == NULL || !str_has_prefix_ci(type, "application/octet-stream"))
	{
		snprintf(detail, sizeof(detail), "Content-Type %s, expected application/octet-stream",
				 type ? type : "(none)");
		loop_result(l, SCRAPE_CONTENT_TYPE, detail);
	}
	else
		loop_store(l);
	curl_multi_remove_handle(sc.multi, l->easy);
	curl_easy_cleanup(l->easy);
	l->easy = NULL;
	buf_free(&l->body);
}

/*
 * Build the loops of a target list, keeping the state of unchanged ones;
 * a reload (not the first list) logs one line.
 */
static void
apply_targets(ScrapeTarget *targets, int n, bool reload)
{
	ScrapeLoop **fresh = NULL;
	int			n_fresh = 0;
	int			kept = 0;

	/* /metrics reads the loops meanwhile: swap them under the lock */
	pthread_mutex_lock(&sc.lock);
	for (int t = 0; t < n; t++)
		for (int k = 0; k < PROFILE_KIND_COUNT; k++)
		{
			ScrapeLoop *l;

			if (!targets[t].enabled[k])
				continue;
			/* spread the first scrapes a little */
			l = loop_new(&targets[t], (ProfileKind) k, 0.05 * n_fresh);
			for (int o = 0; o < sc.n_loops; o++)
				if (sc.loops[o] && strcmp(sc.loops[o]->key, l->key) == 0)
				{
					loop_free(l);
					l = sc.loops[o];
					sc.loops[o] = NULL;
					kept++;
					break;
				}
			fresh = xrealloc(fresh, sizeof(ScrapeLoop *) * (size_t) (n_fresh + 1));
			fresh[n_fresh++] = l;
		}
	for (int o = 0; o < sc.n_loops; o++)
		if (sc.loops[o])
			loop_free(sc.loops[o]);
	free(sc.loops);
	sc.loops = fresh;
	sc.n_loops = n_fresh;
	pthread_mutex_unlock(&sc.lock);
	config_free_targets(targets, n);
	if (reload)
		log_line(LOG_INFO, "reload", "targets=%d loops=%d unchanged=%d", n, n_fresh, kept);
}

/* The scrape thread. */
static void *
scrape_main(void *arg)
{
	bool		first = true;

	(void) arg;
	while (!atomic_load(&sc.stopping))
	{
		double		now;
		double		wait = 1.0;
		int			running = 0;
		CURLMsg    *msg;
		int			left;

		pthread_mutex_lock(&sc.lock);
		if (sc.has_pending)
		{
			ScrapeTarget *targets = sc.pending;
			int			n = sc.n_pending;

			sc.pending = NULL;
			sc.n_pending = 0;
			sc.has_pending = false;
			pthread_mutex_unlock(&sc.lock);
			apply_targets(targets, n, !first);
			first = false;
		}
		else
			pthread_mutex_unlock(&sc.lock);
		now = mono_now();
		for (int i = 0; i < sc.n_loops; i++)
		{
			ScrapeLoop *l = sc.loops[i];

			if (l->easy == NULL && now >= l->next_due)
			{
				loop_start(l);
				l->next_due += (double) l->interval_ms / 1000.0;
				if (l->next_due <= now)
					l->next_due = now + (double) l->interval_ms / 1000.0;
			}
			if (l->easy == NULL && l->next_due - now < wait)
				wait = l->next_due - now;
		}
		curl_multi_poll(sc.multi, NULL, 0, (int) (wait > 0 ? wait * 1000 : 0) + 1, NULL);
		curl_multi_perform(sc.multi, &running);
		while ((msg = curl_multi_info_read(sc.multi, &left)) != NULL)
		{
			ScrapeLoop *l = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &l);
			if (l)
				loop_done(l, msg->data.result);
		}
	}
	pthread_mutex_lock(&sc.lock);
	for (int i = 0; i < sc.n_loops; i++)
		loop_free(sc.loops[i]);
	free(sc.loops);
	sc.loops = NULL;
	sc.n_loops = 0;
	pthread_mutex_unlock(&sc.lock);
	return NULL;
}

/* Escape a Prometheus label value. */
static void
append_label_value(Buf *out, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '\\' || *s == '"')
			buf_append(out, "\\", 1);
		if (*s == '\n')
			buf_append(out, "\\n", 2);
		else
			buf_append(out, s, 1);
	}
}

/* The scrape counters for /metrics. */
static void
render_scrape_metrics(Buf *out)
{
	buf_append_str(out, "# HELP pg_pprof_collector_scrapes_total Scrapes, by target service, profile and result.\n"
				   "# TYPE pg_pprof_collector_scrapes_total counter\n");
	pthread_mutex_lock(&sc.lock);
	for (int i = 0; i < sc.n_counters; i++)
	{
		ScrapeCounter *c = sc.counters[i];

		for (int r = 0; r < SCRAPE_RESULT_COUNT; r++)
		{
			if (c->results[r] == 0)
				continue;
			buf_append_str(out, "pg_pprof_collector_scrapes_total{service=\"");
			append_label_value(out, c->service);
			buf_printf(out, "\",profile=\"%s\",result=\"%s\"} %ld\n", profile_kind_name(c->kind),
					   result_names[r], c->results[r]);
		}
	}
	pthread_mutex_unlock(&sc.lock);
}

/* Copy a target list. */
static ScrapeTarget *
copy_targets(const ScrapeTarget *targets, int n)
{
	ScrapeTarget *out = xcalloc((size_t) (n ? n : 1), sizeof(ScrapeTarget));

	for (int i = 0; i < n; i++)
	{
		out[i] = targets[i];
		out[i].url = xstrdup(targets[i].url);
		out[i].path_prefix = xstrdup(targets[i].path_prefix);
		out[i].service = xstrdup(targets[i].service);
		out[i].labels_json = xstrdup(targets[i].labels_json);
	}
	return out;
}

/* Start the scrape thread with a copy of the targets. */
bool
scrape_start(const ScrapeTarget *targets, int n)
{
	sc.multi = curl_multi_init();
	if (sc.multi == NULL)
		return false;
	metrics_set_extra(render_scrape_metrics);
	sc.pending = copy_targets(targets, n);
	sc.n_pending = n;
	sc.has_pending = true;
	sc.running = pthread_create(&sc.thread, NULL, scrape_main, NULL) == 0;
	return sc.running;
}

/* Replace the targets (SIGHUP). */
void
scrape_reload(ScrapeTarget *targets, int n)
{
	pthread_mutex_lock(&sc.lock);
	if (sc.has_pending)
		config_free_targets(sc.pending, sc.n_pending);
	sc.pending = targets;
	sc.n_pending = n;
	sc.has_pending = true;
	pthread_mutex_unlock(&sc.lock);
	if (sc.multi)
		curl_multi_wakeup(sc.multi);
}

/* Stop scraping. */
void
scrape_stop(void)
{
	atomic_store(&sc.stopping, true);
	if (sc.multi)
		curl_multi_wakeup(sc.multi);
	if (sc.running)
		pthread_join(sc.thread, NULL);
	sc.running = false;
	if (sc.multi)
		curl_multi_cleanup(sc.multi);
	sc.multi = NULL;
	pthread_mutex_lock(&sc.lock);
	if (sc.has_pending)
		config_free_targets(sc.pending, sc.n_pending);
	sc.has_pending = false;
	pthread_mutex_unlock(&sc.lock);
}
