/*
 * fuzz_pprof.c
 *	  Fuzz pg_pprof's plain C cores outside the server.
 *
 * Default mode: a deterministic, time-bounded mutation loop over seed files
 * (files and directories on the command line).  Round r mutates every seed
 * once, in path order, choosing what to mutate by r: the decompressed
 * protobuf, the file bytes (gzip), the protobuf re-gzipped, the encoded
 * stored profile, or its body re-wrapped raw or with zstd.  Every input must
 * succeed or raise a pp_error; sanitizer reports, broken round trips,
 * INTERNAL errors and timeouts are failures.
 *
 *	 fuzz_pprof [--seconds S] [--iterations N] [--timeout T] [--cap BYTES]
 *				[--save DIR] [--verbose] SEED_PATH...
 *	 fuzz_pprof --replay [--stored] FILE...
 *
 *	 fuzz_pprof --write-seeds DIR SEED_PATH...
 *
 * --write-seeds writes the libFuzzer targets' seed folders (lf_main.c):
 * DIR/pprof and DIR/roundtrip get the seed files, DIR/recv each seed's
 * stored value, DIR/merge pairs of stored values, DIR/folded their folded
 * text.
 */
#include "fuzz_seeds.h"
#include "fuzz_target.h"
#include "pp_standalone.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define FUZZ_ASAN 1
#endif
#ifdef FUZZ_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif


/* Options of the mutation loop. */
typedef struct Options
{
	double		seconds;
	long		iterations;
	unsigned	timeout;
	size_t		cap;
	const char *save_dir;
	int			verbose;
	int			replay;
	int			stored;
	const char *seeds_dir;
} Options;

/* Counters for the summary. */
typedef struct Stats
{
	long		inputs;
	long		failed;
	long		ok[2];			/* [0] pprof, [1] stored */
	long		errors[2][FUZZ_KIND_COUNT];
	long		rounds;
} Stats;

static Stats stats;
static const Options *opts;

/* The input being run, for the crash and timeout handlers. */
static const uint8_t *volatile current_data;
static volatile size_t current_len;
static const char *volatile current_what = "";

/* Seconds since an arbitrary start. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Save the current input as DIR/NAME (async-signal-safe). */
static void
save_current(const char *name)
{
	char		path[4096];
	FILE	   *f;

	if (opts == NULL || opts->save_dir == NULL || current_data == NULL)
		return;
	snprintf(path, sizeof(path), "%s/%s", opts->save_dir, name);
	if ((f = fopen(path, "wb")) != NULL)
	{
		fwrite((const void *) current_data, 1, current_len, f);
		fclose(f);
		fprintf(stderr, "fuzz: input saved to %s\n", path);
	}
}

static volatile sig_atomic_t final_line_printed;

/* The final line for a run that ends in a crash or a timeout (printed once). */
static void
die_summary(const char *why)
{
	if (final_line_printed)
		return;
	final_line_printed = 1;
	fprintf(stderr, "fuzz: %s on input %ld (%s, %zu bytes)\n", why, stats.inputs + 1,
			(const char *) current_what, (size_t) current_len);
	save_current("crash.bin");
	printf("%ld passed, %ld failed\n", stats.inputs - stats.failed, stats.failed + 1);
	fflush(stdout);
}

/* Sanitizer death callback: report which input killed us. */
static void
on_sanitizer_death(void)
{
	die_summary("sanitizer report");
}

/* SIGABRT: a sanitizer (with abort_on_error=1) or an assertion stopped us. */
static void
on_abort(int sig)
{
	die_summary("abort");
	signal(sig, SIG_DFL);
	raise(sig);
}

/* SIGALRM: an input ran longer than --timeout. */
static void
on_timeout(int sig)
{
	(void) sig;
	die_summary("timeout");
	_exit(3);
}

/* Run one input and count the outcome; stored selects profile_decode only. */
static void
run_input(const uint8_t *data, size_t len, int stored, const char *what, Bytes *keep)
{
	FuzzResult	r;

	current_data = data;
	current_len = len;
	current_what = what;
	alarm(opts->timeout);
	if (stored)
		fuzz_stored(data, len, &r);
	else
		fuzz_pprof(data, len, keep, &r);
	alarm(0);
	current_data = NULL;
	stats.inputs++;
	if (r.ok)
		stats.ok[stored]++;
	else
		stats.errors[stored][r.kind]++;
	if (opts->verbose)
		printf("%s %s: %s\n", what, r.ok ? "ok" : pp_standalone_kind_name(r.kind),
			   r.ok ? "" : r.message);
	if (r.invariant_failed)
	{
		char		name[64];

		stats.failed++;
		fprintf(stderr, "FAIL %s (%zu bytes): %s\n", what, len, r.message);
		snprintf(name, sizeof(name), "finding-%ld.bin", stats.failed);
		save_current(name);
	}
}

/* Inputs that no mutation of a small seed reaches: empty, one byte, a gzip bomb. */
static void
run_synthetic(void)
{
	size_t		bomb_len = ((size_t) 64 << 20) + 1;
	uint8_t    *zeros = calloc(bomb_len, 1);
	Bytes		gz = {0};

	run_input((const uint8_t *) "", 0, 0, "synthetic:empty", NULL);
	run_input((const uint8_t *) "\x0a", 1, 0, "synthetic:one-byte", NULL);
	seed_gzip(zeros, bomb_len, 9, &gz);
	run_input(gz.data, gz.len, 0, "synthetic:gzip-bomb", NULL);
	run_input(zeros, 1 << 20, 0, "synthetic:1MiB-zeros", NULL);
	free(zeros);
	bytes_free(&gz);
}

/* Load the seeds and run each one unmutated, keeping its stored profile. */
static void
prepare_seeds(SeedList *seeds)
{
	seeds_load(seeds);
	for (size_t i = 0; i < seeds->count; i++)
	{
		Seed	   *s = &seeds->seeds[i];

		run_input(s->file.data, s->file.len, 0, s->path, &s->stored);
		if (s->stored.len > 0 && !stored_body(s->stored.data, s->stored.len, &s->body))
			s->body.len = 0;
		if (s->stored.len > 0)
			run_input(s->stored.data, s->stored.len, 1, s->path, NULL);
	}
	/* packed values, from each seed's stored value and the next one's */
	for (size_t i = 0; i < seeds->count; i++)
	{
		Seed	   *s = &seeds->seeds[i];
		const Seed *next = &seeds->seeds[(i + 1) % seeds->count];

		if (s->stored.len == 0 ||
			!stored_packed(s->stored.data, s->stored.len,
						   next->stored.len ? next->stored.data : NULL, next->stored.len, &s->packed))
			s->packed.len = 0;
		if (s->packed.len > 0)
			run_input(s->packed.data, s->packed.len, 1, s->path, NULL);
	}
}

/* One mutated input from seed s in round r; other is splice material. */
static void
run_mutation(Seed *s, const Seed *other, long r, Rng *rng, Bytes *in, Bytes *out)
{
	int			mode = (int) (r % 7);
	const char *names[] = {"protobuf", "file", "regzip", "stored", "stored-raw", "stored-zstd",
	"packed"};
	char		what[512];

	if (mode == 6 && s->packed.len == 0)
		mode = 3;
	if (mode >= 3 && s->stored.len == 0)
		mode = 0;
	if (mode >= 4 && mode <= 5 && s->body.len == 0)
		mode = 3;
	snprintf(what, sizeof(what), "%s#%ld:%s", s->path, r, names[mode]);
	switch (mode)
	{
		case 0:
			mutate(rng, s->plain.data, s->plain.len, &s->index, other->plain.data,
				   other->plain.len, 1, out);
			run_input(out->data, out->len, 0, what, NULL);
			break;
		case 1:
			mutate(rng, s->file.data, s->file.len, s->gzipped ? NULL : &s->index,
				   other->file.data, other->file.len, 1, out);
			if (s->gzipped && r % 25 == 1)	/* two concatenated gzip members */
				bytes_append(out, s->file.data, s->file.len);
			run_input(out->data, out->len, 0, what, NULL);
			break;
		case 2:
			mutate(rng, s->plain.data, s->plain.len, &s->index, other->plain.data,
				   other->plain.len, 1, in);
			seed_gzip(in->data, in->len, 1, out);
			run_input(out->data, out->len, 0, what, NULL);
			break;
		case 3:
			mutate(rng, s->stored.data, s->stored.len, NULL, other->stored.data,
				   other->stored.len, 0, out);
			run_input(out->data, out->len, 1, what, NULL);
			break;
		case 6:
			mutate(rng, s->packed.data, s->packed.len, NULL, other->packed.data,
				   other->packed.len, 0, out);
			run_input(out->data, out->len, 1, what, NULL);
			break;
		default:
			mutate(rng, s->body.data, s->body.len, NULL, other->body.data,
				   other->body.len, 0, in);
			stored_wrap(in->data, in->len, mode == 5, out);
			run_input(out->data, out->len, 1, what, NULL);
			break;
	}
}

/* Mutate every seed once per round until the iterations or the time run out. */
static void
mutation_loop(SeedList *seeds, double deadline)
{
	Bytes		in = {0},
				out = {0};

	for (long r = 1; r <= opts->iterations && seeds->count > 0; r++)
	{
		for (size_t i = 0; i < seeds->count; i++)
		{
			Seed	   *s = &seeds->seeds[i];
			Rng			rng;

			if (now() >= deadline)
				goto done;
			rng_seed(&rng, hash64(s->path, strlen(s->path)) ^ (uint64_t) r * 0x9e3779b97f4a7c15ULL);
			run_mutation(s, &seeds->seeds[(i + (size_t) r) % seeds->count], r, &rng, &in, &out);
		}
		stats.rounds = r;
	}
done:
	bytes_free(&in);
	bytes_free(&out);
}

/* Print counts per outcome. */
static void
print_summary(size_t nseeds, double elapsed)
{
	printf("fuzz: %zu seeds, %ld full rounds, %ld inputs in %.1f s\n",
		   nseeds, stats.rounds, stats.inputs, elapsed);
	for (int m = 0; m < 2; m++)
	{
		printf("fuzz: %-7s ok %ld", m ? "stored" : "pprof", stats.ok[m]);
		for (int k = 0; k < FUZZ_KIND_COUNT; k++)
			if (stats.errors[m][k])
				printf(", %s %ld", pp_standalone_kind_name((PPErrorKind) k), stats.errors[m][k]);
		printf("\n");
	}
	printf("fuzz: peak pp_alloc bytes %zu\n", pp_standalone_peak_bytes());
}

/* Parse the command line; returns the index of the first path. */
static int
parse_options(int argc, char **argv, Options *o)
{
	int			i;

	o->seconds = 60;
	o->iterations = 1000000;
	o->timeout = 30;
	o->cap = PP_STANDALONE_DEFAULT_CAP;
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : "0";

		if (strcmp(a, "--seconds") == 0 && ++i)
			o->seconds = atof(v);
		else if (strcmp(a, "--iterations") == 0 && ++i)
			o->iterations = atol(v);
		else if (strcmp(a, "--timeout") == 0 && ++i)
			o->timeout = (unsigned) atoi(v);
		else if (strcmp(a, "--cap") == 0 && ++i)
			o->cap = (size_t) strtoull(v, NULL, 10);
		else if (strcmp(a, "--save") == 0 && ++i)
			o->save_dir = v;
		else if (strcmp(a, "--verbose") == 0)
			o->verbose = 1;
		else if (strcmp(a, "--replay") == 0)
			o->replay = o->verbose = 1;
		else if (strcmp(a, "--stored") == 0)
			o->stored = 1;
		else if (strcmp(a, "--write-seeds") == 0 && ++i)
			o->seeds_dir = v;
		else
		{
			fprintf(stderr, "fuzz_pprof: unknown option %s\n", a);
			exit(2);
		}
	}
	return i;
}

/* Replay files as they are (for reproducers). */
static void
replay(int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++)
	{
		Bytes		b = {0};

		if (!read_file(argv[i], &b))
		{
			fprintf(stderr, "fuzz_pprof: cannot read %s\n", argv[i]);
			exit(2);
		}
		run_input(b.data, b.len, opts->stored, argv[i], NULL);
		printf("  peak pp_alloc bytes %zu for %zu input bytes\n",
			   pp_standalone_peak_bytes(), b.len);
		pp_standalone_reset_peak();
		bytes_free(&b);
	}
}

/* Write DIR/target/NNNN.ext. */
static void
write_seed(const char *target, size_t n, const char *ext, const uint8_t *data, size_t len)
{
	char		path[4096];

	snprintf(path, sizeof(path), "%s/%s", opts->seeds_dir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%04zu.%s", opts->seeds_dir, target, n, ext);
	if (!write_file(path, data, len))
	{
		fprintf(stderr, "fuzz_pprof: cannot write %s\n", path);
		exit(2);
	}
}

/* The libFuzzer targets' seeds, derived from the loaded seeds. */
static void
write_seeds(const SeedList *seeds)
{
	Bytes		pair = {0},
				folded = {0};

	mkdir(opts->seeds_dir, 0755);
	for (size_t i = 0; i < seeds->count; i++)
	{
		const Seed *s = &seeds->seeds[i];
		const Seed *next = &seeds->seeds[(i + 1) % seeds->count];
		uint8_t		head[10];
		size_t		n = 0;
		uint64_t	v = s->stored.len;

		write_seed("pprof", i, "bin", s->file.data, s->file.len);
		write_seed("roundtrip", i, "bin", s->file.data, s->file.len);
		if (s->stored.len == 0)
			continue;
		write_seed("recv", i, "bin", s->stored.data, s->stored.len);
		if (s->packed.len > 0)
			write_seed("recv", 1000 + i, "bin", s->packed.data, s->packed.len);
		while (v >= 0x80)
		{
			head[n++] = (uint8_t) (v | 0x80);
			v >>= 7;
		}
		head[n++] = (uint8_t) v;
		bytes_set(&pair, head, n);
		bytes_append(&pair, s->stored.data, s->stored.len);
		bytes_append(&pair, next->stored.data, next->stored.len);
		write_seed("merge", i, "bin", pair.data, pair.len);
		if (stored_folded(s->stored.data, s->stored.len, &folded))
			write_seed("folded", i, "txt", folded.data, folded.len);
	}
	bytes_free(&pair);
	bytes_free(&folded);
}

/* Run the loop, print the summary and the final line. */
int
main(int argc, char **argv)
{
	static Options o;
	SeedList	seeds = {0};
	int			first = parse_options(argc, argv, &o);
	double		start = now();

	opts = &o;
	pp_standalone_set_cap(o.cap);
	signal(SIGALRM, on_timeout);
	signal(SIGABRT, on_abort);
#ifdef FUZZ_ASAN
	__sanitizer_set_death_callback(on_sanitizer_death);
#else
	(void) on_sanitizer_death;
#endif
	if (o.replay)
		replay(argc, argv, first);
	else
	{
		for (int i = first; i < argc; i++)
			seeds_add_path(&seeds, argv[i]);
		run_synthetic();
		prepare_seeds(&seeds);
		if (o.seeds_dir)
		{
			write_seeds(&seeds);
			seeds_free(&seeds);
			pp_standalone_free_all();
			return 0;
		}
		mutation_loop(&seeds, start + o.seconds);
		print_summary(seeds.count, now() - start);
		seeds_free(&seeds);
	}
#ifdef FUZZ_ASAN
	if (__lsan_do_recoverable_leak_check() != 0)
	{
		fprintf(stderr, "fuzz: memory leaked outside pp_alloc (see the report above)\n");
		stats.failed++;
	}
#endif
	printf("%ld passed, %ld failed\n", stats.inputs - stats.failed, stats.failed);
	fflush(stdout);
	final_line_printed = 1;
	return stats.failed ? 1 : 0;
}

