#!/usr/bin/env bash
# test/collector.sh: pg_pprof_collector against real clients on the private
# cluster (scripts/lib.sh).  Prints ok/FAIL/SKIP lines and ends with
# "collector: N passed, M failed".
#
#   push and SQL   /ingest (pprof raw and gzip, folded groups and lines,
#                  names, from/until), the Connect push in proto and JSON,
#                  gzip or not, malformed -> invalid_argument
#   fixtures       test/collector/fixtures: pyroscope-go's multipart uploads
#                  (cpu, heap, mutex, block, goroutines, prev_profile -> 422)
#                  and the Java agent's JFR uploads (-> 415)
#   Node SDK       @pyroscope/nodejs 0.6.4 (test/collector/node) pushes wall
#                  and heap profiles with tags and wrapWithLabels for ~25 s
#   Go scrape      test/collector/goapp (net/http/pprof) scraped for ~42 s at
#                  a 10 s interval: cpu, allocs, mutex, block, goroutine;
#                  deltas never negative and summing to last minus first;
#                  SIGHUP reloads the targets
#   hostile        truncated and non-pprof bodies, bad names, 413, random
#                  bodies, slow-loris (headers and body), 1,000 idle
#                  connections, wrong credentials
#   durability     PostgreSQL stopped and started while the Node app pushes
#                  through a counting proxy; SIGKILL during a spool replay;
#                  a replay after COMMIT but before unlink stores nothing
#   tenants        X-Scope-OrgID -> tenant, and a row-level-security policy
#                  under which a role sees only its tenant's rows
#   privileges     the collector's role has exactly the README's GRANTs
#   lifecycle      SIGTERM drains an upload in flight and exits 0; one log
#                  line per start and stop; bad settings are refused
#
# Every client command runs under its own timeout.  Expects what
# scripts/test.sh sets up (PP_CLUSTER_READY=1); otherwise it starts the
# cluster itself.  It builds only the collector (`make collector`), never
# installs anything.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../scripts/lib.sh"
source "$here/collector/lib.sh"
cd "$PP_ROOT"
t_start=$SECONDS

failed_early() {
	echo "FAIL $*"; echo "collector: $CT_PASSED passed, $((CT_FAILED + 1)) failed"
	# leave the cluster running for the suites after this one
	[ "$(type -t ct_pg_start)" = function ] && ct_pg_start >/dev/null 2>&1
	exit 1
}
step() { pp_say "collector: $* ($((SECONDS - t_start))s)"; }

# ------------------------------------------------------------------ set-up
step "set-up"
pp_install_deps || failed_early "could not install the Debian packages"
if [ "${PP_CLUSTER_READY:-}" != 1 ]; then
	pp_start_cluster || failed_early "could not start the cluster"
fi
make -s -C "$PP_ROOT" collector PG_CONFIG=/usr/bin/pg_config >/dev/null || failed_early "make collector failed"
# CT_BIN may name another build (say, one with sanitizers) of the same sources
CT_BIN=${CT_BIN:-$PP_ROOT/build/collector/pg_pprof_collector}
pp_go_build "$PP_ROOT/test/bin/colltool" ./test/collector/colltool || failed_early "cannot build colltool"
pp_go_build "$PP_ROOT/test/bin/goapp" ./test/collector/goapp || failed_early "cannot build the Go app"
TOOL=$PP_ROOT/test/bin/colltool
NODE_DIR=$here/collector/node
node_ready=1
if ! pp_node_setup; then
	node_ready=0
else
	stamp=$(cat "$NODE_DIR/package.json" "$NODE_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)-$(node --version)
	if [ "$(cat "$NODE_DIR/node_modules/.pp-lock-stamp" 2>/dev/null)" != "$stamp" ]; then
		(cd "$NODE_DIR" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) &&
			echo "$stamp" >"$NODE_DIR/node_modules/.pp-lock-stamp" || node_ready=0
	fi
fi
CT_WORK=$(pp_tmpdir) || failed_early "no work folder"
trap ct_cleanup EXIT
CT_ROLE=collector_test
EX=$PP_ROOT/examples

# Tables, roles and the exact GRANTs of the README, for every table the
# collectors of this test write to.
ct_sql <<SQL || failed_early "could not create the tables and roles"
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_pprof;
ALTER EXTENSION pg_pprof UPDATE;
DO \$\$BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$CT_ROLE') THEN CREATE ROLE $CT_ROLE LOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'team_a') THEN CREATE ROLE team_a LOGIN; END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'team_b') THEN CREATE ROLE team_b LOGIN; END IF;
END\$\$;
DROP TABLE IF EXISTS coll_profiles, coll_durable, coll_replay, coll_tenant;
CREATE TABLE coll_profiles (
    time timestamptz NOT NULL, service text NOT NULL, name text NOT NULL,
    sample_type text NOT NULL, unit text NOT NULL, labels jsonb NOT NULL DEFAULT '{}',
    profile profile NOT NULL);
CREATE INDEX ON coll_profiles (service, name, sample_type, time);
CREATE TABLE coll_durable (LIKE coll_profiles INCLUDING ALL);
CREATE TABLE coll_replay (LIKE coll_profiles INCLUDING ALL);
CREATE TABLE coll_tenant (LIKE coll_profiles INCLUDING ALL, tenant text NOT NULL);
-- the collector's role: INSERT on its tables, what the idempotency record needs, nothing more
REVOKE ALL ON pprof_ingest_requests FROM $CT_ROLE;
GRANT INSERT ON coll_profiles, coll_durable, coll_replay, coll_tenant TO $CT_ROLE;
GRANT INSERT, SELECT (request_id) ON pprof_ingest_requests TO $CT_ROLE;
-- row-level security: each reader role sees only its own tenant's rows
GRANT SELECT ON coll_tenant TO team_a, team_b;
ALTER TABLE coll_tenant ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_reads_own ON coll_tenant FOR SELECT USING (tenant = current_user);
CREATE POLICY collector_writes ON coll_tenant FOR INSERT TO $CT_ROLE WITH CHECK (true);
SQL

# Rows pprof_ingest makes of one example file, split by all its string labels.
rows_of() {
	ct_sql -c "SELECT count(*) FROM pprof_split(pg_read_binary_file('$PP_EXAMPLES/$1'), '{endpoint,region}')"
}
pp_stage_inputs >/dev/null 2>&1 || failed_early "could not stage the examples"

# ------------------------------------------------------------------ collector A + Go app
step "Go app and collector A (scraping for ~42 s meanwhile)"
GO_SAVE=$CT_WORK/goapp-saved
mkdir -p "$GO_SAVE"
"$PP_ROOT/test/bin/goapp" -addr 127.0.0.1:0 -save "$GO_SAVE" -port-file "$CT_WORK/goapp.addr" \
	>"$CT_WORK/goapp.log" 2>&1 &
echo $! >"$CT_WORK/goapp.pid"; CT_PIDS+=("$!")
for i in $(seq 50); do [ -s "$CT_WORK/goapp.addr" ] && break; sleep 0.1; done
GO_ADDR=$(cat "$CT_WORK/goapp.addr" 2>/dev/null)
[ -n "$GO_ADDR" ] || failed_early "the Go app did not start"
PA=$(ct_free_port 4100)
A=http://127.0.0.1:$PA
CONF_A=$CT_WORK/a.conf
scrape_section=("[scrape]" "url = http://$GO_ADDR" "service = go-scrape" "labels = env=test, team=core"
	"interval = 10s" "[scrape]" "url = http://$GO_ADDR/bad" "service = go-broken"
	"interval = 10s" "profiles = allocs, mutex"
	"[scrape]" "url = http://$GO_ADDR/slow" "service = go-slow" "interval = 3s" "timeout = 1s"
	"profiles = goroutine")
ct_write_conf "$CONF_A" "$PA" coll_profiles "$CT_WORK/spool-a" \
	"max_body_bytes = 1MB" "request_timeout = 4s" "idle_timeout = 3s" "${scrape_section[@]}"
ct_start a "$CONF_A"
t_scrape=$SECONDS
ct_wait_up "$PA" || failed_early "collector A did not start: $(tail -3 "$CT_WORK/a.log")"
check "collector starts and answers /ready" "$([ "$(ct_status "$A/ready")" = 200 ] && echo 1 || echo 0)"

# ------------------------------------------------------------------ POST /ingest
step "POST /ingest"
now_s=$(date +%s)
check "pprof gzip body -> 200, empty body" "$([ "$(ct_status --data-binary @"$EX/cpu_1.pb.gz" \
	"$A/ingest?name=ingest-app{env=prod,team=x}&format=pprof&spyName=gospy&from=$now_s")" = 200 ] &&
	[ ! -s "$CT_WORK/last_body" ] && echo 1 || echo 0)"
gunzip -c "$EX/cpu_2.pb.gz" >"$CT_WORK/cpu_2.raw.pb"
check "pprof raw (not gzip) body -> 200" "$([ "$(ct_status --data-binary @"$CT_WORK/cpu_2.raw.pb" \
	"$A/ingest?name=ingest-raw&format=pprof")" = 200 ] && echo 1 || echo 0)"
got=$(ct_sql -c "SELECT count(*) || ' ' || count(DISTINCT name) || ' ' || min(name) || ' ' ||
	bool_and(labels @> '{\"env\":\"prod\",\"team\":\"x\",\"pyroscope_spy\":\"gospy\"}') || ' ' ||
	bool_or(labels ? 'endpoint') FROM coll_profiles WHERE service = 'ingest-app'")
check "pprof rows: split by sample labels, tags as labels, name process_cpu" \
	"$([ "$got" = "$(rows_of cpu_1.pb.gz) 1 process_cpu true true" ] && echo 1 || echo 0)" "$got"
check "raw pprof rows arrive" "$([ "$(ct_sql -c "SELECT count(*) FROM coll_profiles WHERE service = 'ingest-raw'")" = "$(rows_of cpu_2.pb.gz)" ] && echo 1 || echo 0)"
# the collector sends a gzip body on inflated: what it stores is what the file splits into
got=$(ct_sql -c "WITH split AS (SELECT * FROM pprof_split(pg_read_binary_file('$PP_EXAMPLES/cpu_1.pb.gz'), '{endpoint,region}'))
	SELECT count(*) = (SELECT count(*) FROM split) AND bool_and(EXISTS (SELECT 1 FROM split s
		WHERE s.profile = c.profile AND s.sample_type = c.sample_type AND c.labels @> s.labels))
	FROM coll_profiles c WHERE service = 'ingest-app'")
check "gzip pprof rows equal pprof_split of the file, profile for profile" "$([ "$got" = t ] && echo 1 || echo 0)" "$got"
# folded text: sampleRate scales into nanoseconds (1e9/100 per sample); from by its digits
printf 'main;work;hot 30\nmain;work 10\nmain;idle 5\nno-space-line\n' >"$CT_WORK/folded.txt"
check "folded groups (no format) -> 200" "$([ "$(ct_status --data-binary @"$CT_WORK/folded.txt" \
	"$A/ingest?name=folded-app.cpu{env=f}&sampleRate=100&from=1764547200123&until=1764547210123")" = 200 ] && echo 1 || echo 0)"
got=$(ct_sql -c "SELECT name || ' ' || sample_type || ' ' || unit || ' ' || profile_total(profile) || ' ' ||
	to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM coll_profiles WHERE service = 'folded-app'")
check "folded: app.cpu -> process_cpu cpu/nanoseconds, 45 samples x 10 ms, 13-digit from is ms" \
	"$([ "$got" = "process_cpu cpu nanoseconds 450000000 2025-12-01 00:00:00.123" ] && echo 1 || echo 0)" "$got"
printf 'a;b;c\na;b;c\na;b\n\n' >"$CT_WORK/lines.txt"
check "folded lines (format=lines) -> 200" "$([ "$(ct_status --data-binary @"$CT_WORK/lines.txt" \
	"$A/ingest?name=lines-app.alloc_objects&format=lines&from=1764547200")" = 200 ] && echo 1 || echo 0)"
got=$(ct_sql -c "SELECT name || ' ' || sample_type || ' ' || profile_total(profile) || ' ' ||
	to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM coll_profiles WHERE service = 'lines-app'")
check "folded lines: each line counts 1, app.alloc_objects -> memory, 10-digit from is seconds" \
	"$([ "$got" = "memory alloc_objects 3 2025-12-01 00:00" ] && echo 1 || echo 0)" "$got"
for digits in "1764547200123456:2025-12-01 00:00:00.123" "1764547200123456789:2025-12-01 00:00:00.123" "20251201:2025-12-01 00:00:00.000"; do
	v=${digits%%:*} want=${digits#*:}
	ct_status --data-binary 'a;b 1' "$A/ingest?name=time-app-${#v}.cpu&from=$v" >/dev/null
	got=$(ct_sql -c "SELECT to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') FROM coll_profiles WHERE service = 'time-app-${#v}'")
	check "from with ${#v} digits is read by its length" "$([ "$got" = "$want" ] && echo 1 || echo 0)" "$got"
done
ct_status --data-binary 'a;b 1' "$A/ingest?name=time-rel.cpu&from=now-1h" >/dev/null
got=$(ct_sql -c "SELECT abs(extract(epoch FROM time - (now() - interval '1 hour'))) < 60 FROM coll_profiles WHERE service = 'time-rel'")
check "from=now-1h is read relative to now" "$([ "$got" = t ] && echo 1 || echo 0)" "$got"
check "service_name tag sets the service, app kept as app_name" "$([ "$(ct_status --data-binary @"$EX/mutex.pb.gz" \
	"$A/ingest?name=legacy-name{service_name=renamed-svc}&format=pprof")" = 200 ] &&
	[ "$(ct_sql -c "SELECT DISTINCT labels->>'app_name' FROM coll_profiles WHERE service = 'renamed-svc'")" = legacy-name ] &&
	echo 1 || echo 0)"
check "an empty pprof body -> 200, nothing stored" "$([ "$(ct_status --data-binary '' \
	"$A/ingest?name=empty-app&format=pprof")" = 200 ] &&
	[ "$(ct_sql -c "SELECT count(*) FROM coll_profiles WHERE service = 'empty-app'")" = 0 ] && echo 1 || echo 0)"
for bad in 'bad%20name' '' 'app%7Bk%20x=1%7D' 'app%7B=1%7D' 'ap%21p'; do
	check "bad name '$bad' -> 400 with a one-line reason" "$([ "$(ct_status --data-binary @"$EX/cpu_1.pb.gz" \
		"$A/ingest?name=$bad&format=pprof")" = 400 ] && [ "$(wc -l <"$CT_WORK/last_body")" = 1 ] && echo 1 || echo 0)" \
		"$(cat "$CT_WORK/last_body")"
done
head -c 4000 "$EX/cpu_1.pb.gz" >"$CT_WORK/truncated.pb.gz"
head -c 3000 "$CT_WORK/cpu_2.raw.pb" >"$CT_WORK/truncated.pb"
echo "this is not a profile" >"$CT_WORK/text.txt"
for f in truncated.pb.gz truncated.pb text.txt; do
	check "invalid profile ($f) -> 422 with a one-line reason" "$([ "$(ct_status --data-binary @"$CT_WORK/$f" \
		"$A/ingest?name=bad-profile&format=pprof")" = 422 ] && [ "$(wc -l <"$CT_WORK/last_body")" = 1 ] && echo 1 || echo 0)" \
		"$(cat "$CT_WORK/last_body")"
done
# hostile gzip: the trailer's size (ISIZE) sizes the inflate buffer, so lie in it
head -c 134217728 /dev/zero | gzip -9 >"$CT_WORK/bomb.gz"   # 128 MiB inflated, past max_profile_bytes
gz_with_isize() { head -c -4 "$1"; printf "$2"; }
gz_with_isize "$EX/cpu_1.pb.gz" '\x64\x00\x00\x00' >"$CT_WORK/isize-small.gz"   # says 100 bytes
gz_with_isize "$EX/cpu_1.pb.gz" '\x00\x00\x00\x7f' >"$CT_WORK/isize-huge.gz"    # says 2 GiB
{ cat "$EX/cpu_1.pb.gz"; printf 'trailing garbage'; } >"$CT_WORK/trailing.gz"
cat "$EX/cpu_1.pb.gz" "$EX/cpu_1.pb.gz" >"$CT_WORK/two-members.gz"
for f in bomb.gz:'size limit' isize-small.gz:corrupt isize-huge.gz:corrupt trailing.gz:'bytes follow' \
	two-members.gz:'bytes follow'; do
	check "hostile gzip (${f%%:*}) -> 422 '${f#*:}'" "$([ "$(ct_status --data-binary @"$CT_WORK/${f%%:*}" \
		"$A/ingest?name=bad-gzip&format=pprof")" = 422 ] && grep -q "${f#*:}" "$CT_WORK/last_body" && echo 1 || echo 0)" \
		"$(cat "$CT_WORK/last_body")"
done
check "no hostile gzip was stored" "$([ "$(ct_sql -c "SELECT count(*) FROM coll_profiles WHERE service = 'bad-gzip'")" = 0 ] &&
	echo 1 || echo 0)"
check "unknown folded type (app.weird) -> 422" "$([ "$(ct_status --data-binary 'a;b 1' "$A/ingest?name=app.weird")" = 422 ] && echo 1 || echo 0)"
check "format=speedscope -> 415" "$([ "$(ct_status --data-binary '{}' "$A/ingest?name=app&format=speedscope")" = 415 ] && echo 1 || echo 0)"
head -c 1500000 /dev/urandom >"$CT_WORK/big.bin"
check "oversized body (Content-Length) -> 413" "$([ "$(ct_status --data-binary @"$CT_WORK/big.bin" \
	"$A/ingest?name=big&format=pprof")" = 413 ] && echo 1 || echo 0)"
check "oversized chunked body -> 413" "$([ "$(ct_status -H 'Transfer-Encoding: chunked' --data-binary @"$CT_WORK/big.bin" \
	"$A/ingest?name=big&format=pprof")" = 413 ] && echo 1 || echo 0)"
check "GET /ingest is refused (400), unknown paths 404" "$([ "$(ct_status "$A/ingest")" = 400 ] &&
	[ "$(ct_status "$A/nothing-here")" = 404 ] && echo 1 || echo 0)"

# ------------------------------------------------------------------ fixtures
step "fixtures (pyroscope-go multipart, Java JFR)"
out=$(timeout 60 "$TOOL" replay -addr "127.0.0.1:$PA" "$here"/collector/fixtures/*.http 2>&1)
fx_status() { awk -v f="$1" '$1 ~ f { print $2 }' <<<"$out"; }
for f in cpu heap mutex block goroutines; do
	check "pyroscope-go $f upload -> 200" "$([ "$(fx_status "pyroscope-go-$f.http")" = 200 ] && echo 1 || echo 0)" "$out"
done
check "pyroscope-go prev_profile (old cumulative protocol) -> 422" "$([ "$(fx_status pyroscope-go-prev-profile.http)" = 422 ] && echo 1 || echo 0)"
check "Java agent JFR upload (multipart) -> 415 with a clear message" "$([ "$(fx_status 'java-jfr.http')" = 415 ] &&
	grep -q 'java-jfr.http 415 format=jfr is not supported' <<<"$out" && echo 1 || echo 0)"
check "Java agent JFR upload (raw body) -> 415" "$([ "$(fx_status java-jfr-raw.http)" = 415 ] && echo 1 || echo 0)"
got=$(ct_sql -c "SELECT string_agg(DISTINCT name, ',' ORDER BY name) FROM coll_profiles WHERE service = 'shop-go'")
check "fixture names: block and mutex told apart by sample_type_config display names" \
	"$([ "$got" = "block,goroutines,memory,mutex,process_cpu" ] && echo 1 || echo 0)" "$got"
got=$(ct_sql -c "SELECT count(*) FROM coll_profiles WHERE service = 'shop-go' AND name = 'block'
	AND sample_type IN ('contentions', 'delay') AND labels @> '{\"env\":\"fixture\",\"region\":\"eu-west\"}'")
check "block fixture rows carry contentions and delay and the tags" "$([ "$got" = 2 ] && echo 1 || echo 0)" "$got"

# ------------------------------------------------------------------ push API
step "POST /push.v1.PusherService/Push"
push() { timeout 30 "$TOOL" push -url "$A" "$@" 2>&1; }
for enc in proto json; do
	for gz in "" -gzip; do
		flags=(); [ "$enc" = json ] && flags+=(-json); [ -n "$gz" ] && flags+=(-gzip)
		svc=push-$enc${gz:+-gzip}
		r=$(push "${flags[@]}" -label service_name=$svc -label __name__=process_cpu -label env=alloy \
			-label __delta__=false "$EX/cpu_1.pb.gz" "$EX/cpu_3.pb.gz")
		check "push $enc${gz:+ gzip} -> 200" "$([ "${r%% *}" = 200 ] && echo 1 || echo 0)" "$r"
		got=$(ct_sql -c "SELECT count(*) || ' ' || count(DISTINCT name) || ' ' || bool_and(labels @> '{\"env\":\"alloy\"}') ||
			' ' || bool_or(labels ? '__delta__') FROM coll_profiles WHERE service = '$svc'")
		want="$(($(rows_of cpu_1.pb.gz) + $(rows_of cpu_3.pb.gz))) 1 true false"
		check "push $enc${gz:+ gzip}: service_name -> service, labels kept, __ labels dropped" \
			"$([ "$got" = "$want" ] && echo 1 || echo 0)" "$got (want $want)"
	done
done
r=$(push -label service_name=push-derived "$EX/heap.pb.gz")
check "push without __name__: the name is derived (memory)" "$([ "${r%% *}" = 200 ] &&
	[ "$(ct_sql -c "SELECT DISTINCT name FROM coll_profiles WHERE service = 'push-derived'")" = memory ] && echo 1 || echo 0)" "$r"
r=$(push -label service_name=push-bad "$CT_WORK/text.txt")
check "push with a bad profile -> 400 invalid_argument" "$(grep -q '^400 {"code":"invalid_argument"' <<<"$r" && echo 1 || echo 0)" "$r"
r=$(push -raw "$CT_WORK/text.txt")
check "push with a malformed proto body -> invalid_argument" "$(grep -q '^400 {"code":"invalid_argument"' <<<"$r" && echo 1 || echo 0)" "$r"
r=$(push -json -raw "$CT_WORK/text.txt")
check "push with malformed JSON -> invalid_argument" "$(grep -q '^400 {"code":"invalid_argument"' <<<"$r" && echo 1 || echo 0)" "$r"
r=$(push -gzip -raw "$CT_WORK/text.txt" -content-type application/proto)
check "push gzip of a malformed body -> invalid_argument" "$(grep -q '^400 {"code":"invalid_argument"' <<<"$r" && echo 1 || echo 0)" "$r"
r=$(push -content-type text/plain -raw "$CT_WORK/text.txt")
check "push with an unknown Content-Type -> 415" "$([ "${r%% *}" = 415 ] && echo 1 || echo 0)" "$r"

# batching: concurrent uploads share transactions, and are acknowledged fast
tx0=$(ct_metric "$PA" pg_pprof_collector_transactions_total)
pr0=$(ct_metric "$PA" pg_pprof_collector_transaction_profiles_total)
batch_pids=()
for i in $(seq 24); do
	curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 20 --data-binary @"$EX/cpu_$(( i % 3 + 1 )).pb.gz" \
		"$A/ingest?name=batch-app&format=pprof" >"$CT_WORK/batch.$i" &
	batch_pids+=($!)
done
wait "${batch_pids[@]}"
tx1=$(ct_metric "$PA" pg_pprof_collector_transactions_total)
pr1=$(ct_metric "$PA" pg_pprof_collector_transaction_profiles_total)
codes=$(cat "$CT_WORK"/batch.* | awk '$1 == 200' | wc -l)
slowest=$(cat "$CT_WORK"/batch.* | awk '{ if ($2 > m) m = $2 } END { print m }')
check "24 concurrent uploads: all acknowledged, in fewer transactions ($((pr1 - pr0)) profiles in $((tx1 - tx0)))" \
	"$([ "$codes" = 24 ] && [ $((pr1 - pr0)) = 24 ] && [ $((tx1 - tx0)) -lt 24 ] && echo 1 || echo 0)"
check "... the slowest acknowledged in ${slowest}s (batch_max_delay is 100 ms)" \
	"$(awk -v s="$slowest" 'BEGIN { exit !(s < 3) }' && echo 1 || echo 0)"
check "the file-descriptor limit was raised for max_connections (4096)" \
	"$(grep -o 'nofile=[0-9]*' "$CT_WORK/a.log" | head -1 | awk -F= '$2 >= 4352 { ok = 1 } END { print ok ? 1 : 0 }')" \
	"$(grep -o 'nofile=[0-9]*' "$CT_WORK/a.log" | head -1)"

# ------------------------------------------------------------------ hostile clients
step "hostile clients"
r=$(timeout 120 "$TOOL" garbage -url "$A" -n 200 -seed 7 "$EX/cpu_1.pb.gz" "$EX/heap.pb.gz" "$CT_WORK/cpu_2.raw.pb" 2>&1)
check "200 random and mangled bodies: answered (never 5xx, no dropped connection)" \
	"$(grep -q 'status_0=\|status_500=' <<<"$r" && echo 0 || echo 1)" "$r"
r=$(timeout 30 "$TOOL" slowloris -addr "127.0.0.1:$PA" -mode headers -every 300ms -max 20s 2>&1)
secs=$(sed -n 's/.*closed_after_seconds=\([0-9.]*\).*/\1/p' <<<"$r")
check "slow-loris trickling headers is cut within request_timeout (4 s) plus a second" \
	"$([ -n "$secs" ] && awk -v s="$secs" 'BEGIN { exit !(s <= 6.5) }' && echo 1 || echo 0)" "$r"
r=$(timeout 30 "$TOOL" slowloris -addr "127.0.0.1:$PA" -mode body -every 300ms -max 20s 2>&1)
secs=$(sed -n 's/.*closed_after_seconds=\([0-9.]*\).*/\1/p' <<<"$r")
check "slow-loris trickling a body is cut (408 or closed) within request_timeout plus a second" \
	"$([ -n "$secs" ] && awk -v s="$secs" 'BEGIN { exit !(s <= 6.5) }' && echo 1 || echo 0)" "$r"
r=$(timeout 60 "$TOOL" idle -addr "127.0.0.1:$PA" -n 1000 -hold 5s -upload "$EX/cpu_1.pb.gz" 2>&1)
check "1,000 idle connections: all accepted" "$(grep -q 'opened=1000 ' <<<"$r" && echo 1 || echo 0)" "$r"
check "1,000 idle connections: /ready still answers within a second" \
	"$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^ready_ms=/) { split($i, a, "="); ms = a[2] } }
		/ready_status=200/ && ms < 1000 { ok = 1 } END { print ok ? 1 : 0 }' <<<"$r")" "$r"
check "1,000 idle connections: an upload is still stored" "$(grep -q 'upload_status=200' <<<"$r" && echo 1 || echo 0)" "$r"
check "1,000 idle connections: closed by the server after idle_timeout (bounded)" \
	"$(grep -q 'closed_by_server=1000' <<<"$r" && echo 1 || echo 0)" "$r"
check "collector A survived the hostile clients" "$(ok_if ct_alive a)"
check "no refused upload stored a row" "$([ "$(ct_sql -c "SELECT count(*) FROM coll_profiles
	WHERE service IN ('push-bad', 'bad-profile', 'big', 'slow')")" = 0 ] && echo 1 || echo 0)"
check "collector A still stores uploads" "$([ "$(ct_status --data-binary @"$EX/cpu_3.pb.gz" \
	"$A/ingest?name=after-hostile&format=pprof")" = 200 ] && echo 1 || echo 0)"

# ------------------------------------------------------------------ Node SDK
step "Node SDK (@pyroscope/nodejs 0.6.4), ~25 s"
if [ "$node_ready" = 1 ]; then
	node_t0=$(date +%s.%N)
	(cd "$NODE_DIR" && COLLECTOR_URL=$A APP_NAME=node-shop DURATION_S=25 FLUSH_MS=5000 \
		timeout 90 node app.js) >"$CT_WORK/node.log" 2>&1
	node_rc=$?
	node_t1=$(date +%s.%N)
	check "the Node app ran and stopped cleanly" "$([ $node_rc = 0 ] && echo 1 || echo 0)" "$(tail -3 "$CT_WORK/node.log")"
	got=$(ct_sql -c "SELECT string_agg(DISTINCT name || ':' || sample_type, ',' ORDER BY name || ':' || sample_type)
		FROM coll_profiles WHERE service = 'node-shop'")
	check "Node rows: wall (samples, wall) and memory (inuse_objects, inuse_space)" \
		"$([ "$got" = "memory:inuse_objects,memory:inuse_space,wall:samples,wall:wall" ] && echo 1 || echo 0)" "$got"
	got=$(ct_sql -c "SELECT bool_and(labels @> '{\"env\":\"test\",\"region\":\"eu\",\"pyroscope_spy\":\"nodespy\"}')
		|| ' ' || bool_or(labels->>'endpoint' = '/hot') FROM coll_profiles WHERE service = 'node-shop'")
	check "Node rows: tags as labels, wrapWithLabels' endpoint label splits rows" "$([ "$got" = "true true" ] && echo 1 || echo 0)" "$got"
	got=$(ct_sql -c "SELECT bool_and(time BETWEEN to_timestamp($node_t0) - interval '2 s' AND to_timestamp($node_t1) + interval '2 s'),
		count(DISTINCT time) FROM coll_profiles WHERE service = 'node-shop'")
	check "Node rows: times inside the run, several uploads" "$(awk -F'|' '$1 == "t" && $2 >= 6 { ok = 1 } END { print ok ? 1 : 0 }' <<<"$got")" "$got"
	got=$(ct_sql -c "SELECT function FROM profile_top((SELECT profile_merge(profile) FROM coll_profiles
		WHERE service = 'node-shop' AND name = 'wall' AND sample_type = 'wall'), 1)")
	check "profile_top of the merged wall profile names the hot function" "$(grep -q hotFunctionForTest <<<"$got" && echo 1 || echo 0)" "$got"
else
	skip "Node SDK push" "Node.js $PP_NODE_VERSION or the npm packages could not be installed from the npm registry"
fi

# ------------------------------------------------------------------ Go scrape
step "Go scrape: waiting for ~42 s of scraping"
while [ $((SECONDS - t_scrape)) -lt 42 ]; do sleep 1; done
# stop scraping with a reload to a config without targets (SIGHUP)
ct_write_conf "$CONF_A" "$PA" coll_profiles "$CT_WORK/spool-a" \
	"max_body_bytes = 1MB" "request_timeout = 4s" "idle_timeout = 3s"
kill -HUP "$(ct_pid a)"
for i in $(seq 50); do grep -q 'event=reload targets=0 loops=0' "$CT_WORK/a.log" && break; sleep 0.1; done
check "SIGHUP reloads the scrape targets (one line for the reload)" \
	"$([ "$(grep -c 'event=reload ' "$CT_WORK/a.log")" = 1 ] && grep -q 'event=reload targets=0 loops=0' "$CT_WORK/a.log" && echo 1 || echo 0)"
sleep 1
ct_wait_metric "$PA" pg_pprof_collector_inflight_requests 0 5 >/dev/null
got=$(ct_sql -c "SELECT string_agg(DISTINCT name, ',' ORDER BY name) FROM coll_profiles WHERE service = 'go-scrape'")
check "scraped: process_cpu, memory (allocs), mutex, block and goroutine rows arrive" \
	"$([ "$got" = "block,goroutine,memory,mutex,process_cpu" ] && echo 1 || echo 0)" "$got"
got=$(ct_sql -c "SELECT count(DISTINCT time) FROM coll_profiles WHERE service = 'go-scrape' AND name = 'process_cpu'")
check "scraped: about one CPU profile per 10 s interval (3 to 5 in ~42 s)" "$([ "${got:-0}" -ge 3 ] && [ "${got:-0}" -le 5 ] && echo 1 || echo 0)" "$got"
got=$(ct_sql -c "SELECT count(*) FROM coll_profiles c, profile_stacks(c.profile) s WHERE c.service = 'go-scrape'
	AND c.sample_type IN ('alloc_objects', 'alloc_space', 'contentions', 'delay') AND s.value < 0")
check "delta types are never negative" "$([ "$got" = 0 ] && echo 1 || echo 0)" "$got"
check "scraped rows carry the target's labels and instance" "$([ "$(ct_sql -c "SELECT bool_and(labels @> '{\"env\":\"test\",\"team\":\"core\",\"instance\":\"$GO_ADDR\"}')
	FROM coll_profiles WHERE service = 'go-scrape'")" = t ] && echo 1 || echo 0)"
# the Go app saved every cumulative profile it served; the collector's deltas of
# scrapes 2..k must sum to scrape k minus scrape 1 (the first only primes)
chmod -R a+rX "$GO_SAVE"
for kind in allocs mutex block; do
	name=$kind; [ "$kind" = allocs ] && name=memory
	k=$(ct_sql -c "SELECT count(DISTINCT time) FROM coll_profiles WHERE service = 'go-scrape' AND name = '$name'")
	first=$GO_SAVE/$kind-0001.pb.gz
	last=$GO_SAVE/$(printf '%s-%04d.pb.gz' "$kind" $((k + 1)))
	if [ "${k:-0}" -lt 2 ] || [ ! -f "$last" ]; then
		check "$kind: at least two deltas after the priming scrape" 0 "k=$k"
		continue
	fi
	got=$(ct_sql <<SQL
WITH firstp AS (SELECT sample_type, sum(profile_total(profile)) t FROM pprof_split(pg_read_binary_file('$first')) GROUP BY 1),
     lastp AS (SELECT sample_type, sum(profile_total(profile)) t FROM pprof_split(pg_read_binary_file('$last')) GROUP BY 1),
     stored AS (SELECT sample_type, sum(profile_total(profile)) t FROM coll_profiles
                WHERE service = 'go-scrape' AND name = '$name' GROUP BY 1)
SELECT string_agg(l.sample_type || '=' || (l.t - f.t = s.t)::text || '(' || s.t || ')', ' ' ORDER BY l.sample_type)
FROM lastp l JOIN firstp f USING (sample_type) JOIN stored s USING (sample_type)
WHERE l.sample_type IN ('alloc_objects', 'alloc_space', 'contentions', 'delay')
SQL
)
	check "$kind: each delta type's deltas sum to the last scrape minus the first ($k deltas)" \
		"$([ -n "$got" ] && ! grep -q '=false' <<<"$got" && echo 1 || echo 0)" "$got"
	first_time=$(ct_sql -c "SELECT min((profile_info(profile)->>'start_time')) FROM pprof_split(pg_read_binary_file('$first'))")
	check "$kind: the first scrape only primes (not stored)" "$([ "$(ct_sql -c "SELECT count(*) FROM coll_profiles
		WHERE service = 'go-scrape' AND name = '$name' AND time = '$first_time'")" = 0 ] && echo 1 || echo 0)"
done
check "inuse types of allocs pass unchanged (not deltas)" "$([ "$(ct_sql -c "SELECT count(*) FROM coll_profiles
	WHERE service = 'go-scrape' AND name = 'memory' AND sample_type = 'inuse_space' AND profile_total(profile) > 0")" -ge 1 ] && echo 1 || echo 0)"
check "a broken target's errors are counted (content_type, http_error) and never stop the loops" \
	"$([ "$(grep -c 'event=scrape_failed .*service=go-broken' "$CT_WORK/a.log")" -ge 4 ] &&
	grep -q 'result=content_type' "$CT_WORK/a.log" && grep -q 'result=http_error' "$CT_WORK/a.log" && echo 1 || echo 0)"
slow=$(curl -s "$A/metrics" | sed -n 's/^pg_pprof_collector_scrapes_total{service="go-slow",profile="goroutine",result="timeout"} //p')
check "a target slower than its timeout is cut off, counted and scraped again (timeouts: ${slow:-none})" \
	"$([ "${slow:-0}" -ge 3 ] && echo 1 || echo 0)" "${slow:-none}"
check "scrape counters survive the reload in /metrics" "$(curl -s "$A/metrics" | grep -q '^pg_pprof_collector_scrapes_total{service="go-scrape",profile="cpu",result="ok"} [3-5]$' && echo 1 || echo 0)"

# ------------------------------------------------------------------ metrics, stop A
step "metrics and a clean stop"
m=$(curl -s "$A/metrics")
for name in pg_pprof_collector_requests_total pg_pprof_collector_profiles_stored_total \
	pg_pprof_collector_rows_stored_total pg_pprof_collector_rejected_total pg_pprof_collector_received_bytes_total \
	pg_pprof_collector_spool_entries pg_pprof_collector_ack_latency_seconds_bucket; do
	check "GET /metrics has $name" "$(grep -q "^$name" <<<"$m" && echo 1 || echo 0)"
done
check "rejections are counted by reason" "$(grep -q 'rejected_total{reason="bad_name"} [1-9]' <<<"$m" &&
	grep -q 'rejected_total{reason="too_large"} [1-9]' <<<"$m" && grep -q 'rejected_total{reason="invalid_profile"} [1-9]' <<<"$m" &&
	echo 1 || echo 0)"
ct_stop a; rc=$CT_RC
check "SIGTERM: collector A exits 0" "$([ "$rc" = 0 ] && echo 1 || echo 0)" "exit $rc"
check "one log line per start and per stop" "$([ "$(grep -c 'event=start ' "$CT_WORK/a.log")" = 1 ] &&
	[ "$(grep -c 'event=stop ' "$CT_WORK/a.log")" = 1 ] && [ "$(grep -c 'event=\(start\|stop\|stopping\)' "$CT_WORK/a.log")" = 2 ] &&
	grep -q 'event=stop signal=SIGTERM drained=true' "$CT_WORK/a.log" && echo 1 || echo 0)"
if ct_alive goapp; then kill -TERM "$(ct_pid goapp)"; fi

# ------------------------------------------------------------------ durability: PostgreSQL down
step "durability: PostgreSQL stopped and started while the Node app pushes"
if [ "$node_ready" = 1 ]; then
	PD=$(ct_free_port 4100)
	ct_write_conf "$CT_WORK/d.conf" "$PD" coll_durable "$CT_WORK/spool-d"
	ct_start d "$CT_WORK/d.conf"
	ct_wait_up "$PD" || failed_early "collector D did not start"
	timeout 120 "$TOOL" proxy -listen 127.0.0.1:0 -target "http://127.0.0.1:$PD" -log "$CT_WORK/proxy.log" \
		>"$CT_WORK/proxy.addr" 2>"$CT_WORK/proxy.err" &
	echo $! >"$CT_WORK/proxy.pid"; CT_PIDS+=("$!")
	for i in $(seq 50); do [ -s "$CT_WORK/proxy.addr" ] && break; sleep 0.1; done
	PROXY=$(head -1 "$CT_WORK/proxy.addr")
	(cd "$NODE_DIR" && COLLECTOR_URL=http://$PROXY APP_NAME=node-durable DURATION_S=30 FLUSH_MS=5000 \
		DEBUG=pyroscope timeout 120 node app.js) >"$CT_WORK/node-durable.log" 2>&1 &
	node_pid=$!; CT_PIDS+=("$node_pid")
	sleep 7
	down_at=$(date -u +%Y-%m-%dT%H:%M:%S.%N)
	ct_pg_stop
	sleep 12
	up_at=$(date -u +%Y-%m-%dT%H:%M:%S.%N)
	ct_pg_start || failed_early "could not start the cluster again"
	wait "$node_pid"
	node_rc=$?
	ct_wait_spool_empty "$PD" 30
	check "the Node app pushed through the outage and stopped cleanly" "$([ $node_rc = 0 ] && echo 1 || echo 0)" "$(tail -3 "$CT_WORK/node-durable.log")"
	acks=$(grep -c '"path":"/ingest".*"status":200' "$CT_WORK/proxy.log")
	refused=$(grep '"path":"/ingest"' "$CT_WORK/proxy.log" | grep -vc '"status":200')
	during=$(awk -v a="$down_at" -v b="$up_at" -F'"time":"' '/"path":"\/ingest"/ { t = substr($2, 1, 29); if (t >= a && t <= b && $0 ~ /"status":200/) n++ } END { print n + 0 }' "$CT_WORK/proxy.log")
	check "every upload was acknowledged (counting proxy: $acks acks, $refused refused)" "$([ "$acks" -ge 10 ] && [ "$refused" = 0 ] && echo 1 || echo 0)"
	check "uploads during the outage were acknowledged from the spool ($during while PostgreSQL was down)" \
		"$([ "$during" -ge 2 ] && [ "$(ct_metric "$PD" pg_pprof_collector_spooled_requests_total)" -ge 2 ] && echo 1 || echo 0)" \
		"spooled=$(ct_metric "$PD" pg_pprof_collector_spooled_requests_total)"
	check "the client's debug log shows no failed upload" "$(grep -q 'rejected\|Error sending' "$CT_WORK/node-durable.log" && echo 0 || echo 1)"
	got=$(ct_sql -c "SELECT count(DISTINCT (name, time)) FROM coll_durable WHERE service = 'node-durable'")
	check "every acknowledged upload is stored exactly once ($got stored, $acks acked)" "$([ "$got" = "$acks" ] && echo 1 || echo 0)"
	got=$(ct_sql -c "SELECT count(*) FROM (SELECT 1 FROM coll_durable GROUP BY name, time, sample_type, labels HAVING count(*) > 1) d")
	check "nothing is stored twice" "$([ "$got" = 0 ] && echo 1 || echo 0)" "$got duplicated rows"
	check "the spool is empty after the replay" "$([ "$(ct_metric "$PD" pg_pprof_collector_spool_entries)" = 0 ] && echo 1 || echo 0)"
	kill -TERM "$(ct_pid proxy)" 2>/dev/null
	ct_stop d; rc=$CT_RC
	check "SIGTERM: collector D exits 0" "$([ "$rc" = 0 ] && echo 1 || echo 0)" "exit $rc"
else
	skip "durability with the Node app" "Node.js or the npm packages could not be installed"
fi

# ------------------------------------------------------------------ durability: SIGKILL during replay
step "durability: SIGKILL during a replay, and a replay after COMMIT"
PK=$(ct_free_port 4100)
SPOOL_K=$CT_WORK/spool-k
ct_write_conf "$CT_WORK/k.conf" "$PK" coll_replay "$SPOOL_K" "replay_max_per_second = 40"
ct_start k "$CT_WORK/k.conf"
ct_wait_up "$PK" || failed_early "collector K did not start"
M=60 acked=0 expected=0
declare -A file_rows
for f in cpu_1.pb.gz cpu_2.pb.gz cpu_3.pb.gz; do file_rows[$f]=$(rows_of "$f"); done
for i in $(seq $M); do f=cpu_$(( (i - 1) % 3 + 1 )).pb.gz; expected=$((expected + file_rows[$f])); done
ct_pg_stop
for i in $(seq $M); do
	f=cpu_$(( (i - 1) % 3 + 1 )).pb.gz
	[ "$(ct_status --data-binary @"$EX/$f" "http://127.0.0.1:$PK/ingest?name=replay-app{n=$(printf %03d "$i")}&format=pprof")" = 200 ] &&
		acked=$((acked + 1))
done
check "all $M uploads acknowledged while PostgreSQL is down" "$([ "$acked" = $M ] && echo 1 || echo 0)" "$acked acked"
check "they sit in the spool, fsync'd entries" "$([ "$(ls "$SPOOL_K"/*.spool 2>/dev/null | wc -l)" = $M ] && echo 1 || echo 0)"
for i in $(seq 30); do [ "$(ct_status "http://127.0.0.1:$PK/ready")" = 503 ] && break; sleep 0.2; done
check "GET /ready answers 503 while PostgreSQL is down" "$([ "$(ct_status "http://127.0.0.1:$PK/ready")" = 503 ] && echo 1 || echo 0)"
mkdir -p "$CT_WORK/spool-copy" && cp "$SPOOL_K"/*.spool "$CT_WORK/spool-copy/"
ct_pg_start || failed_early "could not start the cluster again"
for i in $(seq 200); do
	n=$(ls "$SPOOL_K"/*.spool 2>/dev/null | wc -l)
	[ "$n" -lt $((M - 10)) ] && break
	sleep 0.05
done
ct_kill9 k
left=$(ls "$SPOOL_K"/*.spool 2>/dev/null | wc -l)
check "SIGKILL landed mid-replay ($left of $M entries left)" "$([ "$left" -gt 0 ] && [ "$left" -lt $M ] && echo 1 || echo 0)"
ct_start k "$CT_WORK/k.conf"
ct_wait_up "$PK" || failed_early "collector K did not restart"
ct_wait_spool_empty "$PK" 30
got=$(ct_sql -c "SELECT count(*) FROM coll_replay WHERE service = 'replay-app'")
check "after the restart every acknowledged upload is stored exactly once ($got rows, $expected expected)" "$([ "$got" = "$expected" ] && echo 1 || echo 0)"
# a crash between COMMIT and unlink leaves entries that were stored: put three back
for f in $(ls "$CT_WORK"/spool-copy/*.spool | head -3); do cp "$f" "$SPOOL_K"/; done
ct_stop k; rc=$CT_RC
ct_start k "$CT_WORK/k.conf"
ct_wait_up "$PK" || failed_early "collector K did not restart"
ct_wait_spool_empty "$PK" 30
got=$(ct_sql -c "SELECT count(*) FROM coll_replay WHERE service = 'replay-app'")
check "replaying entries already committed stores nothing (request ids)" "$([ "$got" = "$expected" ] &&
	[ "$(ls "$SPOOL_K"/*.spool 2>/dev/null | wc -l)" = 0 ] && echo 1 || echo 0)" "$got rows"
got=$(ct_sql -c "SELECT count(*) FROM (SELECT labels->>'n' n, min(xmin::text::bigint) x FROM coll_replay
	WHERE service = 'replay-app' GROUP BY 1) s WHERE EXISTS (SELECT 1 FROM coll_replay c
	WHERE c.service = 'replay-app' AND c.labels->>'n' < s.n AND c.xmin::text::bigint > s.x)")
check "the spool was replayed in order (entries older than a stored one were stored before it)" "$([ "$got" = 0 ] && echo 1 || echo 0)" "$got out of order"
check "the replay logged its start and end" "$(grep -q 'event=spool_replay_started' "$CT_WORK/k.log" &&
	grep -q 'event=spool_replayed' "$CT_WORK/k.log" && echo 1 || echo 0)"
# the spool cap: past spool_max_bytes, PostgreSQL down -> 503
ct_stop k; rc=$CT_RC
ct_write_conf "$CT_WORK/k.conf" "$PK" coll_replay "$CT_WORK/spool-cap" "spool_max_bytes = 30kB"
ct_start k "$CT_WORK/k.conf"
ct_wait_up "$PK" || failed_early "collector K did not restart"
ct_pg_stop
codes=""
for i in 1 2 3 4; do codes+="$(ct_status --data-binary @"$EX/cpu_1.pb.gz" "http://127.0.0.1:$PK/ingest?name=cap-app&format=pprof") "; done
ct_pg_start || failed_early "could not start the cluster again"
check "spool cap: entries past spool_max_bytes get 503 while PostgreSQL is down" "$([ "$codes" = "200 200 503 503 " ] && echo 1 || echo 0)" "$codes"
ct_wait_spool_empty "$PK" 30
ct_stop k; rc=$CT_RC
check "SIGTERM: collector K exits 0" "$([ "$rc" = 0 ] && echo 1 || echo 0)" "exit $rc"

# ------------------------------------------------------------------ auth and tenants
step "credentials, tenants and row-level security"
PT=$(ct_free_port 4100)
T=http://127.0.0.1:$PT
ct_write_conf "$CT_WORK/t.conf" "$PT" coll_tenant "$CT_WORK/spool-t" "tenants = on" \
	"basic_auth_user = pusher" "basic_auth_password = s3cret-pass" "bearer_token = tok-123456"
chmod 600 "$CT_WORK/t.conf"
ct_start t "$CT_WORK/t.conf"
ct_wait_up "$PT" || failed_early "collector T did not start: $(tail -3 "$CT_WORK/t.log")"
up() { ct_status --data-binary @"$EX/cpu_1.pb.gz" "$T/ingest?name=tenant-app&format=pprof" "$@"; }
check "no credentials -> 401" "$([ "$(up -H 'X-Scope-OrgID: team_a')" = 401 ] && echo 1 || echo 0)"
check "wrong Basic password -> 401" "$([ "$(up -u pusher:wrong -H 'X-Scope-OrgID: team_a')" = 401 ] && echo 1 || echo 0)"
check "wrong Basic user -> 401" "$([ "$(up -u someone:s3cret-pass -H 'X-Scope-OrgID: team_a')" = 401 ] && echo 1 || echo 0)"
check "wrong Bearer token -> 401" "$([ "$(up -H 'Authorization: Bearer tok-12345' -H 'X-Scope-OrgID: team_a')" = 401 ] && echo 1 || echo 0)"
check "push with wrong credentials -> 401 unauthenticated" "$(r=$(timeout 20 "$TOOL" push -url "$T" -label service_name=x "$EX/cpu_1.pb.gz"); grep -q '^401 {"code":"unauthenticated"' <<<"$r" && echo 1 || echo 0)"
check "right credentials without X-Scope-OrgID -> 401" "$([ "$(up -u pusher:s3cret-pass)" = 401 ] && echo 1 || echo 0)"
check "an invalid X-Scope-OrgID -> 400" "$([ "$(up -u pusher:s3cret-pass -H 'X-Scope-OrgID: a/b')" = 400 ] && echo 1 || echo 0)"
check "right Basic credentials, tenant team_b -> 200" "$([ "$(up -u pusher:s3cret-pass -H 'X-Scope-OrgID: team_b')" = 200 ] && echo 1 || echo 0)"
check "right Bearer token, tenant team_b -> 200" "$([ "$(up -H 'Authorization: Bearer tok-123456' -H 'X-Scope-OrgID: team_b')" = 200 ] && echo 1 || echo 0)"
if [ "$node_ready" = 1 ]; then
	(cd "$NODE_DIR" && COLLECTOR_URL=$T APP_NAME=tenant-node DURATION_S=6 FLUSH_MS=2000 TENANT_ID=team_a \
		BASIC_USER=pusher BASIC_PASSWORD=s3cret-pass timeout 60 node app.js) >"$CT_WORK/node-tenant.log" 2>&1
	check "the Node SDK with basicAuth and tenantID stores team_a's rows" \
		"$([ "$(ct_sql -c "SELECT count(*) > 0 FROM coll_tenant WHERE tenant = 'team_a' AND service = 'tenant-node'")" = t ] && echo 1 || echo 0)"
else
	curl -s -o /dev/null --max-time 20 -u pusher:s3cret-pass -H 'X-Scope-OrgID: team_a' --data-binary @"$EX/cpu_2.pb.gz" "$T/ingest?name=tenant-node&format=pprof"
	skip "the Node SDK with basicAuth and tenantID" "Node.js could not be installed (team_a's rows came from curl)"
fi
got=$(PGOPTIONS="-c role=team_a" ct_sql -c "SELECT string_agg(DISTINCT tenant, ',') FROM coll_tenant")
check "RLS: team_a sees only team_a's rows" "$([ "$got" = team_a ] && echo 1 || echo 0)" "$got"
got=$(PGOPTIONS="-c role=team_b" ct_sql -c "SELECT string_agg(DISTINCT tenant, ',') FROM coll_tenant")
check "RLS: team_b sees only team_b's rows" "$([ "$got" = team_b ] && echo 1 || echo 0)" "$got"
check "both tenants' rows are there for the table owner" "$([ "$(ct_sql -c "SELECT count(DISTINCT tenant) FROM coll_tenant")" = 2 ] && echo 1 || echo 0)"
ct_stop t; rc=$CT_RC
check "SIGTERM: collector T exits 0" "$([ "$rc" = 0 ] && echo 1 || echo 0)" "exit $rc"
check "the credentials never appear in the log" "$(grep -q 's3cret-pass\|tok-123456' "$CT_WORK/t.log" && echo 0 || echo 1)"

# ------------------------------------------------------------------ least privilege
step "least privilege"
got=$(ct_sql <<SQL
SELECT string_agg(table_name || ':' || privilege_type, ',' ORDER BY table_name, privilege_type)
FROM information_schema.role_table_grants WHERE grantee = '$CT_ROLE'
SQL
)
check "the collector's role has INSERT on its tables and on pprof_ingest_requests, nothing else" \
	"$([ "$got" = "coll_durable:INSERT,coll_profiles:INSERT,coll_replay:INSERT,coll_tenant:INSERT,pprof_ingest_requests:INSERT" ] && echo 1 || echo 0)" "$got"
got=$(ct_sql <<SQL
SELECT string_agg(table_name || '.' || column_name || ':' || privilege_type, ',' ORDER BY 1)
FROM information_schema.column_privileges WHERE grantee = '$CT_ROLE' AND privilege_type <> 'INSERT'
SQL
)
check "... plus SELECT on pprof_ingest_requests.request_id only (what ON CONFLICT reads)" \
	"$([ "$got" = "pprof_ingest_requests.request_id:SELECT" ] && echo 1 || echo 0)" "$got"
got=$(ct_sql -c "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls FROM pg_roles WHERE rolname = '$CT_ROLE'")
check "... and no superuser, CREATEDB, CREATEROLE or BYPASSRLS" "$([ "$got" = f ] && echo 1 || echo 0)"
got=$(PGOPTIONS="-c role=$CT_ROLE" pp_psql -Atq -c "SELECT count(*) FROM coll_profiles" 2>&1)
check "... so it cannot read the profiles it writes" "$(grep -q 'permission denied' <<<"$got" && echo 1 || echo 0)" "$got"
check "every collector above ran as that role" "$(grep -q "user=$CT_ROLE" "$CT_WORK/a.conf" && echo 1 || echo 0)"

# ------------------------------------------------------------------ lifecycle
step "lifecycle"
PL=$(ct_free_port 4100)
ct_write_conf "$CT_WORK/l.conf" "$PL" coll_profiles "$CT_WORK/spool-l" "max_inflight = 1"
ct_start l "$CT_WORK/l.conf"
ct_wait_up "$PL" || failed_early "collector L did not start"
curl -s -o "$CT_WORK/slow.body" -w '%{http_code}' --max-time 30 --limit-rate 3K --data-binary @"$EX/cpu_1.pb.gz" \
	"http://127.0.0.1:$PL/ingest?name=drain-app&format=pprof" >"$CT_WORK/slow.code" &
slow_pid=$!
sleep 1
check "past max_inflight concurrent requests -> 429" "$([ "$(ct_status --data-binary @"$EX/cpu_2.pb.gz" \
	"http://127.0.0.1:$PL/ingest?name=too-many&format=pprof")" = 429 ] && echo 1 || echo 0)"
sleep 0.5
ct_stop l 30; rc=$CT_RC
wait "$slow_pid"
check "SIGTERM drains an upload in flight: it is answered 200" "$([ "$(cat "$CT_WORK/slow.code")" = 200 ] && echo 1 || echo 0)" "$(cat "$CT_WORK/slow.code")"
check "... stored, and the collector exits 0" "$([ "$rc" = 0 ] && [ "$(ct_sql -c "SELECT count(*) > 0 FROM coll_profiles WHERE service = 'drain-app'")" = t ] && echo 1 || echo 0)" "exit $rc"
check "start and stop each logged one line" "$([ "$(grep -c 'event=start ' "$CT_WORK/l.log")" = 1 ] &&
	grep -q 'event=stop .*drained=true' "$CT_WORK/l.log" && echo 1 || echo 0)"
out=$("$CT_BIN" --dsn "host=x password=secret" 2>&1); rc=$?
check "--dsn with a password is refused (the command line is public)" "$([ $rc = 2 ] && grep -q 'must not carry a password' <<<"$out" && ! grep -q secret <<<"$out" && echo 1 || echo 0)" "$out"
printf 'listen = 127.0.0.1:1\nno_such_key = 1\n' >"$CT_WORK/bad.conf"
out=$("$CT_BIN" --config "$CT_WORK/bad.conf" 2>&1); rc=$?
check "an unknown config key is refused with its line number" "$([ $rc = 2 ] && grep -q 'bad.conf:2: unknown key' <<<"$out" && echo 1 || echo 0)" "$out"
out=$("$CT_BIN" --config "$CT_WORK/a.conf" --check-config 2>&1); rc=$?
check "--check-config accepts a good file" "$([ $rc = 0 ] && echo 1 || echo 0)" "$out"
ct_write_conf "$CT_WORK/m.conf" "$(ct_free_port 4100)" no_such_table "$CT_WORK/spool-m"
out=$(timeout 20 "$CT_BIN" --config "$CT_WORK/m.conf" 2>&1); rc=$?
check "a missing table stops the start with one clear error" "$([ $rc = 1 ] && grep -q 'event=table_unusable' <<<"$out" && echo 1 || echo 0)" "$out"

echo "collector: took $((SECONDS - t_start)) s; $CT_SKIPPED skipped"
echo "collector: $CT_PASSED passed, $CT_FAILED failed"
[ "$CT_FAILED" = 0 ]
