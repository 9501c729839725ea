/*
 * multipart.h
 *	  multipart/form-data bodies, as pyroscope-go and the Java agent send
 *	  them: parts named by Content-Disposition, file parts carrying a
 *	  filename.  The parts point into the body; nothing is copied.
 */
#ifndef COLLECTOR_MULTIPART_H
#define COLLECTOR_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One part of a form. */
typedef struct MultipartPart
{
	char	   *name;			/* the form field */
	char	   *filename;		/* NULL for a plain field */
	const uint8_t *data;
	size_t		len;
} MultipartPart;

/* True when the Content-Type names a multipart/form-data body. */
extern bool multipart_is_form(const char *content_type);

/*
 * Split body into parts using the boundary of content_type; false with a
 * reason in why when the body is not a well-formed form.
 */
extern bool multipart_parse(const char *content_type, const uint8_t *body, size_t len,
							MultipartPart **parts, int *n_parts, char *why, size_t why_len);

/* The first file part named name, or NULL. */
extern const MultipartPart *multipart_file(const MultipartPart *parts, int n, const char *name);

extern void multipart_free(MultipartPart *parts, int n);

#endif							/* COLLECTOR_MULTIPART_H */
