/*
 * spool.h
 *	  The spool: requests that could not reach PostgreSQL, each written as
 *	  one file and fsync'd (file and folder) before the client gets its 200.
 *
 * Layout under spool_dir:
 *	  NNNNNNNNNNNNNNNNNNNN.spool   an entry; the number orders the replay
 *	  tmp/                         entries being written (never acknowledged;
 *	                               removed at start-up)
 *	  rejected/                    entries PostgreSQL refused on replay, kept
 *	                               for the operator (logged and counted)
 *
 * An entry holds every profile of its request with its request_id, so a
 * replay after a crash between COMMIT and unlink stores nothing twice.
 */
#ifndef COLLECTOR_SPOOL_H
#define COLLECTOR_SPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "request.h"

/* How writing one request went. */
typedef enum SpoolResult
{
	SPOOL_WRITTEN,
	SPOOL_FULL,					/* past spool_max_bytes: answer 503 */
	SPOOL_FAILED				/* the disk said no: answer 503 */
} SpoolResult;

/* A spool entry read back: its profiles, ready for pprof_ingest. */
typedef struct SpoolEntry
{
	char	   *name;			/* file name inside spool_dir */
	Profile    *profiles;
	int			n_profiles;
	uint64_t	bytes;			/* file size */
} SpoolEntry;

/* Open (and create) the spool folder, count what is in it, clean tmp/. */
extern bool spool_open(char **error);

/* Write requests[i] as one entry each; results[i] says how it went. */
extern void spool_write(Request *const *requests, int n, SpoolResult *results);

/* The names of the oldest entries, up to max (to free with spool_free_names). */
extern int	spool_list(char ***names, int max);
extern void spool_free_names(char **names, int n);

/* Read one entry; false with *error (to free) if it is unreadable or corrupt. */
extern bool spool_read(const char *name, SpoolEntry *entry, char **error);
extern void spool_entry_free(SpoolEntry *entry);

/* Remove replayed entries (unlink, then one fsync of the folder). */
extern void spool_remove(char *const *names, const uint64_t *sizes, int n);

/* Move an entry PostgreSQL refused to rejected/, with the reason logged. */
extern void spool_reject(const char *name, uint64_t size, const char *why);

/* Entries and bytes waiting. */
extern long spool_count(void);
extern uint64_t spool_bytes(void);

/* Wake whoever waits for new entries (the replay thread). */
extern void spool_wait_for_entries(int timeout_ms);

#endif							/* COLLECTOR_SPOOL_H */
