/*
 * utf8_text.c
 *	  UTF-8 validation and replacement of invalid sequences.
 */
#include "utf8_text.h"

#include <string.h>

/*
 * Length of the valid UTF-8 sequence starting at s (at most len bytes), or 0
 * if none starts there.  NUL counts as invalid.  Follows the Unicode rules Go
 * uses: no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t
utf8_sequence_length(const uint8_t *s, size_t len)
{
	uint8_t		c = s[0];

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return (len >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF)
	{
		uint8_t		lo = (c == 0xE0) ? 0xA0 : 0x80;
		uint8_t		hi = (c == 0xED) ? 0x9F : 0xBF;

		if (len >= 3 && s[1] >= lo && s[1] <= hi && (s[2] & 0xC0) == 0x80)
			return 3;
		return 0;
	}
	if (c >= 0xF0 && c <= 0xF4)
	{
		uint8_t		lo = (c == 0xF0) ? 0x90 : 0x80;
		uint8_t		hi = (c == 0xF4) ? 0x8F : 0xBF;

		if (len >= 4 && s[1] >= lo && s[1] <= hi &&
			(s[2] & 0xC0) == 0x80 && (s[3] & 0xC0) == 0x80)
			return 4;
		return 0;
	}
	return 0;
}

/* True if s[0..len) is valid UTF-8 without NUL bytes. */
bool
utf8_is_clean(const char *s, size_t len)
{
	const uint8_t *p = (const uint8_t *) s;
	size_t		i = 0;

	/* Fast path: eight ASCII bytes at a time, none of them NUL. */
	while (len - i >= 8)
	{
		uint64_t	w;

		memcpy(&w, p + i, 8);
		if ((w & 0x8080808080808080ULL) != 0 ||
			((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) != 0)
			break;
		i += 8;
	}
	while (i < len)
	{
		size_t		n;

		/* Fast path over ASCII. */
		if (p[i] >= 0x01 && p[i] < 0x80)
		{
			i++;
			continue;
		}
		n = utf8_sequence_length(p + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

/* Replace each run of invalid bytes, and each NUL, with one U+FFFD. */
const char *
utf8_sanitize(const char *s, size_t len, size_t *out_len)
{
	const uint8_t *p = (const uint8_t *) s;
	char	   *out;
	size_t		o = 0;
	size_t		i = 0;
	bool		in_bad_run = false;

	if (utf8_is_clean(s, len))
	{
		*out_len = len;
		return s;
	}
	/* Each bad byte expands to at most 3 bytes. */
	out = pp_alloc(pp_mul_size(len, 3) + 1);
	while (i < len)
	{
		size_t		n;

		if (p[i] == 0)
		{
			/* Go keeps NUL and we replace it afterwards: one U+FFFD each. */
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			in_bad_run = false;
			i++;
			continue;
		}
		n = utf8_sequence_length(p + i, len - i);
		if (n == 0)
		{
			if (!in_bad_run)
			{
				memcpy(out + o, "\xEF\xBF\xBD", 3);
				o += 3;
			}
			in_bad_run = true;
			i++;
			continue;
		}
		in_bad_run = false;
		memcpy(out + o, p + i, n);
		o += n;
		i += n;
	}
	*out_len = o;
	return out;
}
