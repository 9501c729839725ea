#!/usr/bin/env bash
# test/demo.sh: run the README's first command (scripts/demo.sh) and check
# what it leaves for the newcomer: the two SVG flame graphs it writes into
# demo-output/ exist, are well-formed XML (xmllint) and hold frames, and the
# demo printed where they are; the collector it starts answers, stores an
# upload and says how to point clients at it, then stops cleanly.
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
url=$(sed -n 's/^pg_pprof_collector runs at \(http:[^ ]*\) .*/\1/p' <<<"$out")
check "the demo started the collector and printed its address" "$([ -n "$url" ] && echo 1 || echo 0)"
check "the demo says how to point an SDK and Alloy at it" "$(grep -q 'ServerAddress: "'"$url"'"' <<<"$out" &&
	grep -q 'pyroscope.write "pg_pprof" { endpoint { url = "'"$url"'" } }' <<<"$out" && echo 1 || echo 0)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$url/ready")
check "the demo's collector answers /ready" "$([ "$code" = 200 ] && echo 1 || echo 0)" "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 --data-binary @examples/mutex.pb.gz \
	"$url/ingest?name=demo-collector-check&format=pprof")
rows=$(pp_psql -Atqc "DELETE FROM profiles WHERE service = 'demo-collector-check' RETURNING 1" | wc -l)
check "an upload to the demo's collector lands in the profiles table" "$([ "$code" = 200 ] && [ "$rows" = 2 ] && echo 1 || echo 0)" "$code, $rows rows"
bash scripts/demo.sh >/dev/null 2>&1
check "the demo runs a second time (and replaces its collector)" "$([ $? = 0 ] &&
	[ "$(grep -c 'event=stop .*drained=true' "$PP_COLLECTOR_DIR/collector.log")" -ge 1 ] && echo 1 || echo 0)"
pp_collector_stop
check "the demo's collector stops cleanly" "$(tail -1 "$PP_COLLECTOR_DIR/collector.log" | grep -q 'event=stop .*drained=true' && echo 1 || echo 0)" \
	"$(tail -1 "$PP_COLLECTOR_DIR/collector.log")"
echo "demo: $passed passed, $failed failed"
[ "$failed" = 0 ]
