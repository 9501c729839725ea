/*
 * mkhostile.c
 *	  Write the hostile values and inputs of test/limits.sh into a folder.
 *
 *	  mkhostile DIR
 *
 * Each is small to store or send and expensive to process with a naive
 * implementation; the names say which class each one attacks:
 *
 *   quickselect.hex  stored value: 300,000 children of the root whose values,
 *                    in node order, make a middle-pivot quickselect take one
 *                    element off per pass (O(n^2) at the default max_nodes)
 *   hashflood.hex    stored value: 184,000 16-byte names that all have one
 *                    value of the unkeyed string hash pg_pprof used before
 *                    keyed hashing (O(n^2) probing when they are interned)
 *   deepchain.hex    stored value: a 40,000-frame recursive chain with a
 *                    sample on every frame (its pprof, folded and
 *                    profile_stacks forms are O(depth^2))
 *   longnames.hex    stored value: a 4,000-frame chain of one 2 MB name
 *                    (every output that repeats labels is gigabytes)
 *   spans.pb.gz      pprof: 100,000 samples, each with its own span_id label
 *   types.pb.gz      pprof: one sample and 200,000 sample types
 *   strings.pb.gz    pprof: 1,000,000 strings, a few samples with labels
 *   minvalue.pb      pprof: one sample of value -2^63
 *   halfmin.pb       pprof: one sample of value -2^62
 *
 * Stored values are written as hex (a profile's text form without "\x"),
 * pprof inputs as bytes.  Built against build/plain/libppcore.a.
 */
#include "calltree.h"
#include "gzip_io.h"
#include "pp_standalone.h"
#include "profile_format.h"
#include "profile_timeline.h"
#include "profile.pb-c.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *out_dir;

/* Write len bytes to DIR/name. */
static void
write_file(const char *name, const void *data, size_t len)
{
	char		path[4096];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
	{
		fprintf(stderr, "mkhostile: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* A new tree with cpu/nanoseconds metadata over a new symbol table. */
static CallTree *
new_tree(void)
{
	SymbolTable *symbols = pp_alloc(sizeof(SymbolTable));
	CallTree   *tree;

	symtab_init(symbols);
	tree = calltree_create(symbols);
	tree->meta.sample_type = "cpu";
	tree->meta.sample_unit = "nanoseconds";
	tree->meta.profile_count = 1;
	return tree;
}

/* Encode a tree and write it as DIR/name in hex. */
static void
write_stored(const char *name, const CallTree *tree)
{
	ProfileLimits limits = {(size_t) 1 << 30, 3};
	size_t		len;
	uint8_t    *bytes = profile_encode(tree, &limits, &len);
	char	   *hex = malloc(len * 2 + 1);

	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	write_file(name, hex, len * 2);
	free(hex);
	printf("%s: %zu stored bytes, %u nodes\n", name, len, tree->count - 1);
}

/*
 * Values for n root children that make a middle-pivot Hoare quickselect
 * for the k-th largest (k much smaller than n) remove one element per pass:
 * each pass's middle element must be the smallest of what is left, and the
 * pass then swaps it with the last one.  Simulating that backwards assigns
 * the values in increasing order in O(n).
 */
static void
make_quickselect(void)
{
	const uint32_t n = 300000;
	uint32_t   *at = malloc(sizeof(uint32_t) * n);	/* position -> original index */
	int64_t    *value = malloc(sizeof(int64_t) * n);
	CallTree   *tree = new_tree();
	uint32_t	hi = n - 1;

	for (uint32_t i = 0; i < n; i++)
		at[i] = i;
	for (int64_t v = 1; v <= n; v++)
	{
		uint32_t	mid = hi / 2;
		uint32_t	t;

		value[at[mid]] = v;
		t = at[mid];
		at[mid] = at[hi];
		at[hi] = t;
		if (hi > 0)
			hi--;
	}
	/* names in byte order follow the index, so node order is index order */
	for (uint32_t i = 0; i < n; i++)
	{
		char		nm[16];
		uint32_t	sym;

		snprintf(nm, sizeof(nm), "f%07u", i);
		sym = symtab_intern(tree->symbols, nm, strlen(nm), NULL, 0);
		calltree_add_stack(tree, &sym, 1, value[i] * 10000000);
	}
	write_stored("quickselect.hex", tree);
	free(at);
	free(value);
}

/* The unkeyed string hash pg_pprof used until keyed hashing, for 16-byte names. */
static uint64_t
old_hash_state(const uint8_t name[16])
{
	uint64_t	h = 0x9E3779B97F4A7C15ULL ^ 16;
	uint64_t	w;

	memcpy(&w, name, 8);
	h = (h ^ w) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	memcpy(&w, name + 8, 8);
	h = (h ^ w) * 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	return h;					/* the rest of the old hash depends on this alone */
}

/* The inverse of an odd number modulo 2^64 (Newton's iteration). */
static uint64_t
inverse_odd(uint64_t a)
{
	uint64_t	x = a;

	for (int i = 0; i < 6; i++)
		x *= 2 - a * x;
	return x;
}

/* True when all 8 bytes of w are printable ASCII other than ';' and space. */
static int
printable(uint64_t w)
{
	for (int i = 0; i < 8; i++)
	{
		uint8_t		c = (uint8_t) (w >> (8 * i));

		if (c < 0x21 || c > 0x7e || c == ';')
			return 0;
	}
	return 1;
}

/*
 * 184,000 distinct 16-byte printable names with one old-hash state: for a
 * first half w1, the second half w2 that leads to the target state is
 * solved for (the mixing steps are invertible), and kept when printable.
 */
static void
make_hashflood(void)
{
	const uint32_t n = 184000;
	const uint64_t m = 0xff51afd7ed558ccdULL;
	const uint64_t m_inv = inverse_odd(m);
	const uint64_t target = 0x0123456789abcdefULL;
	const uint64_t before_shift = target ^ (target >> 32);	/* x ^ (x >> 32) = target */
	CallTree   *tree = new_tree();
	uint64_t	counter = 0;

	for (uint32_t made = 0; made < n;)
	{
		uint8_t		name[16];
		uint64_t	w1 = 0,
					h1,
					w2;
		uint32_t	sym;

		/* w1: the counter in base 64 over printable characters */
		for (int i = 0, c = (int) counter++; i < 8; i++, c /= 64)
			w1 |= (uint64_t) ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"[c % 64]) << (8 * i);
		h1 = ((0x9E3779B97F4A7C15ULL ^ 16) ^ w1) * m;
		h1 ^= h1 >> 32;
		w2 = h1 ^ (before_shift * m_inv);
		if (!printable(w2))
			continue;
		memcpy(name, &w1, 8);
		memcpy(name + 8, &w2, 8);
		if (old_hash_state(name) != target)
		{
			fprintf(stderr, "mkhostile: hash inversion is wrong\n");
			exit(1);
		}
		sym = symtab_intern(tree->symbols, (const char *) name, 16, NULL, 0);
		calltree_add_stack(tree, &sym, 1, 10000000);
		made++;
	}
	write_stored("hashflood.hex", tree);
}

/* A chain of depth frames of one name, with self on every frame. */
static void
make_chain(const char *file, const char *name, size_t name_len, uint32_t depth)
{
	CallTree   *tree = new_tree();
	uint32_t	sym = symtab_intern(tree->symbols, name, name_len, NULL, 0);
	uint32_t	node = CALLTREE_ROOT;

	calltree_reserve(tree, depth);
	for (uint32_t d = 0; d < depth; d++)
	{
		node = calltree_child(tree, node, sym);
		tree->nodes[node].self = 10000000;
	}
	write_stored(file, tree);
}

/* A pprof message's string table under construction. */
typedef struct Strings
{
	ProtobufCBinaryData *items;
	size_t		count;
	size_t		capacity;
} Strings;

/* Add a string (copied) and return its index. */
static int64_t
add_string(Strings *st, const char *s)
{
	if (st->count == st->capacity)
	{
		st->capacity = st->capacity ? st->capacity * 2 : 64;
		st->items = realloc(st->items, st->capacity * sizeof(ProtobufCBinaryData));
	}
	st->items[st->count].len = strlen(s);
	st->items[st->count].data = (uint8_t *) strdup(s);
	return (int64_t) st->count++;
}

/* A one-function, one-location pprof skeleton with sample types cpu/nanoseconds. */
static void
pprof_skeleton(Pprof__Profile *msg, Strings *st, size_t ntypes)
{
	static Pprof__Function fn = PPROF__FUNCTION__INIT;
	static Pprof__Location loc = PPROF__LOCATION__INIT;
	static Pprof__Line line = PPROF__LINE__INIT;
	static Pprof__Function *fns[1];
	static Pprof__Location *locs[1];
	static Pprof__Line *lines[1];
	Pprof__ValueType *vt = malloc(sizeof(Pprof__ValueType));

	pprof__profile__init(msg);
	memset(st, 0, sizeof(*st));
	add_string(st, "");
	pprof__value_type__init(vt);
	vt->type = add_string(st, "cpu");
	vt->unit = add_string(st, "nanoseconds");
	msg->n_sample_type = ntypes;
	msg->sample_type = malloc(sizeof(Pprof__ValueType *) * ntypes);
	for (size_t t = 0; t < ntypes; t++)
		msg->sample_type[t] = vt;
	fn.id = 1;
	fn.name = add_string(st, "main.work");
	fns[0] = &fn;
	line.function_id = 1;
	lines[0] = &line;
	loc.id = 1;
	loc.n_line = 1;
	loc.line = lines;
	locs[0] = &loc;
	msg->n_function = 1;
	msg->function = fns;
	msg->n_location = 1;
	msg->location = locs;
}

/* A sample at the one location with the given values and labels. */
static Pprof__Sample *
new_sample(int64_t *values, size_t nvalues, Pprof__Label **labels, size_t nlabels)
{
	static uint64_t loc_id = 1;
	Pprof__Sample *s = malloc(sizeof(Pprof__Sample));

	pprof__sample__init(s);
	s->n_location_id = 1;
	s->location_id = &loc_id;
	s->n_value = nvalues;
	s->value = values;
	s->n_label = nlabels;
	s->label = labels;
	return s;
}

/* A string label. */
static Pprof__Label *
new_label(Strings *st, const char *key, const char *value)
{
	Pprof__Label *l = malloc(sizeof(Pprof__Label));

	pprof__label__init(l);
	l->key = add_string(st, key);
	l->str = add_string(st, value);
	return l;
}

/* Pack a message, gzip it when asked, and write it. */
static void
write_pprof(const char *name, Pprof__Profile *msg, Strings *st, int gzip)
{
	size_t		len;
	uint8_t    *packed;

	msg->n_string_table = st->count;
	msg->string_table = st->items;
	len = pprof__profile__get_packed_size(msg);
	packed = malloc(len ? len : 1);
	pprof__profile__pack(msg, packed);
	if (gzip)
	{
		size_t		zlen;
		uint8_t    *z = gzip_bytes(packed, len, NULL, &zlen);

		write_file(name, z, zlen);
		printf("%s: %zu bytes gzip (%zu raw)\n", name, zlen, len);
	}
	else
	{
		write_file(name, packed, len);
		printf("%s: %zu bytes\n", name, len);
	}
	free(packed);
}

/* 100,000 samples, each with its own span_id. */
static void
make_spans(void)
{
	const size_t n = 100000;
	Pprof__Profile msg;
	Strings		st;
	int64_t	   *one = malloc(sizeof(int64_t));

	*one = 10000000;
	pprof_skeleton(&msg, &st, 1);
	msg.n_sample = n;
	msg.sample = malloc(sizeof(Pprof__Sample *) * n);
	for (size_t i = 0; i < n; i++)
	{
		char		span[32];
		Pprof__Label **labels = malloc(sizeof(Pprof__Label *));

		snprintf(span, sizeof(span), "%016llx", (unsigned long long) (i * 0x9E3779B97F4A7C15ULL));
		labels[0] = new_label(&st, "span_id", span);
		msg.sample[i] = new_sample(one, 1, labels, 1);
	}
	write_pprof("spans.pb.gz", &msg, &st, 1);
}

/* One sample with 200,000 sample types. */
static void
make_types(void)
{
	const size_t ntypes = 200000;
	Pprof__Profile msg;
	Strings		st;
	int64_t	   *values = calloc(ntypes, sizeof(int64_t));

	values[ntypes - 1] = 10000000;
	pprof_skeleton(&msg, &st, ntypes);
	msg.n_sample = 1;
	msg.sample = malloc(sizeof(Pprof__Sample *));
	msg.sample[0] = new_sample(values, ntypes, NULL, 0);
	write_pprof("types.pb.gz", &msg, &st, 1);
}

/* 1,000,000 strings (keys that are never used) and a few labelled samples. */
static void
make_strings(void)
{
	Pprof__Profile msg;
	Strings		st;
	int64_t	   *one = malloc(sizeof(int64_t));

	*one = 10000000;
	pprof_skeleton(&msg, &st, 1);
	msg.n_sample = 16;
	msg.sample = malloc(sizeof(Pprof__Sample *) * 16);
	for (size_t i = 0; i < 16; i++)
	{
		char		v[16];
		Pprof__Label **labels = malloc(sizeof(Pprof__Label *));

		snprintf(v, sizeof(v), "v%zu", i % 4);
		labels[0] = new_label(&st, "k00001", v);
		msg.sample[i] = new_sample(one, 1, labels, 1);
	}
	for (size_t i = 0; st.count < 1000000; i++)
	{
		char		s[16];

		snprintf(s, sizeof(s), "k%05zu", i);
		add_string(&st, s);
	}
	write_pprof("strings.pb.gz", &msg, &st, 1);
}

/* One sample of the given value, raw. */
static void
make_value(const char *name, int64_t v)
{
	Pprof__Profile msg;
	Strings		st;
	int64_t	   *value = malloc(sizeof(int64_t));

	*value = v;
	pprof_skeleton(&msg, &st, 1);
	msg.n_sample = 1;
	msg.sample = malloc(sizeof(Pprof__Sample *));
	msg.sample[0] = new_sample(value, 1, NULL, 0);
	write_pprof(name, &msg, &st, 0);
}

/*
 * A packed value of 20,000 points over a tree of 50,000 leaves, one leaf a
 * point: small to store, but unpacking it rebuilds a 50,000-node subset for
 * every point (10^9 node visits), so only a statement_timeout stops it.
 */
static void
make_manypoints(void)
{
	const uint32_t groups = 250, per_group = 200, npoints = 20000;
	CallTree   *tree = new_tree();
	uint32_t   *leaves = malloc(sizeof(uint32_t) * groups * per_group);
	Timeline	tl;
	ProfileLimits limits = {(size_t) 1 << 30, 3};
	char		name[32];
	size_t		len;
	uint8_t    *bytes;
	char	   *hex;

	calltree_reserve(tree, groups * (per_group + 1));
	for (uint32_t g = 0; g < groups; g++)
	{
		uint32_t	group;

		snprintf(name, sizeof(name), "group_%04u", g);
		group = calltree_child(tree, CALLTREE_ROOT, symtab_intern(tree->symbols, name, strlen(name), NULL, 0));
		for (uint32_t l = 0; l < per_group; l++)
		{
			snprintf(name, sizeof(name), "leaf_%04u_%03u", g, l);
			leaves[g * per_group + l] = calltree_child(tree, group,
													   symtab_intern(tree->symbols, name, strlen(name), NULL, 0));
		}
	}
	memset(&tl, 0, sizeof(tl));
	tl.points = tl.entries = npoints;
	tl.time = malloc(sizeof(int64_t) * npoints);
	tl.meta = calloc(npoints, sizeof(ProfileMeta));
	tl.first_entry = malloc(sizeof(uint32_t) * (npoints + 1));
	tl.node = malloc(sizeof(uint32_t) * npoints);
	tl.value = malloc(sizeof(int64_t) * npoints);
	for (uint32_t p = 0; p < npoints; p++)
	{
		tl.time[p] = INT64_C(1700000000000000000) + (int64_t) p * 1000000000;
		tl.meta[p].start_ns = tl.meta[p].end_ns = tl.time[p];
		tl.meta[p].profile_count = 1;
		tl.first_entry[p] = p;
		tl.node[p] = leaves[p % (groups * per_group)];
		tl.value[p] = 1000;
		tree->nodes[tl.node[p]].self += 1000;
	}
	tl.first_entry[npoints] = npoints;
	tree->meta.profile_count = npoints;
	tree->meta.start_ns = tl.time[0];
	tree->meta.end_ns = tl.time[npoints - 1];
	bytes = profile_encode_packed(tree, &tl, &limits, &len);
	hex = malloc(len * 2 + 1);
	for (size_t i = 0; i < len; i++)
		snprintf(hex + 2 * i, 3, "%02x", bytes[i]);
	write_file("manypoints.hex", hex, len * 2);
	printf("manypoints.hex: %zu stored bytes, %u nodes, %u points\n", len, tree->count - 1, npoints);
	free(hex);
	free(leaves);
	free(tl.time);
	free(tl.meta);
	free(tl.first_entry);
	free(tl.node);
	free(tl.value);
}

/* Everything, inside the standalone error handler. */
static void
make_all(void *arg)
{
	char	   *long_name = malloc((size_t) 2 << 20);

	(void) arg;
	make_quickselect();
	make_hashflood();
	make_manypoints();
	make_chain("deepchain.hex", "a", 1, 40000);
	memset(long_name, 'n', (size_t) 2 << 20);
	make_chain("longnames.hex", long_name, (size_t) 2 << 20, 4000);
	free(long_name);
	make_spans();
	make_types();
	make_strings();
	make_value("minvalue.pb", INT64_MIN);
	make_value("halfmin.pb", INT64_MIN / 2);
}

int
main(int argc, char **argv)
{
	if (argc != 2)
	{
		fprintf(stderr, "usage: mkhostile DIR\n");
		return 2;
	}
	out_dir = argv[1];
	pp_standalone_set_cap(0);
	if (!pp_standalone_run(make_all, NULL))
	{
		fprintf(stderr, "mkhostile: %s\n", pp_standalone_last_error()->message);
		return 1;
	}
	return 0;
}
