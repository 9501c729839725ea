/*
 * core_host.c
 *	  core_run() for the collector, on src/pp_standalone.c's per-thread
 *	  platform layer, with a random hash key for the whole process.
 */
#include "core_host.h"
#include "pp_standalone.h"

#include <pthread.h>
#include <stdio.h>
#include <sys/random.h>

static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

/* Draw the process's hash key, so that no input can make names collide. */
static void
draw_hash_key(void)
{
	uint8_t		key[16];
	size_t		got = 0;

	while (got < sizeof(key))
	{
		ssize_t		n = getrandom(key + got, sizeof(key) - got, 0);

		if (n > 0)
			got += (size_t) n;
	}
	pp_standalone_set_hash_key(key);
}

/* Run fn(arg) with a handler and a cap; everything it allocated is freed after. */
bool
core_run(void (*fn) (void *arg), void *arg, size_t memory_cap, CoreFailure *failure)
{
	size_t		previous_cap;
	bool		ok;

	pthread_once(&hash_key_once, draw_hash_key);
	previous_cap = pp_standalone_set_cap(memory_cap);
	ok = pp_standalone_run(fn, arg);
	if (!ok)
	{
		const PPStandaloneError *e = pp_standalone_last_error();

		failure->kind = e->kind;
		if (e->detail[0])
			snprintf(failure->message, sizeof(failure->message), "%.400s: %.100s", e->message, e->detail);
		else
			snprintf(failure->message, sizeof(failure->message), "%.500s", e->message);
	}
	pp_standalone_free_all();
	pp_standalone_set_cap(previous_cap);
	return ok;
}
