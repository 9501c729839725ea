#!/usr/bin/env bash
# test/fuzz/libfuzzer.sh: coverage-guided fuzzing of the cores with libFuzzer.
#
#   test/fuzz/libfuzzer.sh [--seconds S] [TARGET...]   run each target S seconds (default 20)
#   test/fuzz/libfuzzer.sh --build                      build the targets only
#
# Targets (test/fuzz/lf_main.c): pprof, merge, folded, recv, roundtrip.
# Each is built with Debian's clang against build/fuzz/libppcore.a (the one
# core list of the Makefile, with libFuzzer instrumentation, ASan, UBSan
# and assertions), which needs libclang-rt-14-dev.  Seeds: ../shared/corpus
# and examples/, turned into each target's inputs by fuzz_pprof
# --write-seeds.  Corpora grow in test/bin/libfuzzer/TARGET/ across runs;
# findings are saved in test/bin/fuzz-findings/.  One check per target (no
# finding), then "libfuzzer: N passed, M failed".
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/scripts/lib.sh"
cd "$ROOT"
BIN=$ROOT/test/bin
WORK=$BIN/libfuzzer
FINDINGS=$BIN/fuzz-findings
TARGETS=(pprof merge folded recv roundtrip)
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
CFLAGS="-g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare -DUSE_ASSERT_CHECKING"
seconds=20 build_only=0 chosen=()
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--build) build_only=1; shift ;;
	*) chosen+=("$1"); shift ;;
	esac
done
[ ${#chosen[@]} -gt 0 ] && TARGETS=("${chosen[@]}")
passed=0 failed=0
check() {
	if [ "$2" = 1 ]; then passed=$((passed + 1)); echo "ok   $1${3:+ ($3)}"
	else failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"; fi
}
finish() { echo "libfuzzer: $passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }

pp_install_deps clang libclang-rt-14-dev || { check "install clang and libclang-rt-14-dev" 0; finish; }
mkdir -p "$WORK" "$FINDINGS"

# Build every target: the harness against the fuzz variant of the cores.
libs=$(make -s print-core-libs PG_CONFIG=/usr/bin/pg_config)
if ! make -s build/fuzz/libppcore.a PG_CONFIG=/usr/bin/pg_config; then
	check "build build/fuzz/libppcore.a" 0; finish
fi
for t in "${TARGETS[@]}"; do
	if ! clang $CFLAGS $SAN -fsanitize=fuzzer -DFUZZ_TARGET="$t" -Iinclude -Igen -o "$BIN/lf_$t" \
		test/fuzz/lf_main.c test/fuzz/fuzz_target.c test/fuzz/fuzz_mutate.c \
		build/fuzz/libppcore.a build/fuzz/pp_standalone.o $libs; then
		check "build the $t target" 0; finish
	fi
done
[ $build_only = 1 ] && { echo "built: ${TARGETS[*]/#/$BIN/lf_}"; exit 0; }

# Seeds for every target, from the corpus and the examples.
seed_paths=("$ROOT"/examples/*.pb.gz)
[ -d "$PP_CORPUS_SRC" ] && seed_paths+=("$PP_CORPUS_SRC") ||
	echo "SKIP corpus seeds: $PP_CORPUS_SRC does not exist (examples/ only)"
bash test/fuzz/run.sh --build >/dev/null || { check "build fuzz_pprof (for the seeds)" 0; finish; }
rm -rf "$WORK/seeds"
ASAN_OPTIONS=detect_leaks=0 "$BIN/fuzz_pprof" --write-seeds "$WORK/seeds" "${seed_paths[@]}" >/dev/null ||
	{ check "write the seeds" 0; finish; }

export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
for t in "${TARGETS[@]}"; do
	mkdir -p "$WORK/$t"
	log=$WORK/$t.log
	timeout $((seconds + 120)) "$BIN/lf_$t" -max_total_time="$seconds" -max_len=65536 \
		-rss_limit_mb=4096 -timeout=20 -print_final_stats=1 -artifact_prefix="$FINDINGS/$t-" \
		"$WORK/$t" "$WORK/seeds/$t" >"$log" 2>&1
	rc=$?
	runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
	if [ $rc -eq 0 ]; then
		check "libFuzzer $t for ${seconds} s" 1 "${runs:-?} runs, coverage ${cov:-?}"
	else
		check "libFuzzer $t for ${seconds} s" 0 "exit $rc; $(grep -m3 -E 'ERROR|finding|SUMMARY' "$log" | tr '\n' ' ')"
		tail -30 "$log"
	fi
done
finish
