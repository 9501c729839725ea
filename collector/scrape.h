/*
 * scrape.h
 *	  Pull scraping, as Alloy's pyroscope.scrape does it: every target's
 *	  enabled profiles are fetched from its Go /debug/pprof endpoints at
 *	  the target's interval, by one thread driving libcurl's multi
 *	  interface, so a 14-second CPU profile never holds up the others.
 *
 *	  cpu        /debug/pprof/profile?seconds=<interval-1>   name process_cpu
 *	  allocs     /debug/pprof/allocs                         name memory (deltas)
 *	  mutex      /debug/pprof/mutex                          name mutex (deltas)
 *	  block      /debug/pprof/block                          name block (deltas)
 *	  goroutine  /debug/pprof/goroutine                      name goroutine
 *
 * Timeouts, non-2xx answers, a Content-Type other than
 * application/octet-stream and invalid profiles are logged and counted
 * (pg_pprof_collector_scrapes_total) and never stop a loop.
 */
#ifndef COLLECTOR_SCRAPE_H
#define COLLECTOR_SCRAPE_H

#include <stdbool.h>

#include "config.h"

/* Start the scrape thread with a copy of the targets. */
extern bool scrape_start(const ScrapeTarget *targets, int n);

/*
 * Replace the targets (SIGHUP); loops whose target and profile did not
 * change keep their delta state.  Takes ownership of targets.
 */
extern void scrape_reload(ScrapeTarget *targets, int n);

/* Stop scraping (transfers in flight are abandoned: nothing was acknowledged). */
extern void scrape_stop(void);

#endif							/* COLLECTOR_SCRAPE_H */
