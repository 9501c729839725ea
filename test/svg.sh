#!/usr/bin/env bash
# test/svg.sh: profile_to_svg() end to end.
#
#   - the plain C renderer's self-test (test/svg/svg_standalone.c) under
#     ASan/UBSan: value formatting, escaping, pruning, negative values;
#   - every example and corpus file (default sample type): the SVG written
#     with psql's \copy is well-formed (xmllint), is byte-identical to what
#     the standalone renderer draws from the pprof file, and headless
#     chromium renders it to a PNG with flame-coloured pixels;
#   - a profile whose function names hold <script>, & " ' \ and control
#     characters (test/svg/svgtool): all escaped, and still well-formed;
#   - a delta profile: negative frames are not drawn;
#   - arguments: title, width, max_nodes, NULL profile, bad values (22023).
#
#   test/svg.sh                     expects the private cluster running with
#                                   the extension installed (scripts/test.sh)
# Prints ok/FAIL lines and "svg: N passed, M failed"; exits non-zero on failure.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
cd "$PP_ROOT"

BIN=$PP_ROOT/test/bin
passed=0 failed=0

# Record one check's result: check NAME OK [detail...]
check() {
	local name=$1 ok=$2; shift 2
	if [ "$ok" = 1 ]; then
		passed=$((passed + 1)); echo "ok   $name"
	else
		failed=$((failed + 1)); echo "FAIL $name${*:+: $*}"
	fi
}

finish() {
	echo "svg: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

pp_install_deps libxml2-utils chromium || { check "install libxml2-utils and chromium" 0; finish; }

pp_stage_inputs
work=$(pp_tmpdir)		# the server (postgres user) reads input files from here
trap 'rm -rf "$work"' EXIT

# --- the standalone renderer -------------------------------------------------
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
build_ok=1
make -s build/asan/libppcore.a PG_CONFIG=/usr/bin/pg_config &&
	gcc -g -O1 -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
		$SAN -Iinclude -Igen -o "$BIN/svg_standalone" test/svg/svg_standalone.c \
		build/asan/libppcore.a build/asan/pp_standalone.o \
		$(make -s print-core-libs PG_CONFIG=/usr/bin/pg_config) ||
	build_ok=0
check "build the standalone renderer (ASan/UBSan)" $build_ok
if [ $build_ok = 1 ]; then
	"$BIN/svg_standalone" selftest > "$work/selftest" 2>&1
	rc=$?
	p=$(grep -c '^ok' "$work/selftest"); f=$(grep -c '^FAIL' "$work/selftest")
	grep '^FAIL' "$work/selftest"
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && { f=1; tail -20 "$work/selftest"; }
	passed=$((passed + p)) failed=$((failed + f))
	echo "ok   standalone selftest: $p checks, $f failed"
fi

go_ok=1
pp_go_build "$BIN/svgtool" ./test/svg/svgtool || go_ok=0
check "build test/svg/svgtool" $go_ok

# --- SQL set-up --------------------------------------------------------------
if [ "$(pp_psql -Atc "SELECT to_regproc('profile_to_svg') IS NOT NULL" 2>/dev/null)" != t ]; then
	pp_psql -qc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS pg_pprof"
fi
if [ "$(pp_psql -Atc "SELECT to_regproc('profile_to_svg') IS NOT NULL")" != t ]; then
	check "profile_to_svg() is installed" 0 "is the cluster running with the extension built?"
	finish
fi

# SQL literal for a string.
sql_lit() { printf "'%s'" "${1//\'/\'\'}"; }

# Write the SQL expression $1 (a text value) to file $2 with psql's \copy.
sql_to_file() {
	pp_psql -qc "\\copy (SELECT $1) TO $(sql_lit "$2")"
}

# Render an SVG with headless chromium to $2 (PNG); prints the number of
# flame-coloured pixels, or nothing on failure.
render_png() {
	local svg=$1 png=$2 profile_dir
	profile_dir=$(mktemp -d)
	rm -f "$png"
	timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --disable-dev-shm-usage --user-data-dir="$profile_dir" \
		--screenshot="$png" --window-size=1300,900 "file://$svg" > "$work/chromium.log" 2>&1
	local rc=$?
	rm -rf "$profile_dir"
	[ $rc -eq 0 ] && [ -s "$png" ] || { tail -5 "$work/chromium.log" >&2; return 1; }
	"$BIN/svgtool" pixels "$png" | cut -d' ' -f1
}

# The structural checks every document must pass; prints what is wrong.
svg_problems() {
	local svg=$1
	xmllint --noout "$svg" 2>&1 | head -3
	[ "$(wc -l < "$svg")" -eq 1 ] || echo "more than one line (\\copy would have escaped it)"
	head -c 38 "$svg" | grep -q '^<?xml version="1.0" encoding="UTF-8"' || echo "no XML declaration"
	grep -q '<g class="f"><title>total (' "$svg" || echo "no root frame"
	LC_ALL=C grep -qP '[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\\]' "$svg" && echo "control character or backslash"
	grep -q $'\xef\xbf\xbe\|\xef\xbf\xbf' "$svg" && echo "U+FFFE or U+FFFF"
	grep -qi '<script' "$svg" && echo "a <script> element"
	true
}

# --- every example and corpus file -------------------------------------------
files=("$PP_EXAMPLES"/*.pb.gz)
if [ -d "$PP_CORPUS" ]; then
	while IFS= read -r f; do files+=("$f"); done < <(find "$PP_CORPUS" -type f ! -name '*.md' | LC_ALL=C sort)
else
	echo "SKIP corpus part: $PP_CORPUS_SRC does not exist (only examples/ are checked)"
fi
shown=0
for f in "${files[@]}"; do
	rel=${f#"$PP_INPUT/"}
	svg=$work/file.svg png=$work/file.png
	if ! pp_psql -qc "SELECT profile_from_pprof(pg_read_binary_file($(sql_lit "$f"))) IS NULL" >/dev/null 2>&1; then
		echo "skip $rel: profile_from_pprof rejects it"
		continue
	fi
	if ! sql_to_file "profile_to_svg(profile_from_pprof(pg_read_binary_file($(sql_lit "$f"))))" "$svg" 2> "$work/err"; then
		check "$rel: profile_to_svg" 0 "$(head -3 "$work/err")"
		continue
	fi
	problems=$(svg_problems "$svg")
	check "$rel: well-formed SVG ($(wc -c < "$svg") bytes, $(grep -o '<g class="f">' "$svg" | wc -l) frames)" \
		"$([ -z "$problems" ] && echo 1 || echo 0)" "$problems"
	if [ "${build_ok}" = 1 ]; then
		"$BIN/svg_standalone" render "$f" > "$work/c.svg" 2> "$work/err" && echo >> "$work/c.svg"
		cmp -s "$work/c.svg" "$svg"
		check "$rel: same document as the standalone renderer" "$([ $? -eq 0 ] && echo 1 || echo 0)" \
			"$(head -2 "$work/err")"
	fi
	if [ $go_ok = 1 ]; then
		pixels=$(render_png "$svg" "$png")
		check "$rel: chromium renders it (${pixels:-no} flame pixels)" \
			"$([ -n "$pixels" ] && [ "$pixels" -gt 10000 ] && echo 1 || echo 0)"
		# keep one rendering to look at
		[ $shown = 0 ] && [ -n "$pixels" ] && cp "$png" "$BIN/svg-example.png" && shown=1
	fi
done

# --- hostile names -----------------------------------------------------------
if [ $go_ok = 1 ] && "$BIN/svgtool" hostile "$work/hostile.pb.gz"; then
	chmod 644 "$work/hostile.pb.gz"
	svg=$work/hostile.svg
	title="<b>T</b> & \"q\" it's \\ done"
	if sql_to_file "profile_to_svg(profile_from_pprof(pg_read_binary_file($(sql_lit "$work/hostile.pb.gz"))), $(sql_lit "$title"))" "$svg" 2> "$work/err"; then
		problems=$(svg_problems "$svg")
		check "hostile names: well-formed" "$([ -z "$problems" ] && echo 1 || echo 0)" "$problems"
		grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&apos;' "$svg"
		check "hostile names: <script>&\"' escaped" "$([ $? -eq 0 ] && echo 1 || echo 0)"
		grep -qF ']]&gt;&lt;!--&amp;amp;--&gt;' "$svg"
		check "hostile names: ]]> and <!-- escaped" "$([ $? -eq 0 ] && echo 1 || echo 0)"
		grep -qF 'tab here ctl'$'\xef\xbf\xbd\xef\xbf\xbd''[31m del'$'\xef\xbf\xbd' "$svg"
		check "hostile names: TAB to space, controls to U+FFFD" "$([ $? -eq 0 ] && echo 1 || echo 0)"
		grep -qF '<title>&lt;b&gt;T&lt;/b&gt; &amp; &quot;q&quot; it&apos;s &#92; done</title>' "$svg"
		check "hostile title escaped" "$([ $? -eq 0 ] && echo 1 || echo 0)"
		! grep -q '<b>' "$svg"
		check "hostile names: no raw <b>" "$([ $? -eq 0 ] && echo 1 || echo 0)"
		pixels=$(render_png "$svg" "$work/hostile.png")
		check "hostile names: chromium renders it (${pixels:-no} flame pixels)" \
			"$([ -n "$pixels" ] && [ "$pixels" -gt 10000 ] && echo 1 || echo 0)"
	else
		check "hostile names: profile_to_svg" 0 "$(head -3 "$work/err")"
	fi
else
	check "write the hostile profile" 0
fi

# --- a delta profile with negative values -------------------------------------
if [ $go_ok = 1 ] && "$BIN/svgtool" delta "$work/delta.pb.gz"; then
	chmod 644 "$work/delta.pb.gz"
	svg=$work/delta.svg
	if sql_to_file "profile_to_svg(profile_from_pprof(pg_read_binary_file($(sql_lit "$work/delta.pb.gz"))))" "$svg" 2> "$work/err"; then
		problems=$(svg_problems "$svg")
		check "delta: well-formed" "$([ -z "$problems" ] && echo 1 || echo 0)" "$problems"
		grep -qF '<title>main.grew (3.00 MiB' "$svg" && ! grep -q '<title>main.shrank\|<title>gc\.' "$svg"
		check "delta: positive frames drawn, negative ones not" "$([ $? -eq 0 ] && echo 1 || echo 0)"
		grep -qF 'Total: 1.50 MiB (alloc_space, bytes)' "$svg"
		check "delta: header total in MiB" "$([ $? -eq 0 ] && echo 1 || echo 0)"
	else
		check "delta: profile_to_svg" 0 "$(head -3 "$work/err")"
	fi
fi

# --- arguments ---------------------------------------------------------------
cpu=$(sql_lit "$PP_EXAMPLES/cpu_1.pb.gz")
# Run one SQL query; prints its output (-At) or "ERROR <sqlstate>".
sql_value() {
	pp_psql -At -c '\set VERBOSITY sqlstate' -c "$1" 2>&1 | sed -E 's/^ERROR:  /ERROR /'
}
expect_value() {
	local name=$1 sql=$2 want=$3 got
	got=$(sql_value "$sql")
	check "$name" "$([ "$got" = "$want" ] && echo 1 || echo 0)" "expected '$want', got '$got'"
}
P="profile_from_pprof(pg_read_binary_file($cpu))"
expect_value "NULL profile gives NULL" "SELECT profile_to_svg(NULL) IS NULL" t
expect_value "default title" \
	"SELECT strpos(profile_to_svg($P), '<title>cpu flame graph</title>') > 0" t
expect_value "custom title" \
	"SELECT strpos(profile_to_svg($P, 'api CPU'), '<title>api CPU</title>') > 0" t
expect_value "width 600" \
	"SELECT strpos(profile_to_svg($P, width => 600), 'width=\"600\"') > 0" t
expect_value "NULL width is 1200" \
	"SELECT strpos(profile_to_svg($P, NULL, NULL), 'width=\"1200\"') > 0" t
expect_value "max_nodes 10 draws at most 10 frames and the root (plus other)" \
	"SELECT (length(s) - length(replace(s, '<g class=\"f\">', ''))) / 13 <= 25 FROM (SELECT profile_to_svg($P, max_nodes => 10) s) x" t
expect_value "header total in seconds" \
	"SELECT strpos(profile_to_svg($P), 'Total: 2.67 s (cpu, nanoseconds)') > 0" t
expect_value "width 99 rejected" "SELECT profile_to_svg($P, width => 99)" "ERROR 22023"
expect_value "width 100001 rejected" "SELECT profile_to_svg($P, width => 100001)" "ERROR 22023"
expect_value "negative max_nodes rejected" "SELECT profile_to_svg($P, max_nodes => -1)" "ERROR 22023"
expect_value "merged profile" \
	"SELECT profile_to_svg(profile_merge(profile_from_pprof(pg_read_binary_file(f)))) LIKE '<?xml%</svg>'
	 FROM unnest(ARRAY[$cpu, $(sql_lit "$PP_EXAMPLES/cpu_2.pb.gz")]) f" t
expect_value "deterministic" "SELECT profile_to_svg($P) = profile_to_svg($P)" t

finish
