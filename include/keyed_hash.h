/*
 * keyed_hash.h
 *	  Hashes with a secret key, for hash tables whose keys come from hostile
 *	  input: nobody who does not know the key can build keys that collide.
 */
#ifndef KEYED_HASH_H
#define KEYED_HASH_H

#include "pp_core.h"

/* SipHash-1-3 of len bytes under the key of pp_hash_key(). */
extern uint64_t keyed_hash_bytes(const void *data, size_t len);

/* SipHash-1-3 of one 64-bit value (an id taken from input). */
extern uint64_t keyed_hash_u64(uint64_t value);

/*
 * A keyed mix of one of our own dense 64-bit keys (node and symbol numbers):
 * cheaper than SipHash, for the call tree's hot path, where the input can
 * choose the tree's shape but not the numbers.
 */
extern uint64_t keyed_mix_u64(uint64_t value);

#endif							/* KEYED_HASH_H */
