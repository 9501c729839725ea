#!/usr/bin/env bash
# test/fuzz/long.sh: the long libFuzzer campaign, kept out of .ci/run.
#
#   test/fuzz/long.sh [--runs N] [--max-len BYTES] [--jobs J] [TARGET...]
#
# Runs every target of test/fuzz/lf_main.c (pprof, merge, folded, recv,
# roundtrip) for N executions (default 10,000,000), with inputs capped at
# --max-len bytes (default 4096) so that many executions take hours, not
# days, J targets at a time (default 2, this machine's cores).  Corpora
# carry over in test/bin/libfuzzer/TARGET/.  Prints one line per target:
# executions, coverage, features, corpus size, findings and the time taken;
# exits non-zero if any target has a finding.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BIN=$ROOT/test/bin
WORK=$BIN/libfuzzer
FINDINGS=$BIN/fuzz-findings
runs=10000000 max_len=4096 jobs=2 targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--max-len) max_len=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	*) targets+=("$1"); shift ;;
	esac
done
[ ${#targets[@]} -gt 0 ] || targets=(pprof merge folded recv roundtrip)

# Build the targets and their seeds (a 1-second run of each does both).
bash test/fuzz/libfuzzer.sh --seconds 1 "${targets[@]}" >/dev/null || {
	echo "long.sh: the short run failed; see test/fuzz/libfuzzer.sh" >&2; exit 1; }

export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1

# Run one target to the end; its log is WORK/TARGET.long.log.
run_target() {
	local t=$1 start=$SECONDS
	"$BIN/lf_$t" -runs="$runs" -max_len="$max_len" -rss_limit_mb=4096 -timeout=20 \
		-print_final_stats=1 -artifact_prefix="$FINDINGS/$t-long-" \
		"$WORK/$t" "$WORK/seeds/$t" >"$WORK/$t.long.log" 2>&1
	echo "rc=$? seconds=$((SECONDS - start))" >>"$WORK/$t.long.log"
}

running=0
for t in "${targets[@]}"; do
	run_target "$t" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
done
wait

status=0
printf '%-10s %12s %9s %9s %8s %9s %9s\n' target executions coverage features corpus findings seconds
for t in "${targets[@]}"; do
	log=$WORK/$t.long.log
	execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
	cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
	ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+')
	corpus=$(ls "$WORK/$t" | wc -l)
	findings=$(ls "$FINDINGS" 2>/dev/null | grep -c "^$t-long-")
	rc=$(grep -oE '^rc=[0-9]+' "$log" | grep -oE '[0-9]+')
	secs=$(grep -oE 'seconds=[0-9]+' "$log" | grep -oE '[0-9]+$')
	printf '%-10s %12s %9s %9s %8s %9s %9s\n' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$findings" "${secs:-?}"
	[ "${rc:-1}" = 0 ] && [ "$findings" = 0 ] || status=1
done
exit $status
