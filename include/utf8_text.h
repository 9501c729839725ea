/*
 * utf8_text.h
 *	  UTF-8 checks for names taken from pprof files and stored values.
 */
#ifndef UTF8_TEXT_H
#define UTF8_TEXT_H

#include "pp_core.h"

/* True if s[0..len) is valid UTF-8 without NUL bytes. */
extern bool utf8_is_clean(const char *s, size_t len);

/*
 * Return s unchanged when it is clean; otherwise a new string where each run
 * of invalid bytes (and each NUL) becomes one U+FFFD, as Go's
 * strings.ToValidUTF8 does.  *out_len receives the length.
 */
extern const char *utf8_sanitize(const char *s, size_t len, size_t *out_len);

#endif							/* UTF8_TEXT_H */
