#!/usr/bin/env bash
# test/limits.sh: hostile values and inputs against bounded time and memory.
#
# Every case runs as a plain role set up as the README sets up Grafana's
# read-only role (LOGIN, SELECT on the tables, statement_timeout = '2s'),
# in a fresh session, and must
#   - end with the expected outcome: "ok", or the SQLSTATE of a clean error
#     (54000 for a limit, 57014 for the statement timeout);
#   - end within 3 s of wall time (each case also has a 20 s client-side
#     timeout, so a regression cannot stall CI);
#   - keep the backend's peak memory (VmHWM) under 1 GB.
# The values come from test/limits/mkhostile.c; what each one attacks is
# described there.  Then, as superuser, cancel and statement_timeout must
# stop long calls within a fraction of a second: a big flame graph, and a
# zstd level-19 compression, which pg_pprof feeds in 1 MB chunks.
#
# Expects the private cluster to be running with the extension built
# (scripts/test.sh); prints ok/FAIL lines and "limits: N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PP_ROOT"
passed=0 failed=0
READER=pprof_limits_reader
MAX_MS=3000
MAX_HWM_KB=$((1024 * 1024))

# Record one check: check NAME OK [detail]
check() {
	if [ "$2" = 1 ]; then passed=$((passed + 1)); echo "ok   $1${3:+ ($3)}"
	else failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"; fi
}

finish() {
	echo "limits: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

# --- the hostile values --------------------------------------------------------
dir=$(pp_tmpdir)
trap 'rm -rf "$dir"' EXIT
if ! { make -s build/plain/libppcore.a PG_CONFIG=/usr/bin/pg_config &&
	gcc -O2 -Wall -Wextra -Wno-unused-parameter -Iinclude -Igen -o test/bin/mkhostile \
		test/limits/mkhostile.c build/plain/libppcore.a build/plain/pp_standalone.o \
		$(make -s print-core-libs PG_CONFIG=/usr/bin/pg_config) &&
	test/bin/mkhostile "$dir" >"$dir/made.txt"; }; then
	check "build and run test/limits/mkhostile" 0; finish
fi
sed 's/^/     /' "$dir/made.txt"

PGOPTIONS='-c client_min_messages=warning' pp_psql -q -v dir="$dir" <<'SQL' || { check "load the values" 0; finish; }
CREATE EXTENSION IF NOT EXISTS pg_pprof;
DROP TABLE IF EXISTS limits_values, limits_inputs;
CREATE TABLE limits_values (name text PRIMARY KEY, p profile);
CREATE TABLE limits_inputs (name text PRIMARY KEY, data bytea);
SQL
# psql cannot read a file named by a variable, so each file is loaded by name.
for f in quickselect hashflood deepchain longnames manypoints; do
	PP_F=$dir/$f.hex pp_psql -q <<SQL || { check "load $f" 0; finish; }
\set v \`cat "\$PP_F"\`
INSERT INTO limits_values VALUES ('$f', ('\x' || :'v')::profile);
SQL
done
for f in spans.pb.gz types.pb.gz strings.pb.gz minvalue.pb halfmin.pb; do
	PP_F=$dir/$f pp_psql -q <<SQL || { check "load $f" 0; finish; }
\set v \`base64 -w0 "\$PP_F"\`
INSERT INTO limits_inputs VALUES ('${f%%.*}', decode(:'v', 'base64'));
SQL
done
pp_psql -q <<SQL || { check "create the reader role" 0; finish; }
DO \$\$BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$READER') THEN
		CREATE ROLE $READER LOGIN;
	END IF;
END\$\$;
GRANT SELECT ON limits_values, limits_inputs TO $READER;
ALTER ROLE $READER SET statement_timeout = '2s';
SQL

# The first SQLSTATE in psql output, or "ok".
sqlstate_of() {
	local state
	state=$(grep -m1 -oE 'ERROR:  [0-9A-Z]{5}' <<<"$1" | grep -oE '[0-9A-Z]{5}$')
	echo "${state:-ok}"
}

# Run SQL as the reader in a fresh session; check outcome, time and memory.
#   run_case NAME EXPECT SQL      EXPECT: ok, a SQLSTATE, or alternatives "ok|54000"
run_case() {
	local name=$1 expect=$2 sql=$3 out t0 ms state hwm
	t0=$(date +%s%N)
	out=$(timeout 20 psql -X -h "$PP_PGDIR/run" -p "$PP_PORT" -U "$READER" -d "$PP_DB" \
		-v VERBOSITY=verbose -At 2>&1 <<SQL
SELECT pg_backend_pid() AS pid \gset
\setenv PP_BPID :pid
$sql;
\! grep VmHWM /proc/\$PP_BPID/status
SQL
	)
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	state=$(sqlstate_of "$out")
	hwm=$(grep -oE 'VmHWM:\s+[0-9]+' <<<"$out" | grep -oE '[0-9]+$')
	local detail="$state in $ms ms, peak ${hwm:-?} kB"
	if [[ "|$expect|" == *"|$state|"* ]] && [ "$ms" -lt $MAX_MS ] && [ -n "$hwm" ] && [ "$hwm" -lt $MAX_HWM_KB ]; then
		check "$name" 1 "$detail"
	else
		check "$name" 0 "expected $expect in < $MAX_MS ms under $MAX_HWM_KB kB; got $detail: $(grep -m2 -E 'ERROR|FATAL|timeout' <<<"$out" | tr '\n' ' ')"
	fi
}

V="(SELECT p FROM limits_values WHERE name"
I="(SELECT data FROM limits_inputs WHERE name"

# 1. Truncation's cutoff on an adversarial order (was O(n^2): 25 s).
run_case "quickselect order, flamegraph at the default max_nodes" ok \
	"SELECT count(*) FROM flamegraph($V = 'quickselect'))"
run_case "quickselect order, profile_to_svg" ok \
	"SELECT length(profile_to_svg(p)) FROM limits_values WHERE name = 'quickselect'"
# 2. Names built to collide in the old unkeyed hash (was 54 s).
run_case "hash flood, flamegraph(p, 0)" ok \
	"SELECT count(*) FROM flamegraph($V = 'hashflood'), 0)"
run_case "hash flood, profile_merge" ok \
	"SELECT profile_total(profile_merge(p)) FROM limits_values WHERE name = 'hashflood'"
# 3. Outputs far larger than their values (were gigabytes, or truncated text).
run_case "83-byte deep chain, profile_to_pprof" 54000 \
	"SELECT length(profile_to_pprof(p)) FROM limits_values WHERE name = 'deepchain'"
run_case "83-byte deep chain, profile_to_folded" 54000 \
	"SELECT length(profile_to_folded(p)) FROM limits_values WHERE name = 'deepchain'"
run_case "83-byte deep chain, profile_stacks" 54000 \
	"SELECT count(*) FROM profile_stacks($V = 'deepchain'))"
run_case "83-byte deep chain, flamegraph" ok \
	"SELECT count(*) FROM flamegraph($V = 'deepchain'))"
run_case "161-byte chain of a 2 MB name, flamegraph" 54000 \
	"SELECT count(*) FROM flamegraph($V = 'longnames'))"
run_case "161-byte chain of a 2 MB name, flamegraph_diff" 54000 \
	"SELECT count(*) FROM flamegraph_diff($V = 'longnames'), $V = 'longnames'))"
run_case "161-byte chain of a 2 MB name, profile_to_folded" 54000 \
	"SELECT length(profile_to_folded(p)) FROM limits_values WHERE name = 'longnames'"
run_case "161-byte chain of a 2 MB name, profile_to_svg" 54000 \
	"SELECT length(profile_to_svg(p)) FROM limits_values WHERE name = 'longnames'"
run_case "161-byte chain of a 2 MB name, profile_diff_to_svg" 54000 \
	"SELECT length(profile_diff_to_svg(p, p)) FROM limits_values WHERE name = 'longnames'"
run_case "161-byte chain of a 2 MB name, profile_stacks" 54000 \
	"SELECT count(*) FROM profile_stacks($V = 'longnames'))"
run_case "161-byte chain of a 2 MB name, profile_to_pprof" ok \
	"SELECT length(profile_to_pprof(p)) FROM limits_values WHERE name = 'longnames'"
run_case "161-byte chain of a 2 MB name, profile_top" ok \
	"SELECT count(*) FROM profile_top($V = 'longnames'))"
# 4. pprof_split's groups (were 5.6 GB and 3.5 GB).
run_case "100,000 span ids, pprof_split by span_id" "ok|54000" \
	"SELECT count(*) FROM pprof_split($I = 'spans'), '{span_id}')"
run_case "200,000 sample types in 2 kB, pprof_split" "ok|54000" \
	"SELECT count(*) FROM pprof_split($I = 'types'))"
# 5. pprof_split's keys (were 15.7 s and 67 s).
run_case "100,000 label keys, pprof_split" ok \
	"SELECT count(*) FROM pprof_split($I = 'spans'), ARRAY(SELECT 'key' || i FROM generate_series(1, 100000) i))"
run_case "20,000 keys against 1,000,000 strings, pprof_split" ok \
	"SELECT count(*) FROM pprof_split($I = 'strings'), ARRAY(SELECT 'k' || lpad(i::text, 5, '0') FROM generate_series(0, 19999) i))"
# 6. Values the extension writes must read back.
run_case "a -2^63 sample: stored and read back" ok \
	"SELECT profile_total(profile_from_pprof(data)::text::profile) FROM limits_inputs WHERE name = 'minvalue'"
run_case "two -2^62 samples merged: stored and read back" ok \
	"SELECT profile_total((a + a)::text::profile) FROM (SELECT profile_from_pprof(data) a FROM limits_inputs WHERE name = 'halfmin') s"
# A packed value whose unpacking is 10^9 node visits: the timeout stops it.
run_case "20,000 points over 50,000 leaves, profile_unpack" 57014 \
	"SELECT count(*) FROM limits_values, profile_unpack(p) WHERE name = 'manypoints'"
run_case "20,000 points over 50,000 leaves, profile_points" ok \
	"SELECT count(*), sum(total) FROM limits_values, profile_points(p) WHERE name = 'manypoints'"
run_case "20,000 points over 50,000 leaves, profile_slice of half" ok \
	"SELECT profile_total(profile_slice(p, to_timestamp(1700000000), to_timestamp(1700010000))) FROM limits_values WHERE name = 'manypoints'"
run_case "20,000 points over 50,000 leaves, profile_merge" ok \
	"SELECT profile_total(profile_merge(p)) FROM limits_values WHERE name = 'manypoints'"
# 7. SQLSTATEs of corrupt values.
run_case "a raw body longer than its bytes is corrupt (XX001)" XX001 \
	"SELECT '\\x0100808080808020aa'::profile"
run_case "a zstd body whose size differs from its header is corrupt (XX001)" XX001 \
	"SELECT '\\x010180808080802028b52ffd2003190000616263'::profile"

# Values and texts that only a database in SQL_ASCII lets in.
ascii_db=pprof_limits_sql_ascii
pp_psql -d postgres -qc "DROP DATABASE IF EXISTS $ascii_db" \
	-c "CREATE DATABASE $ascii_db ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" &&
	out=$(pp_psql -d $ascii_db -At -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_pprof" \
		-c "SELECT profile_total(p::text::profile),
		           (SELECT string_agg(f, ',' ORDER BY f COLLATE \"C\") FROM profile_stacks(p) s, unnest(s.stack) f),
		           profile_sample_type(p)
		    FROM (SELECT profile_from_folded(E'ma\\xffin;b 3\\nmain 2', E'cp\\xfeu', 'count') p) x" 2>&1)
check "SQL_ASCII: invalid UTF-8 in folded names and the type is stored readable" \
	"$(grep -qF $'5|b,main,ma\xef\xbf\xbdin|cp\xef\xbf\xbdu' <<<"$out" && echo 1 || echo 0)" "$(tail -1 <<<"$out")"
pp_psql -d postgres -qc "DROP DATABASE IF EXISTS $ascii_db"

# --- cancel and statement_timeout on long calls, as superuser ----------------
# Time (ms) a statement takes when cancelled after $2 ms.
cancelled_after() {
	local sql=$1 after_ms=$2 pid t0 out
	out=$pp_tmp_out
	pp_psql -At -c "SET application_name = 'pprof_limits_cancel'" -c "$sql" >"$out" 2>&1 &
	local client=$!
	sleep "$(awk "BEGIN {print $after_ms / 1000}")"
	t0=$(date +%s%N)
	pp_psql -Atc "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'pprof_limits_cancel'" >/dev/null
	if ! timeout 20 tail --pid=$client -s 0.01 -f /dev/null; then kill $client 2>/dev/null; echo 99999; return; fi
	echo $(( ($(date +%s%N) - t0) / 1000000 ))
}
pp_tmp_out=$dir/cancel.out
# The deep chain's folded text is 1.6 GB; with a 1000 MB budget it runs for seconds.
big="SET pg_pprof.max_output_bytes = '1000MB';
	SELECT length(profile_to_folded(p)) FROM limits_values WHERE name = 'deepchain'"
t=$(cancelled_after "$big" 500)
check "cancel stops a long profile_to_folded within 300 ms" "$([ "$t" -lt 300 ] && grep -q 'canceling statement' "$pp_tmp_out" && echo 1 || echo 0)" "$t ms after pg_cancel_backend"

# 2,000,000 unique names: a 30 MB body, which zstd level 19 compresses at a few MB/s.
awk 'BEGIN { for (i = 0; i < 2000000; i++) printf "name_%07d_%s 1\n", i, "padding" }' >"$dir/big.folded"
chmod 644 "$dir/big.folded"
level19="SET pg_pprof.compression_level = 19;
	SELECT length(profile_from_folded(pg_read_file('$dir/big.folded'))::text)"
t=$(cancelled_after "$level19" 3000)
check "cancel stops a level-19 compression of a 30 MB body within 600 ms" "$([ "$t" -lt 600 ] && grep -q 'canceling statement' "$pp_tmp_out" && echo 1 || echo 0)" "$t ms after pg_cancel_backend"
t0=$(date +%s%N)
out=$(pp_psql -At -c "SET statement_timeout = '1500ms'" -c "SET pg_pprof.compression_level = 19" \
	-c "SELECT length(profile_from_folded(pg_read_file('$dir/big.folded'))::text)" 2>&1)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "statement_timeout = 1.5 s stops the same compression within 2.1 s" \
	"$([ "$ms" -lt 2100 ] && grep -q 'statement timeout' <<<"$out" && echo 1 || echo 0)" "$ms ms"

pp_psql -q -c "DROP TABLE limits_values, limits_inputs" -c "DROP ROLE $READER"
finish
