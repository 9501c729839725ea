#!/usr/bin/env bash
# test/demo.sh: run the README's first command (scripts/demo.sh) and check
# what it leaves for the newcomer: the two SVG flame graphs it writes into
# demo-output/ exist, are well-formed XML (xmllint) and hold frames, and the
# demo printed where they are.
#
# Expects what scripts/test.sh sets up (the demo itself installs and builds
# what is missing).  Prints ok/FAIL lines and "demo: N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PP_ROOT"
passed=0 failed=0

# Record one check: check NAME OK [detail]
check() {
	if [ "$2" = 1 ]; then passed=$((passed + 1)); echo "ok   $1"
	else failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"; fi
}

out=$(bash scripts/demo.sh 2>&1); rc=$?
check "scripts/demo.sh exits 0" "$([ $rc = 0 ] && echo 1 || echo 0)" "$(tail -5 <<<"$out")"
for name in cpu-flamegraph cpu-diff; do
	svg=$PP_ROOT/demo-output/$name.svg
	check "$name.svg exists" "$([ -s "$svg" ] && echo 1 || echo 0)"
	err=$(xmllint --noout "$svg" 2>&1 | head -3)
	check "$name.svg is well-formed XML" "$([ -s "$svg" ] && [ -z "$err" ] && echo 1 || echo 0)" "$err"
	frames=$(grep -o '<g class="f">' "$svg" 2>/dev/null | wc -l)
	check "$name.svg draws frames ($frames)" "$([ "$frames" -gt 10 ] && echo 1 || echo 0)"
	check "the demo prints the path of $name.svg" "$(grep -qF "  $svg" <<<"$out" && echo 1 || echo 0)"
done
grep -q '>Baseline: .*, comparison: ' "$PP_ROOT/demo-output/cpu-diff.svg" 2>/dev/null
check "cpu-diff.svg is a differential graph (both totals in its header)" "$([ $? = 0 ] && echo 1 || echo 0)"
check "the demo says to open them in a browser" "$(grep -qi 'open them in a browser' <<<"$out" && echo 1 || echo 0)"
echo "demo: $passed passed, $failed failed"
[ "$failed" = 0 ]
