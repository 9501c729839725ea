#!/usr/bin/env bash
# test/fuzz/run.sh: build the standalone fuzzer into test/bin/ and run it.
#
#   test/fuzz/run.sh [--seconds S] [--iterations N] [...]   mutation loop (gcc, ASan+UBSan)
#   (the libFuzzer targets: test/fuzz/libfuzzer.sh and test/fuzz/long.sh)
#   test/fuzz/run.sh --build                               build only
#
# Seeds: every file under ../shared/corpus (next to the repository) when
# present, and examples/*.pb.gz.  Extra arguments go to the fuzzer (see
# fuzz_pprof.c).  The last line is "N passed, M failed"; the exit status is
# non-zero on any failure.  Inputs that fail are saved in test/bin/fuzz-findings/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$ROOT/test/bin
CORPUS=$(dirname "$ROOT")/shared/corpus
FINDINGS=$BIN/fuzz-findings
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -DUSE_ASSERT_CHECKING"
HARNESS="test/fuzz/fuzz_pprof.c test/fuzz/fuzz_target.c test/fuzz/fuzz_mutate.c test/fuzz/fuzz_seeds.c"

# Build the harness against the cores of the given variant (see the
# Makefile: the one list of core sources, built as build/VARIANT/libppcore.a).
build() {
	local variant=$1 cc=$2 out=$3 objdir=$BIN/obj-$(basename "$3") src objs=(); shift 3
	make -s -C "$ROOT" "build/$variant/libppcore.a" PG_CONFIG=/usr/bin/pg_config
	mkdir -p "$objdir"
	for src in $HARNESS; do
		local obj=$objdir/$(basename "$src" .c).o
		(cd "$ROOT" && $cc $CFLAGS $SAN "$@" -Iinclude -Igen -c -o "$obj" "$src")
		objs+=("$obj")
	done
	$cc $SAN "$@" -o "$out" "${objs[@]}" "$ROOT/build/$variant/libppcore.a" \
		"$ROOT/build/$variant/pp_standalone.o" $(make -s -C "$ROOT" print-core-libs PG_CONFIG=/usr/bin/pg_config)
}

# Seed paths: the shared corpus (if present) and the examples.
seeds() {
	[ -d "$CORPUS" ] && echo "$CORPUS"
	ls "$ROOT"/examples/*.pb.gz
}

mkdir -p "$BIN" "$FINDINGS"
# leaks are checked once, explicitly, before the summary (fuzz_pprof.c)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:leak_check_at_exit=0:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

case "${1:-}" in
--build)
	build asan gcc "$BIN/fuzz_pprof"
	echo "built $BIN/fuzz_pprof"
	;;
*)
	build asan gcc "$BIN/fuzz_pprof"
	start=$(date +%s)
	set +e
	"$BIN/fuzz_pprof" --save "$FINDINGS" "$@" $(seeds)
	rc=$?
	set -e
	echo "fuzz: exit status $rc after $(( $(date +%s) - start )) s" >&2
	exit $rc
	;;
esac
