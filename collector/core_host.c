/*
 * core_host.c
 *	  pp_core.h on malloc and longjmp with per-thread state.
 *
 * Each block carries a header linking it into its thread's list of live
 * blocks, so core_run() can release everything a call left behind.
 */
#include "core_host.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define HOST_BLOCK_MAGIC 0x636f6c6c626c6b31ULL	/* "collblk1" */

/* The header in front of every block; the union keeps the payload aligned. */
typedef union HostBlock
{
	struct
	{
		union HostBlock *prev;
		union HostBlock *next;
		size_t		size;
		uint64_t	magic;
	}			h;
	max_align_t align;
} HostBlock;

/* One thread's state: its live blocks, its cap and its error handler. */
typedef struct HostThread
{
	HostBlock	live;
	bool		live_ready;
	size_t		live_bytes;
	size_t		cap_bytes;
	jmp_buf    *handler;
	CoreFailure *failure;
} HostThread;

static __thread HostThread host;

/* The thread's list head, set up on first use. */
static HostBlock *
live_list(void)
{
	if (!host.live_ready)
	{
		host.live.h.prev = host.live.h.next = &host.live;
		host.live_ready = true;
	}
	return &host.live;
}

/* Record the error and jump to the handler (abort outside core_run). */
void
pp_error_ext(PPErrorKind kind, const char *detail, const char *hint, const char *fmt,...)
{
	va_list		args;
	char		message[400];

	(void) hint;
	va_start(args, fmt);
	vsnprintf(message, sizeof(message), fmt, args);
	va_end(args);
	if (host.handler == NULL || host.failure == NULL)
	{
		fprintf(stderr, "pg_pprof_collector: core error outside core_run: %s\n", message);
		abort();
	}
	host.failure->kind = kind;
	if (detail && *detail)
		snprintf(host.failure->message, sizeof(host.failure->message), "%s: %.100s", message, detail);
	else
		snprintf(host.failure->message, sizeof(host.failure->message), "%s", message);
	longjmp(*host.handler, 1);
}

/* A failed pp_assert: print it and abort. */
void
pp_assert_failed(const char *condition, const char *file, int line)
{
	fprintf(stderr, "pp_assert(%s) failed at %s:%d\n", condition, file, line);
	abort();
}

/* The header of a payload pointer, checked for sanity. */
static HostBlock *
header_of(void *ptr)
{
	HostBlock  *b = (HostBlock *) ptr - 1;

	if (b->h.magic != HOST_BLOCK_MAGIC)
	{
		fprintf(stderr, "pg_pprof_collector: %p was not allocated by pp_alloc\n", ptr);
		abort();
	}
	return b;
}

/* Raise PP_ERR_LIMIT unless size more bytes fit under the cap. */
static void
check_cap(size_t size)
{
	if (host.cap_bytes != 0 &&
		(size > host.cap_bytes || host.live_bytes > host.cap_bytes - size))
		pp_error(PP_ERR_LIMIT, "decoding needs more than %zu bytes of memory", host.cap_bytes);
}

/* Link a block at the head of the thread's live list. */
static void
link_block(HostBlock *b)
{
	HostBlock  *head = live_list();

	b->h.prev = head;
	b->h.next = head->h.next;
	head->h.next->h.prev = b;
	head->h.next = b;
}

/* Unlink a block from its list. */
static void
unlink_block(HostBlock *b)
{
	b->h.prev->h.next = b->h.next;
	b->h.next->h.prev = b->h.prev;
}

/* Allocate size bytes (never returns NULL). */
void *
pp_alloc(size_t size)
{
	HostBlock  *b;

	check_cap(size);
	b = malloc(sizeof(HostBlock) + size);
	if (b == NULL)
		pp_error(PP_ERR_LIMIT, "out of memory allocating %zu bytes", size);
	b->h.size = size;
	b->h.magic = HOST_BLOCK_MAGIC;
	link_block(b);
	host.live_bytes += size;
	return b + 1;
}

/* Allocate size zeroed bytes. */
void *
pp_alloc0(size_t size)
{
	void	   *p = pp_alloc(size);

	memset(p, 0, size);
	return p;
}

/* Grow or shrink an allocation made by pp_alloc. */
void *
pp_realloc(void *ptr, size_t size)
{
	HostBlock  *b;
	HostBlock  *nb;
	size_t		old;

	if (ptr == NULL)
		return pp_alloc(size);
	b = header_of(ptr);
	old = b->h.size;
	if (size > old)
		check_cap(size - old);
	unlink_block(b);
	nb = realloc(b, sizeof(HostBlock) + size);
	if (nb == NULL)
	{
		link_block(b);
		pp_error(PP_ERR_LIMIT, "out of memory reallocating %zu bytes", size);
	}
	nb->h.size = size;
	link_block(nb);
	host.live_bytes = host.live_bytes - old + size;
	return nb + 1;
}

/* Release an allocation early. */
void
pp_free(void *ptr)
{
	HostBlock  *b;

	if (ptr == NULL)
		return;
	b = header_of(ptr);
	unlink_block(b);
	host.live_bytes -= b->h.size;
	b->h.magic = 0;
	free(b);
}

/* Nothing to cancel: calls are bounded by the input limits. */
void
pp_check_interrupts(void)
{
}

/* Free every block the thread still holds. */
static void
free_all(void)
{
	HostBlock  *head = live_list();

	while (head->h.next != head)
	{
		HostBlock  *b = head->h.next;

		unlink_block(b);
		b->h.magic = 0;
		free(b);
	}
	host.live_bytes = 0;
}

static uint8_t hash_key[16];
static pthread_once_t hash_key_once = PTHREAD_ONCE_INIT;

/* Draw the process's hash key. */
static void
draw_hash_key(void)
{
	size_t		got = 0;

	while (got < sizeof(hash_key))
	{
		ssize_t		n = getrandom(hash_key + got, sizeof(hash_key) - got, 0);

		if (n > 0)
			got += (size_t) n;
	}
}

/* The key of the cores' keyed hashes: random, so that no input can make names collide. */
const uint8_t *
pp_hash_key(void)
{
	pthread_once(&hash_key_once, draw_hash_key);
	return hash_key;
}

/* Run fn(arg) with a handler and a cap; everything it allocated is freed after. */
bool
core_run(void (*fn) (void *arg), void *arg, size_t memory_cap, CoreFailure *failure)
{
	jmp_buf		handler;
	bool		ok;

	host.cap_bytes = memory_cap;
	host.failure = failure;
	host.handler = &handler;
	if (setjmp(handler) == 0)
	{
		fn(arg);
		ok = true;
	}
	else
		ok = false;
	host.handler = NULL;
	host.failure = NULL;
	free_all();
	return ok;
}
