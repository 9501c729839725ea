/*
 * labelset.h
 *	  The legacy /ingest query's name=app{k=v,...} and from/until, read as
 *	  Pyroscope reads them.
 *
 * name: the app part (before the first '{') is trimmed and must be
 * [A-Za-z0-9_.\-/]+.  In the braces, keys run to '=' and values to ',' or
 * '}', both trimmed, with no escaping: a value can hold '=' but not ',' or
 * '}'.  Keys must be [A-Za-z0-9_.]+; __name__ is allowed and replaces the
 * app.  A key without '=' before the closing brace is dropped, and nothing
 * after the closing brace counts.
 *
 * from/until: an all-digit value is read by its length (8 digits YYYYMMDD,
 * 13 milliseconds, 16 microseconds, 19 nanoseconds, anything else seconds);
 * otherwise now, moved by an offset such as now-10s or -1h.
 */
#ifndef COLLECTOR_LABELSET_H
#define COLLECTOR_LABELSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed name: the app and its tags in order of appearance. */
typedef struct LabelSet
{
	char	   *app;
	char	  **keys;
	char	  **values;
	int			n;
} LabelSet;

/* Parse name; false with a one-line reason in why when Pyroscope would refuse it. */
extern bool labelset_parse(const char *name, LabelSet *out, char *why, size_t why_len);
extern void labelset_free(LabelSet *ls);

/* The value of key, or NULL. */
extern const char *labelset_get(const LabelSet *ls, const char *key);

/* A from/until value as Unix microseconds (now_us when empty or unreadable). */
extern int64_t attime_parse(const char *text, int64_t now_us);

#endif							/* COLLECTOR_LABELSET_H */
