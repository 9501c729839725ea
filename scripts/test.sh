#!/usr/bin/env bash
# scripts/test.sh: the whole test suite, from a fresh Debian 12 machine.
#
# Installs what is missing, builds and installs the extension, starts the
# private cluster (scripts/lib.sh), stages the input files where the server
# can read them, then runs every suite and exits non-zero if any fails.
# Suites:
#   regress-assert  pg_regress against a build with -DUSE_ASSERT_CHECKING
#              (Debian's server is not an assert build; the extension's own
#              Asserts and call-tree invariant checks run)
#   regress    pg_regress tests in test/sql/ and test/expected/
#   symbols    every C function any script in sql/ names is exported
#   oracle     every sample type of every example and corpus file against
#              Google's pprof library (test/oracle.sh)
#   roundtrip  pg_dump/pg_restore, COPY BINARY and hostile COPY input
#   hostile    hand-made malicious pprof files (test/hostile.sh)
#   export     profile_to_pprof against go tool pprof -raw and the pprof library,
#              folded round trips (test/export.sh)
#   svg        profile_to_svg(): xmllint, headless chromium, escaping (test/svg.sh)
#   flamegraph merge, focus/ignore/hide and top against pprof; flame-graph
#              structure on every corpus file (test/flamegraph.sh)
#   limits     hostile values and inputs as a plain role under
#              statement_timeout: bounded time and memory, cancel (test/limits.sh)
#   compact    profile_compact under concurrent inserts and kill -9; pg_partman
#              retention and a pg_cron compaction job (test/compact.sh)
#   asan-server  regress, oracle and hostile against an ASan/UBSan build of
#              the extension in a server of its own (test/asan_server.sh)
#   fuzz       the plain C cores under ASan/UBSan with mutated inputs
#   libfuzzer  the five libFuzzer targets, 15 s each (test/fuzz/libfuzzer.sh)
#   collector  pg_pprof_collector with real clients: the Pyroscope Node SDK,
#              a scraped Go service, Connect pushes, fixtures, hostile clients,
#              PostgreSQL stopped under load, SIGKILL during replay, tenants
#              and row-level security, least privilege (test/collector.sh)
#   demo       the README's first command (scripts/demo.sh) and the SVG files
#              it writes (test/demo.sh)
#   grafana    the dashboard's queries, run as Grafana would (examples/grafana/check.sh)
#   browser    the dashboard's flame graph and diff drawn by Grafana's own Flame
#              Graph component in headless Chromium (test/browser/run.sh)
set -uo pipefail
source "$(dirname "$0")/lib.sh"
cd "$PP_ROOT"

pp_install_deps || exit 1
pp_start_cluster || { pp_say "could not start the cluster"; exit 1; }
# The cluster outlives a run (it lives under /var/tmp): start from an empty database.
pp_psql -d postgres -qc "DROP DATABASE IF EXISTS $PP_DB WITH (FORCE)" -c "CREATE DATABASE $PP_DB" ||
	{ pp_say "could not recreate database $PP_DB"; exit 1; }
rm -rf "$PP_STATE/tmp"
pp_stage_inputs || { pp_say "could not stage the input files"; exit 1; }
pp_export_pgenv
export PP_CLUSTER_READY=1

total_passed=0 total_failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Run one suite, echo its output and add its closing counts to the totals.
run_suite() {
	local name=$1; shift
	pp_say "suite $name"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line; line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
	local p f
	p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
	f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+')
	# A suite without counts passes or fails as one check.
	[ -n "$line" ] || { if [ "$rc" -eq 0 ]; then p=1 f=0; else p=0 f=1; fi; }
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
	total_passed=$((total_passed + p)) total_failed=$((total_failed + f))
}

# pg_regress, with its summary turned into counts.
regress() {
	local out rc
	out=$(make -s installcheck PG_CONFIG=/usr/bin/pg_config 2>&1); rc=$?
	echo "$out"
	[ $rc -ne 0 ] && [ -f regression.diffs ] && head -60 regression.diffs
	local n; n=$(grep -cE '^(ok|not ok|test) ' <<<"$out")
	local bad; bad=$(grep -cE '(^not ok|FAILED)' <<<"$out")
	echo "regress: $((n - bad)) passed, $bad failed"
	return $rc
}

# Build and install the extension: with assertions on (PG_PPROF_CFLAGS), or
# the normal build.  make clean first, since PGXS does not track flags.
build_variant() {
	make -s -C "$PP_ROOT" clean PG_CONFIG=/usr/bin/pg_config >/dev/null
	PG_PPROF_WERROR=1 PG_PPROF_CFLAGS=${1:-} pp_build
}

# pg_regress on the assert build, then back to the normal build.
regress_assert() {
	local rc
	build_variant -DUSE_ASSERT_CHECKING || { echo "assert build failed"; return 1; }
	regress; rc=$?
	build_variant || { echo "normal build failed"; return 1; }
	return $rc
}

run_suite regress-assert regress_assert
[ -f "$PP_ROOT/pg_pprof.so" ] || { pp_say "build failed"; exit 1; }
run_suite regress regress
run_suite symbols bash test/symbols.sh
run_suite oracle bash test/oracle.sh
run_suite roundtrip bash test/roundtrip.sh
[ -f test/flamegraph.sh ] && run_suite flamegraph bash test/flamegraph.sh
run_suite export bash test/export.sh
run_suite svg bash test/svg.sh
[ -f test/hostile.sh ] && run_suite hostile bash test/hostile.sh
run_suite limits bash test/limits.sh
run_suite compact bash test/compact.sh
run_suite asan-server bash test/asan_server.sh
[ -f test/fuzz/run.sh ] && run_suite fuzz bash test/fuzz/run.sh
run_suite libfuzzer bash test/fuzz/libfuzzer.sh --seconds 15
run_suite collector bash test/collector.sh
run_suite demo bash test/demo.sh
run_suite grafana bash examples/grafana/check.sh
run_suite browser bash test/browser/run.sh

echo
echo "total: $total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ]
