/*
 * lf_main.c
 *	  The libFuzzer entry point of one fuzz target, chosen when compiling
 *	  with -DFUZZ_TARGET=name (see test/fuzz/libfuzzer.sh):
 *
 *	  pprof      pprof bytes -> trees and the label split (fuzz_pprof_decode)
 *	  merge      two stored values through one merge, as the aggregate folds
 *	             rows (fuzz_merge_pair)
 *	  folded     folded text in and out (fuzz_folded)
 *	  recv       stored bytes as text input and recv check them, packed
 *	             values and their timelines too (fuzz_stored)
 *	  roundtrip  the writer/reader agreement: everything that ingests encodes
 *	             into a value that decodes (fuzz_pprof)
 *
 * A finding (a broken invariant, an INTERNAL error, a value the encoder
 * wrote that the reader refuses) aborts, so libFuzzer saves the input.
 */
#include "fuzz_target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_TARGET_IS(name) (strcmp(FUZZ_TARGET_NAME, name) == 0)
#define STR2(x) #x
#define STR(x) STR2(x)
#define FUZZ_TARGET_NAME STR(FUZZ_TARGET)

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libFuzzer's entry: run the chosen target on one input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzResult	r;

	if (FUZZ_TARGET_IS("pprof"))
		fuzz_pprof_decode(data, size, &r);
	else if (FUZZ_TARGET_IS("merge"))
		fuzz_merge_pair(data, size, &r);
	else if (FUZZ_TARGET_IS("folded"))
		fuzz_folded(data, size, &r);
	else if (FUZZ_TARGET_IS("recv"))
		fuzz_stored(data, size, &r);
	else if (FUZZ_TARGET_IS("roundtrip"))
		fuzz_pprof(data, size, NULL, &r);
	else
	{
		fprintf(stderr, "unknown fuzz target %s\n", FUZZ_TARGET_NAME);
		abort();
	}
	if (r.invariant_failed)
	{
		fprintf(stderr, "finding (%s): %s\n", FUZZ_TARGET_NAME, r.message);
		abort();
	}
	return 0;
}
