#!/usr/bin/env bash
# test/export.sh: interchange against the real tools.
#
# For every sample type of every example and corpus file, and for the merge
# of ../shared/corpus/parca_many/ per sample type, profile_to_pprof() must
# give a file that
#   - `go tool pprof -raw` reads with nothing on stderr, whose stacks
#     (test/rawstacks) equal the profile's own profile_stacks exactly, and
#     whose header has the same sample type, period type and period;
#   - the pprof library (test/pprofref stacks) reads to the same stacks;
#   - is byte-for-byte the same when exported twice.
# Folded stacks must round-trip exactly: stacks(from_folded(to_folded(p)))
# = stacks(p), and to_folded(from_folded(f)) = f.
#
# Expects the private cluster to be running (scripts/test.sh starts it);
# prints `N passed, M failed`.
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
pp_go_build "$PP_ROOT/test/bin/pprofref" ./test/pprofref || exit 1
pp_go_build "$PP_ROOT/test/bin/rawstacks" ./test/rawstacks || exit 1
PPROFREF=$PP_ROOT/test/bin/pprofref
RAWSTACKS=$PP_ROOT/test/bin/rawstacks
export PGOPTIONS='-c client_min_messages=warning'
pp_stage_inputs
work=$(pp_tmpdir)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# Record one named check: ok when the command succeeds.
check() {
	local name=$1; shift
	if "$@" > "$work/check.out" 2>&1; then passed=$((passed + 1))
	else failed=$((failed + 1)); echo "FAIL $name"; head -8 "$work/check.out"; fi
}

# SQL that yields the profile of case $1 (a file path or "merge:DIR") for type index $2.
profile_sql() {
	if [[ $1 == merge:* ]]; then
		local dir=${1#merge:} list
		list=$(find "$dir" -name '*.pb.gz' | LC_ALL=C sort | sed "s/.*/'&'/" | paste -sd,)
		echo "(SELECT profile_merge(profile_from_pprof(pg_read_binary_file(f), '$2')) FROM unnest(ARRAY[$list]) f)"
	else
		echo "profile_from_pprof(pg_read_binary_file('$1'), '$2')"
	fi
}

# The stacks of a profile in pprofref's format.
sql_stacks() {
	pp_psql -At -c "SELECT CASE WHEN cardinality(stack) = 0 THEN value::text
		ELSE value || E'\t' || array_to_string(stack, E'\t') END
		FROM profile_stacks($1)" | LC_ALL=C sort
}

# Write the exported pprof of a profile to a file.
export_to() {
	pp_psql -At -c "SELECT encode(profile_to_pprof($1), 'base64')" | base64 -d > "$2"
}

# go tool pprof -raw reads the file silently and gives the expected stacks and header.
check_raw() {
	local file=$1 expected=$2 type=$3 info=$4
	go tool pprof -raw "$file" > "$work/raw" 2> "$work/raw.err" || { cat "$work/raw.err"; return 1; }
	[ ! -s "$work/raw.err" ] || { echo "stderr:"; cat "$work/raw.err"; return 1; }
	"$RAWSTACKS" < "$work/raw" > "$work/raw.stacks" || return 1
	grep -v '^#' "$work/raw.stacks" | diff "$expected" - || return 1
	grep -qx "#sample_type $type" "$work/raw.stacks" || { echo "sample type $type missing"; return 1; }
	grep -qx "#Period: $(jq_get "$info" period)" "$work/raw.stacks" || { echo "period differs"; return 1; }
	local pt; pt="$(jq_get "$info" period_type) $(jq_get "$info" period_unit)"
	[ "$pt" = " " ] || grep -qx "#PeriodType: $pt" "$work/raw.stacks" || { echo "period type differs"; return 1; }
}

# One field of a JSON object, read by PostgreSQL (no jq needed).
jq_get() { pp_psql -At -c "SELECT '$1'::jsonb->>'$2'"; }

cases=()
for f in "$PP_EXAMPLES"/*.pb.gz; do cases+=("$f"); done
if [ -d "$PP_CORPUS" ]; then
	while IFS= read -r f; do cases+=("$f"); done < <(find "$PP_CORPUS" -type f ! -name '*.md' | LC_ALL=C sort)
	cases+=("merge:$PP_CORPUS/parca_many")
else
	echo "SKIP corpus part: $PP_CORPUS_SRC does not exist (only examples/ are checked)"
fi

for c in "${cases[@]}"; do
	first=${c#merge:}
	[[ $c == merge:* ]] && first=$(find "${c#merge:}" -name '*.pb.gz' | LC_ALL=C sort | head -1)
	"$PPROFREF" types "$first" > "$work/types" 2>/dev/null || continue	# rejected files: see oracle.sh
	ntypes=$(grep -vc '^default' "$work/types")
	name=${c/"$PP_INPUT/"/}
	for ((i = 0; i < ntypes; i++)); do
		type=$(sed -n "$((i + 1))p" "$work/types" | tr '\t' '/')
		p=$(profile_sql "$c" "$i")
		sql_stacks "$p" > "$work/expected"
		info=$(pp_psql -At -c "SELECT profile_info($p)")
		export_to "$p" "$work/out.pb.gz"
		export_to "$p" "$work/again.pb.gz"
		check "$name [$type] deterministic export" cmp "$work/out.pb.gz" "$work/again.pb.gz"
		check "$name [$type] go tool pprof -raw" check_raw "$work/out.pb.gz" "$work/expected" "$type" "$info"
		check "$name [$type] pprof library" \
			bash -c "'$PPROFREF' stacks '$work/out.pb.gz' | LC_ALL=C sort | diff '$work/expected' -"
		# Folded round trips (names with ';' or newlines, negative values and
		# empty stacks have no exact folded form: skip those profiles).
		if ! grep -qP '^-|;|^[0-9-]+$' "$work/expected"; then
			check "$name [$type] folded round trip" bash -c "diff '$work/expected' <(source '$PP_ROOT/scripts/lib.sh'; pp_psql -At -c \"SELECT CASE WHEN cardinality(stack) = 0 THEN value::text ELSE value || E'\\t' || array_to_string(stack, E'\\t') END FROM profile_stacks(profile_from_folded(profile_to_folded($p)))\" | LC_ALL=C sort)"
			check "$name [$type] folded text is a fixed point" bash -c "source '$PP_ROOT/scripts/lib.sh'; [ \"\$(pp_psql -At -c \"SELECT profile_to_folded(profile_from_folded(profile_to_folded($p))) = profile_to_folded($p)\")\" = t ]"
		fi
	done
	echo "ok   $name: $ntypes sample type(s)"
done
echo "export: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
