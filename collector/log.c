/*
 * log.c
 *	  logfmt lines on stderr, one per event, with a rate limit for warnings.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util.h"

static LogLevel min_level = LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* Rate limit state for log_warn_limited: lines this second, and left out. */
static int64_t limit_second;
static int	limit_count;
static long limit_dropped;

#define LOG_WARN_PER_SECOND 20
#define LQ_RING 8
#define LQ_SIZE 640

/* Only lines at this level or above are written. */
void
log_set_level(LogLevel level)
{
	min_level = level;
}

/* debug, info, warn or error. */
bool
log_parse_level(const char *text, LogLevel *level)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	for (int i = 0; i < 4; i++)
	{
		if (strcasecmp(text, names[i]) == 0)
		{
			*level = (LogLevel) i;
			return true;
		}
	}
	return false;
}

/* The level's name in a line. */
static const char *
level_name(LogLevel level)
{
	switch (level)
	{
		case LOG_DEBUG:
			return "debug";
		case LOG_INFO:
			return "info";
		case LOG_WARN:
			return "warn";
		case LOG_ERROR:
			return "error";
	}
	return "info";
}

/* Format and write one line (the lock keeps lines whole across threads). */
static void
log_write(LogLevel level, const char *event, const char *fmt, va_list args)
{
	char		when[40];
	char		body[2048];

	format_log_time(wall_now_us(), when, sizeof(when));
	vsnprintf(body, sizeof(body), fmt, args);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s level=%s event=%s%s%s\n", when, level_name(level), event,
			body[0] ? " " : "", body);
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

/* Write one line: time, level, event=EVENT, then the formatted fields. */
void
log_line(LogLevel level, const char *event, const char *fmt,...)
{
	va_list		args;

	if (level < min_level)
		return;
	va_start(args, fmt);
	log_write(level, event, fmt, args);
	va_end(args);
}

/* As log_line at level warn, at most LOG_WARN_PER_SECOND lines a second. */
void
log_warn_limited(const char *event, const char *fmt,...)
{
	va_list		args;
	int64_t		second = wall_now_us() / 1000000;
	long		dropped = 0;
	bool		write;

	if (LOG_WARN < min_level)
		return;
	pthread_mutex_lock(&log_lock);
	if (second != limit_second)
	{
		dropped = limit_dropped;
		limit_dropped = 0;
		limit_second = second;
		limit_count = 0;
	}
	write = limit_count++ < LOG_WARN_PER_SECOND;
	if (!write)
		limit_dropped++;
	pthread_mutex_unlock(&log_lock);
	if (dropped > 0)
		log_line(LOG_WARN, "log_limited", "left_out=%ld", dropped);
	if (!write)
		return;
	va_start(args, fmt);
	log_write(LOG_WARN, event, fmt, args);
	va_end(args);
}

/* s as a logfmt value: quoted and escaped when it needs to be. */
const char *
lq(const char *s)
{
	static __thread char ring[LQ_RING][LQ_SIZE];
	static __thread int next;
	char	   *out = ring[next];
	size_t		o = 0;
	bool		plain = s && *s;

	next = (next + 1) % LQ_RING;
	if (s == NULL)
		return "\"\"";
	for (const char *p = s; *p && plain; p++)
		if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char) *p >= 0x7f)
			plain = false;
	if (plain && strlen(s) < LQ_SIZE - 1)
		return s;
	out[o++] = '"';
	for (const char *p = s; *p && o < LQ_SIZE - 8; p++)
	{
		unsigned char c = (unsigned char) *p;

		if (c == '"' || c == '\\')
		{
			out[o++] = '\\';
			out[o++] = (char) c;
		}
		else if (c == '\n')
		{
			out[o++] = '\\';
			out[o++] = 'n';
		}
		else if (c < ' ' || c == 0x7f)
			out[o++] = '?';
		else
			out[o++] = (char) c;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}
