/*
 * gzip_io.h
 *	  gzip in (bounded, for hostile input) and out (deterministic).
 */
#ifndef GZIP_IO_H
#define GZIP_IO_H

#include "pp_core.h"

/*
 * Inflate one gzip member, refusing more than max_bytes of output
 * (PP_ERR_LIMIT) and any bytes after the member (PP_ERR_BAD_PPROF).
 */
extern uint8_t *gunzip(const uint8_t *data, size_t len, size_t max_bytes, size_t *out_len);

/*
 * gzip bytes deterministically (no name, no time in the header), charging
 * the output to budget (NULL: none).
 */
extern uint8_t *gzip_bytes(const uint8_t *data, size_t len, PPBudget *budget, size_t *out_len);

#endif							/* GZIP_IO_H */
