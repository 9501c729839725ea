/*
 * pprof_scan.h
 *	  A quick read of a pprof's wire format for what the collector must
 *	  tell pprof_ingest(): the sample type names, the keys of the string
 *	  sample labels and time_nanos.  It allocates only its results and
 *	  checks every length and index, but it is no validation: it leaves
 *	  locations, functions and values to pprof_open() (profile_check.c),
 *	  which the server runs on every profile anyway.
 */
#ifndef COLLECTOR_PPROF_SCAN_H
#define COLLECTOR_PPROF_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the scan found (strings malloc'd, NUL-terminated, as in the file). */
typedef struct PprofScan
{
	char	  **type_names;
	int			n_types;
	char	  **label_keys;		/* distinct keys of labels with a string value */
	int			n_label_keys;
	int64_t		time_ns;
	bool		too_large;		/* failed on the decompressed size limit */
	uint8_t    *inflated;		/* gzip input's decompressed bytes, when kept */
	size_t		inflated_len;
} PprofScan;

/*
 * Scan data (gzip or raw, at most max_bytes decompressed); false with a
 * one-line reason in why when it is not a readable pprof message.  With
 * keep_inflated, a gzip input's decompressed bytes stay in out->inflated
 * (malloc) for the caller to send on, so the server need not inflate them
 * again.
 */
extern bool pprof_scan(const uint8_t *data, size_t len, size_t max_bytes, bool keep_inflated,
					   PprofScan *out, char *why, size_t why_len);

extern void pprof_scan_free(PprofScan *scan);

#endif							/* COLLECTOR_PPROF_SCAN_H */
