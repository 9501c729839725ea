/*
 * push.c
 *	  The Connect push endpoint: decoding (proto or JSON, gzip or not),
 *	  series labels, and profile checks.
 */
#include "push.h"
#include "collector.h"
#include "profile_check.h"
#include "util.h"

#include "push.pb-c.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One label of a series. */
typedef struct SeriesLabel
{
	const char *name;
	const char *value;
} SeriesLabel;

/* Build the service, name and labels JSON of a series; false with why if a label is bad. */
static bool
series_metadata(const SeriesLabel *labels, size_t n, char **service, char **name, char **labels_json,
				char *why, size_t why_len)
{
	json_t	   *obj = json_object();
	const char *svc = NULL;
	const char *nm = NULL;

	for (size_t i = 0; i < n; i++)
	{
		const char *k = labels[i].name ? labels[i].name : "";
		const char *v = labels[i].value ? labels[i].value : "";

		if (!utf8_valid(k, strlen(k)) || !utf8_valid(v, strlen(v)) || k[0] == '\0')
		{
			snprintf(why, why_len, "series label %zu has an empty name or is not valid UTF-8", i);
			json_decref(obj);
			return false;
		}
		if (strcmp(k, "service_name") == 0)
			svc = v;
		else if (strcmp(k, "__name__") == 0)
			nm = v;
		else if (strncmp(k, "__", 2) == 0 && strcmp(k, "__session_id__") != 0)
			continue;			/* Pyroscope's private labels, such as __delta__ */
		else
			json_object_set_new(obj, k, json_string(v));
	}
	*service = xstrdup(svc && *svc ? svc : "unknown_service");
	*name = nm && *nm ? xstrdup(nm) : NULL;
	*labels_json = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	return true;
}

/* Check one raw profile of a series and add it to the request; false if it failed. */
static bool
add_sample(Request *r, const uint8_t *raw, size_t len, const char *service, const char *name,
		   const char *labels_json, size_t series, size_t sample)
{
	ProfileCheckOptions opts = profile_check_defaults();
	ProfileFacts facts;
	char		why[600];
	uint8_t    *copy;
	Profile    *p;

	opts.keep_inflated = true;
	if (!profile_check(raw, len, &opts, &facts, why, sizeof(why)))
	{
		request_fail(r, facts.too_large ? FAIL_TOO_LARGE : FAIL_BAD_REQUEST,
					 facts.too_large ? REJ_TOO_LARGE : REJ_INVALID_PROFILE,
					 "invalid profile (series %zu, sample %zu): %s", series, sample, why);
		return false;
	}
	copy = xmalloc(len ? len : 1);
	memcpy(copy, raw, len);
	p = request_add_profile(r, copy, len);
	profile_take_inflated(p, &facts);
	p->service = xstrdup(service);
	/* __name__ wins; without it the name is derived from the sample types */
	if (name)
	{
		p->name = xstrdup(name);
		free(facts.name);
	}
	else
		p->name = facts.name;
	p->label_keys = facts.label_keys;
	p->validated = facts.validated;
	p->labels_json = xstrdup(labels_json);
	p->tenant = xstrdup(r->tenant);
	return true;
}

/* Decode an application/proto PushRequest into profiles. */
static void
parse_proto(Request *r, const uint8_t *body, size_t len)
{
	PbBudget	budget;
	Push__V1__PushRequest *req;

	pb_budget_init(&budget, len);
	req = push__v1__push_request__unpack(&budget.allocator, len, body);

	if (req == NULL)
	{
		request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_REQUEST,
					 "cannot decode the request: not a push.v1.PushRequest protobuf message, or truncated");
		return;
	}
	for (size_t s = 0; s < req->n_series && r->status == 0; s++)
	{
		Push__V1__RawProfileSeries *series = req->series[s];
		SeriesLabel *labels = xcalloc(series->n_labels ? series->n_labels : 1, sizeof(SeriesLabel));
		char	   *service,
				   *name,
				   *labels_json;
		char		why[200];

		for (size_t i = 0; i < series->n_labels; i++)
		{
			labels[i].name = series->labels[i]->name;
			labels[i].value = series->labels[i]->value;
		}
		if (!series_metadata(labels, series->n_labels, &service, &name, &labels_json, why, sizeof(why)))
			request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_REQUEST, "series %zu: %s", s, why);
		else
		{
			for (size_t k = 0; k < series->n_samples && r->status == 0; k++)
			{
				ProtobufCBinaryData raw = series->samples[k]->raw_profile;

				if (raw.len > 0)
					add_sample(r, raw.data, raw.len, service, name, labels_json, s, k);
			}
			free(service);
			free(name);
			free(labels_json);
		}
		free(labels);
	}
	push__v1__push_request__free_unpacked(req, &budget.allocator);
}

/* The value of the first of two JSON field spellings (proto name, JSON name). */
static json_t *
json_field(json_t *obj, const char *a, const char *b)
{
	json_t	   *v = json_object_get(obj, a);

	return v ? v : json_object_get(obj, b);
}

/* Decode an application/json PushRequest into profiles. */
static void
parse_json(Request *r, const uint8_t *body, size_t len)
{
	json_error_t err;
	json_t	   *root = json_loadb((const char *) body, len, 0, &err);
	json_t	   *series_list;

	if (root == NULL || !json_is_object(root))
	{
		request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_REQUEST, "cannot decode the JSON request%s%s",
					 root ? ": not an object" : ": ", root ? "" : err.text);
		json_decref(root);
		return;
	}
	series_list = json_object_get(root, "series");
	if (series_list && !json_is_array(series_list))
		request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_REQUEST, "series must be an array");
	for (size_t s = 0; series_list && s < json_array_size(series_list) && r->status == 0; s++)
	{
		json_t	   *series = json_array_get(series_list, s);
		json_t	   *labels = json_is_object(series) ? json_object_get(series, "labels") : NULL;
		json_t	   *samples = json_is_object(series) ? json_object_get(series, "samples") : NULL;
		size_t		n_labels = json_is_array(labels) ? json_array_size(labels) : 0;
		SeriesLabel *pairs = xcalloc(n_labels ? n_labels : 1, sizeof(SeriesLabel));
		char	   *service,
				   *name,
				   *labels_json;
		char		why[200];
		bool		ok = json_is_object(series) && (labels == NULL || json_is_array(labels)) &&
			(samples == NULL || json_is_array(samples));

		for (size_t i = 0; ok && i < n_labels; i++)
		{
			json_t	   *pair = json_array_get(labels, i);
			json_t	   *nm = json_is_object(pair) ? json_object_get(pair, "name") : NULL;
			json_t	   *val = json_is_object(pair) ? json_object_get(pair, "value") : NULL;

			ok = json_is_string(nm) && (val == NULL || json_is_string(val));
			pairs[i].name = ok ? json_string_value(nm) : NULL;
			pairs[i].value = ok && val ? json_string_value(val) : "";
		}
		if (!ok)
			request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_REQUEST, "series %zu is malformed", s);
		else if (!series_metadata(pairs, n_labels, &service, &name, &labels_json, why, sizeof(why)))
			request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_REQUEST, "series %zu: %s", s, why);
		else
		{
			for (size_t k = 0; samples && k < json_array_size(samples) && r->status == 0; k++)
			{
				json_t	   *sample = json_array_get(samples, k);
				json_t	   *raw = json_is_object(sample) ? json_field(sample, "rawProfile", "raw_profile") : NULL;
				uint8_t    *bytes;
				size_t		blen;

				if (raw == NULL && json_is_object(sample))
					continue;	/* an empty sample, as proto3 JSON leaves it out */
				if (!json_is_string(raw) ||
					(bytes = base64_decode(json_string_value(raw), json_string_length(raw), &blen)) == NULL)
				{
					request_fail(r, FAIL_BAD_REQUEST, REJ_BAD_REQUEST,
								 "series %zu, sample %zu: rawProfile must be base64", s, k);
					break;
				}
				if (blen > 0)
					add_sample(r, bytes, blen, service, name, labels_json, s, k);
				free(bytes);
			}
			free(service);
			free(name);
			free(labels_json);
		}
		free(pairs);
	}
	json_decref(root);
}

/* Turn a push request's body into profiles, or fail it. */
void
push_parse(Request *r)
{
	const char *ct = r->content_type ? r->content_type : "";
	const char *enc = r->content_encoding;
	bool		json = str_has_prefix_ci(ct, "application/json");
	bool		proto = str_has_prefix_ci(ct, "application/proto") ||
		str_has_prefix_ci(ct, "application/x-protobuf") || str_has_prefix_ci(ct, "application/protobuf");
	Buf			inflated;
	const uint8_t *body = r->body.data;
	size_t		len = r->body.len;

	if (!json && !proto)
	{
		/* Connect: an unknown codec is a plain 415, not a Connect error */
		r->status = 415;
		r->response_type = "text/plain; charset=utf-8";
		buf_append_str(&r->response, "unsupported Content-Type: use application/proto or application/json\n");
		metrics_reject(REJ_UNSUPPORTED_FORMAT);
		return;
	}
	buf_init(&inflated);
	if (enc && *enc && strcasecmp(enc, "identity") != 0)
	{
		const char *err;

		if (strcasecmp(enc, "gzip") != 0)
		{
			request_fail(r, FAIL_UNSUPPORTED, REJ_UNSUPPORTED_FORMAT,
						 "unsupported Content-Encoding %s: use gzip or identity", enc);
			return;
		}
		err = gunzip_bounded(body, len, (size_t) collector_config->max_profile_bytes, &inflated);
		if (err)
		{
			request_fail(r, strstr(err, "limit") ? FAIL_TOO_LARGE : FAIL_BAD_REQUEST,
						 strstr(err, "limit") ? REJ_TOO_LARGE : REJ_BAD_REQUEST,
						 "cannot decompress the request: %s", err);
			buf_free(&inflated);
			return;
		}
		body = inflated.data;
		len = inflated.len;
	}
	if (proto)
		parse_proto(r, body ? body : (const uint8_t *) "", len);
	else
		parse_json(r, body ? body : (const uint8_t *) "", len);
	buf_free(&inflated);
}
