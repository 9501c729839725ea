#!/usr/bin/env bash
# bench/collector.sh: pg_pprof_collector's ingest throughput against the
# ceiling of pprof_ingest() itself, on the same machine, in one run.
#
#  1. collector: 4 concurrent closed-loop clients (bench/loadgen.c, in C
#     on libcurl, so that the clients take little of the two cores they
#     share with the collector and PostgreSQL) POST the example Go CPU
#     profiles (examples/cpu_*.pb.gz, ~11 KB gzip each) to
#     /ingest?format=pprof over loopback for BENCH_SECONDS (30).
#     Reported: profiles/s and MB/s (gzip pprof bytes) acknowledged, p50/p99
#     acknowledgement latency, the collector's peak RSS (VmHWM), and the
#     profiles committed (pprof_ingest_requests) as a cross-check.
#  2. ceiling: 4 psql sessions call pprof_ingest() on the same files with
#     the same arguments (name, labels, label_keys, a request_id) for the
#     same time, straight into a table of the same layout: once with one
#     transaction per call (autocommit), once with 64 calls per transaction
#     (as the collector batches).  The better of the two is the ceiling.
#  3. the same two measurements, shorter, for typical 42 KB Go CPU profiles
#     (bench/genprofiles, ~1,700 samples each).
#
# The bar (issue 11): the collector reaches at least 70% of the ceiling
# and at least 500 profiles/s on a 2-core machine, PostgreSQL included.
# Like the other benchmarks it sets up what it needs (pp_install_deps,
# pp_build unless PP_SKIP_BUILD=1, the private cluster); it is not part of
# scripts/test.sh.
#
#   bench/collector.sh
#   BENCH_SECONDS=10 bench/collector.sh
#   BENCH_COLLECTOR_SETTINGS='db_connections = 3' bench/collector.sh   (extra config lines)
set -euo pipefail
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$BENCH_DIR/../scripts/lib.sh"
cd "$PP_ROOT"

SECS=${BENCH_SECONDS:-30}
SECS_42K=${BENCH_SECONDS_42K:-15}
CLIENTS=4

pp_install_deps
pp_build
pp_start_cluster
pp_stage_inputs
make -s collector PG_CONFIG=/usr/bin/pg_config >/dev/null
mkdir -p "$PP_ROOT/bench/bin"
cc -O2 -g -Wall -Wextra -pthread -o "$PP_ROOT/bench/bin/loadgen" "$PP_ROOT/bench/loadgen.c" \
	$(pkg-config --cflags --libs libcurl)
pp_go_build "$PP_ROOT/bench/bin/genprofiles" ./bench/genprofiles
WORK=$(pp_tmpdir)
COLLECTOR_PID=""
trap '[ -n "$COLLECTOR_PID" ] && kill -TERM "$COLLECTOR_PID" 2>/dev/null; wait 2>/dev/null' EXIT

# typical 42 KB profiles, written once per run into the work folder
"$PP_ROOT/bench/bin/genprofiles" -out "$WORK/p42k" -n 24 "$PP_EXAMPLES"/cpu_*.pb.gz >"$WORK/p42k.txt"
chmod -R a+rX "$WORK"
FILES_11K=("$PP_EXAMPLES"/cpu_1.pb.gz "$PP_EXAMPLES"/cpu_2.pb.gz "$PP_EXAMPLES"/cpu_3.pb.gz)
mapfile -t FILES_42K < "$WORK/p42k/files.txt"

pp_psql -q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_pprof;
ALTER EXTENSION pg_pprof UPDATE;
DROP TABLE IF EXISTS bench_collector, bench_ceiling;
CREATE TABLE bench_collector (
    time timestamptz NOT NULL, service text NOT NULL, name text NOT NULL,
    sample_type text NOT NULL, unit text NOT NULL, labels jsonb NOT NULL DEFAULT '{}',
    profile profile NOT NULL);
CREATE INDEX ON bench_collector (service, name, sample_type, time);
CREATE INDEX ON bench_collector USING brin (time);
CREATE INDEX ON bench_collector USING gin (labels jsonb_path_ops);
CREATE TABLE bench_ceiling (LIKE bench_collector INCLUDING ALL);
SQL

# Profiles committed since a time, from the idempotency record.
committed_since() {
	pp_psql -Atqc "SELECT count(*) FROM pprof_ingest_requests WHERE received >= '$1'"
}

# All CPU ticks and idle ticks (idle and iowait) so far, from /proc/stat.
cpu_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9, $5 + $6 }' /proc/stat
}

# User and system ticks of a process so far.
process_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# Run the collector's benchmark: bench_collector_run LABEL SECONDS FILES...
bench_collector_run() {
	local label=$1 secs=$2; shift 2
	local port; port=$(for p in $(seq 4300 4999); do pp_port_busy "$p" || { echo "$p"; break; }; done)
	cat >"$WORK/bench.conf" <<EOF
listen = 127.0.0.1:$port
dsn = host=$PP_PGDIR/run port=$PP_PORT dbname=$PP_DB user=postgres
table = bench_collector
spool_dir = $WORK/spool
log_level = warn
${BENCH_COLLECTOR_SETTINGS:-}
EOF
	"$PP_ROOT/build/collector/pg_pprof_collector" --config "$WORK/bench.conf" >"$WORK/collector.log" 2>&1 &
	COLLECTOR_PID=$!
	for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/ready" && break; sleep 0.1; done
	local t0; t0=$(pp_psql -Atqc "SELECT now()")
	local cpu0 ticks0; cpu0=$(cpu_ticks); ticks0=$(process_ticks "$COLLECTOR_PID")
	"$PP_ROOT/bench/bin/loadgen" "http://127.0.0.1:$port/ingest?name=bench-$label&format=pprof&spyName=gospy" \
		$CLIENTS "$secs" "$@" >"$WORK/bench-$label.json"
	# where the two cores went: the collector, the clients, and idle
	local cpu1 ticks1; cpu1=$(cpu_ticks); ticks1=$(process_ticks "$COLLECTOR_PID")
	local clients_cpu; clients_cpu=$(sed 's/.*"cpu_seconds":\([0-9.]*\).*/\1/' "$WORK/bench-$label.json")
	read -r total0 idle0 <<<"$cpu0"
	read -r total1 idle1 <<<"$cpu1"
	awk -v t=$((total1 - total0)) -v i=$((idle1 - idle0)) -v c=$((ticks1 - ticks0)) -v l="$clients_cpu" \
		-v hz="$(getconf CLK_TCK)" 'BEGIN {
		printf "%.0f%% collector, %.0f%% clients, %.0f%% idle\n", 100 * c / t, 100 * l * hz / t, 100 * i / t }' \
		>"$WORK/cpu-$label"
	local hwm; hwm=$(awk '/VmHWM/ { print $2 }' "/proc/$COLLECTOR_PID/status")
	# profiles per transaction: how well the writers batched
	curl -s "http://127.0.0.1:$port/metrics" | awk '
		/^pg_pprof_collector_transactions_total / { t = $2 }
		/^pg_pprof_collector_transaction_profiles_total / { p = $2 }
		END { printf "%.2f\n", t ? p / t : 0 }' >"$WORK/batch-$label"
	kill -TERM "$COLLECTOR_PID"; wait "$COLLECTOR_PID" || true
	COLLECTOR_PID=""
	local committed; committed=$(committed_since "$t0")
	echo "$(cat "$WORK/bench-$label.json") $hwm $committed" >"$WORK/result-$label"
}

# The SQL script of one ceiling session: pprof_ingest on the files in turn,
# with the collector's arguments; batch > 1 wraps that many calls in a transaction.
ceiling_script() {
	local batch=$1 calls=$2; shift 2
	local i=0 f
	for f in "$@"; do
		printf '\\set d%d `base64 -w0 %s`\n' "$i" "$f"
		i=$((i + 1))
	done
	local n=$i
	for ((k = 0; k < calls; k++)); do
		if [ "$batch" -gt 1 ] && [ $((k % batch)) = 0 ]; then echo "BEGIN;"; fi
		printf "SELECT pprof_ingest('bench_ceiling', decode(:'d%d', 'base64'), 'bench-ceiling', 'process_cpu', '{\"pyroscope_spy\": \"gospy\"}', now(), '{endpoint,region}', NULL, gen_random_uuid());\n" $((k % n))
		if [ "$batch" -gt 1 ] && [ $((k % batch)) = $((batch - 1)) ]; then echo "COMMIT;"; fi
	done
}

# Run the ceiling: 4 psql sessions for SECONDS; prints profiles committed.
bench_ceiling_run() {
	local batch=$1 secs=$2; shift 2
	local s pids=() t0
	for ((s = 0; s < CLIENTS; s++)); do
		# each session starts at another file, as the collector's clients do
		local rotated=("${@:$((s % $# + 1))}" "${@:1:$((s % $#))}")
		ceiling_script "$batch" 40000 "${rotated[@]}" >"$WORK/ceiling-$s.sql"
	done
	t0=$(pp_psql -Atqc "SELECT now()")
	for ((s = 0; s < CLIENTS; s++)); do
		timeout --signal=INT "$secs" psql -X -q -h "$PP_PGDIR/run" -p "$PP_PORT" -U postgres -d "$PP_DB" \
			-f "$WORK/ceiling-$s.sql" >/dev/null 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p" || true; done
	committed_since "$t0"
}

# Sum of the sizes of the files, cycled over n profiles, in MB.
mb_of() {
	local n=$1; shift
	local sizes=() f total=0
	for f in "$@"; do sizes+=("$(stat -c %s "$f")"); done
	for ((k = 0; k < n; k++)); do total=$((total + sizes[k % ${#sizes[@]}])); done
	awk -v b="$total" 'BEGIN { printf "%.2f", b / 1e6 }'
}

# One set of profiles: the collector, then both ceilings: report KEY DESCRIPTION SECONDS FILES_ARRAY
report() {
	local key=$1 label=$2 secs=$3 files_var=$4
	local -n files=$files_var
	pp_say "collector, $label profiles, $CLIENTS clients, ${secs} s"
	# in this shell, so that the EXIT trap knows the collector's pid
	bench_collector_run "$key" "$secs" "${files[@]}"
	read -r json hwm committed <"$WORK/result-$key"
	local per_txn; per_txn=$(cat "$WORK/batch-$key")
	local cpu; cpu=$(cat "$WORK/cpu-$key")
	local acked bytes seconds p50 p99
	acked=$(sed 's/.*"acked":\([0-9]*\).*/\1/' <<<"$json")
	bytes=$(sed 's/.*"bytes":\([0-9]*\).*/\1/' <<<"$json")
	seconds=$(sed 's/.*"seconds":\([0-9.]*\).*/\1/' <<<"$json")
	p50=$(sed 's/.*"p50_ms":\([0-9.]*\).*/\1/' <<<"$json")
	p99=$(sed 's/.*"p99_ms":\([0-9.]*\).*/\1/' <<<"$json")
	pp_say "ceiling, $label profiles, $CLIENTS psql sessions, autocommit"
	local c1; c1=$(bench_ceiling_run 1 "$secs" "${files[@]}")
	pp_say "ceiling, $label profiles, $CLIENTS psql sessions, 64 calls per transaction"
	local c64; c64=$(bench_ceiling_run 64 "$secs" "${files[@]}")
	awk -v label="$label" -v acked="$acked" -v bytes="$bytes" -v s="$seconds" -v p50="$p50" -v p99="$p99" \
		-v hwm="$hwm" -v committed="$committed" -v per_txn="$per_txn" -v cpu="$cpu" -v c1="$c1" -v c64="$c64" -v secs="$secs" \
		-v mb1="$(mb_of "$c1" "${files[@]}")" -v mb64="$(mb_of "$c64" "${files[@]}")" 'BEGIN {
		rate = acked / s; ceil1 = c1 / secs; ceil64 = c64 / secs; ceil = ceil1 > ceil64 ? ceil1 : ceil64
		printf "\n== %s profiles\n", label
		printf "collector:  %7.1f profiles/s  %6.2f MB/s  p50 %6.1f ms  p99 %6.1f ms  peak RSS %.1f MB  (%d acked, %d committed)\n",
			rate, bytes / 1e6 / s, p50, p99, hwm / 1024, acked, committed
		printf "            %.2f profiles per transaction; of the cores: %s\n", per_txn, cpu
		printf "ceiling:    %7.1f profiles/s  %6.2f MB/s  (pprof_ingest, autocommit)\n", ceil1, mb1 / secs
		printf "            %7.1f profiles/s  %6.2f MB/s  (pprof_ingest, 64 per transaction)\n", ceil64, mb64 / secs
		printf "ratio:      %5.0f%% of the ceiling\n", 100 * rate / ceil
	}'
}

echo
echo "pg_pprof_collector benchmark, $(nproc) cores, PostgreSQL on the same machine"
report 11k "11 KB (examples/cpu_*.pb.gz)" "$SECS" FILES_11K
report 42k "42 KB (bench/genprofiles)" "$SECS_42K" FILES_42K
stats=$(tail -1 "$WORK/p42k.txt")
echo "(42 KB set: $(sed -n 's/.*avg_bytes=\([0-9]*\).*/\1/p' <<<"$stats") bytes gzip, $(sed -n 's/.*avg_samples=\([0-9]*\).*/\1/p' <<<"$stats") samples on average)"
