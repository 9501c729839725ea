/*
 * core_host.h
 *	  Calls into the project's pprof cores (build/plain/libppcore.a) for
 *	  the collector, whose threads run them at once: the platform layer is
 *	  src/pp_standalone.c, whose state is per thread.
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

#endif							/* COLLECTOR_CORE_HOST_H */
