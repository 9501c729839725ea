/*
 * folded.h
 *	  The legacy folded-text uploads of /ingest, turned into pprof.
 *
 * Two body formats: "groups" (no format, or an unknown one), one
 * `root;caller;leaf 123` stack per line, and "lines" (format=lines), one
 * stack per line, each counting 1.  As in Pyroscope, the last dot segment
 * of the app name is the profile type (app.cpu, app.alloc_space; no dot
 * means cpu), which gives the profile name, sample type and unit; for cpu,
 * wall and their kind, values are counts of samples taken sampleRate times
 * a second, and are scaled by 1e9/sampleRate into nanoseconds.
 */
#ifndef COLLECTOR_FOLDED_H
#define COLLECTOR_FOLDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the app name's type suffix means. */
typedef struct FoldedType
{
	const char *profile_name;	/* process_cpu, memory, ... */
	const char *sample_type;
	const char *unit;
	bool		timed;			/* scaled by 1e9/sampleRate into nanoseconds */
} FoldedType;

/*
 * Split app into the service and its type suffix; false with why when the
 * suffix is not a type Pyroscope knows.  *service is malloc'd.
 */
extern bool folded_type_of(const char *app, char **service, FoldedType *type, char *why, size_t why_len);

/*
 * Build a raw pprof from folded text.  sample_rate 0 leaves the values
 * unscaled.  NULL with why on a malformed line or value.
 */
extern uint8_t *folded_to_pprof(const uint8_t *text, size_t len, bool individual_lines,
								const FoldedType *type, int64_t sample_rate, int64_t time_ns,
								int64_t duration_ns, size_t *out_len, char *why, size_t why_len);

#endif							/* COLLECTOR_FOLDED_H */
