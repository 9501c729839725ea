/*
 * delta.c
 *	  Per-interval deltas of cumulative pprof profiles (see delta.h).
 */
#include "delta.h"

#include "profile.pb-c.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CUMULATIVE 4

/* A sample's identity: two independent 64-bit hashes of its stack and labels. */
typedef struct SampleKey
{
	uint64_t	a;
	uint64_t	b;
} SampleKey;

/* One remembered sample: its cumulative values at the last scrape. */
typedef struct DeltaSlot
{
	SampleKey	key;
	bool		used;
	int64_t		values[MAX_CUMULATIVE];
} DeltaSlot;

/* An open-addressing map from sample keys to their last values. */
typedef struct DeltaMap
{
	DeltaSlot  *slots;
	size_t		mask;
	size_t		count;
} DeltaMap;

/* The state of one scrape loop. */
struct DeltaState
{
	ProfileKind kind;
	bool		primed;
	char	   *signature;		/* the sample types, to notice a changed profile */
	DeltaMap	previous;
};

/* True when the profile kind has cumulative sample types. */
bool
delta_needed(ProfileKind kind)
{
	return kind == PROFILE_ALLOCS || kind == PROFILE_MUTEX || kind == PROFILE_BLOCK;
}

/* A new state for a scrape loop of the given kind. */
DeltaState *
delta_new(ProfileKind kind)
{
	DeltaState *s = xcalloc(1, sizeof(DeltaState));

	s->kind = kind;
	return s;
}

/* Free a map's slots. */
static void
map_free(DeltaMap *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* Free a state. */
void
delta_free(DeltaState *state)
{
	if (state == NULL)
		return;
	map_free(&state->previous);
	free(state->signature);
	free(state);
}

/* A map with room for n entries. */
static void
map_init(DeltaMap *m, size_t n)
{
	size_t		size = 16;

	while (size < n * 2 + 2)
		size *= 2;
	m->slots = xcalloc(size, sizeof(DeltaSlot));
	m->mask = size - 1;
	m->count = 0;
}

/* The slot of key (inserted when absent). */
static DeltaSlot *
map_slot(DeltaMap *m, SampleKey key, bool insert)
{
	size_t		i = (size_t) key.a & m->mask;

	if (m->slots == NULL)
		return NULL;
	while (m->slots[i].used)
	{
		if (m->slots[i].key.a == key.a && m->slots[i].key.b == key.b)
			return &m->slots[i];
		i = (i + 1) & m->mask;
	}
	if (!insert)
		return NULL;
	m->slots[i].used = true;
	m->slots[i].key = key;
	m->count++;
	return &m->slots[i];
}

/* Mix bytes into both hashes (FNV-1a, and a multiply-rotate variant). */
static void
hash_bytes(SampleKey *k, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
	{
		k->a = (k->a ^ p[i]) * 1099511628211ULL;
		k->b = ((k->b ^ p[i]) * 0x9e3779b97f4a7c15ULL);
		k->b = (k->b << 29) | (k->b >> 35);
	}
}

/* Mix a 64-bit number into both hashes. */
static void
hash_u64(SampleKey *k, uint64_t v)
{
	hash_bytes(k, &v, sizeof(v));
}

/* Mix a string-table entry (bounds-checked) into both hashes. */
static void
hash_string(SampleKey *k, const Pprof__Profile *p, int64_t index)
{
	if (index <= 0 || (uint64_t) index >= p->n_string_table)
	{
		hash_u64(k, 0);
		return;
	}
	hash_u64(k, p->string_table[index].len);
	hash_bytes(k, p->string_table[index].data, p->string_table[index].len);
}

/* An index from location or function ids to their positions. */
typedef struct IdIndex
{
	uint64_t   *ids;
	uint32_t   *pos;
	size_t		mask;
} IdIndex;

/* Build an id -> position index over n ids. */
static void
index_build(IdIndex *ix, size_t n, uint64_t (*id_of) (const Pprof__Profile *, size_t),
			const Pprof__Profile *p)
{
	size_t		size = 16;

	while (size < n * 2 + 2)
		size *= 2;
	ix->ids = xcalloc(size, sizeof(uint64_t));
	ix->pos = xcalloc(size, sizeof(uint32_t));
	ix->mask = size - 1;
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	id = id_of(p, i);
		size_t		h = (size_t) (id * 0x9e3779b97f4a7c15ULL) & ix->mask;

		if (id == 0)
			continue;
		while (ix->ids[h] != 0 && ix->ids[h] != id)
			h = (h + 1) & ix->mask;
		ix->ids[h] = id;
		ix->pos[h] = (uint32_t) i;
	}
}

/* The position of id, or -1. */
static long
index_find(const IdIndex *ix, uint64_t id)
{
	size_t		h = (size_t) (id * 0x9e3779b97f4a7c15ULL) & ix->mask;

	if (id == 0)
		return -1;
	while (ix->ids[h] != 0)
	{
		if (ix->ids[h] == id)
			return (long) ix->pos[h];
		h = (h + 1) & ix->mask;
	}
	return -1;
}

/* Location i's id. */
static uint64_t
location_id(const Pprof__Profile *p, size_t i)
{
	return p->location[i]->id;
}

/* Function i's id. */
static uint64_t
function_id(const Pprof__Profile *p, size_t i)
{
	return p->function[i]->id;
}

/* A sample's key: every frame's address, function, file and line, then its labels. */
static SampleKey
sample_key(const Pprof__Profile *p, const Pprof__Sample *s, const IdIndex *locs, const IdIndex *funcs)
{
	SampleKey	k = {1469598103934665603ULL, 0x243f6a8885a308d3ULL};

	for (size_t i = 0; i < s->n_location_id; i++)
	{
		long		li = index_find(locs, s->location_id[i]);
		const Pprof__Location *loc;

		hash_u64(&k, 0x4c4f43);
		if (li < 0)
		{
			hash_u64(&k, s->location_id[i]);
			continue;
		}
		loc = p->location[li];
		hash_u64(&k, loc->address);
		for (size_t j = 0; j < loc->n_line; j++)
		{
			long		fi = index_find(funcs, loc->line[j]->function_id);

			if (fi >= 0)
			{
				hash_string(&k, p, p->function[fi]->name);
				hash_string(&k, p, p->function[fi]->filename);
			}
			hash_u64(&k, (uint64_t) loc->line[j]->line);
		}
	}
	for (size_t i = 0; i < s->n_label; i++)
	{
		hash_u64(&k, 0x4c4142);
		hash_string(&k, p, s->label[i]->key);
		hash_string(&k, p, s->label[i]->str);
		hash_u64(&k, (uint64_t) s->label[i]->num);
		hash_string(&k, p, s->label[i]->num_unit);
	}
	return k;
}

/* True when string-table entry index equals s. */
static bool
string_is(const Pprof__Profile *p, int64_t index, const char *s)
{
	size_t		n = strlen(s);

	return index >= 0 && (uint64_t) index < p->n_string_table && p->string_table[index].len == n &&
		memcmp(p->string_table[index].data, s, n) == 0;
}

/* Which sample types are cumulative for this kind (as Alloy lists them). */
static int
cumulative_types(const DeltaState *st, const Pprof__Profile *p, bool *cumulative)
{
	int			n = 0;

	for (size_t i = 0; i < p->n_sample_type; i++)
	{
		const Pprof__ValueType *vt = p->sample_type[i];
		bool		c;

		if (st->kind == PROFILE_ALLOCS)
			c = (string_is(p, vt->type, "alloc_objects") && string_is(p, vt->unit, "count")) ||
				(string_is(p, vt->type, "alloc_space") && string_is(p, vt->unit, "bytes"));
		else
			c = (string_is(p, vt->type, "contentions") && string_is(p, vt->unit, "count")) ||
				(string_is(p, vt->type, "delay") && string_is(p, vt->unit, "nanoseconds"));
		cumulative[i] = c && n < MAX_CUMULATIVE;
		n += cumulative[i];
	}
	return n;
}

/* The sample types as one string, to notice when they change. */
static char *
type_signature(const Pprof__Profile *p)
{
	Buf			b;

	buf_init(&b);
	for (size_t i = 0; i < p->n_sample_type; i++)
	{
		int64_t		t = p->sample_type[i]->type;
		int64_t		u = p->sample_type[i]->unit;

		if (t >= 0 && (uint64_t) t < p->n_string_table)
			buf_append(&b, p->string_table[t].data, p->string_table[t].len);
		buf_append(&b, "/", 1);
		if (u >= 0 && (uint64_t) u < p->n_string_table)
			buf_append(&b, p->string_table[u].data, p->string_table[u].len);
		buf_append(&b, ";", 1);
	}
	return (char *) buf_steal(&b, NULL);
}

/* The delta of data against the previous scrape. */
DeltaOutcome
delta_apply(DeltaState *st, const uint8_t *data, size_t len, size_t max_bytes, Buf *out,
			char *why, size_t why_len)
{
	Buf			raw;
	PbBudget	budget;
	Pprof__Profile *p;
	bool		cumulative[64];
	IdIndex		locs,
				funcs;
	DeltaMap	current;
	Pprof__Sample **kept;
	size_t		n_kept = 0;
	char	   *signature;
	DeltaOutcome outcome = DELTA_READY;

	buf_init(&raw);
	if (is_gzip(data, len))
	{
		const char *err = gunzip_bounded(data, len, max_bytes, &raw);

		if (err)
		{
			snprintf(why, why_len, "%s", err);
			buf_free(&raw);
			return DELTA_FAILED;
		}
		data = raw.data;
		len = raw.len;
	}
	pb_budget_init(&budget, len);
	p = pprof__profile__unpack(&budget.allocator, len, data);
	buf_free(&raw);
	if (p == NULL || p->n_sample_type == 0 || p->n_sample_type > 64)
	{
		snprintf(why, why_len, "not a pprof profile, or truncated");
		if (p)
			pprof__profile__free_unpacked(p, &budget.allocator);
		return DELTA_FAILED;
	}
	for (size_t i = 0; i < p->n_sample; i++)
		if (p->sample[i]->n_value != p->n_sample_type)
		{
			snprintf(why, why_len, "a sample has %zu values for %zu sample types",
					 p->sample[i]->n_value, p->n_sample_type);
			pprof__profile__free_unpacked(p, &budget.allocator);
			return DELTA_FAILED;
		}
	cumulative_types(st, p, cumulative);
	signature = type_signature(p);
	if (st->signature == NULL || strcmp(signature, st->signature) != 0)
	{
		/* a new process or a changed profile: start over */
		map_free(&st->previous);
		st->primed = false;
		free(st->signature);
		st->signature = signature;
	}
	else
		free(signature);

	index_build(&locs, p->n_location, location_id, p);
	index_build(&funcs, p->n_function, function_id, p);
	map_init(&current, p->n_sample);
	kept = xcalloc(p->n_sample ? p->n_sample : 1, sizeof(Pprof__Sample *));
	/* first pass: sum each key's values (duplicated samples go into the first) */
	{
		Pprof__Sample **first = xcalloc(current.mask + 1, sizeof(Pprof__Sample *));

		for (size_t i = 0; i < p->n_sample; i++)
		{
			Pprof__Sample *s = p->sample[i];
			SampleKey	key = sample_key(p, s, &locs, &funcs);
			DeltaSlot  *slot = map_slot(&current, key, true);
			size_t		owner = (size_t) (slot - current.slots);

			if (first[owner] == NULL)
			{
				first[owner] = s;
				kept[n_kept++] = s;
				continue;
			}
			for (size_t v = 0; v < p->n_sample_type; v++)
				first[owner]->value[v] += s->value[v];
		}
		free(first);
	}
	/* second pass: subtract what the previous scrape had, remember what this one has */
	{
		size_t		n_out = 0;

		for (size_t i = 0; i < n_kept; i++)
		{
			Pprof__Sample *s = kept[i];
			SampleKey	key = sample_key(p, s, &locs, &funcs);
			DeltaSlot  *now = map_slot(&current, key, false);
			DeltaSlot  *before = map_slot(&st->previous, key, false);
			bool		all_zero = true;
			int			c = 0;

			for (size_t v = 0; v < p->n_sample_type; v++)
			{
				if (cumulative[v])
				{
					int64_t		total = s->value[v];
					int64_t		prev = before ? before->values[c] : 0;

					now->values[c++] = total;
					/* a counter that went down was reset: count from zero */
					s->value[v] = total >= prev ? total - prev : total;
				}
				all_zero &= s->value[v] == 0;
			}
			if (!all_zero)
				kept[n_out++] = s;
		}
		n_kept = n_out;
	}
	map_free(&st->previous);
	st->previous = current;
	free(locs.ids);
	free(locs.pos);
	free(funcs.ids);
	free(funcs.pos);

	if (!st->primed)
	{
		st->primed = true;
		outcome = DELTA_PRIMED;
	}
	else
	{
		Pprof__Sample **all = p->sample;
		size_t		n_all = p->n_sample;

		/* pack only the kept samples, then put the full list back for freeing */
		p->sample = kept;
		p->n_sample = n_kept;
		out->len = 0;
		buf_reserve(out, pprof__profile__get_packed_size(p));
		out->len = pprof__profile__pack(p, out->data);
		p->sample = all;
		p->n_sample = n_all;
	}
	free(kept);
	pprof__profile__free_unpacked(p, &budget.allocator);
	return outcome;
}
