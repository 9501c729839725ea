/*
 * pprof_split.c
 *	  pprof_split's grouping: a decoded pprof file's samples split by the
 *	  values of chosen labels, with one call tree per group and sample type,
 *	  and each group's labels as a JSON object.
 */
#include "pprof_split.h"
#include "bytebuf.h"
#include "utf8_text.h"
#include "profile.pb-c.h"

#include <inttypes.h>
#include <stdio.h>

/* Raise a malformed-pprof error. */
#define bad_pprof(...) pp_error(PP_ERR_BAD_PPROF, __VA_ARGS__)

/* True when every value of a sample is zero (pprof drops such samples). */
static bool
sample_is_empty(const Pprof__Sample *s)
{
	for (size_t k = 0; k < s->n_value; k++)
		if (s->value[k] != 0)
			return false;
	return true;
}

/* Append s as a JSON string literal. */
static void
json_append_string(ByteBuf *out, const char *s)
{
	bytebuf_append(out, "\"", 1);
	for (; *s; s++)
	{
		unsigned char c = (unsigned char) *s;
		char		esc[8];

		if (c == '"' || c == '\\')
		{
			esc[0] = '\\';
			esc[1] = (char) c;
			bytebuf_append(out, esc, 2);
		}
		else if (c < 0x20)
		{
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			bytebuf_append(out, esc, 6);
		}
		else
			bytebuf_append(out, s, 1);
	}
	bytebuf_append(out, "\"", 1);
}

/*
 * Describe sample s's values for the requested keys: a binary group key
 * (for interning) and the JSON object.  key_of_string maps string-table
 * indexes to requested key numbers (-1 for other strings).
 */
static void
sample_label_key(const PprofFile *file, const Pprof__Sample *s, const int *key_of_string,
				 int key_count, const char *const *keys, ByteBuf *key, ByteBuf *json)
{
	const Pprof__Profile *msg = file->msg;
	bool		first = true;

	key->len = 0;
	json->len = 0;
	bytebuf_append(json, "{", 1);
	for (int k = 0; k < key_count; k++)
	{
		const Pprof__Label *found = NULL;

		for (size_t j = 0; j < s->n_label && !found; j++)
		{
			const Pprof__Label *l = s->label[j];

			if (l->key < 0 || (uint64_t) l->key >= msg->n_string_table ||
				key_of_string[l->key] != k)
				continue;
			if (l->str != 0 || l->num != 0 || l->num_unit != 0)
				found = l;
		}
		if (!found)
		{
			bytebuf_append(key, "", 1);
			continue;
		}
		if (!first)
			bytebuf_append(json, ", ", 2);
		first = false;
		json_append_string(json, keys[k]);
		bytebuf_append(json, ": ", 2);
		if (found->str != 0)
		{
			const char *v;
			size_t		vlen;

			if (found->str < 0 || (uint64_t) found->str >= msg->n_string_table)
				bad_pprof("invalid pprof: label value refers to string %" PRId64
						  " but the string table has %zu entries",
						  found->str, msg->n_string_table);
			v = (const char *) msg->string_table[found->str].data;
			vlen = msg->string_table[found->str].len;
			v = pp_strndup(utf8_sanitize(v, vlen, &vlen), vlen);
			bytebuf_append(key, "s", 1);
			bytebuf_put_varint(key, vlen);
			bytebuf_append(key, v, vlen);
			json_append_string(json, v);
			pp_free((void *) v);
		}
		else
		{
			char		num[32];
			int			n = snprintf(num, sizeof(num), "%" PRId64, found->num);

			bytebuf_append(key, "n", 1);
			bytebuf_append(key, num, (size_t) n + 1);
			bytebuf_append(json, num, (size_t) n);
		}
	}
	bytebuf_append(json, "}", 2);	/* with the NUL */
}

/*
 * One group being built: a single tree of every sample of the group, with
 * per sample type the self values and which nodes that type's samples
 * reach.  Building one tree per group instead of one per sample type means
 * one hash walk per sample, whatever the number of sample types.
 */
typedef struct GroupBuild
{
	CallTree   *tree;
	int64_t   **self;			/* [type][node] */
	uint8_t   **reached;		/* [type][node]: on the path of a non-zero sample */
	uint32_t	capacity;		/* nodes the per-type arrays can hold */
} GroupBuild;

/* Start a group's shared tree and its per-type arrays. */
static void
group_build_init(GroupBuild *gb, PprofFile *file, uint32_t ntypes, uint32_t reserve)
{
	gb->tree = calltree_create(&file->symbols);
	calltree_reserve(gb->tree, reserve);
	gb->capacity = gb->tree->capacity;
	gb->self = pp_alloc_array(ntypes + 1, sizeof(int64_t *));
	gb->reached = pp_alloc_array(ntypes + 1, sizeof(uint8_t *));
	for (uint32_t t = 0; t < ntypes; t++)
	{
		gb->self[t] = pp_alloc0(pp_mul_size(gb->capacity, sizeof(int64_t)));
		gb->reached[t] = pp_alloc0(gb->capacity);
	}
}

/* Add one sample's values to a group: one path, then each non-zero type. */
static void
group_build_add(GroupBuild *gb, const uint32_t *frames, uint32_t depth,
				const Pprof__Sample *s, uint32_t ntypes)
{
	uint32_t	leaf = calltree_insert_path(gb->tree, frames, depth);

	if (gb->tree->count > gb->capacity)
	{
		uint32_t	old = gb->capacity;

		gb->capacity = gb->tree->capacity;
		for (uint32_t t = 0; t < ntypes; t++)
		{
			gb->self[t] = pp_realloc(gb->self[t], pp_mul_size(gb->capacity, sizeof(int64_t)));
			memset(gb->self[t] + old, 0, sizeof(int64_t) * (gb->capacity - old));
			gb->reached[t] = pp_realloc(gb->reached[t], gb->capacity);
			memset(gb->reached[t] + old, 0, gb->capacity - old);
		}
	}
	for (uint32_t t = 0; t < ntypes; t++)
	{
		uint32_t	n = leaf;

		if (s->value[t] == 0)
			continue;
		gb->self[t][leaf] = pp_add_int64(gb->self[t][leaf], s->value[t]);
		/* mark the path up to the first node already marked */
		while (n != CALLTREE_ROOT && !gb->reached[t][n])
		{
			gb->reached[t][n] = 1;
			n = gb->tree->nodes[n].parent;
		}
	}
}

/*
 * The tree of one sample type: the nodes that type's samples reach, so it
 * is exactly the tree pprof_build_tree would build for that type.
 */
static CallTree *
group_build_type_tree(const GroupBuild *gb, PprofFile *file, int type_index)
{
	CallTree   *tree = calltree_subset(gb->tree, gb->reached[type_index], gb->self[type_index]);

	tree->meta = pprof_type_meta(file, type_index);
	return tree;
}

/* Split samples by label values into groups, each with a tree per type. */
PprofGroup *
pprof_build_groups(PprofFile *file, const char *const *keys, int key_count,
				   uint32_t *group_count)
{
	const Pprof__Profile *msg = file->msg;
	uint32_t	ntypes = file->sample_type_count;
	int		   *key_of_string = pp_alloc_array(msg->n_string_table, sizeof(int));
	StringInterner group_keys;
	PprofGroup *groups;
	GroupBuild *builds;
	uint32_t	groups_capacity = 8;
	ByteBuf		key,
				json;

	/* Which strings name a requested key (a key may repeat in the table). */
	for (size_t i = 0; i < msg->n_string_table; i++)
	{
		key_of_string[i] = -1;
		for (int k = 0; k < key_count && i > 0; k++)
			if (strlen(keys[k]) == msg->string_table[i].len &&
				(msg->string_table[i].len == 0 ||
				 memcmp(keys[k], msg->string_table[i].data, msg->string_table[i].len) == 0))
			{
				key_of_string[i] = k;
				break;
			}
	}
	interner_init(&group_keys);
	groups = pp_alloc_array(groups_capacity, sizeof(PprofGroup));
	builds = pp_alloc_array(groups_capacity, sizeof(GroupBuild));
	bytebuf_init(&key, 64);
	bytebuf_init(&json, 64);

	/* Without keys there is always one group, even with no samples. */
	if (key_count == 0)
	{
		sample_label_key(file, NULL, key_of_string, 0, keys, &key, &json);
		(void) interner_intern(&group_keys, (const char *) key.data, key.len);
		groups[0].labels_json = pp_strndup((const char *) json.data, json.len);
		group_build_init(&builds[0], file, ntypes, pprof_estimate_nodes(file));
	}

	for (size_t i = 0; i < msg->n_sample; i++)
	{
		const Pprof__Sample *s = msg->sample[i];
		uint32_t	known = group_keys.count;
		uint32_t	g;
		uint32_t	depth;

		if (sample_is_empty(s))
			continue;
		sample_label_key(file, s, key_of_string, key_count, keys, &key, &json);
		g = interner_intern(&group_keys, (const char *) key.data, key.len);
		if (g == groups_capacity)
		{
			groups_capacity *= 2;
			groups = pp_realloc(groups, pp_mul_size(groups_capacity, sizeof(PprofGroup)));
			builds = pp_realloc(builds, pp_mul_size(groups_capacity, sizeof(GroupBuild)));
		}
		if (g == known)
		{
			/* first sample of a new combination */
			groups[g].labels_json = pp_strndup((const char *) json.data, json.len);
			group_build_init(&builds[g], file, ntypes, 256);
		}
		depth = pprof_sample_stack(file, s);
		group_build_add(&builds[g], file->stack, depth, s, ntypes);
		if ((i & 0x3ff) == 0x3ff)
			pp_check_interrupts();
	}

	for (uint32_t g = 0; g < group_keys.count; g++)
	{
		groups[g].trees = pp_alloc_array(ntypes + 1, sizeof(CallTree *));
		for (uint32_t t = 0; t < ntypes; t++)
			groups[g].trees[t] = group_build_type_tree(&builds[g], file, (int) t);
	}
	*group_count = group_keys.count;
	pp_free(builds);
	pp_free(key.data);
	pp_free(json.data);
	pp_free(key_of_string);
	return groups;
}
