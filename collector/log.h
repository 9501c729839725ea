/*
 * log.h
 *	  One line per event on stderr, in logfmt:
 *
 *	  2026-12-01T09:00:00.123Z level=info event=start listen=127.0.0.1:4040 ...
 *
 * Starts, stops, reloads and errors each log one line.  Rejected requests
 * log at level=warn through a rate limit, so a flood of bad requests cannot
 * flood the log (a line then says how many were left out).
 */
#ifndef COLLECTOR_LOG_H
#define COLLECTOR_LOG_H

#include <stdbool.h>

typedef enum LogLevel
{
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR
} LogLevel;

/* Only lines at this level or above are written (default LOG_INFO). */
extern void log_set_level(LogLevel level);
extern bool log_parse_level(const char *text, LogLevel *level);

/* Write one line: time, level, event=EVENT, then the formatted fields. */
extern void log_line(LogLevel level, const char *event, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* As log_line at level warn, at most 20 lines a second. */
extern void log_warn_limited(const char *event, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

/*
 * s as a logfmt value: quoted and escaped when it needs to be.  The result
 * lives in a small per-thread ring, so up to 8 may be used in one call.
 */
extern const char *lq(const char *s);

#endif							/* COLLECTOR_LOG_H */
