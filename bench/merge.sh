#!/usr/bin/env bash
# bench/merge.sh: merge + render 10,000 CPU profiles, pg_pprof vs Go's pprof library.
#
# 1. bench/genprofiles writes BENCH_N (default 10000) realistic Go CPU
#    profiles derived from the real ones (examples/cpu_*.pb.gz and the
#    corpus' gpprof_report_sample.cpu.pb.gz), deterministically, into
#    BENCH_WORK (default /tmp/pg_pprof_bench)/profiles. They are reused while
#    the generator, its sources and BENCH_N are unchanged (STAMP file).
# 2. They are loaded into bench_profiles(id int, t timestamptz, p profile)
#    with profile_from_pprof(pg_read_binary_file(path), 'cpu'), in batches of
#    500 rows, by 2 sessions at once (wall time and MB/s of gzip input).
# 3. pg_pprof, timed server-side (clock_timestamp() deltas in one PL/pgSQL
#    call, best of BENCH_RUNS (default 3) after a warm-up that is an
#    EXPLAIN ANALYZE, which also tells how many parallel workers ran):
#      SELECT count(*) FROM flamegraph((SELECT profile_merge(p) FROM bench_profiles))
#    with the default max_nodes (8192) and with max_nodes => 0, each with the
#    default max_parallel_workers_per_gather and with 0, plus the default
#    query with a forced parallel plan (min_parallel_table_scan_size,
#    parallel_setup_cost and parallel_tuple_cost 0: the heap of
#    bench_profiles is small, the values live in TOAST, so the planner picks
#    a serial plan on its own). Peak memory: the default query in a fresh
#    backend per setting, VmHWM of the backend (and of its parallel workers)
#    read from /proc while it runs and during a pg_sleep(2) after it.
# 4. Go, bench/gomerge: profile.Parse + profile.Merge of the same files, on
#    1,000 files all at once (as `pprofref bench -n 1 -merge`) and chunked
#    as `go tool pprof` merges (64 files at a time, parsed concurrently), on
#    1,000 files (BENCH_GO_SMALL). On all files: at once only if its peak
#    RSS, extrapolated from 1,000, stays under BENCH_GO_MAX_MB (default
#    10240), chunked only with BENCH_GO_FULL=1 (it takes 10+ minutes for
#    10,000 files); otherwise the time is extrapolated linearly from 1,000
#    files and marked so. The totals of the first 1,000 profiles are checked
#    to be equal on both sides.
#    The Go figure in the final line is the fastest Go way to merge all files.
# 5. A table, then the final lines and the targets (>= 50x faster, < 1 s,
#    < 200 MB) with PASS/MISS. This is a benchmark: it exits 0 on MISS and
#    non-zero only on errors.
#
# Usage: bench/merge.sh     (from any directory; root, Debian 12; ~3 min
#                            plus ~3.5 min the first time, to write the profiles)
#        BENCH_N=2000 BENCH_RUNS=5 bench/merge.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

N=${BENCH_N:-10000}
RUNS=${BENCH_RUNS:-3}
WORK=${BENCH_WORK:-/tmp/pg_pprof_bench}
GO_SMALL=${BENCH_GO_SMALL:-1000}
GO_MAX_MB=${BENCH_GO_MAX_MB:-10240}
CORPUS=$PP_CORPUS  # staged by pp_stage_inputs; PP_CORPUS_SRC picks the source
GEN=$BENCH_DIR/bin/genprofiles
GOMERGE=$BENCH_DIR/bin/gomerge
DIR=$WORK/profiles
[ "$GO_SMALL" -le "$N" ] || GO_SMALL=$N

pp_install_deps
pp_build
pp_start_cluster
pp_stage_inputs
pp_psql -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_pprof"
pp_go_build "$GEN" ./bench/genprofiles
pp_go_build "$GOMERGE" ./bench/gomerge

missing=$(pp_psql -Atq <<'SQL'
SELECT string_agg(f, ', ') FROM (VALUES
	('profile_merge(profile) aggregate',
	 (SELECT count(*) FROM pg_proc WHERE proname = 'profile_merge' AND prokind = 'a'
		AND pronargs = 1 AND proargtypes[0] = 'profile'::regtype)),
	('flamegraph(profile, ...)', (SELECT count(*) FROM pg_proc WHERE proname = 'flamegraph'))
) v(f, n) WHERE n = 0
SQL
)
if [ -n "$missing" ]; then
	pp_say "the extension lacks: $missing"; exit 1
fi

# ---------------------------------------------------------------- 1. profiles
SOURCES=("$PP_EXAMPLES"/cpu_*.pb.gz)
[ ! -f "$CORPUS/gpprof_report_sample.cpu.pb.gz" ] || SOURCES+=("$CORPUS/gpprof_report_sample.cpu.pb.gz")
stamp=$({ cat "$BENCH_DIR/genprofiles/main.go"; sha256sum "${SOURCES[@]}"; echo "n=$N"; } | sha256sum | cut -c1-16)
if [ -f "$DIR/STAMP" ] && [ "$(cat "$DIR/STAMP")" = "$stamp" ] && [ -f "$DIR/stats.txt" ]; then
	pp_say "reusing $N profiles in $DIR"
else
	pp_say "writing $N profiles into $DIR"
	rm -rf "$DIR"
	mkdir -p "$DIR"
	t0=$(date +%s.%N)
	"$GEN" -out "$DIR" -n "$N" "${SOURCES[@]}" >"$DIR/stats.txt"
	pp_say "generated in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
	echo "$stamp" >"$DIR/STAMP"
fi
chmod a+rx "$WORK" "$DIR"  # the server reads the files as postgres
chmod -R a+r "$DIR"
STATS=$(tail -n 1 "$DIR/stats.txt")
stat() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<"$STATS"; }
GEN_BYTES=$(stat bytes)
T0_NS=$(stat time_nanos0)
LIST=$DIR/files.txt
pp_say "$STATS"

# ---------------------------------------------------------------- 2. load
pp_psql -q <<'SQL'
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench_profiles;
CREATE TABLE bench_profiles (id int, t timestamptz, p profile);
SQL
SESSIONS=2
BATCH=500
load_session() {  # load every batch whose number is $1 modulo SESSIONS
	local sql="" lo hi b=0
	for ((lo = 0; lo < N; lo += BATCH)); do
		if (( b++ % SESSIONS == $1 )); then
			hi=$(( lo + BATCH - 1 < N - 1 ? lo + BATCH - 1 : N - 1 ))
			sql+="INSERT INTO bench_profiles
SELECT i, to_timestamp($T0_NS / 1e9 + i),
	profile_from_pprof(pg_read_binary_file(format('%s/cpu_%s.pb.gz', '$DIR', lpad(i::text, 5, '0'))), 'cpu')
FROM generate_series($lo, $hi) i;
"
		fi
	done
	pp_psql -q <<<"$sql"
}
t0=$(date +%s.%N)
pids=()
for ((s = 0; s < SESSIONS; s++)); do load_session "$s" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
LOAD_S=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
LOAD_MBPS=$(awk -v b="$GEN_BYTES" -v s="$LOAD_S" 'BEGIN { printf "%.1f", b / 1e6 / s }')
# The profiles live in TOAST, so the heap is too small for the planner to
# give it parallel workers on its own; README recommends this setting for
# profile tables (the transition function's COST does the rest).
pp_psql -qc "ALTER TABLE bench_profiles SET (parallel_workers = 2)"
pp_psql -qc "VACUUM ANALYZE bench_profiles"
IFS=$'\t' read -r ROWS TABLE_MB STORED_AVG < <(pp_psql -AtqF $'\t' -c "
	SELECT count(*), round(pg_total_relation_size('bench_profiles') / 1e6, 1),
		round(avg(pg_column_size(p))) FROM bench_profiles")
[ "$ROWS" = "$N" ] || { pp_say "loaded $ROWS rows, expected $N"; exit 1; }
pp_say "loaded $ROWS profiles in $LOAD_S s ($LOAD_MBPS MB/s of gzip input, $SESSIONS sessions); table $TABLE_MB MB, avg stored $STORED_AVG bytes"

# ---------------------------------------------------------------- 3. pg_pprof
Q="SELECT count(*) FROM flamegraph((SELECT profile_merge(p) FROM bench_profiles))"
Q0="SELECT count(*) FROM flamegraph((SELECT profile_merge(p) FROM bench_profiles), max_nodes => 0)"
sql="SET client_min_messages = warning;
CREATE FUNCTION pg_temp.bench(q text, workers text, runs int,
	OUT best float8, OUT secs text, OUT nrows bigint, OUT launched int)
LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz;
	s float8;
	plan jsonb;
BEGIN
	IF workers = 'force' THEN  -- a parallel plan even for a small heap
		PERFORM set_config('min_parallel_table_scan_size', '0', true);
		PERFORM set_config('parallel_setup_cost', '0', true);
		PERFORM set_config('parallel_tuple_cost', '0', true);
	ELSIF workers IS NOT NULL THEN
		PERFORM set_config('max_parallel_workers_per_gather', workers, true);
	END IF;
	-- warm-up, and how many parallel workers the plan launched
	t0 := clock_timestamp();
	EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO plan;
	SELECT coalesce(sum(x::int), 0) INTO launched
		FROM jsonb_path_query(plan, 'strict \$.**.\"Workers Launched\"') x;
	IF extract(epoch FROM clock_timestamp() - t0) > 30 THEN
		runs := 1;  -- too slow for best-of-N
	END IF;
	FOR i IN 1..runs LOOP  -- dynamic SQL: planned with the setting above
		t0 := clock_timestamp();
		EXECUTE q INTO nrows;
		s := extract(epoch FROM clock_timestamp() - t0);
		best := least(best, s);
		secs := concat_ws(' ', secs, round(s::numeric, 3));
	END LOOP;
END \$\$;
SELECT 'default', 'def', * FROM pg_temp.bench(\$q\$$Q\$q\$, NULL, $RUNS);
SELECT 'default', '0', * FROM pg_temp.bench(\$q\$$Q\$q\$, '0', $RUNS);
SELECT 'default', 'force', * FROM pg_temp.bench(\$q\$$Q\$q\$, 'force', $RUNS);
SELECT 'all', 'def', * FROM pg_temp.bench(\$q\$$Q0\$q\$, NULL, $RUNS);
SELECT 'all', '0', * FROM pg_temp.bench(\$q\$$Q0\$q\$, '0', $RUNS);
SELECT 'total', '-', sum(value), '-', 0, 0 FROM flamegraph((SELECT profile_merge(p) FROM bench_profiles WHERE id < $GO_SMALL), max_nodes => 0) WHERE level = 0;
"
declare -A PG_BEST PG_SECS PG_ROWS PG_LAUNCHED
PG_TOTAL=
DEF_WORKERS=$(pp_psql -Atqc "SHOW max_parallel_workers_per_gather")
while IFS=$'\t' read -r q w best secs nrows launched; do
	if [ "$q" = total ]; then PG_TOTAL=$best; continue; fi
	PG_BEST[$q.$w]=$best; PG_SECS[$q.$w]=$secs; PG_ROWS[$q.$w]=$nrows; PG_LAUNCHED[$q.$w]=$launched
	pp_say "pg   nodes=$q workers=$w: best=$(printf %.3f "$best") s runs=[$secs] rows=$nrows workers_launched=$launched"
done < <(pp_psql -AtqF $'\t' <<<"$sql")

# Peak memory: the default query in a fresh backend; /proc read by us (root).
hwm_kb() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null || true; }
declare -A MEM_LEADER MEM_WORKER MEM_SHMEM MEM_BASE
mem_run() {  # $1: def or a max_parallel_workers_per_gather value
	local set="" pidf="$WORK/mem.pid" pid="" psql_pid h w wp shm base="" leader=0 worker=0
	case $1 in
	def) ;;
	force) set="SET min_parallel_table_scan_size = 0; SET parallel_setup_cost = 0; SET parallel_tuple_cost = 0;" ;;
	*) set="SET max_parallel_workers_per_gather = $1;" ;;
	esac
	rm -f "$pidf"
	pp_psql -Atq >/dev/null <<SQL &
SET client_min_messages = warning;
$set
\o $pidf
SELECT pg_backend_pid();
\o
SELECT pg_sleep(0.5);
$Q;
SELECT pg_sleep(2);
SQL
	psql_pid=$!
	while kill -0 "$psql_pid" 2>/dev/null; do
		if [ -z "$pid" ] && [ -s "$pidf" ]; then pid=$(tr -dc 0-9 <"$pidf"); fi
		if [ -n "$pid" ]; then
			h=$(hwm_kb "$pid")
			if [ -n "$h" ]; then
				[ -n "$base" ] || base=$h
				if (( h > leader )); then leader=$h; fi
			fi
			shm=$(sed -n 's/^RssShmem:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status" 2>/dev/null || true)
			if [ -n "$shm" ]; then MEM_SHMEM[$1]=$shm; fi
			for wp in $(pgrep -f "parallel worker for PID $pid( |\$)" || true); do
				w=$(hwm_kb "$wp")
				if [ -n "$w" ] && (( w > worker )); then worker=$w; fi
			done
		fi
		sleep 0.05
	done
	wait "$psql_pid" || { pp_say "memory run ($1) failed"; exit 1; }
	[ "$leader" -gt 0 ] || { pp_say "could not read the backend's VmHWM"; exit 1; }
	MEM_LEADER[$1]=$(( leader / 1024 )); MEM_WORKER[$1]=$(( worker / 1024 ))
	MEM_BASE[$1]=$(( base / 1024 )); MEM_SHMEM[$1]=$(( ${MEM_SHMEM[$1]:-0} / 1024 ))
	pp_say "mem  workers=$1: backend VmHWM ${MEM_LEADER[$1]} MB (fresh backend ${MEM_BASE[$1]} MB, shared memory at the end ${MEM_SHMEM[$1]} MB), parallel worker max VmHWM ${MEM_WORKER[$1]} MB"
}
mem_run def
mem_run 0
mem_run force

# ---------------------------------------------------------------- 4. Go
declare -A GO
go_run() {  # $1: key, then gomerge arguments
	local key=$1; shift
	GO[$key]=$("$GOMERGE" -list "$LIST" "$@")
	pp_say "Go   $key: ${GO[$key]}"
}
gof() { sed -n "s/.* $2=\([0-9.]*\).*/\1/p" <<<" ${GO[$1]}"; }
go_run all_small -n "$GO_SMALL" -chunk 0
go_run chunk_small -n "$GO_SMALL" -chunk 64
if [ "${BENCH_GO_FULL:-0}" = 1 ] || [ "$N" = "$GO_SMALL" ]; then
	go_run chunk_full -n "$N" -chunk 64; CHUNK_FULL_NOTE="measured"
else
	f=$(awk -v n="$N" -v s="$GO_SMALL" 'BEGIN { print n / s }')
	GO[chunk_full]=$(awk -v f="$f" -v p="$(gof chunk_small parse_s)" -v m="$(gof chunk_small merge_s)" \
		-v t="$(gof chunk_small total_s)" -v r="$(gof chunk_small maxrss_mb)" -v n="$N" \
		'BEGIN { printf "files=%d parse_s=%.3f merge_s=%.3f total_s=%.3f maxrss_mb=%.0f", n, p*f, m*f, t*f, r }')
	CHUNK_FULL_NOTE="extrapolated x$f from $GO_SMALL files (a lower bound: each chunk is merged into a growing total; BENCH_GO_FULL=1 runs it)"
	pp_say "Go   chunk_full: not run, $CHUNK_FULL_NOTE"
fi
ALL_EST_MB=$(awk -v m="$(gof all_small maxrss_mb)" -v n="$N" -v s="$GO_SMALL" 'BEGIN { printf "%.0f", m * n / s }')
if [ "$N" = "$GO_SMALL" ]; then
	GO[all_full]=${GO[all_small]}; ALL_FULL_NOTE="measured"
elif (( ALL_EST_MB <= GO_MAX_MB )); then
	go_run all_full -n "$N" -chunk 0; ALL_FULL_NOTE="measured"
else
	f=$(awk -v n="$N" -v s="$GO_SMALL" 'BEGIN { print n / s }')
	GO[all_full]=$(awk -v f="$f" -v p="$(gof all_small parse_s)" -v m="$(gof all_small merge_s)" \
		-v t="$(gof all_small total_s)" -v r="$(gof all_small maxrss_mb)" -v n="$N" \
		'BEGIN { printf "files=%d parse_s=%.3f merge_s=%.3f total_s=%.3f maxrss_mb=%.0f", n, p*f, m*f, t*f, r*f }')
	ALL_FULL_NOTE="extrapolated x$f from $GO_SMALL files (est. peak ${ALL_EST_MB} MB > ${GO_MAX_MB} MB)"
	pp_say "Go   all_full: not run, $ALL_FULL_NOTE"
fi
GO_TOTAL=$(gof all_small total)

# ---------------------------------------------------------------- 5. report
f3() { awk -v x="$1" 'BEGIN { printf "%.3f", x }'; }
if [ -n "$PG_TOTAL" ] && [ "$PG_TOTAL" = "$GO_TOTAL" ]; then
	CHECK="same total cpu over the first $GO_SMALL profiles ($GO_TOTAL ns) in pg_pprof and Go"
else
	CHECK="TOTALS DIFFER over the first $GO_SMALL profiles: pg_pprof ${PG_TOTAL:-?} vs Go $GO_TOTAL"
fi
echo
echo "Merge + render $N Go CPU profiles ($(nproc) cores); the profiles, per profile on average:"
echo "  $(stat avg_bytes) bytes gzip, $(stat avg_samples) samples, $(stat avg_locations) locations, $(stat avg_functions) functions (typical: ~42 KB, ~1,700 samples, ~1,600 locations)"
echo "load: $N files, $GEN_BYTES bytes in $LOAD_S s = $LOAD_MBPS MB/s ($SESSIONS sessions, profile_from_pprof(..., 'cpu')); table $TABLE_MB MB, avg stored $STORED_AVG bytes"
echo "check: $CHECK"
echo
fmt='%-8s %-46s %9s %10s %10s  %s\n'
printf "$fmt" side what profiles "time s" "peak MB" notes
printf '%s\n' "----------------------------------------------------------------------------------------------------------------------------"
for k in default.def default.0 default.force all.def all.0; do
	q=${k%%.*} w=${k#*.}
	label="flamegraph(profile_merge(p)), max_nodes $([ "$q" = default ] && echo 8192 || echo 0)"
	mem="-"
	[ "$q" != default ] || mem=${MEM_LEADER[$w]}
	case $w in
	def) note="workers default ($DEF_WORKERS)" ;;
	0) note="workers 0" ;;
	force) note="forced parallel plan" ;;
	esac
	note+=", launched ${PG_LAUNCHED[$k]}; ${PG_ROWS[$k]} rows; runs ${PG_SECS[$k]}"
	if [ "$q" = default ] && [ "${MEM_WORKER[$w]}" -gt 0 ]; then note+="; a worker's peak ${MEM_WORKER[$w]} MB"; fi
	printf "$fmt" pg_pprof "$label" "$N" "$(f3 "${PG_BEST[$k]}")" "$mem" "$note"
done
gorow() {  # $1: key, $2: label, $3: note
	printf "$fmt" Go "$2" "$(gof "$1" files)" "$(f3 "$(gof "$1" total_s)")" "$(gof "$1" maxrss_mb)" \
		"parse $(f3 "$(gof "$1" parse_s)") + merge $(f3 "$(gof "$1" merge_s)")$3"
}
gorow all_small "Parse + one Merge (pprofref bench -merge)" ""
gorow chunk_small "chunked Parse + Merge (go tool pprof, 64)" ""
gorow chunk_full "chunked Parse + Merge (go tool pprof, 64)" "; $CHUNK_FULL_NOTE"
gorow all_full "Parse + one Merge (pprofref bench -merge)" "; $ALL_FULL_NOTE"
echo

PG_X=${PG_BEST[default.def]}
GO_Y=$(gof chunk_full total_s); GO_HOW="chunked, as go tool pprof"
if awk -v a="$(gof all_full total_s)" -v b="$GO_Y" 'BEGIN { exit !(a < b) }'; then
	GO_Y=$(gof all_full total_s); GO_HOW="one Merge, $ALL_FULL_NOTE"
fi
Z=$(awk -v y="$GO_Y" -v x="$PG_X" 'BEGIN { printf "%.1f", y / x }')
MEM=0
for w in def 0 force; do
	if (( MEM_LEADER[$w] > MEM )); then MEM=${MEM_LEADER[$w]}; fi
	if (( MEM_WORKER[$w] > MEM )); then MEM=${MEM_WORKER[$w]}; fi
done
pass() { awk "BEGIN { exit !($1) }" && echo PASS || echo MISS; }
echo "merge+render $N profiles: pg_pprof $(f3 "$PG_X") s vs Go parse+merge $(f3 "$GO_Y") s = ${Z}× faster (Go: $GO_HOW)"
echo "peak backend memory: $MEM MB (VmHWM of the largest backend process over the 3 parallel settings, shared buffers included: ${MEM_SHMEM[def]} MB of shared memory mapped at the end)"
echo "targets: ≥50× faster: $(pass "$Z >= 50") (${Z}×); <1 s: $(pass "$PG_X < 1") ($(f3 "$PG_X") s); <200 MB: $(pass "$MEM < 200") ($MEM MB)"
