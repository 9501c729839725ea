/*
 * keyed_hash.c
 *	  SipHash-1-3 (Aumasson and Bernstein's SipHash with one compression
 *	  round and three finalization rounds) under a per-process key, and a
 *	  keyed mix for the call tree's own numbers.
 */
#include "keyed_hash.h"

static uint64_t key0;
static uint64_t key1;
static bool have_key;

/* Load the process's key once. */
static inline void
load_key(void)
{
	if (!have_key)
	{
		const uint8_t *k = pp_hash_key();

		memcpy(&key0, k, 8);
		memcpy(&key1, k + 8, 8);
		have_key = true;
	}
}

/* Rotate left. */
static inline uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

/* One SipRound over the state. */
#define SIPROUND(v0, v1, v2, v3) \
	do { \
		v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32); \
		v2 += v3; v3 = rotl(v3, 16); v3 ^= v2; \
		v0 += v3; v3 = rotl(v3, 21); v3 ^= v0; \
		v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32); \
	} while (0)

/* SipHash-1-3 of len bytes. */
uint64_t
keyed_hash_bytes(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t	v0,
				v1,
				v2,
				v3;
	uint64_t	last = (uint64_t) len << 56;
	size_t		tail = len & 7;

	load_key();
	v0 = key0 ^ 0x736f6d6570736575ULL;
	v1 = key1 ^ 0x646f72616e646f6dULL;
	v2 = key0 ^ 0x6c7967656e657261ULL;
	v3 = key1 ^ 0x7465646279746573ULL;
	for (size_t i = 0; i + 8 <= len; i += 8)
	{
		uint64_t	m;

		memcpy(&m, p + i, 8);	/* little-endian words on the hosts we build for */
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	for (size_t i = 0; i < tail; i++)
		last |= (uint64_t) p[len - tail + i] << (8 * i);
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-1-3 of one 64-bit value. */
uint64_t
keyed_hash_u64(uint64_t value)
{
	return keyed_hash_bytes(&value, sizeof(value));
}

/* A keyed mix (the murmur3 finalizer of the value plus the key). */
uint64_t
keyed_mix_u64(uint64_t value)
{
	uint64_t	k;

	load_key();
	k = value + key0;
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return k ^ key1;
}
