#!/usr/bin/env bash
# bench/longwindow.sh: a week of one service's CPU profiles, raw against packed.
#
# 1. bench/genprofiles writes BENCH_N (default 10,080: 7 days at one a
#    minute) CPU profiles derived from the real ones (as bench/merge.sh does),
#    each with its own time_nanos, one minute apart, into BENCH_WORK (default
#    /tmp/pg_pprof_bench)/longwindow; reused while unchanged (STAMP).
# 2. They are loaded into lw_raw(service, time, profile), the newest row in
#    the hour before the current one, one row a minute.  lw_packed is a copy compacted hourly
#    with profile_compact (older_than 0: every hour packed); lw_mixed is a copy
#    compacted with older_than 12 hours, so its last 12 hours stay raw.
# 3. Timed server-side (clock_timestamp() deltas in PL/pgSQL, best of
#    BENCH_RUNS, default 10, after a warm-up), serial plans
#    (max_parallel_workers_per_gather = 0), each window the dashboard's query:
#      SELECT profile_merge(profile_slice(profile, FROM, TO, time)) FROM T
#      WHERE time >= to_timestamp(FROM_EPOCH - 3600) AND time < TO
#    timed as pg_column_size of the result (the merge computed and encoded),
#    and inside flamegraph(...) as count(*) of its rows (every row built).  Windows: the 7 days, 10 minutes inside one packed
#    hour, and the last 25 hours (13 packed hours and 12 raw in lw_mixed).
#    Also: the 168 packed rows merged against their own merges stored as plain
#    values (same trees, no timelines): the merge skips the timeline.
# 4. Compaction throughput (profiles/s) and the peak memory (VmHWM) of a
#    fresh backend per measurement: the compaction and the 7-day flame graphs.
# 5. Exactness, the bars' inputs: every window over lw_packed and lw_mixed
#    equals the same window over lw_raw (plus 20 windows at random bounds), and
#    profile_unpack of every packed row gives back all sources, each equal to
#    its raw row.
# 6. The same sizes, times and checks for the real sequence in the corpus:
#    parca_many, 10 consecutive heap profiles, every sample type packed.
# 7. A table, then the bars with PASS/MISS: packed storage <= 0.05x the gzip
#    pprof, the 7-day flame graph >= 30x faster packed than raw, peak backend
#    memory < 200 MB.  A benchmark: it exits 0 on MISS, non-zero on errors.
#
# Usage: bench/longwindow.sh     (root, Debian 12; ~3 min, plus ~1.5 min the
#                                 first time to write the profiles)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

N=${BENCH_N:-10080}
RUNS=${BENCH_RUNS:-10}
WORK=${BENCH_WORK:-/tmp/pg_pprof_bench}
GEN=$BENCH_DIR/bin/genprofiles
DIR=$WORK/longwindow

pp_install_deps
pp_build
pp_start_cluster
pp_stage_inputs
export PGOPTIONS='-c client_min_messages=warning -c max_parallel_workers_per_gather=0'
pp_psql -qc "CREATE EXTENSION IF NOT EXISTS pg_pprof"
pp_go_build "$GEN" ./bench/genprofiles

# ---------------------------------------------------------------- 1. profiles
SOURCES=("$PP_EXAMPLES"/cpu_*.pb.gz)
[ ! -f "$PP_CORPUS/gpprof_report_sample.cpu.pb.gz" ] || SOURCES+=("$PP_CORPUS/gpprof_report_sample.cpu.pb.gz")
stamp=$({ cat "$BENCH_DIR/genprofiles/main.go"; sha256sum "${SOURCES[@]}"; echo "n=$N step=1m"; } | sha256sum | cut -c1-16)
if [ -f "$DIR/STAMP" ] && [ "$(cat "$DIR/STAMP")" = "$stamp" ] && [ -f "$DIR/stats.txt" ]; then
	pp_say "reusing $N profiles in $DIR"
else
	pp_say "writing $N profiles into $DIR"
	rm -rf "$DIR" && mkdir -p "$DIR"
	"$GEN" -out "$DIR" -n "$N" -step 1m "${SOURCES[@]}" >"$DIR/stats.txt"
	echo "$stamp" >"$DIR/STAMP"
fi
chmod a+rx "$WORK" "$DIR" && chmod -R a+r "$DIR"
STATS=$(tail -n 1 "$DIR/stats.txt")
GZIP_AVG=$(sed -n 's/.* avg_bytes=\([0-9.]*\).*/\1/p' <<<"$STATS")
pp_say "$STATS"

# ---------------------------------------------------------------- 2. tables
# The rows fill the whole hours before the current one: row i at FIRST + i minutes.
END_HOUR=$(pp_psql -Atqc "SELECT extract(epoch FROM date_bin('1 hour', now(), timestamptz '1970-01-01 00:00+00'))::bigint")
FIRST=$((END_HOUR - N * 60))
pp_psql -q <<SQL
DROP TABLE IF EXISTS lw_raw, lw_packed, lw_mixed;
CREATE TABLE lw_raw (service text NOT NULL, time timestamptz NOT NULL, profile profile NOT NULL);
SQL
load_session() {  # batches of 720 rows, every other one
	local sql="" lo hi b=0
	for ((lo = 0; lo < N; lo += 720)); do
		if (( b++ % 2 == $1 )); then
			hi=$(( lo + 719 < N - 1 ? lo + 719 : N - 1 ))
			sql+="INSERT INTO lw_raw SELECT 'shop', to_timestamp($FIRST + i * 60),
	profile_from_pprof(pg_read_binary_file(format('%s/cpu_%s.pb.gz', '$DIR', lpad(i::text, 5, '0'))), 'cpu')
FROM generate_series($lo, $hi) i;
"
		fi
	done
	pp_psql -q <<<"$sql"
}
load_session 0 & p0=$!
load_session 1 & p1=$!
wait $p0 $p1
pp_psql -q <<'SQL'
CREATE INDEX ON lw_raw (time);
CREATE TABLE lw_packed (LIKE lw_raw);
INSERT INTO lw_packed SELECT * FROM lw_raw;
CREATE INDEX ON lw_packed (time);
CREATE TABLE lw_mixed (LIKE lw_raw);
INSERT INTO lw_mixed SELECT * FROM lw_raw;
CREATE INDEX ON lw_mixed (time);
SQL

# VmHWM (MB) of the session that runs "$@" as its statements.
hwm_sql="SELECT round((regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]::numeric / 1024, 1)"

# ---------------------------------------------------------------- compaction
t0=$(date +%s.%N)
compact_out=$(pp_psql -Atq -c "CALL profile_compact('lw_packed', '{service}', bucket => '1 hour', older_than => '0')" -c "$hwm_sql")
COMPACT_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
COMPACT_HWM=$(tail -1 <<<"$compact_out")
COMPACT_RATE=$(awk -v n="$N" -v s="$COMPACT_S" 'BEGIN { printf "%.0f", n / s }')
pp_say "compaction: $(head -1 <<<"$compact_out") (rows before|after|bytes before|after) in $COMPACT_S s, VmHWM $COMPACT_HWM MB"
pp_psql -Atq -c "CALL profile_compact('lw_mixed', '{service}', bucket => '1 hour', older_than => '12 hours')" >/dev/null
# compaction leaves the raw rows' space free for new rows; the sizes below are
# of the tables as compaction leaves them once that space is reused
pp_psql -qc "VACUUM ANALYZE lw_raw" -c "VACUUM FULL ANALYZE lw_packed" -c "VACUUM FULL ANALYZE lw_mixed"

IFS='|' read -r RAW_AVG PACKED_AVG RAW_TABLE PACKED_TABLE PACKED_ROWS MIXED_ROWS < <(pp_psql -Atq -c "
	SELECT round((SELECT avg(pg_column_size(profile)) FROM lw_raw)),
	       round((SELECT sum(pg_column_size(profile)) FROM lw_packed)::numeric / $N, 1),
	       round(pg_total_relation_size('lw_raw')::numeric / $N),
	       round(pg_total_relation_size('lw_packed')::numeric / $N, 1),
	       (SELECT count(*) FROM lw_packed), (SELECT count(*) FROM lw_mixed)")

# ---------------------------------------------------------------- 3. timings
# The dashboard's merge of table $1 over [$2, $3) (epoch seconds), widened by an hour.
merge_q() { echo "SELECT profile_merge(profile_slice(profile, to_timestamp($2), to_timestamp($3), time)) AS p FROM $1 WHERE time >= to_timestamp($2 - 3600) AND time < to_timestamp($3)"; }
# Timed forms: the merged value's size (so the merge is computed and
# encoded), and the number of flame-graph rows (so all rows are built).
merge_t() { echo "SELECT pg_column_size(p) FROM ($(merge_q "$@")) x"; }
flame_t() { echo "SELECT count(*) FROM flamegraph(($(merge_q "$@")))"; }
# Best time of $RUNS runs of the one-value query $1, server-side.
best() { pp_psql -Atq -c "CREATE OR REPLACE FUNCTION pg_temp.best_ms(q text, runs int) RETURNS numeric LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; best numeric := 'infinity'; r bigint;
BEGIN
	EXECUTE q INTO r;
	FOR i IN 1 .. runs LOOP
		t0 := clock_timestamp();
		EXECUTE q INTO r;
		best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1000);
	END LOOP;
	RETURN round(best, 1);
END \$\$" -c "SELECT pg_temp.best_ms(\$q\$$1\$q\$, $RUNS)" | tail -1; }

WEEK_FROM=$FIRST WEEK_TO=$END_HOUR
TEN_FROM=$((END_HOUR - 3 * 86400 + 20 * 60)) TEN_TO=$((END_HOUR - 3 * 86400 + 30 * 60))
DAY_FROM=$((END_HOUR - 25 * 3600)) DAY_TO=$END_HOUR
pp_say "timing (best of $RUNS)"
W_MERGE_RAW=$(best "$(merge_t lw_raw $WEEK_FROM $WEEK_TO)")
W_MERGE_PACKED=$(best "$(merge_t lw_packed $WEEK_FROM $WEEK_TO)")
W_FLAME_RAW=$(best "$(flame_t lw_raw $WEEK_FROM $WEEK_TO)")
W_FLAME_PACKED=$(best "$(flame_t lw_packed $WEEK_FROM $WEEK_TO)")
T_FLAME_RAW=$(best "$(flame_t lw_raw $TEN_FROM $TEN_TO)")
T_FLAME_PACKED=$(best "$(flame_t lw_packed $TEN_FROM $TEN_TO)")
D_FLAME_RAW=$(best "$(flame_t lw_raw $DAY_FROM $DAY_TO)")
D_FLAME_MIXED=$(best "$(flame_t lw_mixed $DAY_FROM $DAY_TO)")
# The merge skips the timeline: the packed rows against their own merges as
# plain values (the same trees, no timelines), merged alike.
pp_psql -qc "DROP TABLE IF EXISTS lw_plain" -c "CREATE TABLE lw_plain AS SELECT service, time, profile_merge(profile, NULL) AS profile FROM lw_packed" \
	-c "VACUUM ANALYZE lw_plain"
P_MERGE_PACKED=$(best "SELECT pg_column_size(profile_merge(profile)) FROM lw_packed")
P_MERGE_PLAIN=$(best "SELECT pg_column_size(profile_merge(profile)) FROM lw_plain")
HWM_RAW=$(pp_psql -Atq -c "$(flame_t lw_raw $WEEK_FROM $WEEK_TO)" -c "$hwm_sql" | tail -1)
HWM_PACKED=$(pp_psql -Atq -c "$(flame_t lw_packed $WEEK_FROM $WEEK_TO)" -c "$hwm_sql" | tail -1)

# ---------------------------------------------------------------- 5. exactness
pp_say "exactness checks"
windows="($WEEK_FROM, $WEEK_TO), ($TEN_FROM, $TEN_TO), ($DAY_FROM, $DAY_TO)"
for k in $(seq 1 20); do
	a=$((FIRST - 1800 + (RANDOM * 32768 + RANDOM) % (N * 60 + 3600)))
	windows+=", ($a, $((a + 1 + (RANDOM * 32768 + RANDOM) % (2 * 86400))))"
done
EXACT=$(pp_psql -Atq <<SQL
SELECT count(*) || '/' || count(*) FILTER (WHERE
	(SELECT profile_merge(profile_slice(profile, to_timestamp(f), to_timestamp(t), time)) FROM lw_packed
	 WHERE time >= to_timestamp(f - 3600) AND time < to_timestamp(t)) IS NOT DISTINCT FROM r.p
	AND (SELECT profile_merge(profile_slice(profile, to_timestamp(f), to_timestamp(t), time)) FROM lw_mixed
	 WHERE time >= to_timestamp(f - 3600) AND time < to_timestamp(t)) IS NOT DISTINCT FROM r.p)
FROM (VALUES $windows) w(f, t),
	LATERAL (SELECT profile_merge(profile) AS p FROM lw_raw WHERE time >= to_timestamp(f) AND time < to_timestamp(t)) r
SQL
)
UNPACK=$(pp_psql -Atq -c "SELECT count(*) || '/' || count(*) FILTER (WHERE u.profile = r.profile)
	FROM lw_packed p, profile_unpack(p.profile) u LEFT JOIN lw_raw r ON r.time = u.time")

# ---------------------------------------------------------------- 6. parca_many
PARCA=$PP_CORPUS/parca_many
if compgen -G "$PARCA/*.pb.gz" >/dev/null; then
	PARCA_N=$(ls "$PARCA"/*.pb.gz | wc -l)
	PARCA_GZIP=$(cat "$PARCA"/*.pb.gz | wc -c)
	pp_psql -q <<SQL
DROP TABLE IF EXISTS lw_parca_raw, lw_parca_packed;
CREATE TABLE lw_parca_raw AS
SELECT s.sample_type, to_timestamp(substr(f, 1, 19)::numeric / 1e9) AS time, s.profile
FROM pg_ls_dir('$PARCA') f, pprof_split(pg_read_binary_file('$PARCA/' || f)) s WHERE f LIKE '%.pb.gz';
CREATE TABLE lw_parca_packed AS
SELECT sample_type, min(time) AS time, profile_pack(profile, time) AS profile FROM lw_parca_raw GROUP BY 1;
SQL
	IFS='|' read -r PARCA_TYPES PARCA_RAW PARCA_PACKED PARCA_UNPACK < <(pp_psql -Atq -c "
		SELECT (SELECT count(*) FROM lw_parca_packed),
		       (SELECT sum(pg_column_size(profile)) FROM lw_parca_raw),
		       (SELECT sum(pg_column_size(profile)) FROM lw_parca_packed),
		       (SELECT count(*) || '/' || count(*) FILTER (WHERE u.profile = r.profile)
		        FROM lw_parca_packed p CROSS JOIN LATERAL profile_unpack(p.profile) u
		        LEFT JOIN lw_parca_raw r ON r.time = u.time AND r.sample_type = p.sample_type)")
	PARCA_EXACT=$(pp_psql -Atq -c "SELECT count(*) || '/' || count(*) FILTER (WHERE
		(SELECT profile_merge(profile) FROM lw_parca_packed p WHERE p.sample_type = t.sample_type) =
		(SELECT profile_merge(profile) FROM lw_parca_raw r WHERE r.sample_type = t.sample_type))
		FROM (SELECT DISTINCT sample_type FROM lw_parca_raw) t")
	PARCA_MERGE_RAW=$(best "SELECT sum(pg_column_size(p)) FROM (SELECT profile_merge(profile) p FROM lw_parca_raw GROUP BY sample_type) x")
	PARCA_MERGE_PACKED=$(best "SELECT sum(pg_column_size(p)) FROM (SELECT profile_merge(profile) p FROM lw_parca_packed GROUP BY sample_type) x")
	PARCA_FLAME_RAW=$(best "SELECT count(*) FROM flamegraph((SELECT profile_merge(profile) FROM lw_parca_raw WHERE sample_type = 'inuse_space'))")
	PARCA_FLAME_PACKED=$(best "SELECT count(*) FROM flamegraph((SELECT profile_merge(profile) FROM lw_parca_packed WHERE sample_type = 'inuse_space'))")
else
	PARCA_N=""
fi

# ---------------------------------------------------------------- 7. report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
frac() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.4f", a / b }'; }
echo
echo "Long windows: $N derived CPU profiles, one a minute for $(awk -v n="$N" 'BEGIN { printf "%.1f", n / 1440 }') days, one service"
echo "(avg gzip pprof $GZIP_AVG bytes; packed hourly: $PACKED_ROWS rows; lw_mixed: $MIXED_ROWS rows, last 12 h raw)"
echo
printf '%-46s %14s %14s %10s\n' "" "raw" "packed" "raw/packed"
printf '%-46s %14s %14s %10s\n' "stored bytes per profile (value)" "$RAW_AVG" "$PACKED_AVG" "$(ratio "$RAW_AVG" "$PACKED_AVG")"
printf '%-46s %14s %14s\n' "  as a fraction of the gzip pprof" "$(frac "$RAW_AVG" "$GZIP_AVG")" "$(frac "$PACKED_AVG" "$GZIP_AVG")"
printf '%-46s %14s %14s %10s\n' "table bytes per profile (heap+TOAST+index)" "$RAW_TABLE" "$PACKED_TABLE" "$(ratio "$RAW_TABLE" "$PACKED_TABLE")"
printf '%-46s %14s %14s %10s\n' "7-day merge (ms)" "$W_MERGE_RAW" "$W_MERGE_PACKED" "$(ratio "$W_MERGE_RAW" "$W_MERGE_PACKED")"
printf '%-46s %14s %14s %10s\n' "7-day merge + flame graph rows (ms)" "$W_FLAME_RAW" "$W_FLAME_PACKED" "$(ratio "$W_FLAME_RAW" "$W_FLAME_PACKED")"
printf '%-46s %14s %14s %10s\n' "merge of the 168 hours: plain merges vs packed" "$P_MERGE_PLAIN" "$P_MERGE_PACKED" "$(ratio "$P_MERGE_PLAIN" "$P_MERGE_PACKED")"
printf '%-46s %14s %14s %10s\n' "10-minute window inside a packed hour (ms)" "$T_FLAME_RAW" "$T_FLAME_PACKED" "$(ratio "$T_FLAME_RAW" "$T_FLAME_PACKED")"
printf '%-46s %14s %14s %10s\n' "25-hour window, 13 h packed + 12 h raw (ms)" "$D_FLAME_RAW" "$D_FLAME_MIXED" "$(ratio "$D_FLAME_RAW" "$D_FLAME_MIXED")"
printf '%-46s %14s %14s\n' "peak backend memory, 7-day flame graph (MB)" "$HWM_RAW" "$HWM_PACKED"
printf '%-46s %29s\n' "compaction (profiles/s; s)" "$COMPACT_RATE; $COMPACT_S"
printf '%-46s %29s\n' "peak backend memory, compaction (MB)" "$COMPACT_HWM"
printf '%-46s %29s\n' "windows equal to raw (packed and mixed)" "$EXACT"
printf '%-46s %29s\n' "unpacked sources equal to their raw rows" "$UNPACK"
if [ -n "$PARCA_N" ]; then
	echo
	echo "Real sequence: corpus parca_many, $PARCA_N heap profiles 3 s apart, $PARCA_TYPES sample types each packed"
	printf '%-46s %14s %14s %10s\n' "stored bytes, all sample types" "$PARCA_RAW" "$PARCA_PACKED" "$(ratio "$PARCA_RAW" "$PARCA_PACKED")"
	printf '%-46s %14s %14s\n' "  as a fraction of the gzip pprof ($PARCA_GZIP)" "$(frac "$PARCA_RAW" "$PARCA_GZIP")" "$(frac "$PARCA_PACKED" "$PARCA_GZIP")"
	printf '%-46s %14s %14s %10s\n' "merge of every sample type (ms)" "$PARCA_MERGE_RAW" "$PARCA_MERGE_PACKED" "$(ratio "$PARCA_MERGE_RAW" "$PARCA_MERGE_PACKED")"
	printf '%-46s %14s %14s %10s\n' "inuse_space merge + flame graph rows (ms)" "$PARCA_FLAME_RAW" "$PARCA_FLAME_PACKED" "$(ratio "$PARCA_FLAME_RAW" "$PARCA_FLAME_PACKED")"
	printf '%-46s %29s\n' "merges equal to raw; unpacked equal" "$PARCA_EXACT; $PARCA_UNPACK"
fi
echo
bar() { if awk "BEGIN { exit !($2) }"; then echo "PASS  $1"; else echo "MISS  $1"; fi; }
bar "packed storage <= 0.05x the gzip pprof ($(frac "$PACKED_AVG" "$GZIP_AVG")x)" "$PACKED_AVG <= 0.05 * $GZIP_AVG"
bar "7-day flame graph >= 30x faster packed ($(ratio "$W_FLAME_RAW" "$W_FLAME_PACKED")x)" "$W_FLAME_RAW >= 30 * $W_FLAME_PACKED"
bar "peak backend memory < 200 MB (compaction $COMPACT_HWM, flame graphs $HWM_RAW / $HWM_PACKED)" \
	"$COMPACT_HWM < 200 && $HWM_RAW < 200 && $HWM_PACKED < 200"
bar "exact: every window and every unpacked source ($EXACT windows, $UNPACK sources)" \
	"\"${EXACT%/*}\" == \"${EXACT#*/}\" && \"${UNPACK%/*}\" == \"${UNPACK#*/}\" && ${UNPACK%/*} == $N"
