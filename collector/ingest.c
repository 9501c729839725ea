/*
 * ingest.c
 *	  POST /ingest: the name, the times, the body formats, and the labels
 *	  each profile is stored with.
 *
 * Labels: the tags of name, except reserved ones (starting with "__") and
 * service_name, which becomes the service (the app part is then kept as
 * app_name); plus pyroscope_spy from spyName, as Pyroscope adds it.
 */
#include "ingest.h"
#include "collector.h"
#include "folded.h"
#include "labelset.h"
#include "multipart.h"
#include "profile_check.h"
#include "util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The display names of a sample_type_config part. */
typedef struct DisplayNames
{
	char	  **types;
	char	  **names;
	int			n;
} DisplayNames;

/* pprof_profile_name's callback: the configured display name, or NULL. */
static const char *
display_name_of(void *arg, const char *sample_type)
{
	const DisplayNames *d = arg;

	for (int i = 0; i < d->n; i++)
		if (strcmp(d->types[i], sample_type) == 0)
			return d->names[i];
	return NULL;
}

/* Read sample_type_config JSON ({type: {"display-name": ...}}); false if malformed. */
static bool
parse_sample_type_config(const uint8_t *data, size_t len, DisplayNames *out, char *why, size_t why_len)
{
	json_error_t err;
	json_t	   *root = json_loadb((const char *) data, len, JSON_REJECT_DUPLICATES, &err);
	const char *type;
	json_t	   *config;

	memset(out, 0, sizeof(*out));
	if (root == NULL || !json_is_object(root))
	{
		snprintf(why, why_len, "sample_type_config is not a JSON object%s%s",
				 root ? "" : ": ", root ? "" : err.text);
		json_decref(root);
		return false;
	}
	json_object_foreach(root, type, config)
	{
		json_t	   *name = json_is_object(config) ? json_object_get(config, "display-name") : NULL;

		if (!json_is_string(name) || json_string_length(name) == 0)
			continue;
		out->types = xrealloc(out->types, sizeof(char *) * (size_t) (out->n + 1));
		out->names = xrealloc(out->names, sizeof(char *) * (size_t) (out->n + 1));
		out->types[out->n] = xstrdup(type);
		out->names[out->n] = xstrdup(json_string_value(name));
		out->n++;
	}
	json_decref(root);
	return true;
}

/* Free parsed display names. */
static void
free_display_names(DisplayNames *d)
{
	for (int i = 0; i < d->n; i++)
	{
		free(d->types[i]);
		free(d->names[i]);
	}
	free(d->types);
	free(d->names);
}

/* The service and the labels JSON of a request's name. */
static bool
service_and_labels(Request *r, const LabelSet *ls, const char *app, char **service, char **labels)
{
	const char *tagged_service = labelset_get(ls, "service_name");
	json_t	   *obj = json_object();
	bool		ok = true;

	for (int i = 0; i < ls->n && ok; i++)
	{
		const char *k = ls->keys[i];

		if ((strncmp(k, "__", 2) == 0 && strcmp(k, "__session_id__") != 0) ||
			strcmp(k, "service_name") == 0)
			continue;
		ok = json_object_set_new(obj, k, json_string(ls->values[i])) == 0;
	}
	if (ok && tagged_service && json_object_get(obj, "app_name") == NULL)
		ok = json_object_set_new(obj, "app_name", json_string(app)) == 0;
	if (ok)
		ok = json_object_set_new(obj, "pyroscope_spy",
								 json_string(r->query_spy_name && *r->query_spy_name ?
											 r->query_spy_name : "unknown")) == 0;
	if (ok)
	{
		*labels = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
		*service = xstrdup(tagged_service && *tagged_service ? tagged_service : app);
	}
	json_decref(obj);
	return ok && *labels != NULL;
}

/*
 * Check one pprof and add it to the request; fails the request (422) when
 * the profile is invalid.  Takes ownership of data.
 */
static void
add_pprof(Request *r, uint8_t *data, size_t len, const DisplayNames *display, const char *service,
		  const char *labels, int64_t from_us)
{
	ProfileCheckOptions opts = profile_check_defaults();
	ProfileFacts facts;
	char		why[600];
	Profile    *p;

	if (display)
	{
		opts.display_name = display_name_of;
		opts.display_name_arg = (void *) display;
	}
	opts.keep_inflated = true;
	if (!profile_check(data, len, &opts, &facts, why, sizeof(why)))
	{
		request_fail(r, FAIL_INVALID_PROFILE, facts.too_large ? REJ_TOO_LARGE : REJ_INVALID_PROFILE,
					 "failed to parse pprof: %s", why);
		free(data);
		return;
	}
	p = request_add_profile(r, data, len);
	profile_take_inflated(p, &facts);
	p->service = xstrdup(service);
	p->name = facts.name;
	p->label_keys = facts.label_keys;
	p->validated = facts.validated;
	p->labels_json = xstrdup(labels);
	p->tenant = xstrdup(r->tenant);
	p->at_us = from_us;
}

/* A multipart form from pyroscope-go: profile, optional sample_type_config. */
static void
ingest_form(Request *r, const char *service, const char *labels, int64_t from_us)
{
	MultipartPart *parts;
	int			n;
	char		why[300];
	const MultipartPart *profile;
	const MultipartPart *config;
	DisplayNames display;
	bool		have_display = false;

	if (!multipart_parse(r->content_type, r->body.data, r->body.len, &parts, &n, why, sizeof(why)))
	{
		request_fail(r, FAIL_INVALID_PROFILE, REJ_INVALID_PROFILE,
					 "failed to parse pprof /ingest multipart form: %s", why);
		return;
	}
	if (multipart_file(parts, n, "prev_profile"))
	{
		request_fail(r, FAIL_INVALID_PROFILE, REJ_UNSUPPORTED_FORMAT,
					 "unsupported client version: a prev_profile part is the old cumulative protocol. "
					 "Please update github.com/grafana/pyroscope-go to the latest version");
		multipart_free(parts, n);
		return;
	}
	profile = multipart_file(parts, n, "profile");
	config = multipart_file(parts, n, "sample_type_config");
	if (config)
	{
		if (!parse_sample_type_config(config->data, config->len, &display, why, sizeof(why)))
		{
			request_fail(r, FAIL_INVALID_PROFILE, REJ_INVALID_PROFILE, "%s", why);
			multipart_free(parts, n);
			return;
		}
		have_display = true;
	}
	/* an empty profile part stores nothing and answers 200, as in Pyroscope */
	if (profile && profile->len > 0)
	{
		uint8_t    *copy = xmalloc(profile->len);

		memcpy(copy, profile->data, profile->len);
		add_pprof(r, copy, profile->len, have_display ? &display : NULL, service, labels, from_us);
	}
	if (have_display)
		free_display_names(&display);
	multipart_free(parts, n);
}

/* Folded text: one stack per line, with or without counts. */
static void
ingest_folded(Request *r, const LabelSet *ls, bool individual_lines, int64_t from_us, int64_t until_us)
{
	FoldedType	type;
	char	   *app = NULL;
	char	   *service = NULL;
	char	   *labels = NULL;
	char		why[300];
	int64_t		rate = 100;
	uint8_t    *data;
	size_t		len;

	if (!folded_type_of(ls->app, &app, &type, why, sizeof(why)))
	{
		request_fail(r, FAIL_INVALID_PROFILE, REJ_INVALID_PROFILE, "%s", why);
		return;
	}
	if (r->query_sample_rate && *r->query_sample_rate)
	{
		char	   *end;
		long long	v = strtoll(r->query_sample_rate, &end, 10);

		/* Pyroscope falls back to 100 when sampleRate is unreadable */
		rate = (*end == '\0' && v >= 0 && v <= 1000000000LL) ? v : 100;
	}
	if (!service_and_labels(r, ls, app, &service, &labels))
	{
		request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_NAME, "name: a label is not valid UTF-8");
		free(app);
		return;
	}
	data = folded_to_pprof(r->body.data, r->body.len, individual_lines, &type, rate,
						   from_us * 1000, (until_us - from_us) * 1000, &len, why, sizeof(why));
	if (data == NULL)
		request_fail(r, FAIL_INVALID_PROFILE, REJ_INVALID_PROFILE, "failed to parse folded stacks: %s", why);
	else
	{
		ProfileCheckOptions opts = profile_check_defaults();
		ProfileFacts facts;

		if (!profile_check(data, len, &opts, &facts, why, sizeof(why)))
		{
			request_fail(r, FAIL_INVALID_PROFILE, REJ_INVALID_PROFILE, "failed to parse folded stacks: %s", why);
			free(data);
		}
		else
		{
			Profile    *p = request_add_profile(r, data, len);

			p->service = service;
			service = NULL;
			p->name = xstrdup(type.profile_name);
			p->label_keys = facts.label_keys;
			p->validated = facts.validated;
			facts.label_keys = NULL;
			p->labels_json = labels;
			labels = NULL;
			p->tenant = xstrdup(r->tenant);
			p->at_us = from_us;
			profile_facts_free(&facts);
		}
	}
	free(app);
	free(service);
	free(labels);
}

/* True when the format (or Content-Type) names one this collector cannot store. */
static const char *
unsupported_format(const char *format, const char *content_type)
{
	if (strcmp(format, "jfr") == 0)
		return "format=jfr is not supported yet: pg_pprof_collector stores pprof profiles and "
			"cannot read Java Flight Recorder uploads until Java ingest exists";
	if (strcmp(format, "trie") == 0 ||
		(content_type && strcasestr(content_type, "binary/octet-stream+trie")))
		return "format=trie (the old Pyroscope trie) is not supported: send pprof or folded text";
	if (strcmp(format, "tree") == 0 ||
		(content_type && strcasestr(content_type, "binary/octet-stream+tree")))
		return "format=tree (the old Pyroscope tree) is not supported: send pprof or folded text";
	if (strcmp(format, "speedscope") == 0)
		return "format=speedscope is not supported: send pprof or folded text";
	return NULL;
}

/* Turn an /ingest request's body into profiles, or fail it. */
void
ingest_parse(Request *r)
{
	LabelSet	ls;
	char		why[300];
	const char *format = r->query_format ? r->query_format : "";
	const char *unsupported;
	int64_t		from_us,
				until_us;
	char	   *service = NULL;
	char	   *labels = NULL;

	if (!labelset_parse(r->query_name, &ls, why, sizeof(why)))
	{
		request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_NAME, "%s", why);
		return;
	}
	from_us = attime_parse(r->query_from, r->received_us);
	until_us = attime_parse(r->query_until, r->received_us);
	/* the same order of cases as Pyroscope's handler */
	if (strcmp(format, "lines") == 0)
		ingest_folded(r, &ls, true, from_us, until_us);
	else if ((unsupported = unsupported_format(format, r->content_type)) != NULL)
		request_fail(r, FAIL_UNSUPPORTED, REJ_UNSUPPORTED_FORMAT, "%s", unsupported);
	else if (strcmp(format, "pprof") == 0 || multipart_is_form(r->content_type))
	{
		if (!service_and_labels(r, &ls, ls.app, &service, &labels))
			request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_NAME, "name: a label is not valid UTF-8");
		else if (strcmp(format, "pprof") == 0)
		{
			size_t		len;
			uint8_t    *data;

			/* an empty body stores nothing and answers 200, as in Pyroscope */
			if (r->body.len > 0)
			{
				data = buf_steal(&r->body, &len);
				add_pprof(r, data, len, NULL, service, labels, from_us);
			}
		}
		else
			ingest_form(r, service, labels, from_us);
	}
	else
		ingest_folded(r, &ls, false, from_us, until_us);
	free(service);
	free(labels);
	labelset_free(&ls);
}
