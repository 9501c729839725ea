#!/usr/bin/env bash
# test/flamegraph.sh: check profile_merge, flamegraph, flamegraph_diff and
# profile_top against Google's pprof library (test/pprofref) and
# `go tool pprof`.
#
#   1. merge: the profile_merge aggregate over the 10 files of
#      ../shared/corpus/parca_many equals `pprofref stacks FILES...` (which
#      merges with profile.Merge) on every sample type; profile_merge(a, b)
#      and a + b give the same bytes as the aggregate over two rows.
#   2. filters: flat/cum rebuilt from flamegraph(p, 0, focus, ignore, hide)
#      equal `pprofref flat` of what
#      `go tool pprof -symbolize=none -focus/-ignore/-hide -proto` writes.
#   3. structure of flamegraph() and flamegraph_diff() rows on every file
#      (max_nodes 0, default and 50): one root `total` first, levels step by
#      at most +1, value = self + sum(children), root = profile_total,
#      siblings in byte order with `other` last, a bound on the row count.
#   4. profile_top(p, 0) equals `pprofref flat` and is ordered by self
#      desc, function.
# Tree checks and flat/cum reconstruction are done exactly (int64) by the Go
# helper test/flamegraph (fgcheck).
#
# Expects the private cluster to be running with the extension built
# (scripts/test.sh does that); prints `flamegraph: N passed, M failed`.
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
PPROFREF=$PP_ROOT/test/bin/pprofref
FGCHECK=$PP_ROOT/test/bin/fgcheck
pp_go_build "$PPROFREF" ./test/pprofref || exit 1
pp_go_build "$FGCHECK" ./test/flamegraph || exit 1
pp_psql -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_pprof"
pp_stage_inputs

work=$(pp_tmpdir)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
EX=$PP_EXAMPLES
CORPUS=$PP_CORPUS  # PP_CORPUS_SRC=/nonexistent tests the SKIP path
have_corpus=0
if [ -d "$CORPUS" ]; then
	have_corpus=1
else
	echo "SKIP corpus parts: $CORPUS does not exist (only examples/ are checked)"
fi

# SQL literal for a string (a path, a regexp, a sample type).
sql_lit() { printf "'%s'" "${1//\'/\'\'}"; }
# SQL expression reading one file as a profile of sample type $2 (NULL = default).
sql_prof() {
	local t=NULL
	[ -n "${2:-}" ] && t=$(sql_lit "$2")
	printf "profile_from_pprof(pg_read_binary_file(%s), %s)" "$(sql_lit "$1")" "$t"
}
# psql printing NUL-terminated rows with TAB-separated fields (labels may hold TAB).
psql_rows() { pp_psql -At -F $'\t' -0 -c "$1"; }
# Short name of a file for messages.
rel() { echo "${1#"$PP_INPUT/"}"; }
# Drop functions whose flat and cum are both 0 (see oracle.sh).
drop_zero_rows() { grep -v -P '^F\t.*\t0\t0$' || true; }

pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# Compare two files; print the start of the diff on failure.
check() {
	local name=$1 expected=$2 actual=$3
	if [ -s "$expected" ] && diff -q "$expected" "$actual" >/dev/null; then
		pass "$name"
	else
		fail "$name"
		[ -s "$expected" ] || echo "  (expected output is empty)"
		diff "$expected" "$actual" | head -10
	fi
}
# Number of sample types of a file (empty if pprof rejects it).
ntypes() { "$PPROFREF" types "$1" 2>/dev/null | grep -vc '^default'; }

# ---------------------------------------------------------------- 1. merge
if [ "$have_corpus" = 1 ]; then
	many=("$CORPUS"/parca_many/*.pb.gz)
	arr=$(for f in "${many[@]}"; do sql_lit "$f"; echo; done | paste -sd,)
	for ((i = 0; i < $(ntypes "${many[0]}"); i++)); do
		"$PPROFREF" stacks -sample_index="$i" "${many[@]}" | LC_ALL=C sort > "$work/exp"
		pp_psql -At > "$work/act" 2>&1 <<SQL
SELECT CASE WHEN cardinality(stack) = 0 THEN value::text
            ELSE value || E'\t' || array_to_string(stack, E'\t') END
FROM profile_stacks((SELECT profile_merge(profile_from_pprof(pg_read_binary_file(f), '$i'))
                     FROM unnest(ARRAY[$arr]) f));
SQL
		LC_ALL=C sort -o "$work/act" "$work/act"
		check "merge parca_many (${#many[@]} files) [$i] stacks" "$work/exp" "$work/act"
	done
	a=${many[0]} b=${many[5]}
	for t in 1 3; do
		out=$(pp_psql -At 2>&1 <<SQL
WITH x AS (SELECT $(sql_prof "$a" $t) AS a, $(sql_prof "$b" $t) AS b),
agg AS (SELECT profile_merge(p)::text AS m FROM (SELECT a FROM x UNION ALL SELECT b FROM x) v(p))
SELECT (profile_merge(a, b)::text = m)::text || ' ' || ((a + b)::text = m)::text
       || ' ' || (profile_total(a + b) = profile_total(a) + profile_total(b))::text
FROM x, agg;
SQL
)
		if [ "$out" = "true true true" ]; then
			pass "merge: profile_merge(a, b) and a + b equal the aggregate [$t]"
		else
			fail "merge: profile_merge(a, b) and a + b equal the aggregate [$t]: got '$out' (merge(a,b)=agg a+b=agg total)"
		fi
	done
fi

# -------------------------------------------------------------- 2. filters
# filter_case FILE SAMPLE_TYPE_NAME FOCUS IGNORE HIDE (empty = not given)
filter_case() {
	local f=$1 t=$2 focus=$3 ignore=$4 hide=$5 name opts=() re bad=0 sqlargs
	name="filter $(rel "$f") [$t] focus='$focus' ignore='$ignore' hide='$hide'"
	for re in "$focus" "$ignore" "$hide"; do
		[ -z "$re" ] && continue
		if ! "$FGCHECK" regex -re="$re" "$f" > /dev/null 2> "$work/err"; then
			bad=1; fail "$name: bad test pattern: $(cat "$work/err")"
		fi
	done
	[ "$bad" = 1 ] && return
	[ -n "$focus" ] && opts+=(-focus="$focus")
	[ -n "$ignore" ] && opts+=(-ignore="$ignore")
	[ -n "$hide" ] && opts+=(-hide="$hide")
	if ! go tool pprof -symbolize=none -sample_index="$t" "${opts[@]}" -proto "$f" \
		> "$work/filtered.pb.gz" 2> "$work/err"; then
		fail "$name: go tool pprof failed: $(head -3 "$work/err")"; return
	fi
	"$PPROFREF" flat -sample_index="$t" "$work/filtered.pb.gz" | drop_zero_rows | LC_ALL=C sort > "$work/exp"
	sqlargs="$(sql_prof "$f" "$t"), 0"
	for re in "$focus" "$ignore" "$hide"; do
		if [ -n "$re" ]; then sqlargs+=", $(sql_lit "$re")"; else sqlargs+=", NULL"; fi
	done
	psql_rows "SELECT level, value, self, label FROM flamegraph($sqlargs)" 2> "$work/err" \
		| "$FGCHECK" flatcum 2>> "$work/err" | drop_zero_rows | LC_ALL=C sort > "$work/act"
	cat "$work/err" >> "$work/act"
	check "$name" "$work/exp" "$work/act"
}
filter_case "$EX/cpu_1.pb.gz" cpu 'main\.fib' '' ''
filter_case "$EX/cpu_1.pb.gz" cpu '' '^runtime\.' ''
filter_case "$EX/cpu_1.pb.gz" cpu '' '' '^runtime\.|^main\.handle.*'
filter_case "$EX/cpu_1.pb.gz" samples 'main\.fib' '' ''
filter_case "$EX/cpu_1.pb.gz" cpu 'main\.handle' 'runtime\.gcAssist' 'compress/flate\.|runtime\.(mallocgc|systemstack)$'
filter_case "$EX/cpu_2.pb.gz" cpu '^compress/' 'main\.fib' 'main\.(serveUntil|writeCPU)'
filter_case "$EX/heap.pb.gz" alloc_space 'main\.allocBuffers' '' ''
filter_case "$EX/heap.pb.gz" inuse_space '' 'main\.fillUserCache' 'runtime\.main'
filter_case "$EX/mutex.pb.gz" delay 'main\.(writeMutex|flushLog)' 'main\.recordMetric' 'sync\.'
if [ "$have_corpus" = 1 ]; then
	filter_case "$CORPUS/parca_go_alloc_space_delta.pb.gz" alloc_space 'parquet-go\.\(\*Writer\)' '' ''
	filter_case "$CORPUS/parca_go_alloc_space_delta.pb.gz" inuse_space 'arcticdb\.' 'btree\.\(' '^runtime\.|^bytes\.'
	filter_case "$CORPUS/parca_many/1644509272337470000.pb.gz" alloc_space 'runtime\.mstart' '' 'runtime\.(mstart|mcall)$'
	filter_case "$CORPUS/parca_many/1644509299337903000.pb.gz" inuse_space '' 'runtime\.doInit' 'regexp/syntax\.'
	filter_case "$CORPUS/gpprof_large.cpu.pb.gz" cpu 'main\.next' 'time\.Now' 'main\.setFunctions\.func[0-9]+'
	filter_case "$CORPUS/legacy_converted/java.cpu.pb.gz" cpu 'com\.example\.function2' '' 'com\.example\.function0'
fi

# ------------------------------------------------------------ 3. structure
# struct_case FILE SAMPLE_TYPE(empty = default)
struct_case() {
	local f=$1 t=${2:-} p total m mx sel out roots=() ok=1 msgs="" info=""
	p=$(sql_prof "$f" "$t")
	total=$(pp_psql -Atc "SELECT profile_total($p)" 2>&1)
	for m in 0 default 50; do
		if [ "$m" = default ]; then sel="flamegraph($p)"; mx=8192; else sel="flamegraph($p, $m)"; mx=$m; fi
		psql_rows "SELECT level, value, self, label FROM $sel" > "$work/rows_$m" 2> "$work/err"
		if out=$("$FGCHECK" struct -max="$mx" -total="$total" -full="$work/rows_0" < "$work/rows_$m" 2>&1); then
			roots+=("${out#*root	}")
			[ "$m" = 50 ] && info=${out%	root*}
		else
			ok=0; msgs+=$'\n'"  max_nodes $m: $out $(head -3 "$work/err")"
		fi
	done
	if [ "$ok" = 1 ] && [ "${roots[0]}" != "${roots[1]}" -o "${roots[0]}" != "${roots[2]}" ]; then
		ok=0; msgs+=$'\n'"  root values differ: ${roots[*]}"
	fi
	if [ "$ok" = 1 ]; then
		pass "structure $(rel "$f") [${t:-default}] (total $total; max_nodes 50: ${info//	/ })"
	else
		fail "structure $(rel "$f") [${t:-default}]$msgs"
	fi
}
files=("$EX"/*.pb.gz)
if [ "$have_corpus" = 1 ]; then
	while IFS= read -r f; do files+=("$f"); done < <(find "$CORPUS" -type f ! -name '*.md' | LC_ALL=C sort)
fi
for f in "${files[@]}"; do
	if ! "$PPROFREF" types "$f" > /dev/null 2>&1; then
		echo "skip structure $(rel "$f"): pprof rejects it"
		continue
	fi
	struct_case "$f"
done
if [ "$have_corpus" = 1 ]; then
	four=$CORPUS/parca_go_alloc_space_delta.pb.gz
	for ((i = 0; i < $(ntypes "$four"); i++)); do struct_case "$four" "$i"; done
fi
# flamegraph_diff: both column pairs.
for m in 0 default 50; do
	pa=$(sql_prof "$EX/cpu_1.pb.gz") pb=$(sql_prof "$EX/cpu_2.pb.gz")
	if [ "$m" = default ]; then sel="flamegraph_diff($pa, $pb)"; mx=8192; else sel="flamegraph_diff($pa, $pb, $m)"; mx=$m; fi
	ta=$(pp_psql -Atc "SELECT profile_total($pa)") tb=$(pp_psql -Atc "SELECT profile_total($pb)")
	psql_rows "SELECT level, value, self, \"valueRight\", \"selfRight\", label FROM $sel" > "$work/diff_$m" 2> "$work/err"
	if out=$("$FGCHECK" struct -cols=6 -max="$mx" -total="$ta" -total_right="$tb" -full="$work/diff_0" \
		< "$work/diff_$m" 2>&1); then
		pass "structure flamegraph_diff(cpu_1, cpu_2, $m): ${out//	/ }"
	else
		fail "structure flamegraph_diff(cpu_1, cpu_2, $m): $out $(head -3 "$work/err")"
	fi
done

# ---------------------------------------------------------- 4. profile_top
# top_case FILE SAMPLE_TYPE(empty = default)
top_case() {
	local f=$1 t=${2:-} p name
	p=$(sql_prof "$f" "$t")
	name="profile_top $(rel "$f") [${t:-default}]"
	if [ -n "$t" ]; then
		"$PPROFREF" flat -sample_index="$t" "$f"
	else
		"$PPROFREF" flat "$f"
	fi | grep -P '^F\t' | drop_zero_rows | LC_ALL=C sort > "$work/exp"
	pp_psql -At -c "SELECT 'F' || E'\t' || function || E'\t' || self || E'\t' || total FROM profile_top($p, 0)" 2>&1 \
		| drop_zero_rows | LC_ALL=C sort > "$work/act"
	check "$name: rows" "$work/exp" "$work/act"
	out=$(pp_psql -At 2>&1 <<SQL
SELECT count(*) FILTER (WHERE n <> r) || ' ' || count(*)
FROM (SELECT n, row_number() OVER (ORDER BY self DESC, function COLLATE "C") AS r
      FROM profile_top($p, 0) WITH ORDINALITY AS t(function, self, total, n)) x;
SQL
)
	if [ "${out%% *}" = 0 ]; then
		pass "$name: ordered by self desc, function (${out#* } rows)"
	else
		fail "$name: ordered by self desc, function: $out (misplaced rows, rows)"
	fi
}
top_case "$EX/cpu_1.pb.gz"
top_case "$EX/heap.pb.gz" alloc_space
if [ "$have_corpus" = 1 ]; then
	top_case "$CORPUS/parca_go_alloc_space_delta.pb.gz" alloc_space
	top_case "$CORPUS/gpprof_large.cpu.pb.gz"
fi

echo "flamegraph: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
