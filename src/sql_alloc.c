/*
 * sql_alloc.c
 *	  The allocation half of the pp_core.h platform layer in the server.
 *
 * Normally the cores allocate with palloc in the current memory context,
 * so a context reset frees whatever an error left behind.  Built with
 * -DPP_ALLOC_MALLOC (test/asan_server.sh), they allocate with malloc
 * instead, each block recorded on a list of the current context and freed
 * by that context's reset callback: palloc carves chunks out of large
 * blocks, where AddressSanitizer cannot see an overflow, while every
 * malloc'd block has ASan's red zones around it.
 */
#include "sql_module.h"

#include "utils/memutils.h"

#ifndef PP_ALLOC_MALLOC

/* Allocate in the current memory context (huge allocations allowed). */
void *
pp_alloc(size_t size)
{
	return MemoryContextAllocHuge(CurrentMemoryContext, size);
}

/* Allocate zeroed memory in the current memory context. */
void *
pp_alloc0(size_t size)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
}

/* Resize a pp_alloc allocation. */
void *
pp_realloc(void *ptr, size_t size)
{
	return repalloc_huge(ptr, size);
}

/* Free a pp_alloc allocation. */
void
pp_free(void *ptr)
{
	pfree(ptr);
}

#else							/* PP_ALLOC_MALLOC */

#include <stdlib.h>

/* A link of a context's circular list of blocks. */
typedef struct BlockLink
{
	struct BlockLink *prev;
	struct BlockLink *next;
} BlockLink;

/* A malloc'd block's header: on its context's list (malloc aligns it). */
typedef struct MallocBlock
{
	BlockLink	link;			/* first, so a link is its block */
	struct MallocTracker *tracker;
	max_align_t payload[];		/* the caller's bytes, aligned */
} MallocBlock;

/* The malloc'd blocks of one memory context, freed when it is reset. */
typedef struct MallocTracker
{
	MemoryContext context;
	BlockLink	head;
	MemoryContextCallback on_reset;
	struct MallocTracker *next; /* the live trackers */
} MallocTracker;

static MallocTracker *trackers;

/* A context's reset: free its blocks and forget its tracker (freed with it). */
static void
tracker_reset(void *arg)
{
	MallocTracker *t = arg;
	MallocTracker **p;

	while (t->head.next != &t->head)
	{
		BlockLink  *l = t->head.next;

		t->head.next = l->next;
		free(l);
	}
	for (p = &trackers; *p; p = &(*p)->next)
		if (*p == t)
		{
			*p = t->next;
			break;
		}
}

/* The tracker of the current context, made when it has none. */
static MallocTracker *
current_tracker(void)
{
	MallocTracker *t;

	for (t = trackers; t; t = t->next)
		if (t->context == CurrentMemoryContext)
			return t;
	t = MemoryContextAlloc(CurrentMemoryContext, sizeof(MallocTracker));
	t->context = CurrentMemoryContext;
	t->head.prev = t->head.next = &t->head;
	t->on_reset.func = tracker_reset;
	t->on_reset.arg = t;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, &t->on_reset);
	t->next = trackers;
	trackers = t;
	return t;
}

/* Put a block on its tracker's list. */
static void
link_block(MallocBlock *b, MallocTracker *t)
{
	b->tracker = t;
	b->link.prev = &t->head;
	b->link.next = t->head.next;
	t->head.next->prev = &b->link;
	t->head.next = &b->link;
}

/* Take a block off its list. */
static void
unlink_block(MallocBlock *b)
{
	b->link.prev->next = b->link.next;
	b->link.next->prev = b->link.prev;
}

/* The header of a payload pointer. */
static MallocBlock *
block_of(void *ptr)
{
	return (MallocBlock *) ((char *) ptr - offsetof(MallocBlock, payload));
}

/* Allocate size bytes with malloc, owned by the current context. */
void *
pp_alloc(size_t size)
{
	MallocBlock *b;

	if (size > MaxAllocHugeSize)
		elog(ERROR, "invalid memory alloc request size %zu", size);
	b = malloc(sizeof(MallocBlock) + size);
	if (b == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	link_block(b, current_tracker());
	return b->payload;
}

/* Allocate size zeroed bytes. */
void *
pp_alloc0(size_t size)
{
	void	   *p = pp_alloc(size);

	memset(p, 0, size);
	return p;
}

/* Resize a block, keeping its context. */
void *
pp_realloc(void *ptr, size_t size)
{
	MallocBlock *b = block_of(ptr);
	MallocTracker *t = b->tracker;
	MallocBlock *nb;

	unlink_block(b);
	nb = realloc(b, sizeof(MallocBlock) + size);
	if (nb == NULL)
	{
		link_block(b, t);
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	}
	link_block(nb, t);
	return nb->payload;
}

/* Free a block now. */
void
pp_free(void *ptr)
{
	MallocBlock *b = block_of(ptr);

	unlink_block(b);
	free(b);
}

#endif							/* PP_ALLOC_MALLOC */
