/*
 * profile_check.c
 *	  pprof validation, naming and label discovery through the cores.
 */
#include "profile_check.h"
#include "collector.h"
#include "core_host.h"
#include "metrics.h"
#include "pprof_scan.h"
#include "store.h"
#include "request.h"
#include "util.h"

#include "profile.pb-c.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The server's pg_pprof.max_input_bytes once known (0: not yet). */
static _Atomic size_t server_limit;

/* Decoding may use up to 16 times the message plus 16 MB (src/pprof_decode.c). */
#define DECODE_MEMORY_FACTOR 20
#define DECODE_MEMORY_EXTRA (64 * 1024 * 1024)

/* One check's inputs and outputs, passed through core_run. */
typedef struct CheckCall
{
	const uint8_t *data;
	size_t		len;
	const ProfileCheckOptions *options;
	size_t		limit;
	ProfileFacts *facts;
} CheckCall;

/* The options from the collector's settings. */
ProfileCheckOptions
profile_check_defaults(void)
{
	ProfileCheckOptions o;

	memset(&o, 0, sizeof(o));
	o.max_profile_bytes = (size_t) collector_config->max_profile_bytes;
	o.max_stack_depth = 65536;
	o.ignore_labels = collector_config->ignore_labels;
	o.n_ignore_labels = collector_config->n_ignore_labels;
	o.full = !store_db_up();
	return o;
}

/* Lower the decompressed size limit to the server's pg_pprof.max_input_bytes. */
void
profile_check_set_server_limit(size_t max_input_bytes)
{
	atomic_store(&server_limit, max_input_bytes);
}

/* True when key is one of the ignored labels. */
static bool
ignored_label(const ProfileCheckOptions *o, const char *key)
{
	for (int i = 0; i < o->n_ignore_labels; i++)
		if (strcmp(o->ignore_labels[i], key) == 0)
			return true;
	return false;
}

/* The text[] literal of the keys that are not ignored. */
static char *
kept_keys_literal(const ProfileCheckOptions *o, char **keys, int n)
{
	char	  **kept = xcalloc((size_t) n + 1, sizeof(char *));
	int			n_kept = 0;
	char	   *literal;

	for (int i = 0; i < n; i++)
		if (!ignored_label(o, keys[i]))
			kept[n_kept++] = keys[i];
	literal = text_array_literal(kept, n_kept);
	free(kept);
	return literal;
}

/* Decode, walk every sample (stack depth, labels) and name the profile. */
static void
check_in_core(void *arg)
{
	CheckCall  *call = arg;
	PprofOptions po;
	PprofFile  *file;
	const Pprof__Profile *msg;
	const ProtobufCBinaryData **keys;
	size_t		n_keys = 0;
	size_t		key_cap = 16;
	const char *name;
	char	  **kept;
	int			n_kept = 0;

	memset(&po, 0, sizeof(po));
	po.max_input_bytes = call->limit;
	po.max_stack_depth = call->options->max_stack_depth;
	file = pprof_open(call->data, call->len, &po);
	msg = file->msg;
	/* core allocations only until nothing can raise any more */
	keys = pp_alloc_array(key_cap, sizeof(*keys));
	for (size_t i = 0; i < msg->n_sample; i++)
	{
		const Pprof__Sample *s = msg->sample[i];

		(void) pprof_sample_stack(file, s);
		for (size_t j = 0; j < s->n_label; j++)
		{
			const Pprof__Label *l = s->label[j];
			const ProtobufCBinaryData *k;
			bool		seen = false;

			/* only string labels split rows, as in Pyroscope (not Go's numeric bytes) */
			if (l->str == 0 || l->key <= 0 || (uint64_t) l->key >= msg->n_string_table)
				continue;
			k = &msg->string_table[l->key];
			for (size_t x = 0; x < n_keys && !seen; x++)
				seen = keys[x]->len == k->len && memcmp(keys[x]->data, k->data, k->len) == 0;
			if (seen)
				continue;
			if (n_keys == key_cap)
			{
				key_cap *= 2;
				keys = pp_realloc(keys, pp_mul_size(key_cap, sizeof(*keys)));
			}
			keys[n_keys++] = k;
		}
	}
	name = pprof_profile_name(file, call->options->display_name, call->options->display_name_arg);

	/* copy the results out with malloc: the core's memory goes when this returns */
	kept = xcalloc(n_keys + 1, sizeof(char *));
	for (size_t x = 0; x < n_keys; x++)
	{
		const ProtobufCBinaryData *k = keys[x];

		if (k->len == 0 || k->len > 1024 || !utf8_valid((const char *) k->data, k->len))
			continue;
		kept[n_kept++] = xstrndup((const char *) k->data, k->len);
	}
	call->facts->label_keys = kept_keys_literal(call->options, kept, n_kept);
	for (int x = 0; x < n_kept; x++)
		free(kept[x]);
	free(kept);
	call->facts->name = xstrdup(name && *name ? name : "unknown");
	call->facts->time_ns = file->meta.start_ns;
}

/*
 * Count len inflated bytes in the budget of request data held in memory;
 * false (and nothing counted) when they do not fit.
 */
static bool
keep_in_budget(size_t len)
{
	if (metrics_gauge_get(GAUGE_BUFFERED_BYTES) + (int64_t) len >
		(int64_t) collector_config->max_buffered_bytes)
		return false;
	metrics_gauge_add(GAUGE_BUFFERED_BYTES, (int64_t) len);
	return true;
}

/* Free inflated bytes from ProfileFacts and return them to the budget. */
void
profile_inflated_free(uint8_t *inflated, size_t len)
{
	if (inflated == NULL)
		return;
	free(inflated);
	metrics_gauge_add(GAUGE_BUFFERED_BYTES, -(int64_t) len);
}

/* The quick check: the scan, and the name from its sample types. */
static bool
check_quickly(const uint8_t *data, size_t len, const ProfileCheckOptions *options, size_t limit,
			  ProfileFacts *facts, char *why, size_t why_len)
{
	PprofScan	scan;
	PprofFile	types;
	const char *name;

	if (!pprof_scan(data, len, limit, options->keep_inflated, &scan, why, why_len))
	{
		facts->too_large = scan.too_large;
		return false;
	}
	/* pprof_profile_name reads only the sample type names of the file */
	memset(&types, 0, sizeof(types));
	types.sample_type_count = (uint32_t) scan.n_types;
	types.type_names = (const char **) scan.type_names;
	name = pprof_profile_name(&types, options->display_name, options->display_name_arg);
	facts->name = xstrdup(name && *name ? name : "unknown");
	facts->label_keys = kept_keys_literal(options, scan.label_keys, scan.n_label_keys);
	facts->time_ns = scan.time_ns;
	if (scan.inflated && keep_in_budget(scan.inflated_len))
	{
		facts->inflated = scan.inflated;
		facts->inflated_len = scan.inflated_len;
		scan.inflated = NULL;
	}
	pprof_scan_free(&scan);
	return true;
}

/* Check data; on success fill facts and return true, else explain in why. */
bool
profile_check(const uint8_t *data, size_t len, const ProfileCheckOptions *options,
			  ProfileFacts *facts, char *why, size_t why_len)
{
	CheckCall	call;
	CoreFailure failure;
	size_t		limit = options->max_profile_bytes;
	size_t		server = atomic_load(&server_limit);

	memset(facts, 0, sizeof(*facts));
	if (server != 0 && server < limit)
		limit = server;
	if (!options->full)
		return check_quickly(data, len, options, limit, facts, why, why_len);
	call.data = data;
	call.len = len;
	call.options = options;
	call.limit = limit;
	call.facts = facts;
	if (core_run(check_in_core, &call, limit * DECODE_MEMORY_FACTOR + DECODE_MEMORY_EXTRA, &failure))
	{
		facts->validated = true;
		return true;
	}
	profile_facts_free(facts);
	facts->too_large = failure.kind == PP_ERR_LIMIT;
	snprintf(why, why_len, "%s", failure.message);
	return false;
}

/* Free what profile_check put into facts. */
void
profile_facts_free(ProfileFacts *facts)
{
	free(facts->name);
	free(facts->label_keys);
	profile_inflated_free(facts->inflated, facts->inflated_len);
	facts->name = NULL;
	facts->label_keys = NULL;
	facts->inflated = NULL;
}
