/*
 * export_folded.h
 *	  Folded (collapsed) stacks in and out: "root;caller;leaf count" lines.
 */
#ifndef EXPORT_FOLDED_H
#define EXPORT_FOLDED_H

#include "profile_format.h"

/*
 * Folded stacks ("root;caller;leaf count"), one line per distinct stack,
 * sorted in byte order; NUL-terminated.  Samples with an empty stack have
 * no folded form and are left out.
 */
extern char *folded_encode(const ProfileView *view, PPBudget *budget, size_t *out_len);

/*
 * Parse folded stacks into a tree over symbols.  Blank lines are skipped
 * and repeated stacks summed; a malformed line raises PP_ERR_BAD_TEXT
 * naming its number and showing it.
 */
extern CallTree *folded_decode(const char *text, size_t len, SymbolTable *symbols,
							   uint32_t max_stack_depth);

#endif							/* EXPORT_FOLDED_H */
