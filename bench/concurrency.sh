#!/usr/bin/env bash
# bench/concurrency.sh: ingest and flame-graph queries at the same time.
#
#   bash bench/concurrency.sh            (BENCH_SECONDS=60 by default)
#
# On the private cluster (scripts/lib.sh), pgbench runs 8 clients that
# ingest the example profiles through pprof_split, each upload one
# transaction, and at the same time 4 clients that draw flame graphs of
# the last 10 seconds of one service's CPU profiles.  It reports both
# sides' throughput and latency, the errors pgbench saw (it must see none),
# deadlocks in the server log (there must be none), and the peak memory
# (VmHWM) of every backend, sampled each second.  Exits non-zero on an
# error or a deadlock.
set -uo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$BENCH_DIR/../scripts/lib.sh"
cd "$PP_ROOT"
SECONDS_RUN=${BENCH_SECONDS:-60}
INGEST_CLIENTS=${BENCH_INGEST_CLIENTS:-8}
QUERY_CLIENTS=${BENCH_QUERY_CLIENTS:-4}

pp_install_deps
pp_build
pp_start_cluster
pp_export_pgenv
work=$(pp_tmpdir)
trap 'rm -rf "$work"' EXIT

pp_psql -q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_pprof;
ALTER EXTENSION pg_pprof UPDATE;
DROP TABLE IF EXISTS bench_uploads, bench_profiles;
CREATE TABLE bench_uploads (id int PRIMARY KEY, data bytea NOT NULL);
CREATE TABLE bench_profiles (time timestamptz NOT NULL, service text NOT NULL, name text NOT NULL,
	sample_type text NOT NULL, unit text NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL);
CREATE INDEX ON bench_profiles (service, name, sample_type, time);
SQL
id=0
for f in examples/*.pb.gz; do
	id=$((id + 1))
	PP_FILE=$f pp_psql -q -v id=$id <<'SQL'
\set data `base64 -w0 "$PP_FILE"`
INSERT INTO bench_uploads VALUES (:id, decode(:'data', 'base64'));
SQL
done

cat >"$work/ingest.sql" <<SQL
\\set id random(1, $id)
\\set service random(0, 3)
INSERT INTO bench_profiles (time, service, name, sample_type, unit, labels, profile)
SELECT clock_timestamp(), 'svc' || :service, 'process_cpu', sample_type, unit, labels, profile
FROM pprof_split((SELECT data FROM bench_uploads WHERE id = :id), '{endpoint}');
SQL
cat >"$work/query.sql" <<'SQL'
\set service random(0, 3)
SELECT count(*) FROM flamegraph((
	SELECT profile_merge(profile) FROM bench_profiles
	WHERE service = 'svc' || :service AND name = 'process_cpu' AND sample_type = 'cpu'
	  AND time > clock_timestamp() - interval '10 seconds'), 2000);
SQL

log_start=$(stat -c %s "$PP_PGDIR/server.log")
pgbench_bin=$(pp_pgbin)/pgbench
"$pgbench_bin" -n -c "$INGEST_CLIENTS" -j 2 -T "$SECONDS_RUN" -f "$work/ingest.sql" \
	-h "$PGHOST" -p "$PGPORT" -U postgres "$PP_DB" >"$work/ingest.out" 2>&1 &
ingest=$!
"$pgbench_bin" -n -c "$QUERY_CLIENTS" -j 2 -T "$SECONDS_RUN" -f "$work/query.sql" \
	-h "$PGHOST" -p "$PGPORT" -U postgres "$PP_DB" >"$work/query.out" 2>&1 &
query=$!

# Sample every pgbench backend's peak memory once a second.
declare -A hwm
while kill -0 $ingest 2>/dev/null || kill -0 $query 2>/dev/null; do
	for pid in $(pp_psql -Atc "SELECT pid FROM pg_stat_activity WHERE application_name = 'pgbench'" 2>/dev/null); do
		kb=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null)
		[ -n "$kb" ] && { [ -z "${hwm[$pid]:-}" ] || [ "$kb" -gt "${hwm[$pid]}" ]; } && hwm[$pid]=$kb
	done
	sleep 1
done
wait $ingest; ingest_rc=$?
wait $query; query_rc=$?

summary() {
	local what=$1 out=$2
	printf '%-26s %s tps, latency %s ms, %s transactions, %s failed\n' "$what" \
		"$(grep -oE 'tps = [0-9.]+' "$out" | head -1 | grep -oE '[0-9.]+$')" \
		"$(grep -oE 'latency average = [0-9.]+' "$out" | grep -oE '[0-9.]+$')" \
		"$(grep -oE 'number of transactions actually processed: [0-9]+' "$out" | grep -oE '[0-9]+$')" \
		"$(grep -oE 'number of failed transactions: [0-9]+' "$out" | grep -oE '[0-9]+$' || echo 0)"
}
rows=$(pp_psql -Atc "SELECT count(*) FROM bench_profiles")
deadlocks=$(tail -c +"$((log_start + 1))" "$PP_PGDIR/server.log" | grep -c 'deadlock detected')
errors=$(grep -hcE '^pgbench: error|ERROR' "$work/ingest.out" "$work/query.out" | paste -sd+ | bc)
peak=0 n=0
for pid in "${!hwm[@]}"; do n=$((n + 1)); [ "${hwm[$pid]}" -gt "$peak" ] && peak=${hwm[$pid]}; done

echo "concurrency: ${SECONDS_RUN} s, $INGEST_CLIENTS ingest clients (pprof_split), $QUERY_CLIENTS flame-graph clients"
summary "ingest (one upload each)" "$work/ingest.out"
summary "flamegraph of last 10 s" "$work/query.out"
echo "rows stored: $rows ($(awk "BEGIN {printf \"%.0f\", $rows / $SECONDS_RUN}") rows/s)"
echo "per-backend peak memory (VmHWM): max $((peak / 1024)) MB over $n backends"
echo "errors: $errors, deadlocks: $deadlocks, pgbench exit: ingest $ingest_rc, query $query_rc"
[ "$errors" = 0 ] && [ "$deadlocks" = 0 ] && [ $ingest_rc = 0 ] && [ $query_rc = 0 ] || {
	echo "--- ingest"; tail -20 "$work/ingest.out"; echo "--- query"; tail -20 "$work/query.out"; exit 1; }
pp_psql -qc "DROP TABLE bench_uploads, bench_profiles"
