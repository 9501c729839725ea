/*
 * core_host.h
 *	  The pp_core.h platform layer for the collector: the project's pprof
 *	  cores (build/plain/libppcore.a) run in several threads at once here,
 *	  so, unlike src/pp_standalone.c, every piece of state is per thread.
 *
 * core_run() calls a function with an error handler and a memory cap.
 * Whatever the cores allocated during the call is freed when it returns,
 * whether it finished or raised an error, so the function must copy out
 * (with malloc) anything it wants to keep.
 */
#ifndef COLLECTOR_CORE_HOST_H
#define COLLECTOR_CORE_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "pp_core.h"

/* Why a core call failed. */
typedef struct CoreFailure
{
	PPErrorKind kind;
	char		message[512];
} CoreFailure;

/*
 * Run fn(arg) with the cores' allocations capped at memory_cap bytes (0: no
 * cap); true if it returned, false (with *failure filled) if it raised.
 */
extern bool core_run(void (*fn) (void *arg), void *arg, size_t memory_cap, CoreFailure *failure);

/*
 * The 16-byte key of the cores' keyed hashes, random per process (the
 * cores of later versions ask their host for it; these do not yet).
 */
extern const uint8_t *pp_hash_key(void);

#endif							/* COLLECTOR_CORE_HOST_H */
