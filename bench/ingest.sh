#!/usr/bin/env bash
# bench/ingest.sh: ingest throughput of pg_pprof vs Go's profile.Parse.
#
# For each file set (all corpus files, gpprof_large alone, parca_many/*, the
# examples) it measures, in one run and on the same bytes:
#   Go     pprofref bench: profile.Parse (gunzip + protobuf decode + checks)
#          of the files held in memory, R rounds;
#   pg     the files loaded once as bytea into a temp table, then, timed
#          server-side with clock_timestamp() inside one PL/pgSQL call,
#          R rounds of  SELECT sum(profile_total(profile_from_pprof(data)))
#          (the default sample type only) and R rounds of
#          SELECT sum(profile_total(s.profile)) FROM t, pprof_split(t.data) s
#          (every sample type).
# Throughput is MB/s (1 MB = 1e6 bytes) of pprof INPUT bytes, i.e. the file
# bytes as stored on disk (gzip-compressed). R is chosen per measurement so
# that it takes at least BENCH_SECONDS (default 2) seconds.
#
# Usage: bench/ingest.sh            (from any directory; root, Debian 12)
#        BENCH_SECONDS=5 bench/ingest.sh
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

TARGET=${BENCH_SECONDS:-2}
CORPUS=$PP_CORPUS  # staged by pp_stage_inputs; PP_CORPUS_SRC picks the source
PPROFREF=$BENCH_DIR/bin/pprofref

pp_install_deps
pp_build
pp_start_cluster
pp_stage_inputs
pp_psql -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_pprof"
pp_go_build "$PPROFREF" ./test/pprofref

# ---------------------------------------------------------------- file sets
[ -d "$CORPUS" ] || { pp_say "corpus not found: $CORPUS"; exit 1; }
mapfile -t ALL < <(find "$CORPUS" -type f ! -name '*.md' | LC_ALL=C sort)
MANY=(); [ ! -d "$CORPUS/parca_many" ] || mapfile -t MANY < <(find "$CORPUS/parca_many" -type f | LC_ALL=C sort)
mapfile -t EXAMPLES < <(find "$PP_EXAMPLES" -maxdepth 1 -type f -name '*.pb.gz' | LC_ALL=C sort)
LARGE=(); [ ! -f "$CORPUS/gpprof_large.cpu.pb.gz" ] || LARGE=("$CORPUS/gpprof_large.cpu.pb.gz")

# Check every file once on both sides; a file that fails on either side is
# reported and left out of every set (so both sides always see the same bytes).
declare -A BAD=()
sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }
check_sql="SET client_min_messages = warning;"
for f in "${ALL[@]}" "${EXAMPLES[@]}"; do
	if ! err=$("$PPROFREF" bench -n 1 "$f" 2>&1 >/dev/null); then
		pp_say "Go profile.Parse fails on $f: $err"; BAD[$f]=1
	fi
	check_sql+="
DO \$\$ BEGIN
	PERFORM profile_total(profile_from_pprof(pg_read_binary_file($(sql_quote "$f"))));
	PERFORM count(*) FROM pprof_split(pg_read_binary_file($(sql_quote "$f")));
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'BAD:: % :: %', $(sql_quote "$f"), SQLERRM;
END \$\$;"
done
while IFS= read -r line; do
	case $line in
	*BAD::*)
		f=${line#*BAD:: }; msg=${f#* :: }; f=${f%% :: *}
		pp_say "pg_pprof fails on $f: $msg"; BAD[$f]=1 ;;
	esac
done < <(pp_psql -Atq <<<"$check_sql" 2>&1)

keep() { local f; for f in "$@"; do [ -n "${BAD[$f]:-}" ] || printf '%s\n' "$f"; done; }
mapfile -t ALL < <(keep "${ALL[@]}")
mapfile -t MANY < <(keep "${MANY[@]}")
mapfile -t EXAMPLES < <(keep "${EXAMPLES[@]}")
mapfile -t LARGE < <(keep "${LARGE[@]}")

SETS=(corpus_all large many examples)
declare -A LABEL=([corpus_all]="all corpus files" [large]="gpprof_large.cpu.pb.gz"
	[many]="parca_many/* (10 files)" [examples]="examples/*.pb.gz")
set_files() { _set_files "$1" | sed '/^$/d'; }
_set_files() {
	case $1 in
	corpus_all) printf '%s\n' "${ALL[@]}" ;;
	large) printf '%s\n' "${LARGE[@]}" ;;
	many) printf '%s\n' "${MANY[@]}" ;;
	examples) printf '%s\n' "${EXAMPLES[@]}" ;;
	esac
}

# ---------------------------------------------------------------- Go side
# Grow the round count until one run of pprofref bench lasts >= TARGET s.
declare -A GO_MBPS GO_ROUNDS GO_SECS GO_BYTES NFILES
for s in "${SETS[@]}"; do
	mapfile -t files < <(set_files "$s")
	[ ${#files[@]} -gt 0 ] || { pp_say "set $s is empty"; continue; }
	NFILES[$s]=${#files[@]}
	n=1
	while :; do
		out=$("$PPROFREF" bench -n "$n" "${files[@]}")
		secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$out")
		if awk -v s="$secs" -v t="$TARGET" 'BEGIN { exit !(s >= t) }'; then break; fi
		n=$(awk -v n="$n" -v s="$secs" -v t="$TARGET" 'BEGIN {
			m = (s > 0.0005) ? int(n * t * 1.1 / s) + 1 : n * 100;
			if (m > n * 100) m = n * 100; if (m <= n) m = n + 1; print m }')
	done
	GO_BYTES[$s]=$(sed -n 's/.* bytes=\([0-9]*\).*/\1/p' <<<"$out")
	GO_ROUNDS[$s]=$(sed -n 's/.* rounds=\([0-9]*\).*/\1/p' <<<"$out")
	GO_SECS[$s]=$secs
	GO_MBPS[$s]=$(sed -n 's/.* MBps=\([0-9.]*\).*/\1/p' <<<"$out")
	pp_say "Go   $s: $out"
done

# ---------------------------------------------------------------- pg side
# One session: load every set's files into a temp table once, then time
# each (set, function) server-side in a single PL/pgSQL call.
sql="SET client_min_messages = warning;
CREATE TEMP TABLE t (grp text, path text, data bytea);
ALTER TABLE t ALTER COLUMN data SET STORAGE EXTERNAL;  -- gzip bytes: skip pglz
"
for s in "${SETS[@]}"; do
	while IFS= read -r f; do
		[ -n "$f" ] || continue
		sql+="INSERT INTO t VALUES ('$s', $(sql_quote "$f"), pg_read_binary_file($(sql_quote "$f")));
"
	done < <(set_files "$s")
done
sql+="ANALYZE t;
CREATE FUNCTION pg_temp.bench(g text, kind text, target float8,
	OUT files bigint, OUT bytes bigint, OUT rounds int, OUT secs float8, OUT profiles bigint)
LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz;
	v numeric;
BEGIN
	SELECT count(*), sum(octet_length(data)) INTO files, bytes FROM t WHERE grp = g;
	rounds := 1;
	LOOP  -- the first (short) runs double as warm-up
		t0 := clock_timestamp();
		FOR i IN 1..rounds LOOP
			IF kind = 'from_pprof' THEN
				SELECT sum(profile_total(profile_from_pprof(data))), count(*)
					INTO v, profiles FROM t WHERE grp = g;
			ELSE
				SELECT sum(profile_total(s.profile)), count(*)
					INTO v, profiles FROM t, pprof_split(t.data) s WHERE t.grp = g;
			END IF;
		END LOOP;
		secs := extract(epoch FROM clock_timestamp() - t0);
		EXIT WHEN secs >= target;
		rounds := least(rounds * 100, greatest(rounds + 1,
			ceil(rounds * target * 1.1 / greatest(secs, 0.0005))::int));
	END LOOP;
END \$\$;
"
for s in "${SETS[@]}"; do
	[ -n "${NFILES[$s]:-}" ] || continue
	for k in from_pprof split; do
		sql+="SELECT '$s', '$k', * FROM pg_temp.bench('$s', '$k', $TARGET);
"
	done
done
declare -A PG_MBPS PG_ROUNDS PG_SECS PG_PROFILES
while IFS=$'\t' read -r s k files bytes rounds secs profiles; do
	[ "$bytes" = "${GO_BYTES[$s]}" ] || { pp_say "byte count differs for $s: pg $bytes, Go ${GO_BYTES[$s]}"; exit 1; }
	PG_ROUNDS[$s.$k]=$rounds
	PG_SECS[$s.$k]=$(awk -v x="$secs" 'BEGIN { printf "%.3f", x }')
	PG_MBPS[$s.$k]=$(awk -v b="$bytes" -v r="$rounds" -v x="$secs" 'BEGIN { printf "%.2f", b * r / 1e6 / x }')
	PG_PROFILES[$s.$k]=$profiles
	pp_say "pg   $s $k: files=$files bytes=$bytes rounds=$rounds seconds=${PG_SECS[$s.$k]} MBps=${PG_MBPS[$s.$k]} profiles/round=$profiles"
done < <(pp_psql -AtqF $'\t' <<<"$sql")

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "Ingest throughput, MB/s of pprof input bytes (gzip files as on disk); $(nproc) cores, ${TARGET}s+ per cell"
echo "Go = profile.Parse (pprofref bench); from_pprof = profile_from_pprof(data) (default sample type);"
echo "split = pprof_split(data) (all sample types); ratio = pg_pprof / Go; (rounds x seconds)"
echo
fmt='%-24s %5s %9s | %-22s | %-22s %6s | %-22s %6s\n'
printf "$fmt" "set" "files" "bytes" "Go profile.Parse" "pg from_pprof" "ratio" "pg pprof_split" "ratio"
printf '%s\n' "-------------------------------------------------------------------------------------------------------------------------"
for s in "${SETS[@]}"; do
	[ -n "${NFILES[$s]:-}" ] || continue
	cell() { printf '%8s (%sx%ss)' "$1" "$2" "$3"; }
	printf "$fmt" "${LABEL[$s]}" "${NFILES[$s]}" "${GO_BYTES[$s]}" \
		"$(cell "${GO_MBPS[$s]}" "${GO_ROUNDS[$s]}" "${GO_SECS[$s]}")" \
		"$(cell "${PG_MBPS[$s.from_pprof]}" "${PG_ROUNDS[$s.from_pprof]}" "${PG_SECS[$s.from_pprof]}")" \
		"$(ratio "${PG_MBPS[$s.from_pprof]}" "${GO_MBPS[$s]}")x" \
		"$(cell "${PG_MBPS[$s.split]}" "${PG_ROUNDS[$s.split]}" "${PG_SECS[$s.split]}")" \
		"$(ratio "${PG_MBPS[$s.split]}" "${GO_MBPS[$s]}")x"
done
[ ${#BAD[@]} -eq 0 ] || echo "left out (fail on one side): ${!BAD[*]}"
echo
verdict() {
	awk -v a="$1" -v b="$2" 'BEGIN { r = a / b;
		if (r >= 1) printf "%.2f× faster", r; else printf "%.2f× as fast, i.e. %.2f× slower", r, 1 / r }'
}
g=${GO_MBPS[corpus_all]}
echo "ingest (all corpus, profile_from_pprof, default sample type): pg_pprof ${PG_MBPS[corpus_all.from_pprof]} MB/s vs Go profile.Parse $g MB/s ($(verdict "${PG_MBPS[corpus_all.from_pprof]}" "$g"))"
echo "ingest: pg_pprof ${PG_MBPS[corpus_all.split]} MB/s vs Go profile.Parse $g MB/s ($(verdict "${PG_MBPS[corpus_all.split]}" "$g"))"
