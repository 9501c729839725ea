/*
 * pp_standalone.h
 *	  The pp_core.h platform layer for tools that run outside the server
 *	  (fuzzers, benchmarks, unit tests).
 *
 * All state is per thread, so threads may run the cores at once.
 * Memory comes from malloc.  Every live block is tracked, so after an error
 * (or at any other point) pp_standalone_free_all() releases everything the
 * cores allocated, as a memory context reset does in the server.  An
 * optional cap on the live bytes turns runaway allocation into PP_ERR_LIMIT.
 *
 * pp_error() formats its message, records the error kind and longjmps to
 * the innermost handler set with PP_TRY (or pp_standalone_run).  Without a
 * handler it prints the message and aborts.
 *
 *	   bool ok;
 *	   PP_TRY(ok, file = pprof_open(data, len, &options));
 *	   if (!ok)
 *		   fprintf(stderr, "%s\n", pp_standalone_last_error()->message);
 *	   pp_standalone_free_all();
 *
 * Locals assigned inside PP_TRY and read after an error must be volatile.
 */
#ifndef PP_STANDALONE_H
#define PP_STANDALONE_H

#include "pp_core.h"

#include <setjmp.h>

/* The last error raised through pp_error. */
typedef struct PPStandaloneError
{
	PPErrorKind kind;
	char		message[1024];
	char		detail[1024];	/* empty when none was given */
	char		hint[1024];		/* empty when none was given */
} PPStandaloneError;

/* Default cap on live allocated bytes (1 GiB). */
#define PP_STANDALONE_DEFAULT_CAP ((size_t) 1 << 30)

/* Install handler as the innermost error handler; returns the previous one. */
extern jmp_buf *pp_standalone_push_handler(jmp_buf *handler);

/* Restore the handler that pp_standalone_push_handler returned. */
extern void pp_standalone_pop_handler(jmp_buf *previous);

/* Run fn(arg); true if it returned, false if it raised an error. */
extern bool pp_standalone_run(void (*fn) (void *arg), void *arg);

/* The last error raised (valid until the next one). */
extern const PPStandaloneError *pp_standalone_last_error(void);

/* Short name of an error kind, e.g. "BAD_PPROF". */
extern const char *pp_standalone_kind_name(PPErrorKind kind);

/* Free every block still allocated through pp_alloc and friends. */
extern void pp_standalone_free_all(void);

/* Cap the live allocated bytes (0 = no cap); returns the previous cap. */
extern size_t pp_standalone_set_cap(size_t max_bytes);

/* Bytes currently allocated, and the most ever allocated at once. */
extern size_t pp_standalone_live_bytes(void);
extern size_t pp_standalone_peak_bytes(void);

/* Reset the peak to the current live bytes. */
extern void pp_standalone_reset_peak(void);

/*
 * Replace the key of the cores' keyed hashes, fixed by default so that runs
 * reproduce; a program facing untrusted input sets a random one, before any
 * thread runs the cores.
 */
extern void pp_standalone_set_hash_key(const uint8_t key[16]);

/*
 * Run the statements in __VA_ARGS__ with an error handler; ok becomes true
 * if they completed and false if one raised an error through pp_error.
 */
#define PP_TRY(ok, ...) \
	do { \
		jmp_buf		pp_try_jb_; \
		jmp_buf    *pp_try_prev_ = pp_standalone_push_handler(&pp_try_jb_); \
		if (setjmp(pp_try_jb_) == 0) \
		{ \
			__VA_ARGS__; \
			(ok) = true; \
		} \
		else \
			(ok) = false; \
		pp_standalone_pop_handler(pp_try_prev_); \
	} while (0)

#endif							/* PP_STANDALONE_H */
