/*
 * export.h
 *	  Exports of a decoded profile (pprof, folded stacks) and the folded
 *	  stack reader.
 */
#ifndef EXPORT_H
#define EXPORT_H

#include "profile_format.h"

/*
 * A gzip-compressed pprof of a decoded profile: one function and one
 * location (without address) per function name, one sample per distinct
 * stack.  The bytes are deterministic.
 */
extern uint8_t *pprof_encode(const ProfileView *view, size_t *out_len);

/*
 * Folded stacks ("root;caller;leaf count"), one line per distinct stack,
 * sorted in byte order; NUL-terminated.  Samples with an empty stack have
 * no folded form and are left out.
 */
extern char *folded_encode(const ProfileView *view, size_t *out_len);

/*
 * Parse folded stacks into a tree over symbols.  Blank lines are skipped
 * and repeated stacks summed; a malformed line raises PP_ERR_BAD_TEXT
 * naming its number and showing it.
 */
extern CallTree *folded_decode(const char *text, size_t len, SymbolTable *symbols,
							   uint32_t max_stack_depth);

#endif							/* EXPORT_H */
