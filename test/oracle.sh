#!/usr/bin/env bash
# test/oracle.sh: compare pg_pprof with Google's pprof library (test/pprofref)
# on every sample type of every profile in examples/ and ../shared/corpus.
#
# Hand-made files from test/hostile that pprof accepts are checked too.
# For each file and sample type it checks, exactly:
#   - the total, and every function's flat and cum computed in SQL from
#     profile_stacks(), against `pprofref flat`;
#   - every distinct stack and its value, against `pprofref stacks`;
#   - that each pprof_split row is byte-identical to profile_from_pprof.
# A file the library rejects must raise a clean ERROR in SQL too.
#
# Expects the private cluster to be running with the extension built
# (scripts/test.sh does that); prints `N passed, M failed`.
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
PPROFREF=$PP_ROOT/test/bin/pprofref
pp_go_build "$PPROFREF" ./test/pprofref || exit 1
pp_psql -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_pprof"

pp_stage_inputs
work=$(pp_tmpdir)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

files=("$PP_EXAMPLES"/*.pb.gz)
# Hand-made files that pprof accepts (test/hostile): invalid UTF-8 and NUL in
# names, negative values, mapping ids 0 and unknown, and drop_frames/keep_frames
# (with inlined frames, a matching root frame and an invalid pattern).
pp_go_build "$PP_ROOT/test/bin/hostile" ./test/hostile || exit 1
mkdir -p "$work/made"
"$PP_ROOT/test/bin/hostile" "$work/made" >/dev/null || exit 1
chmod -R a+rX "$work/made"
while IFS=$'\t' read -r f expect; do
	[ "$expect" = ok ] && files+=("$work/made/$f")
done < "$work/made/expected.tsv"
if [ -d "$PP_CORPUS" ]; then
	while IFS= read -r f; do files+=("$f"); done < <(find "$PP_CORPUS" -type f ! -name '*.md' | LC_ALL=C sort)
else
	echo "SKIP corpus part: $PP_CORPUS_SRC does not exist (only examples/ are checked)"
fi

# SQL literal for a path.
sql_path() { printf "'%s'" "${1//\'/\'\'}"; }

# Flat/cum lines for one sample type, in pprofref's format, computed in SQL.
sql_flat() {
	pp_psql -At <<SQL
WITH p AS (SELECT profile_from_pprof(pg_read_binary_file($(sql_path "$1")), '$2') AS p),
s AS (SELECT stack, value FROM profile_stacks((SELECT p FROM p))),
flat AS (SELECT stack[cardinality(stack)] AS f, sum(value) AS v
         FROM s WHERE cardinality(stack) > 0 GROUP BY 1),
cum AS (SELECT u.f, sum(s.value) AS v
        FROM s, LATERAL (SELECT DISTINCT unnest(s.stack) AS f) u GROUP BY u.f)
SELECT 'TOTAL' || E'\t' || profile_total(p) FROM p
UNION ALL
SELECT 'F' || E'\t' || c.f || E'\t' || coalesce(fl.v, 0) || E'\t' || c.v
FROM cum c LEFT JOIN flat fl USING (f);
SQL
}

# Stack lines for one sample type, in pprofref's format, computed in SQL.
sql_stacks() {
	pp_psql -At <<SQL
SELECT CASE WHEN cardinality(stack) = 0 THEN value::text
            ELSE value || E'\t' || array_to_string(stack, E'\t') END
FROM profile_stacks(profile_from_pprof(pg_read_binary_file($(sql_path "$1")), '$2'));
SQL
}

# Drop functions whose flat and cum are both 0 (pprof keeps samples whose
# chosen value is 0 when another value is not; they contribute nothing).
drop_zero_rows() { grep -v -P '^F\t.*\t0\t0$' || true; }

# Record one check's result.
check() {
	local name=$1 expected=$2 actual=$3
	if diff -q "$expected" "$actual" >/dev/null; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL $name"
		diff "$expected" "$actual" | head -10
	fi
}

for f in "${files[@]}"; do
	rel=${f#"$PP_INPUT/"}; rel=${rel#"$work/"}
	if ! "$PPROFREF" types "$f" > "$work/types" 2> "$work/err"; then
		# pprof rejects it: so must we, with an ERROR and not a crash.
		if pp_psql -qc "SELECT profile_from_pprof(pg_read_binary_file($(sql_path "$f")))" >/dev/null 2>"$work/sqlerr" \
			|| ! grep -q '^ERROR' "$work/sqlerr"; then
			failed=$((failed + 1)); echo "FAIL $rel: pprof rejects it ($(cat "$work/err")) but pg_pprof did not"
		else
			passed=$((passed + 1)); echo "ok   $rel rejected by both"
		fi
		continue
	fi
	ntypes=$(grep -vc '^default' "$work/types")
	for ((i = 0; i < ntypes; i++)); do
		type=$(sed -n "$((i + 1))p" "$work/types" | tr '\t' '/')
		"$PPROFREF" flat -sample_index="$i" "$f" | drop_zero_rows | LC_ALL=C sort > "$work/exp_flat"
		sql_flat "$f" "$i" 2>&1 | drop_zero_rows | LC_ALL=C sort > "$work/act_flat"
		check "$rel [$type] flat/cum" "$work/exp_flat" "$work/act_flat"
		"$PPROFREF" stacks -sample_index="$i" "$f" | LC_ALL=C sort > "$work/exp_stacks"
		sql_stacks "$f" "$i" 2>&1 | LC_ALL=C sort > "$work/act_stacks"
		check "$rel [$type] stacks" "$work/exp_stacks" "$work/act_stacks"
	done
	# pprof_split builds one tree for all types: each row must be the very
	# value profile_from_pprof builds for that type alone.
	same=$(pp_psql -At -c "SELECT bool_and(profile::text = profile_from_pprof(pg_read_binary_file($(sql_path "$f")), sample_type)::text) FROM pprof_split(pg_read_binary_file($(sql_path "$f")))")
	if [ "$same" = t ] || { [ "$same" = "" ] && [ "$ntypes" = 0 ]; }; then passed=$((passed + 1))
	else failed=$((failed + 1)); echo "FAIL $rel: a pprof_split row differs from profile_from_pprof"; fi
	echo "ok   $rel: $ntypes sample type(s) compared"
done
echo "oracle: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
