/*
 * multipart.c
 *	  A bounded multipart/form-data splitter (RFC 7578).
 */
#include "multipart.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTS 64
#define MAX_BOUNDARY 200

/* True when the Content-Type names a multipart/form-data body. */
bool
multipart_is_form(const char *content_type)
{
	return content_type != NULL && strcasestr(content_type, "multipart/form-data") != NULL;
}

/*
 * The value of parameter name in a header value such as
 * `form-data; name="profile"; filename="profile.pprof"`, or NULL.
 */
static char *
header_param(const char *header, size_t header_len, const char *name)
{
	size_t		nlen = strlen(name);
	const char *end = header + header_len;

	for (const char *p = header; p < end; p++)
	{
		const char *v;

		if (*p != ';')
			continue;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if ((size_t) (end - p) <= nlen || strncasecmp(p, name, nlen) != 0 || p[nlen] != '=')
			continue;
		v = p + nlen + 1;
		if (v < end && *v == '"')
		{
			const char *close = memchr(v + 1, '"', (size_t) (end - v - 1));

			if (close == NULL)
				return NULL;
			return xstrndup(v + 1, (size_t) (close - v - 1));
		}
		else
		{
			const char *stop = v;

			while (stop < end && *stop != ';' && *stop != ' ' && *stop != '\r')
				stop++;
			return xstrndup(v, (size_t) (stop - v));
		}
	}
	return NULL;
}

/* The boundary parameter of a Content-Type, or NULL. */
static char *
form_boundary(const char *content_type)
{
	const char *semi = strchr(content_type, ';');

	if (semi == NULL)
		return NULL;
	return header_param(semi, strlen(semi), "boundary");
}

/* Read one part's headers (up to the blank line); NULL if malformed. */
static const uint8_t *
read_part_headers(const uint8_t *p, const uint8_t *end, MultipartPart *part)
{
	for (;;)
	{
		const uint8_t *eol = memmem(p, (size_t) (end - p), "\r\n", 2);
		size_t		n;

		if (eol == NULL)
			return NULL;
		n = (size_t) (eol - p);
		if (n == 0)
			return eol + 2;		/* the blank line ends the headers */
		if (n > 19 && strncasecmp((const char *) p, "Content-Disposition:", 20) == 0)
		{
			part->name = header_param((const char *) p, n, "name");
			part->filename = header_param((const char *) p, n, "filename");
		}
		p = eol + 2;
	}
}

/* Split body into parts using the boundary of content_type. */
bool
multipart_parse(const char *content_type, const uint8_t *body, size_t len,
				MultipartPart **parts, int *n_parts, char *why, size_t why_len)
{
	char	   *boundary = form_boundary(content_type);
	char	   *delim;
	size_t		dlen;
	const uint8_t *end = body + len;
	const uint8_t *p;
	MultipartPart *out = NULL;
	int			n = 0;
	bool		ok = false;

	*parts = NULL;
	*n_parts = 0;
	if (boundary == NULL || boundary[0] == '\0' || strlen(boundary) > MAX_BOUNDARY)
	{
		snprintf(why, why_len, "multipart body without a usable boundary");
		free(boundary);
		return false;
	}
	/* every delimiter but the first follows a CRLF */
	delim = xprintf("\r\n--%s", boundary);
	dlen = strlen(delim);
	if (len < dlen - 2 || memcmp(body, delim + 2, dlen - 2) != 0)
	{
		p = memmem(body, len, delim, dlen);
		if (p == NULL)
		{
			snprintf(why, why_len, "multipart body does not start with its boundary");
			goto out;
		}
		p += dlen;
	}
	else
		p = body + dlen - 2;
	for (;;)
	{
		const uint8_t *content;
		const uint8_t *next;
		MultipartPart part;

		if (end - p >= 2 && p[0] == '-' && p[1] == '-')
		{
			ok = true;			/* the closing delimiter */
			break;
		}
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
		{
			snprintf(why, why_len, "multipart body is malformed after a boundary");
			break;
		}
		p += 2;
		if (n == MAX_PARTS)
		{
			snprintf(why, why_len, "multipart body has more than %d parts", MAX_PARTS);
			break;
		}
		memset(&part, 0, sizeof(part));
		content = read_part_headers(p, end, &part);
		next = content ? memmem(content, (size_t) (end - content), delim, dlen) : NULL;
		if (next == NULL)
		{
			free(part.name);
			free(part.filename);
			snprintf(why, why_len, "multipart body is truncated");
			break;
		}
		part.data = content;
		part.len = (size_t) (next - content);
		out = xrealloc(out, sizeof(MultipartPart) * (size_t) (n + 1));
		out[n++] = part;
		p = next + dlen;
	}
out:
	free(boundary);
	free(delim);
	if (!ok)
	{
		multipart_free(out, n);
		return false;
	}
	*parts = out;
	*n_parts = n;
	return true;
}

/* The first file part named name, or NULL. */
const MultipartPart *
multipart_file(const MultipartPart *parts, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (parts[i].name && parts[i].filename && strcmp(parts[i].name, name) == 0)
			return &parts[i];
	return NULL;
}

/* Free the parts' names (the data belongs to the body). */
void
multipart_free(MultipartPart *parts, int n)
{
	for (int i = 0; i < n; i++)
	{
		free(parts[i].name);
		free(parts[i].filename);
	}
	free(parts);
}
