/*
 * pprof_split.c
 *	  pprof_split's grouping: a decoded pprof file's samples split by the
 *	  values of chosen labels, with one call tree per group and sample type,
 *	  and each group's labels as a JSON object.
 *
 * The work is linear in the input: requested keys are deduplicated and
 * matched to the string table through a hash, and each sample's labels are
 * looked at once.  What the groups cost (their trees, their per-type values,
 * their labels) is charged to the caller's budget as they grow, and the
 * per-type trees are built one at a time, on request.
 */
#include "pprof_split.h"
#include "bytebuf.h"
#include "utf8_text.h"
#include "profile.pb-c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Raise a malformed-pprof error. */
#define bad_pprof(...) pp_error(PP_ERR_BAD_PPROF, __VA_ARGS__)

/* Nodes a new group's tree starts with: most groups (one per span id, say) are small. */
#define GROUP_INITIAL_NODES 8

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
	char	   *labels_json;	/* a JSON object, e.g. {"endpoint": "/api"} */
} GroupBuild;

/* One requested label found on a sample. */
typedef struct LabelHit
{
	uint32_t	key;			/* requested key number */
	const Pprof__Label *label;
} LabelHit;

/* The split being built (see pprof_split.h). */
struct PprofSplit
{
	PprofFile  *file;
	uint32_t	ntypes;
	PPBudget   *budget;
	/* requested keys, deduplicated; key number = id in key_names */
	StringInterner key_names;
	int32_t    *key_of_string;	/* per string-table index: key number, or -1 */
	uint32_t   *key_seen;		/* per key: the last sample (+1) that had it */
	LabelHit   *hits;			/* one sample's requested labels */
	size_t		hits_capacity;
	/* the groups, by their binary key */
	StringInterner group_keys;
	GroupBuild *groups;
	uint32_t	capacity;
};

/* True when every value of a sample is zero (pprof drops such samples). */
static bool
sample_is_empty(const Pprof__Sample *s)
{
	for (size_t k = 0; k < s->n_value; k++)
		if (s->value[k] != 0)
			return false;
	return true;
}

/* Append s[0..len) as a JSON string literal. */
static void
json_append_string(ByteBuf *out, const char *s, size_t len)
{
	bytebuf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
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
			bytebuf_append(out, s + i, 1);
	}
	bytebuf_append(out, "\"", 1);
}

/*
 * Deduplicate the requested keys and map each string-table entry that names
 * one to its key number (a key may repeat in the table; entry 0, the empty
 * string, names none).
 */
static void
match_keys(PprofSplit *split, const char *const *keys, int key_count)
{
	const Pprof__Profile *msg = split->file->msg;

	interner_init(&split->key_names);
	for (int k = 0; k < key_count; k++)
	{
		(void) interner_intern(&split->key_names, keys[k], strlen(keys[k]));
		if ((k & 0xfff) == 0xfff)
			pp_check_interrupts();
	}
	split->key_of_string = pp_alloc_array(msg->n_string_table + 1, sizeof(int32_t));
	for (size_t i = 0; i < msg->n_string_table; i++)
	{
		uint32_t	k = i == 0 || split->key_names.count == 0 ? CALLTREE_NONE
			: interner_lookup(&split->key_names, (const char *) msg->string_table[i].data,
							  msg->string_table[i].len);

		split->key_of_string[i] = k == CALLTREE_NONE ? -1 : (int32_t) k;
		if ((i & 0xfff) == 0xfff)
			pp_check_interrupts();
	}
	split->key_seen = pp_alloc0(pp_mul_size(split->key_names.count + 1, sizeof(uint32_t)));
}

/* qsort comparator: label hits by key number. */
static int
compare_hits(const void *a, const void *b)
{
	uint32_t	x = ((const LabelHit *) a)->key;
	uint32_t	y = ((const LabelHit *) b)->key;

	return (x > y) - (x < y);
}

/*
 * The requested labels of sample number i, in key order: for each key the
 * first label that carries a value.  Returns their number; they are in
 * split->hits.
 */
static size_t
sample_hits(PprofSplit *split, const Pprof__Sample *s, size_t i)
{
	const Pprof__Profile *msg = split->file->msg;
	size_t		n = 0;

	if (s->n_label > split->hits_capacity)
	{
		split->hits_capacity = s->n_label;
		split->hits = pp_realloc(split->hits, pp_mul_size(split->hits_capacity, sizeof(LabelHit)));
	}
	for (size_t j = 0; j < s->n_label; j++)
	{
		const Pprof__Label *l = s->label[j];
		int32_t		k;

		if (l->key < 0 || (uint64_t) l->key >= msg->n_string_table)
			continue;
		k = split->key_of_string[l->key];
		if (k < 0 || split->key_seen[k] == (uint32_t) i + 1)
			continue;
		if (l->str == 0 && l->num == 0 && l->num_unit == 0)
			continue;
		split->key_seen[k] = (uint32_t) i + 1;
		split->hits[n].key = (uint32_t) k;
		split->hits[n].label = l;
		n++;
	}
	if (n > 1)
		qsort(split->hits, n, sizeof(LabelHit), compare_hits);
	return n;
}

/*
 * Describe a sample's requested labels: a binary group key (for interning)
 * and the JSON object.  Keys the sample lacks are absent from both.
 */
static void
describe_hits(PprofSplit *split, size_t nhits, ByteBuf *key, ByteBuf *json)
{
	const Pprof__Profile *msg = split->file->msg;

	key->len = 0;
	json->len = 0;
	bytebuf_append(json, "{", 1);
	for (size_t h = 0; h < nhits; h++)
	{
		const Pprof__Label *l = split->hits[h].label;
		uint32_t	k = split->hits[h].key;

		if (h > 0)
			bytebuf_append(json, ", ", 2);
		json_append_string(json, split->key_names.strings[k], split->key_names.lengths[k]);
		bytebuf_append(json, ": ", 2);
		bytebuf_put_varint(key, k);
		if (l->str != 0)
		{
			const char *raw;
			const char *v;
			size_t		vlen;

			if (l->str < 0 || (uint64_t) l->str >= msg->n_string_table)
				bad_pprof("invalid pprof: label value refers to string %" PRId64
						  " but the string table has %zu entries",
						  l->str, msg->n_string_table);
			raw = (const char *) msg->string_table[l->str].data;
			v = utf8_sanitize(raw, msg->string_table[l->str].len, &vlen);
			bytebuf_append(key, "s", 1);
			bytebuf_put_varint(key, vlen);
			bytebuf_append(key, v, vlen);
			json_append_string(json, v, vlen);
			if (v != raw)
				pp_free((void *) v);
		}
		else
		{
			char		num[32];
			int			n = snprintf(num, sizeof(num), "%" PRId64, l->num);

			bytebuf_append(key, "n", 1);
			bytebuf_append(key, num, (size_t) n + 1);
			bytebuf_append(json, num, (size_t) n);
		}
	}
	bytebuf_append(json, "}", 2);	/* with the NUL */
}

/* What a group's node costs: its tree node and hash slots, and a value per type. */
static size_t
node_cost(const PprofSplit *split)
{
	return sizeof(CallTreeNode) + 2 * sizeof(CallTreeSlot) +
		pp_mul_size(split->ntypes, sizeof(int64_t) + 1);
}

/* Start a new group with its labels: a small shared tree and its per-type arrays. */
static void
group_init(PprofSplit *split, GroupBuild *gb, const ByteBuf *json, uint32_t reserve)
{
	uint32_t	ntypes = split->ntypes;

	gb->tree = calltree_create_sized(&split->file->symbols, reserve);
	gb->capacity = gb->tree->capacity;
	pp_budget_charge(split->budget, sizeof(GroupBuild) + json->len +
					 pp_mul_size(ntypes + 1, 2 * sizeof(void *)) +
					 pp_mul_size(gb->capacity, node_cost(split)));
	gb->labels_json = pp_strndup((const char *) json->data, json->len);
	gb->self = pp_alloc_array(ntypes + 1, sizeof(int64_t *));
	gb->reached = pp_alloc_array(ntypes + 1, sizeof(uint8_t *));
	for (uint32_t t = 0; t < ntypes; t++)
	{
		gb->self[t] = pp_alloc0(pp_mul_size(gb->capacity, sizeof(int64_t)));
		gb->reached[t] = pp_alloc0(gb->capacity);
		if ((t & 0xfff) == 0xfff)
			pp_check_interrupts();
	}
}

/* Grow a group's per-type arrays to its tree's capacity. */
static void
group_grow(PprofSplit *split, GroupBuild *gb)
{
	uint32_t	old = gb->capacity;

	gb->capacity = gb->tree->capacity;
	pp_budget_charge(split->budget, pp_mul_size(gb->capacity - old, node_cost(split)));
	for (uint32_t t = 0; t < split->ntypes; t++)
	{
		gb->self[t] = pp_realloc(gb->self[t], pp_mul_size(gb->capacity, sizeof(int64_t)));
		memset(gb->self[t] + old, 0, sizeof(int64_t) * (gb->capacity - old));
		gb->reached[t] = pp_realloc(gb->reached[t], gb->capacity);
		memset(gb->reached[t] + old, 0, gb->capacity - old);
		if ((t & 0xfff) == 0xfff)
			pp_check_interrupts();
	}
}

/* Add one sample's values to a group: one path, then each non-zero type. */
static void
group_add(PprofSplit *split, GroupBuild *gb, const uint32_t *frames, uint32_t depth,
		  const Pprof__Sample *s)
{
	uint32_t	leaf = calltree_insert_path(gb->tree, frames, depth);

	if (gb->tree->count > gb->capacity)
		group_grow(split, gb);
	for (uint32_t t = 0; t < split->ntypes; t++)
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

/* The group of a binary key, created (with its labels) when new. */
static GroupBuild *
group_of(PprofSplit *split, const ByteBuf *key, const ByteBuf *json, uint32_t reserve)
{
	uint32_t	known = split->group_keys.count;
	uint32_t	g = interner_intern(&split->group_keys, (const char *) key->data, key->len);

	if (g < known)
		return &split->groups[g];
	if (g == split->capacity)
	{
		split->capacity *= 2;
		split->groups = pp_realloc(split->groups, pp_mul_size(split->capacity, sizeof(GroupBuild)));
	}
	pp_budget_charge(split->budget, key->len + 16);
	group_init(split, &split->groups[g], json, reserve);
	return &split->groups[g];
}

/* Split samples by label values into groups (see pprof_split.h). */
PprofSplit *
pprof_split_build(PprofFile *file, const char *const *keys, int key_count, PPBudget *budget)
{
	const Pprof__Profile *msg = file->msg;
	PprofSplit *split = pp_alloc0(sizeof(PprofSplit));
	ByteBuf		key,
				json;

	split->file = file;
	split->ntypes = file->sample_type_count;
	split->budget = budget;
	split->capacity = 8;
	split->groups = pp_alloc_array(split->capacity, sizeof(GroupBuild));
	split->hits_capacity = 8;
	split->hits = pp_alloc_array(split->hits_capacity, sizeof(LabelHit));
	interner_init(&split->group_keys);
	match_keys(split, keys, key_count);
	bytebuf_init(&key, 64);
	bytebuf_init(&json, 64);

	/* Without keys there is always one group, even with no samples. */
	if (split->key_names.count == 0)
	{
		describe_hits(split, 0, &key, &json);
		(void) group_of(split, &key, &json, pprof_estimate_nodes(file));
	}
	for (size_t i = 0; i < msg->n_sample; i++)
	{
		const Pprof__Sample *s = msg->sample[i];
		GroupBuild *gb;
		uint32_t	depth;

		if (sample_is_empty(s))
			continue;
		describe_hits(split, sample_hits(split, s, i), &key, &json);
		gb = group_of(split, &key, &json, GROUP_INITIAL_NODES);
		depth = pprof_sample_stack(file, s);
		group_add(split, gb, file->stack, depth, s);
		if ((i & 0x3ff) == 0x3ff)
			pp_check_interrupts();
	}
	pp_free(key.data);
	pp_free(json.data);
	/* every row's encode shares the file's table: sort its names once */
	symtab_keep_ranks(&file->symbols);
	return split;
}

/* The number of groups. */
uint32_t
pprof_split_group_count(const PprofSplit *split)
{
	return split->group_keys.count;
}

/* The labels of group g as a JSON object. */
const char *
pprof_split_labels(const PprofSplit *split, uint32_t g)
{
	return split->groups[g].labels_json;
}

/*
 * The tree of sample type t in group g: the nodes that type's samples
 * reach, so it is exactly the tree pprof_build_tree would build for that
 * type from the group's samples.  A new tree each call; the caller frees it.
 */
CallTree *
pprof_split_tree(const PprofSplit *split, uint32_t g, uint32_t t)
{
	const GroupBuild *gb = &split->groups[g];
	CallTree   *tree = calltree_subset(gb->tree, gb->reached[t], gb->self[t]);

	tree->meta = pprof_type_meta(split->file, (int) t);
	return tree;
}
