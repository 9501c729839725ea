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
 * stack.  The bytes are deterministic.  The message, its packed bytes and
 * the gzip output are charged to budget as they are built: a deep tree's
 * samples repeat its paths, so the message can be far larger than the
 * profile.
 */
extern uint8_t *pprof_encode(const ProfileView *view, PPBudget *budget, size_t *out_len);

#endif							/* EXPORT_PPROF_H */
