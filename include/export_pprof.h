/*
 * export_pprof.h
 *	  Export of a decoded profile as a gzip-compressed pprof file.
 */
#ifndef EXPORT_PPROF_H
#define EXPORT_PPROF_H

#include "profile_format.h"

/*
 * A gzip-compressed pprof of a decoded profile: one function and one
 * location (without address) per function name, one sample per distinct
 * stack.  The bytes are deterministic.
 */
extern uint8_t *pprof_encode(const ProfileView *view, size_t *out_len);

#endif							/* EXPORT_PPROF_H */
