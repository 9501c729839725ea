#!/usr/bin/env bash
# test/hostile.sh: feed hand-crafted hostile pprof files to profile_from_pprof()
# and check each gives the SQLSTATE the manifest expects, without crashing.
#
#   test/hostile.sh                    install deps, build, start the private cluster, run
#   PP_CLUSTER_READY=1 test/hostile.sh  the caller has built, installed and started it
#
# The files come from test/hostile (a Go program, standard library only) and
# are written to a temporary directory under /tmp that the postgres user can
# read.  Each case runs in its own psql session with
# pg_pprof.max_input_bytes = 64MB and the default pg_pprof.max_stack_depth;
# after the statement the same session must still answer (the backend is
# alive), and the server log must not report a crashed backend.  One line per
# case, then "N passed, M failed"; the exit status is non-zero on failure.
set -uo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

BIN=$PP_ROOT/test/bin
LOG=$PP_PGDIR/server.log
passed=0
failed=0

# Record one case's result.
report() {
	local ok=$1; shift
	if [ "$ok" = 1 ]; then passed=$((passed + 1)); echo "PASS $*"; else failed=$((failed + 1)); echo "FAIL $*"; fi
}

# Server log lines written since byte offset $1 that report a crashed backend.
crashes_since() {
	[ -r "$LOG" ] || return 0
	tail -c +"$(($1 + 1))" "$LOG" | grep -E "terminated by signal|was terminated|server process .* exited with exit code [^0]|PANIC" || true
}

# Current size of the server log.
log_size() { stat -c %s "$LOG" 2>/dev/null || echo 0; }

# Run SQL (stdin) in one session that goes on after errors; prints psql's output.
run_sql() {
	pp_psql -v ON_ERROR_STOP=0 -v VERBOSITY=verbose -At 2>&1
}

# The SQLSTATE of the first error in psql output, or "ok" when there is none.
sqlstate_of() {
	local state
	state=$(grep -m1 -oE '^(psql:[^ ]* )?ERROR:  [0-9A-Z]{5}' <<<"$1" | grep -oE '[0-9A-Z]{5}$')
	echo "${state:-ok}"
}

# Check one manifest entry: file $1 must give $2 (ok or a SQLSTATE).
check_case() {
	local file=$1 expect=$2 path=$DIR/$1 before out got alive crash t0 ms
	before=$(log_size)
	t0=$(date +%s%N)
	out=$(run_sql <<-SQL
		SET pg_pprof.max_input_bytes = '64MB';
		SET statement_timeout = '120s';
		SELECT 'total=' || coalesce(profile_total(profile_from_pprof(pg_read_binary_file('$path')))::text, 'null');
		SELECT 'alive';
	SQL
	)
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	got=$(sqlstate_of "$out")
	alive=$(grep -c '^alive$' <<<"$out")
	crash=$(crashes_since "$before")
	if [ "$got" = "$expect" ] && [ "$alive" = 1 ] && [ -z "$crash" ]; then
		report 1 "$file: $got (${ms} ms)"
	else
		report 0 "$file: expected $expect, got $got, backend alive: $alive (${ms} ms)"
		sed 's/^/    /' <<<"$out" | head -5
		[ -n "$crash" ] && sed 's/^/    log: /' <<<"$crash"
	fi
}

# Run a query on one file and compare its output with the expected text.
check_query() {
	local name=$1 settings=$2 query=$3 expect=$4 out before
	before=$(log_size)
	out=$(run_sql <<-SQL
		SET pg_pprof.max_input_bytes = '64MB';
		$settings
		$query;
	SQL
	)
	out=$(grep -v '^SET$' <<<"$out")
	if [ "$out" = "$expect" ] && [ -z "$(crashes_since "$before")" ]; then
		report 1 "$name: $out"
	else
		report 0 "$name: expected '$expect', got '$out'"
	fi
}

# Extra checks on what accepted hostile files decode to.
check_contents() {
	local read="profile_from_pprof(pg_read_binary_file('$DIR"
	check_query "stack of 100000 distinct frames with max_stack_depth = 200000" \
		"SET pg_pprof.max_stack_depth = 200000;" \
		"SELECT count(*) || ' row, ' || max(array_length(stack, 1)) || ' frames, value ' || sum(value)
			FROM profile_stacks($read/limit_stack_100k_distinct_frames.pb.gz')))" \
		"1 row, 100000 frames, value 1"
	check_query "stack of 100000 recursive frames with max_stack_depth = 200000" \
		"SET pg_pprof.max_stack_depth = 200000;" \
		"SELECT count(*) || ' row, ' || max(array_length(stack, 1)) || ' frames, '
				|| max((SELECT count(DISTINCT f) FROM unnest(stack) f)) || ' function'
			FROM profile_stacks($read/limit_stack_100k_recursive_frames.pb.gz')))" \
		"1 row, 100000 frames, 1 function"
	check_query "invalid UTF-8 and NUL become U+FFFD" "" \
		"SELECT string_agg(f, ' ' ORDER BY f) FROM (SELECT DISTINCT unnest(stack) f
			FROM profile_stacks($read/ok_invalid_utf8_and_nul_in_names.pb')))) s" \
		$'main.main main.\xEF\xBF\xBDbad\xEF\xBF\xBD runtime.nul\xEF\xBF\xBDinside'
	check_query "negative sample values are summed" "" \
		"SELECT profile_total($read/ok_negative_value.pb')))" "10"
	# An invalid drop_frames pattern, read several times in one backend
	# (this once freed a regex that had never compiled).
	check_query "invalid drop_frames pattern, three times in one backend" "" \
		"SELECT sum(profile_total($read/ok_drop_frames_invalid_regex.pb'))))
			+ (SELECT sum(profile_total(profile)) FROM pprof_split(pg_read_binary_file('$DIR/ok_drop_frames_invalid_regex.pb')))
			FROM generate_series(1, 2)" "159"
}

if [ "${PP_CLUSTER_READY:-0}" != 1 ]; then
	pp_install_deps || exit 1
	pp_build || exit 1
	pp_start_cluster || exit 1
fi
start=$(date +%s)
pp_go_build "$BIN/hostile" ./test/hostile || exit 1
DIR=$(pp_tmpdir)
trap 'rm -rf "$DIR"' EXIT
"$BIN/hostile" "$DIR" || exit 1
chmod a+r "$DIR"/*
PGOPTIONS='-c client_min_messages=warning' pp_psql -qc "CREATE EXTENSION IF NOT EXISTS pg_pprof" || exit 1

while IFS=$'\t' read -r file expect; do
	check_case "$file" "$expect"
done <"$DIR/expected.tsv"
check_contents

echo "hostile: $(( $(date +%s) - start )) s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
