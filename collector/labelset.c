/*
 * labelset.c
 *	  Pyroscope's name=app{k=v} and from/until rules (see labelset.h).
 *
 * The name parser is the same state machine as Pyroscope's: the input is
 * read rune by rune with an extra '{' at the end, and invalid UTF-8 becomes
 * U+FFFD as Go's range loop makes it.
 */
#include "labelset.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The parser's states. */
typedef enum NameState
{
	STATE_APP,
	STATE_KEY,
	STATE_VALUE,
	STATE_DONE
} NameState;

/* Decode one rune at s (len bytes left); invalid bytes give U+FFFD, one byte long. */
static uint32_t
next_rune(const unsigned char *s, size_t len, size_t *used)
{
	uint32_t	cp;
	size_t		n;

	if (s[0] < 0x80)
	{
		*used = 1;
		return s[0];
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, cp = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, cp = s[0] & 0x07;
	else
		n = 0, cp = 0;
	if (n == 0 || n > len)
	{
		*used = 1;
		return 0xfffd;
	}
	for (size_t k = 1; k < n; k++)
	{
		if ((s[k] & 0xc0) != 0x80)
		{
			*used = 1;
			return 0xfffd;
		}
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
	{
		*used = 1;
		return 0xfffd;
	}
	*used = n;
	return cp;
}

/* Append a rune as UTF-8. */
static void
append_rune(Buf *b, uint32_t cp)
{
	uint8_t		x[4];
	size_t		n;

	if (cp < 0x80)
		x[0] = (uint8_t) cp, n = 1;
	else if (cp < 0x800)
		x[0] = (uint8_t) (0xc0 | (cp >> 6)), x[1] = (uint8_t) (0x80 | (cp & 0x3f)), n = 2;
	else if (cp < 0x10000)
		x[0] = (uint8_t) (0xe0 | (cp >> 12)), x[1] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f)),
			x[2] = (uint8_t) (0x80 | (cp & 0x3f)), n = 3;
	else
		x[0] = (uint8_t) (0xf0 | (cp >> 18)), x[1] = (uint8_t) (0x80 | ((cp >> 12) & 0x3f)),
			x[2] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f)), x[3] = (uint8_t) (0x80 | (cp & 0x3f)), n = 4;
	buf_append(b, x, n);
}

/* The buffer's text with white space trimmed, as a new string. */
static char *
trimmed_copy(const Buf *b)
{
	char	   *s = xstrndup(b->data ? (const char *) b->data : "", b->len);
	char	   *t = str_trim(s);
	char	   *out = xstrdup(t);

	free(s);
	return out;
}

/* True when c may appear in a label name: [A-Za-z0-9_.]. */
static bool
label_name_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '.';
}

/* Explain the first character of s that fails allowed, as Pyroscope words it. */
static bool
check_chars(const char *s, bool (*allowed) (unsigned char), const char *what, char *why, size_t why_len)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (!allowed(*p))
		{
			if (*p >= 0x20 && *p < 0x7f)
				snprintf(why, why_len, "%s: %s: character is not allowed: '%c'", what, s, *p);
			else
				snprintf(why, why_len, "%s: character is not allowed: byte 0x%02x", what, *p);
			return false;
		}
	}
	return true;
}

/* True when c may appear in an app (service) name: [A-Za-z0-9_.\-/]. */
static bool
app_name_char(unsigned char c)
{
	return label_name_char(c) || c == '-' || c == '/';
}

/* Set key to value, replacing an earlier value as Pyroscope's map does. */
static void
labelset_set(LabelSet *ls, char *key, char *value)
{
	for (int i = 0; i < ls->n; i++)
	{
		if (strcmp(ls->keys[i], key) == 0)
		{
			free(ls->values[i]);
			ls->values[i] = value;
			free(key);
			return;
		}
	}
	ls->keys = xrealloc(ls->keys, sizeof(char *) * (size_t) (ls->n + 1));
	ls->values = xrealloc(ls->values, sizeof(char *) * (size_t) (ls->n + 1));
	ls->keys[ls->n] = key;
	ls->values[ls->n] = value;
	ls->n++;
}

/* Parse name; false with a one-line reason in why when Pyroscope would refuse it. */
bool
labelset_parse(const char *name, LabelSet *out, char *why, size_t why_len)
{
	char	   *input = xprintf("%s{", name ? name : "");
	size_t		len = strlen(input);
	NameState	state = STATE_APP;
	Buf			key,
				value;
	bool		ok = true;

	memset(out, 0, sizeof(*out));
	buf_init(&key);
	buf_init(&value);
	for (size_t i = 0; i < len && ok;)
	{
		size_t		used;
		uint32_t	r = next_rune((const unsigned char *) input + i, len - i, &used);

		i += used;
		switch (state)
		{
			case STATE_APP:
				if (r == '{')
				{
					out->app = trimmed_copy(&value);
					if (out->app[0] == '\0')
					{
						snprintf(why, why_len, "name: service name is required");
						ok = false;
					}
					else if (!check_chars(out->app, app_name_char, "name: invalid service name", why, why_len))
						ok = false;
					state = STATE_KEY;
				}
				else
					append_rune(&value, r);
				break;
			case STATE_KEY:
				if (r == '}')
					state = STATE_DONE;
				else if (r == '=')
				{
					state = STATE_VALUE;
					value.len = 0;
				}
				else
					append_rune(&key, r);
				break;
			case STATE_VALUE:
				if (r == ',' || r == '}')
				{
					char	   *k = trimmed_copy(&key);

					state = STATE_KEY;
					if (strcmp(k, "__name__") != 0)
					{
						if (k[0] == '\0')
						{
							snprintf(why, why_len, "name: label name is required");
							ok = false;
						}
						else if (!check_chars(k, label_name_char, "name: invalid label name", why, why_len))
							ok = false;
					}
					if (ok)
						labelset_set(out, k, trimmed_copy(&value));
					else
						free(k);
					key.len = 0;
				}
				else
					append_rune(&value, r);
				break;
			case STATE_DONE:
				break;
		}
	}
	buf_free(&key);
	buf_free(&value);
	free(input);
	if (ok)
	{
		/* a __name__ tag replaces the app, as in Pyroscope's label map */
		const char *renamed = labelset_get(out, "__name__");

		if (renamed)
		{
			free(out->app);
			out->app = xstrdup(renamed);
		}
	}
	else
		labelset_free(out);
	return ok;
}

/* Free a parsed name. */
void
labelset_free(LabelSet *ls)
{
	for (int i = 0; i < ls->n; i++)
	{
		free(ls->keys[i]);
		free(ls->values[i]);
	}
	free(ls->keys);
	free(ls->values);
	free(ls->app);
	memset(ls, 0, sizeof(*ls));
}

/* The value of key, or NULL. */
const char *
labelset_get(const LabelSet *ls, const char *key)
{
	for (int i = 0; i < ls->n; i++)
		if (strcmp(ls->keys[i], key) == 0)
			return ls->values[i];
	return NULL;
}

/* Seconds for an offset unit, as Pyroscope's attime reads it (0 if unknown). */
static int64_t
unit_seconds(const char *unit, size_t len)
{
	if (len >= 1 && unit[0] == 's')
		return 1;
	if ((len >= 3 && strncmp(unit, "mon", 3) == 0) || (len >= 1 && unit[0] == 'M'))
		return 3600 * 24 * 30;
	if (len >= 1 && unit[0] == 'm')
		return 60;
	if (len >= 1 && unit[0] == 'h')
		return 3600;
	if (len >= 1 && unit[0] == 'd')
		return 3600 * 24;
	if (len >= 1 && unit[0] == 'w')
		return 3600 * 24 * 7;
	if (len >= 1 && unit[0] == 'y')
		return 3600 * 24 * 365;
	return 0;
}

/* An offset such as -10s or +1h30m, in seconds. */
static int64_t
parse_offset(const char *s)
{
	int64_t		sign = 1;
	int64_t		total = 0;

	if (*s == '-')
		sign = -1, s++;
	else if (*s == '+')
		s++;
	while (*s)
	{
		int64_t		num = 0;
		const char *unit;

		while (isdigit((unsigned char) *s))
		{
			if (num < INT64_MAX / 100)
				num = num * 10 + (*s - '0');
			s++;
		}
		unit = s;
		while (*s && !isdigit((unsigned char) *s))
			s++;
		total += sign * num * unit_seconds(unit, (size_t) (s - unit));
	}
	return total;
}

/* The days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t		era;
	unsigned	yoe,
				doy,
				doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned) (y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t) doe - 719468;
}

/* True when y-m-d is a real date. */
static bool
valid_date(int y, int m, int d)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool		leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12 || d < 1)
		return false;
	return d <= days[m - 1] + (m == 2 && leap);
}

/* A from/until value as Unix microseconds (now_us when empty or unreadable). */
int64_t
attime_parse(const char *text, int64_t now_us)
{
	char		s[64];
	size_t		n = 0;
	bool		digits = true;
	char	   *split;

	if (text == NULL)
		return now_us;
	for (const char *p = text; *p && n < sizeof(s) - 1; p++)
		if (*p != '_' && *p != ',' && *p != ' ' && *p != '\t')
			s[n++] = *p;
	s[n] = '\0';
	if (n == 0)
		return now_us;
	for (size_t i = 0; i < n; i++)
		digits &= isdigit((unsigned char) s[i]) != 0;
	if (digits)
	{
		unsigned long long v = strtoull(s, NULL, 10);

		if (n == 8)
		{
			int			y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
			int			m = (s[4] - '0') * 10 + (s[5] - '0');
			int			d = (s[6] - '0') * 10 + (s[7] - '0');

			if (y > 1900 && valid_date(y, m, d))
				return days_from_civil(y, (unsigned) m, (unsigned) d) * 86400 * INT64_C(1000000);
		}
		if (v > (unsigned long long) INT64_MAX)
			v = (unsigned long long) INT64_MAX;
		switch (n)
		{
			case 13:
				return (int64_t) v * 1000;
			case 16:
				return (int64_t) v;
			case 19:
				return (int64_t) (v / 1000);
			default:
				return v > (unsigned long long) (INT64_MAX / 1000000) ? INT64_MAX : (int64_t) v * 1000000;
		}
	}
	/* now, moved by what follows the first + (or else the first -) */
	split = strchr(s, '+');
	if (split == NULL)
		split = strchr(s, '-');
	return split ? now_us + parse_offset(split) * 1000000 : now_us;
}
