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
#include <string.h>

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

/*
 * Raise an error with a detail (a full sentence about this case) and a hint
 * (what the user can do); either may be NULL.  Never returns.  The message
 * is PostgreSQL's primary message: lower case, no period.
 */
extern void pp_error_ext(PPErrorKind kind, const char *detail, const char *hint,
						 const char *fmt,...)
			__attribute__((format(printf, 4, 5), noreturn));

/* Raise an error with a message only. */
#define pp_error(kind, ...) pp_error_ext((kind), NULL, NULL, __VA_ARGS__)

/* Report a failed pp_assert; never returns. */
extern void pp_assert_failed(const char *condition, const char *file, int line)
			__attribute__((noreturn));

/*
 * An assertion on the cores' own invariants, checked in builds with
 * USE_ASSERT_CHECKING (as PostgreSQL's Assert) and compiled out otherwise.
 */
#ifdef USE_ASSERT_CHECKING
#define pp_assert(condition) \
	((condition) ? (void) 0 : pp_assert_failed(#condition, __FILE__, __LINE__))
#else
#define pp_assert(condition) ((void) 0)
#endif

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

/* In a loop with counter i, let the host cancel every 65536 iterations. */
#define PP_CHECK_INTERRUPTS_EVERY(i) \
	do { if (((i) & 0xffff) == 0xffff) pp_check_interrupts(); } while (0)

/*
 * The 16-byte key of the cores' keyed hashes (hash tables of names and ids
 * taken from hostile input).  The server draws a random key per backend,
 * so nobody can build names that collide; the standalone layer uses a fixed
 * key, so fuzz findings reproduce.
 */
extern const uint8_t *pp_hash_key(void);

/*
 * What one call may build: its output and the working memory that grows
 * with it, counted as it is built.  limit 0 means no limit.
 */
typedef struct PPBudget
{
	size_t		used;
	size_t		limit;
	const char *what;			/* names the output in the error, e.g. "folded text" */
} PPBudget;

/* Raise the PP_ERR_LIMIT error of a budget that bytes more would exceed. */
extern void pp_budget_exceeded(const PPBudget *budget, size_t bytes)
			__attribute__((noreturn));

/* Count bytes against a budget (NULL: no budget). */
static inline void
pp_budget_charge(PPBudget *budget, size_t bytes)
{
	if (budget == NULL || budget->limit == 0)
		return;
	if (bytes > budget->limit - budget->used)
		pp_budget_exceeded(budget, bytes);
	budget->used += bytes;
}

/* Multiply two sizes, raising PP_ERR_LIMIT on overflow. */
static inline size_t
pp_mul_size(size_t a, size_t b)
{
	size_t		r;

	if (__builtin_mul_overflow(a, b, &r))
		pp_error(PP_ERR_LIMIT, "requested allocation size overflows");
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
		pp_error(PP_ERR_OVERFLOW, "profile value sum is out of range for type bigint");
	return r;
}

/* Copy len bytes into a new NUL-terminated string. */
static inline char *
pp_strndup(const char *s, size_t len)
{
	char	   *r = (char *) pp_alloc(len + 1);

	if (len > 0)
		memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

/* Compare two byte strings in byte order, shorter first on a common prefix. */
static inline int
bytes_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = (alen == 0 || blen == 0) ? 0 : memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* |v| as an unsigned magnitude (no overflow for INT64_MIN). */
static inline uint64_t
pp_magnitude(int64_t v)
{
	return v < 0 ? (uint64_t) 0 - (uint64_t) v : (uint64_t) v;
}

/* Greatest common divisor of two magnitudes (gcd(0, b) = b). */
static inline uint64_t
pp_gcd(uint64_t a, uint64_t b)
{
	while (b != 0)
	{
		uint64_t	t = a % b;

		a = b;
		b = t;
	}
	return a;
}

#endif							/* PP_CORE_H */
