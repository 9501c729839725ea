#!/usr/bin/env bash
# bench/size.sh: storage size of pprof files as pg_pprof `profile` values.
#
# For each corpus file and each example it compares the gzip pprof file
# (its size on disk; for a file stored raw, its `gzip -9` size, computed
# here) with the stored size of the file as `profile` values summed over ALL
# its sample types: sum(profile_info(profile)->>'stored_bytes') over
# pprof_split(data) (stored_bytes includes the 4-byte varlena header).
# The uncompressed protobuf size is shown for context.
#
# Usage: bench/size.sh              (from any directory; root, Debian 12)
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$BENCH_DIR/../scripts/lib.sh"

CORPUS=$PP_CORPUS  # staged by pp_stage_inputs; PP_CORPUS_SRC picks the source

pp_install_deps
pp_build
pp_start_cluster
pp_stage_inputs
pp_psql -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_pprof"

[ -d "$CORPUS" ] || { pp_say "corpus not found: $CORPUS"; exit 1; }
mapfile -t FILES < <({ find "$CORPUS" -type f ! -name '*.md' | LC_ALL=C sort
	find "$PP_EXAMPLES" -maxdepth 1 -type f -name '*.pb.gz' | LC_ALL=C sort; })

sql_quote() { printf "'%s'" "${1//\'/\'\'}"; }
is_gzip() { [ "$(head -c2 "$1" | od -An -tx1 | tr -d ' \n')" = 1f8b ]; }

# Stored sizes, one server call; a file that errors gets its message instead.
list=""
for f in "${FILES[@]}"; do list+="${list:+,}$(sql_quote "$f")"; done
declare -A NTYPES STORED ERR
while IFS=$'\x1f' read -r f n stored err; do
	NTYPES[$f]=$n; STORED[$f]=$stored; ERR[$f]=$err
done < <(pp_psql -AtqF $'\x1f' <<EOF
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.sz(path text, OUT n bigint, OUT stored bigint, OUT err text)
LANGUAGE plpgsql AS \$\$
BEGIN
	SELECT count(*), sum((profile_info(s.profile)->>'stored_bytes')::bigint)
		INTO n, stored FROM pprof_split(pg_read_binary_file(path)) s;
EXCEPTION WHEN OTHERS THEN
	err := translate(SQLERRM, E'\t\n', '  ');
END \$\$;
SELECT u.path, s.n, s.stored, s.err
FROM unnest(ARRAY[$list]::text[]) WITH ORDINALITY u(path, o), pg_temp.sz(u.path) s
ORDER BY u.o;
EOF
)

fmt='%-52s %5s %10s %10s %10s %8s %8s\n'
echo "Stored size of pprof files as pg_pprof profile values (all sample types, via pprof_split)"
echo "gzip = file size on disk (* = file is raw protobuf; its gzip -9 size is shown); raw = uncompressed protobuf"
echo
printf "$fmt" "file" "types" "raw" "gzip" "stored" "st/gzip" "st/raw"
printf '%s\n' "------------------------------------------------------------------------------------------------------------"
tot_raw=0 tot_gz=0 tot_st=0 nfiles=0 failed=() ratios=()
for f in "${FILES[@]}"; do
	name=${f#"$CORPUS"/}; [ "$name" = "$f" ] || name=corpus/$name
	name=${name#"$PP_ROOT"/}
	if is_gzip "$f"; then
		gz=$(stat -c %s "$f"); raw=$(gzip -dc "$f" | wc -c); gzcol=$gz
	else
		raw=$(stat -c %s "$f"); gz=$(gzip -9c "$f" | wc -c); gzcol="$gz*"
	fi
	if [ -n "${ERR[$f]:-}" ] || [ -z "${STORED[$f]:-}" ]; then
		printf "$fmt" "$name" "-" "$raw" "$gzcol" "ERROR" "" ""
		echo "    error: ${ERR[$f]:-no result}"
		failed+=("$name"); continue
	fi
	st=${STORED[$f]}
	printf "$fmt" "$name" "${NTYPES[$f]}" "$raw" "$gzcol" "$st" \
		"$(awk -v a="$st" -v b="$gz" 'BEGIN { printf "%.3f", a / b }')" \
		"$(awk -v a="$st" -v b="$raw" 'BEGIN { printf "%.3f", a / b }')"
	ratios+=("$(awk -v a="$st" -v b="$gz" 'BEGIN { printf "%.6f", a / b }')")
	tot_raw=$((tot_raw + raw)) tot_gz=$((tot_gz + gz)) tot_st=$((tot_st + st)) nfiles=$((nfiles + 1))
done
printf '%s\n' "------------------------------------------------------------------------------------------------------------"
printf "$fmt" "TOTAL ($nfiles files)" "" "$tot_raw" "$tot_gz" "$tot_st" \
	"$(awk -v a="$tot_st" -v b="$tot_gz" 'BEGIN { printf "%.3f", a / b }')" \
	"$(awk -v a="$tot_st" -v b="$tot_raw" 'BEGIN { printf "%.3f", a / b }')"
[ ${#failed[@]} -eq 0 ] || echo "failed (left out of the totals): ${failed[*]}"
echo
median=$(printf '%s\n' "${ratios[@]}" | sort -g | awk '{ v[NR] = $1 } END {
	printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
awk -v n="$nfiles" -v g="$tot_gz" -v s="$tot_st" -v m="$median" 'BEGIN {
	r = s / g
	printf "size: %d files, gzip pprof %d bytes vs pg_pprof profile (all sample types) %d bytes = %.3f× of gzip (%s; median per file %.3f×)\n",
		n, g, s, r, (r <= 1) ? sprintf("%.1f%% smaller", (1 - r) * 100) : sprintf("%.1f%% larger", (r - 1) * 100), m }'
