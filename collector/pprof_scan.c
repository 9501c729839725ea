/*
 * pprof_scan.c
 *	  One pass over a pprof's protobuf fields (see pprof_scan.h).
 *
 * Fields read (perftools.profiles.Profile): 1 sample_type {1 type, 2
 * unit}, 2 sample {3 label {1 key, 2 str}}, 6 string_table, 9 time_nanos.
 * Everything else is skipped by wire type.  Fields may come in any order,
 * so string indexes are resolved after the pass.
 */
#include "pprof_scan.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LABEL_KEYS 1024

/* A bounds-checked cursor over protobuf bytes. */
typedef struct Wire
{
	const uint8_t *pos;
	const uint8_t *end;
	bool		bad;
} Wire;

/* Read a varint (marks the cursor bad when it is malformed or runs out). */
static uint64_t
wire_varint(Wire *w)
{
	uint64_t	v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8_t		b;

		if (w->pos >= w->end)
			break;
		b = *w->pos++;
		v |= (uint64_t) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	w->bad = true;
	return 0;
}

/* Read a length-delimited field's bytes as a sub-cursor. */
static Wire
wire_sub(Wire *w)
{
	uint64_t	n = wire_varint(w);
	Wire		sub = {w->pos, w->pos, true};

	if (w->bad || n > (uint64_t) (w->end - w->pos))
	{
		w->bad = true;
		return sub;
	}
	sub.end = w->pos + n;
	sub.bad = false;
	w->pos += n;
	return sub;
}

/* Skip a field of the given wire type. */
static void
wire_skip(Wire *w, int type)
{
	switch (type)
	{
		case 0:
			(void) wire_varint(w);
			return;
		case 1:
			if (w->end - w->pos < 8)
				w->bad = true;
			else
				w->pos += 8;
			return;
		case 2:
			(void) wire_sub(w);
			return;
		case 5:
			if (w->end - w->pos < 4)
				w->bad = true;
			else
				w->pos += 4;
			return;
		default:
			w->bad = true;		/* groups, or no wire type at all */
	}
}

/* One string of the string table: where it is. */
typedef struct StringRef
{
	const uint8_t *data;
	size_t		len;
} StringRef;

/* The scan's working state. */
typedef struct ScanState
{
	StringRef  *strings;
	size_t		n_strings;
	size_t		cap_strings;
	int64_t    *types;			/* type string index of each sample type */
	int			n_types;
	int64_t    *keys;			/* distinct label key indexes */
	int			n_keys;
	int64_t		time_ns;
} ScanState;

/* Note a label key index (once). */
static void
add_key(ScanState *st, int64_t key)
{
	for (int i = 0; i < st->n_keys; i++)
		if (st->keys[i] == key)
			return;
	if (st->n_keys == MAX_LABEL_KEYS)
		return;
	st->keys = xrealloc(st->keys, sizeof(int64_t) * (size_t) (st->n_keys + 1));
	st->keys[st->n_keys++] = key;
}

/* A Sample message: collect the keys of its string labels. */
static void
scan_sample(ScanState *st, Wire s, bool *bad)
{
	while (s.pos < s.end && !s.bad)
	{
		uint64_t	tag = wire_varint(&s);

		if ((tag >> 3) == 3 && (tag & 7) == 2)
		{
			Wire		l = wire_sub(&s);
			int64_t		key = 0,
						str = 0;

			while (l.pos < l.end && !l.bad)
			{
				uint64_t	lt = wire_varint(&l);

				if ((lt >> 3) == 1 && (lt & 7) == 0)
					key = (int64_t) wire_varint(&l);
				else if ((lt >> 3) == 2 && (lt & 7) == 0)
					str = (int64_t) wire_varint(&l);
				else
					wire_skip(&l, (int) (lt & 7));
			}
			if (l.bad)
				s.bad = true;
			else if (key != 0 && str != 0)
				add_key(st, key);
		}
		else
			wire_skip(&s, (int) (tag & 7));
	}
	*bad |= s.bad;
}

/* The fields of a Profile message. */
static bool
scan_profile(ScanState *st, Wire w)
{
	bool		bad = false;

	while (w.pos < w.end && !w.bad && !bad)
	{
		uint64_t	tag = wire_varint(&w);
		int			field = (int) (tag >> 3);
		int			type = (int) (tag & 7);

		if (field == 1 && type == 2)
		{
			Wire		vt = wire_sub(&w);
			int64_t		t = 0;

			while (vt.pos < vt.end && !vt.bad)
			{
				uint64_t	vtag = wire_varint(&vt);

				if ((vtag >> 3) == 1 && (vtag & 7) == 0)
					t = (int64_t) wire_varint(&vt);
				else
					wire_skip(&vt, (int) (vtag & 7));
			}
			bad |= vt.bad;
			st->types = xrealloc(st->types, sizeof(int64_t) * (size_t) (st->n_types + 1));
			st->types[st->n_types++] = t;
		}
		else if (field == 2 && type == 2)
			scan_sample(st, wire_sub(&w), &bad);
		else if (field == 6 && type == 2)
		{
			Wire		s = wire_sub(&w);

			if (st->n_strings == st->cap_strings)
			{
				st->cap_strings = st->cap_strings ? st->cap_strings * 2 : 256;
				st->strings = xrealloc(st->strings, sizeof(StringRef) * st->cap_strings);
			}
			st->strings[st->n_strings].data = s.pos;
			st->strings[st->n_strings].len = (size_t) (s.end - s.pos);
			st->n_strings++;
		}
		else if (field == 9 && type == 0)
			st->time_ns = (int64_t) wire_varint(&w);
		else
			wire_skip(&w, type);
	}
	return !w.bad && !bad;
}

/* A string-table entry as a new string, invalid UTF-8 bytes replaced by '?'. */
static char *
string_at(const ScanState *st, int64_t index)
{
	const StringRef *s = &st->strings[index];
	char	   *out = xstrndup((const char *) s->data, s->len);

	if (!utf8_valid(out, s->len))
		for (size_t i = 0; i < s->len; i++)
			if ((unsigned char) out[i] >= 0x80 || out[i] == '\0')
				out[i] = '?';
	return out;
}

/* Scan data; false with a one-line reason in why when it is not readable. */
bool
pprof_scan(const uint8_t *data, size_t len, size_t max_bytes, bool keep_inflated,
		   PprofScan *out, char *why, size_t why_len)
{
	Buf			raw;
	ScanState	st;
	Wire		w;
	bool		ok;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	buf_init(&raw);
	if (is_gzip(data, len))
	{
		const char *err = gunzip_bounded(data, len, max_bytes, &raw);

		if (err)
		{
			out->too_large = strstr(err, "limit") != NULL;
			snprintf(why, why_len, "invalid pprof: %s", err);
			buf_free(&raw);
			return false;
		}
		data = raw.data;
		len = raw.len;
	}
	else if (len > max_bytes)
	{
		out->too_large = true;
		snprintf(why, why_len, "pprof input of %zu bytes exceeds the limit of %zu bytes", len, max_bytes);
		return false;
	}
	w.pos = data;
	w.end = data + len;
	w.bad = false;
	ok = len > 0 && scan_profile(&st, w);
	if (!ok)
		snprintf(why, why_len, "invalid pprof: not a pprof protobuf message, or truncated");
	else if (st.n_strings == 0 || st.strings[0].len != 0)
	{
		snprintf(why, why_len, "invalid pprof: the string table must start with an empty string");
		ok = false;
	}
	for (int i = 0; ok && i < st.n_types; i++)
		if (st.types[i] < 0 || (uint64_t) st.types[i] >= st.n_strings)
		{
			snprintf(why, why_len, "invalid pprof: a sample type refers to a string out of range");
			ok = false;
		}
	if (ok)
	{
		out->n_types = st.n_types;
		out->type_names = xcalloc((size_t) st.n_types + 1, sizeof(char *));
		for (int i = 0; i < st.n_types; i++)
			out->type_names[i] = string_at(&st, st.types[i]);
		out->label_keys = xcalloc((size_t) st.n_keys + 1, sizeof(char *));
		for (int i = 0; i < st.n_keys; i++)
		{
			const StringRef *k;

			if (st.keys[i] <= 0 || (uint64_t) st.keys[i] >= st.n_strings)
				continue;
			k = &st.strings[st.keys[i]];
			/* keys that cannot be SQL text are left to the server's own reading */
			if (k->len == 0 || k->len > 1024 || !utf8_valid((const char *) k->data, k->len))
				continue;
			out->label_keys[out->n_label_keys++] = xstrndup((const char *) k->data, k->len);
		}
		out->time_ns = st.time_ns;
		if (keep_inflated && raw.data != NULL)
			out->inflated = buf_steal(&raw, &out->inflated_len);
	}
	free(st.strings);
	free(st.types);
	free(st.keys);
	buf_free(&raw);
	return ok;
}

/* Free a scan's results. */
void
pprof_scan_free(PprofScan *scan)
{
	for (int i = 0; i < scan->n_types; i++)
		free(scan->type_names[i]);
	for (int i = 0; i < scan->n_label_keys; i++)
		free(scan->label_keys[i]);
	free(scan->type_names);
	free(scan->label_keys);
	free(scan->inflated);
	memset(scan, 0, sizeof(*scan));
}
