/*
 * pp_core.h
 *	  The small platform layer under pg_pprof's plain C cores.
 *
 * The decode, tree and encode code is plain C that never includes a
 * PostgreSQL header, so it can be fuzzed and benchmarked outside the server.
 * It allocates, reports errors and checks for interrupts only through the
 * functions declared here.  src/pg_pprof.c implements them on palloc and
 * ereport; src/pp_standalone.c implements them on malloc and longjmp for the
 * tools under test/ and bench/.
 */
#ifndef PP_CORE_H
#define PP_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What went wrong; the server maps each kind to a SQLSTATE. */
typedef enum PPErrorKind
{
	PP_ERR_BAD_PPROF,			/* malformed pprof input (22P03) */
	PP_ERR_CORRUPT,				/* corrupt stored profile value (XX001) */
	PP_ERR_LIMIT,				/* a configured limit was exceeded (54000) */
	PP_ERR_OVERFLOW,			/* int64 overflow in a sum (22003) */
	PP_ERR_BAD_ARGUMENT,		/* bad argument value (22023) */
	PP_ERR_MISMATCH,			/* incompatible profiles (22023) */
	PP_ERR_BAD_TEXT,			/* malformed text input, e.g. folded stacks (22P02) */
	PP_ERR_INTERNAL				/* cannot happen (XX000) */
} PPErrorKind;

/* Raise an error; never returns.  detail may be NULL. */
extern void pp_error(PPErrorKind kind, const char *detail, const char *fmt,...)
			__attribute__((format(printf, 3, 4), noreturn));

/* Allocate size bytes (never returns NULL). */
extern void *pp_alloc(size_t size);

/* Allocate size zeroed bytes. */
extern void *pp_alloc0(size_t size);

/* Grow or shrink an allocation made by pp_alloc. */
extern void *pp_realloc(void *ptr, size_t size);

/* Release an allocation early (optional: the owner frees everything later). */
extern void pp_free(void *ptr);

/* Let the host cancel a long loop (CHECK_FOR_INTERRUPTS in the server). */
extern void pp_check_interrupts(void);

/* Multiply two sizes, raising PP_ERR_LIMIT on overflow. */
static inline size_t
pp_mul_size(size_t a, size_t b)
{
	size_t		r;

	if (__builtin_mul_overflow(a, b, &r))
		pp_error(PP_ERR_LIMIT, NULL, "requested allocation size overflows");
	return r;
}

/* Allocate an array of n elements of size each, checking for overflow. */
static inline void *
pp_alloc_array(size_t n, size_t size)
{
	return pp_alloc(pp_mul_size(n, size));
}

/* Add two int64 values, raising PP_ERR_OVERFLOW on overflow. */
static inline int64_t
pp_add_int64(int64_t a, int64_t b)
{
	int64_t		r;

	if (__builtin_add_overflow(a, b, &r))
		pp_error(PP_ERR_OVERFLOW, NULL, "profile value sum is out of range for type bigint");
	return r;
}

#endif							/* PP_CORE_H */
