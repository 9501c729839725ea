/*
 * pp_standalone.c
 *	  pp_core.h on malloc and longjmp, for tools outside the server.
 *
 * Each block carries a header that links it into its thread's doubly
 * linked list of live blocks, so pp_standalone_free_all() can release
 * whatever the cores left behind when an error cut them short.
 */
#include "pp_standalone.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK_MAGIC 0x70705f626c6f636bULL	/* "pp_block" */

/* The header in front of every block; the union keeps the payload aligned. */
typedef union BlockHeader
{
	struct
	{
		union BlockHeader *prev;
		union BlockHeader *next;
		size_t		size;
		uint64_t	magic;
	}			h;
	max_align_t align;
} BlockHeader;

/*
 * Every piece of state is per thread, so that threads (the collector's)
 * may run the cores at once, each with its own blocks, cap and handler.
 */
static __thread BlockHeader live_blocks;
static __thread size_t live_bytes;
static __thread size_t peak_bytes;
static __thread size_t cap_bytes = PP_STANDALONE_DEFAULT_CAP;
static __thread jmp_buf *current_handler;
static __thread PPStandaloneError last_error;

/* The key of the cores' keyed hashes: fixed unless the program sets one. */
static uint8_t hash_key[16] = "pg_pprof fuzzkey";

/* The thread's list of live blocks, set up on first use. */
static BlockHeader *
live_list(void)
{
	if (live_blocks.h.next == NULL)
	{
		live_blocks.h.prev = live_blocks.h.next = &live_blocks;
		live_blocks.h.magic = BLOCK_MAGIC;
	}
	return &live_blocks;
}

/* Install handler as the innermost error handler; returns the previous one. */
jmp_buf *
pp_standalone_push_handler(jmp_buf *handler)
{
	jmp_buf    *previous = current_handler;

	current_handler = handler;
	return previous;
}

/* Restore the handler that pp_standalone_push_handler returned. */
void
pp_standalone_pop_handler(jmp_buf *previous)
{
	current_handler = previous;
}

/* Run fn(arg); true if it returned, false if it raised an error. */
bool
pp_standalone_run(void (*fn) (void *arg), void *arg)
{
	bool		ok;

	PP_TRY(ok, fn(arg));
	return ok;
}

/* The last error raised (valid until the next one). */
const PPStandaloneError *
pp_standalone_last_error(void)
{
	return &last_error;
}

/* Short name of an error kind. */
const char *
pp_standalone_kind_name(PPErrorKind kind)
{
	switch (kind)
	{
		case PP_ERR_BAD_PPROF:
			return "BAD_PPROF";
		case PP_ERR_CORRUPT:
			return "CORRUPT";
		case PP_ERR_LIMIT:
			return "LIMIT";
		case PP_ERR_OVERFLOW:
			return "OVERFLOW";
		case PP_ERR_BAD_ARGUMENT:
			return "BAD_ARGUMENT";
		case PP_ERR_MISMATCH:
			return "MISMATCH";
		case PP_ERR_BAD_TEXT:
			return "BAD_TEXT";
		case PP_ERR_INTERNAL:
			return "INTERNAL";
	}
	return "UNKNOWN";
}

/* Record the error and jump to the innermost handler (abort without one). */
void
pp_error_ext(PPErrorKind kind, const char *detail, const char *hint, const char *fmt,...)
{
	va_list		args;

	last_error.kind = kind;
	va_start(args, fmt);
	vsnprintf(last_error.message, sizeof(last_error.message), fmt, args);
	va_end(args);
	snprintf(last_error.detail, sizeof(last_error.detail), "%s", detail ? detail : "");
	snprintf(last_error.hint, sizeof(last_error.hint), "%s", hint ? hint : "");
	if (current_handler == NULL)
	{
		fprintf(stderr, "pp_error (%s) with no handler: %s\n",
				pp_standalone_kind_name(kind), last_error.message);
		abort();
	}
	longjmp(*current_handler, 1);
}

/*
 * The key of the cores' keyed hashes: fixed by default, so that a fuzz
 * finding or a benchmark run reproduces exactly.
 */
const uint8_t *
pp_hash_key(void)
{
	return hash_key;
}

/* Replace the hash key (before any thread runs the cores). */
void
pp_standalone_set_hash_key(const uint8_t key[16])
{
	memcpy(hash_key, key, sizeof(hash_key));
}

/* A failed pp_assert: print it and abort, as a failed Assert() does. */
void
pp_assert_failed(const char *condition, const char *file, int line)
{
	fprintf(stderr, "pp_assert(%s) failed at %s:%d\n", condition, file, line);
	abort();
}

/* The header of a payload pointer, checked for sanity. */
static BlockHeader *
header_of(void *ptr)
{
	BlockHeader *b = (BlockHeader *) ptr - 1;

	if (b->h.magic != BLOCK_MAGIC)
	{
		fprintf(stderr, "pp_standalone: %p was not allocated by pp_alloc\n", ptr);
		abort();
	}
	return b;
}

/* Raise PP_ERR_LIMIT unless size more bytes fit under the cap. */
static void
check_cap(size_t size)
{
	if (cap_bytes != 0 && (size > cap_bytes || live_bytes > cap_bytes - size))
		pp_error(PP_ERR_LIMIT, "allocating %zu bytes would exceed the memory cap of %zu bytes (%zu live)",
				 size, cap_bytes, live_bytes);
}

/* Account for a block of size bytes coming into use. */
static void
account(size_t size)
{
	live_bytes += size;
	if (live_bytes > peak_bytes)
		peak_bytes = live_bytes;
}

/* Link a block at the head of the live list. */
static void
link_block(BlockHeader *b)
{
	BlockHeader *head = live_list();

	b->h.prev = head;
	b->h.next = head->h.next;
	head->h.next->h.prev = b;
	head->h.next = b;
}

/* Unlink a block from the live list. */
static void
unlink_block(BlockHeader *b)
{
	b->h.prev->h.next = b->h.next;
	b->h.next->h.prev = b->h.prev;
}

/* Allocate size bytes (never returns NULL). */
void *
pp_alloc(size_t size)
{
	BlockHeader *b;

	check_cap(size);
	b = malloc(sizeof(BlockHeader) + size);
	if (b == NULL)
		pp_error(PP_ERR_LIMIT, "out of memory allocating %zu bytes", size);
	b->h.size = size;
	b->h.magic = BLOCK_MAGIC;
	link_block(b);
	account(size);
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
	BlockHeader *b;
	BlockHeader *nb;
	size_t		old;

	if (ptr == NULL)
		return pp_alloc(size);
	b = header_of(ptr);
	old = b->h.size;
	if (size > old)
		check_cap(size - old);
	unlink_block(b);
	nb = realloc(b, sizeof(BlockHeader) + size);
	if (nb == NULL)
	{
		link_block(b);
		pp_error(PP_ERR_LIMIT, "out of memory reallocating %zu bytes", size);
	}
	nb->h.size = size;
	link_block(nb);
	live_bytes -= old;
	account(size);
	return nb + 1;
}

/* Release an allocation early. */
void
pp_free(void *ptr)
{
	BlockHeader *b;

	if (ptr == NULL)
		return;
	b = header_of(ptr);
	unlink_block(b);
	live_bytes -= b->h.size;
	b->h.magic = 0;
	free(b);
}

/* Nothing to cancel outside the server. */
void
pp_check_interrupts(void)
{
}

/* Free every block the thread still holds through pp_alloc and friends. */
void
pp_standalone_free_all(void)
{
	BlockHeader *head = live_list();

	while (head->h.next != head)
	{
		BlockHeader *b = head->h.next;

		unlink_block(b);
		b->h.magic = 0;
		free(b);
	}
	live_bytes = 0;
}

/* Cap the live allocated bytes (0 = no cap); returns the previous cap. */
size_t
pp_standalone_set_cap(size_t max_bytes)
{
	size_t		previous = cap_bytes;

	cap_bytes = max_bytes;
	return previous;
}

/* Bytes currently allocated. */
size_t
pp_standalone_live_bytes(void)
{
	return live_bytes;
}

/* The most bytes ever allocated at once (since the last reset). */
size_t
pp_standalone_peak_bytes(void)
{
	return peak_bytes;
}

/* Reset the peak to the current live bytes. */
void
pp_standalone_reset_peak(void)
{
	peak_bytes = live_bytes;
}
