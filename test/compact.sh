#!/usr/bin/env bash
# test/compact.sh: profile_compact under concurrent inserts and kill -9, and
# retention with the real tools: a pg_partman daily-partitioned table whose
# maintenance drops old partitions, and a pg_cron job that compacts.
#
#   concurrent  a compaction while another session inserts late rows into
#               the buckets being packed and new ones: no row is lost or
#               counted twice, and the table stays exact
#   kill -9     the compacting backend is killed at several moments; after
#               crash recovery every bucket holds either its raw rows or
#               its packed row, never both and never neither, and a new
#               run finishes the job exactly
#   partman     create_parent(..., 'native', 'daily'), retention 7 days:
#               run_maintenance drops the old partitions; compaction runs
#               on the partitioned table
#   cron        cron.schedule_in_database runs CALL profile_compact each
#               minute; the test waits for one run in cron.job_run_details
#   week        bench/longwindow.sh's workload: 10,080 CPU profiles derived
#               from real ones by bench/genprofiles, one a minute, compacted
#               hourly: 23 windows over the packed table and over one with
#               its last 12 hours raw equal the raw table's, and unpacking
#               every packed row gives back all 10,080 sources
#
# Expects the private cluster (scripts/test.sh starts it with pg_cron in
# shared_preload_libraries; this script restarts it if not) and the staged
# examples.  Prints ok/FAIL lines and "compact: N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PP_ROOT"
passed=0 failed=0
DB=pprof_compact

# Record one check: check NAME OK [detail]
check() {
	if [ "$2" = 1 ]; then passed=$((passed + 1)); echo "ok   $1${3:+ ($3)}"
	else failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"; fi
}

finish() {
	echo "compact: $passed passed, $failed failed"
	[ "$failed" = 0 ]
	exit
}

# psql on the test database, quiet, one value per line; 30 s per statement.
q() { PGOPTIONS='-c client_min_messages=warning -c statement_timeout=30s' pp_psql -d "$DB" -qAt "$@"; }

# Wait until the server accepts connections again (after a crash restart).
wait_ready() {
	local i
	for i in $(seq 1 60); do
		pp_psql -d postgres -qAtc 'SELECT 1' >/dev/null 2>&1 && return 0
		sleep 0.5
	done
	return 1
}

pp_install_deps || { check "install the Debian packages" 0; finish; }
pp_start_cluster || { check "start the cluster" 0; finish; }
if ! pp_psql -d postgres -qAtc 'SHOW shared_preload_libraries' | grep -q pg_cron; then
	pp_say "restarting the cluster with pg_cron preloaded"
	pp_stop_cluster
	pp_start_cluster || { check "restart the cluster with pg_cron" 0; finish; }
fi
check "pg_cron is preloaded" "$(pp_psql -d postgres -qAtc 'SHOW shared_preload_libraries' | grep -qw pg_cron && echo 1 || echo 0)"
pp_psql -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" ||
	{ check "create database $DB" 0; finish; }

# --- the data: six services, one profile a minute, 48 hours three days ago ---
q -v ex="$PP_EXAMPLES" <<'SQL' || { check "load the profiles" 0; finish; }
CREATE EXTENSION pg_pprof;
CREATE TABLE src AS SELECT i, profile_from_pprof(pg_read_binary_file(:'ex' || '/cpu_' || i || '.pb.gz')) AS p
FROM generate_series(1, 3) i;
CREATE TABLE series (id bigserial PRIMARY KEY, service text NOT NULL, labels jsonb NOT NULL DEFAULT '{}',
                     time timestamptz NOT NULL, profile profile NOT NULL);
CREATE INDEX ON series (time);
-- every row ever written, for the exactness checks (profiles are rebuilt from src)
CREATE TABLE written (service text, time timestamptz, i int);
CREATE FUNCTION load_raw(n_hours int) RETURNS void LANGUAGE sql AS $$
	TRUNCATE series, written;
	INSERT INTO written
	SELECT s, date_bin('1 day', now(), timestamptz '1970-01-01 00:00+00') - interval '3 days' + m * interval '1 minute',
	       (m + length(s)) % 3 + 1
	FROM generate_series(0, n_hours * 60 - 1) m, unnest(ARRAY['api', 'db', 'web', 'auth', 'queue', 'cache']) s;
	INSERT INTO series (service, time, profile)
	SELECT w.service, w.time, src.p FROM written w JOIN src USING (i);
$$;
-- per bucket and service: raw rows, packed rows, sources inside the packed ones
CREATE VIEW bucket_state AS
SELECT service, date_bin('1 hour', time, timestamptz '1970-01-01 00:00+00') AS bucket,
       count(*) FILTER (WHERE NOT profile_is_packed(profile)) AS raw_rows,
       count(*) FILTER (WHERE profile_is_packed(profile)) AS packed_rows,
       sum((profile_info(profile)->>'profiles')::bigint) AS sources,
       sum(profile_total(profile)) AS total
FROM series GROUP BY 1, 2;
CREATE VIEW written_state AS
SELECT w.service, date_bin('1 hour', w.time, timestamptz '1970-01-01 00:00+00') AS bucket,
       count(*) AS sources, sum(profile_total(src.p)) AS total
FROM written w JOIN src USING (i) GROUP BY 1, 2;
-- the table is exact: per bucket the same sources and totals as were written,
-- and windows that cut through buckets merge to the written rows' merge
CREATE FUNCTION exact() RETURNS text LANGUAGE sql AS $$
	SELECT CASE
		WHEN EXISTS (SELECT FROM written_state w FULL JOIN bucket_state b USING (service, bucket)
		             WHERE b.sources IS DISTINCT FROM w.sources OR b.total IS DISTINCT FROM w.total)
		THEN 'bucket totals differ'
		WHEN EXISTS (SELECT FROM (VALUES ('api'), ('db')) v(service),
		                  generate_series(0, 40, 7) k,
		                  LATERAL (SELECT min(time) + k * interval '73 minutes' AS since FROM written) s
		             WHERE (SELECT profile_merge(profile_slice(profile, s.since, s.since + interval '95 minutes', time))
		                    FROM series WHERE service = v.service AND time >= s.since - interval '1 hour'
		                                   AND time < s.since + interval '95 minutes')
		                   IS DISTINCT FROM
		                   (SELECT profile_merge(src.p) FROM written w JOIN src USING (i)
		                    WHERE w.service = v.service AND w.time >= s.since AND w.time < s.since + interval '95 minutes'))
		THEN 'a window differs'
		ELSE 'exact' END
$$;
SELECT load_raw(48);
SQL
check "48 hours of raw rows loaded" "$([ "$(q -c 'SELECT count(*) FROM series')" = 17280 ] && echo 1 || echo 0)"

# --- concurrent inserts --------------------------------------------------------
# While one session compacts, another inserts late rows into old buckets (the
# ones being packed) and rows into the current hour, each also recorded in
# `written` in the same transaction.
writer() {
	local k
	for k in $(seq 1 60); do
		q <<SQL >/dev/null 2>&1 || true
BEGIN;
WITH w AS (
	INSERT INTO written
	SELECT s, (SELECT min(time) FROM written) + ($k * 47 % 2880) * interval '1 minute' + interval '17 seconds', $k % 3 + 1
	FROM unnest(ARRAY['api', 'db']) s
	UNION ALL SELECT 'api', now(), 1
	RETURNING *)
INSERT INTO series (service, time, profile) SELECT w.service, w.time, src.p FROM w JOIN src USING (i);
COMMIT;
SQL
		sleep 0.02
	done
}
writer &
writer_pid=$!
out=$(q -c "CALL profile_compact('series', '{service,labels}')" 2>&1)
wait "$writer_pid"
check "compaction with concurrent inserts ran" "$(grep -qE '^[0-9]+\|[0-9]+\|' <<<"$out" && echo 1 || echo 0)" "$out"
late=$(q -c "SELECT count(*) FROM written WHERE extract(second FROM time) = 17")
check "the writer inserted late rows meanwhile" "$([ "$late" -gt 100 ] && echo 1 || echo 0)" "$late rows"
check "after it, every written row is counted once" "$([ "$(q -c 'SELECT exact()')" = exact ] && echo 1 || echo 0)" \
	"$(q -c 'SELECT exact()')"
q -c "CALL profile_compact('series', '{service,labels}')" >/dev/null
state=$(q -c "SELECT count(*) FILTER (WHERE raw_rows > 0), count(*) FILTER (WHERE packed_rows > 1) FROM bucket_state
              WHERE bucket < now() - interval '2 hours'")
check "a second run folds the late rows in: no raw rows left in old buckets, one packed row each" \
	"$([ "$state" = "0|0" ] && echo 1 || echo 0)" "$state"
check "and the table is still exact" "$([ "$(q -c 'SELECT exact()')" = exact ] && echo 1 || echo 0)"

# --- kill -9 -------------------------------------------------------------------
# The compacting backend is killed after a delay; crash recovery restarts the
# server.  Every bucket must then be whole: raw rows only (all of them) or
# one packed row holding them all.
kills=0 midway=0
for delay in 0.05 0.15 0.3 0.45; do
	q -c "SELECT load_raw(48)" >/dev/null || { check "reload before kill at ${delay}s" 0; continue; }
	PGAPPNAME=pprof_compact_victim q -c "CALL profile_compact('series', '{service,labels}')" >/dev/null 2>&1 &
	victim_client=$!
	pid=""
	for _ in $(seq 1 200); do
		pid=$(pp_psql -d postgres -qAtc "SELECT pid FROM pg_stat_activity
			WHERE application_name = 'pprof_compact_victim' AND query LIKE 'CALL%'")
		[ -n "$pid" ] && break
		sleep 0.01
	done
	sleep "$delay"
	if [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; then
		kills=$((kills + 1))
	fi
	wait "$victim_client" 2>/dev/null
	wait_ready || { check "the server comes back after kill -9 at ${delay}s" 0; finish; }
	state=$(q -c "SELECT count(*) FILTER (WHERE raw_rows > 0 AND packed_rows > 0),
	                     count(*) FILTER (WHERE packed_rows > 1),
	                     count(*) FILTER (WHERE packed_rows = 1), count(*) FILTER (WHERE raw_rows = 60)
	              FROM bucket_state")
	IFS='|' read -r both multi packed raw <<<"$state"
	[ "${packed:-0}" -gt 0 ] && [ "${raw:-0}" -gt 0 ] && midway=$((midway + 1))
	check "kill -9 at ${delay}s (backend ${pid:-gone}): no bucket both raw and packed, none lost" \
		"$([ "$both" = 0 ] && [ "$multi" = 0 ] && [ $((packed + raw)) = 288 ] &&
			[ "$(q -c 'SELECT exact()')" = exact ] && echo 1 || echo 0)" \
		"$packed packed, $raw raw of 288 buckets"
	q -c "CALL profile_compact('series', '{service,labels}')" >/dev/null
	check "after the kill at ${delay}s, a new run packs the rest exactly" \
		"$([ "$(q -c "SELECT count(*) FILTER (WHERE raw_rows > 0) FROM bucket_state")" = 0 ] &&
			[ "$(q -c 'SELECT exact()')" = exact ] && echo 1 || echo 0)"
done
check "the compacting backend was killed mid-run at least twice" "$([ "$kills" -ge 2 ] && [ "$midway" -ge 2 ] && echo 1 || echo 0)" \
	"$kills kills, $midway with both packed and raw buckets left"
unpacked=$(q -c "SELECT count(*) FROM series, profile_unpack(profile)")
check "unpacking every packed row gives back all 17280 sources" "$([ "$unpacked" = 17280 ] && echo 1 || echo 0)" "$unpacked"

# --- pg_partman: daily partitions, retention ----------------------------------
out=$(q -v ex="$PP_EXAMPLES" <<'SQL' 2>&1
CREATE SCHEMA partman;
CREATE EXTENSION pg_partman SCHEMA partman;
CREATE TABLE part (service text NOT NULL, time timestamptz NOT NULL, profile profile NOT NULL)
	PARTITION BY RANGE (time);
SELECT partman.create_parent('public.part', 'time', 'native', 'daily', p_premake := 2,
	p_start_partition := (date_bin('1 day', now(), timestamptz '1970-01-01 00:00+00') - interval '10 days')::text);
UPDATE partman.part_config SET retention = '7 days', retention_keep_table = false
	WHERE parent_table = 'public.part';
INSERT INTO part SELECT 'api', now() - d * interval '1 day' - m * interval '10 minutes', (SELECT p FROM src WHERE i = 1)
FROM generate_series(0, 9) d, generate_series(0, 5) m;
SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.part'::regclass;
CALL partman.run_maintenance_proc();
SELECT count(*) FROM pg_inherits WHERE inhparent = 'public.part'::regclass;
SELECT count(*), min(time) >= now() - interval '8 days' FROM part;
SQL
)
parts_before=$(sed -n 2p <<<"$out"); parts_after=$(sed -n 3p <<<"$out"); rows=$(sed -n 4p <<<"$out")
check "pg_partman create_parent(..., 'native', 'daily') made daily partitions" \
	"$([ "${parts_before:-0}" -ge 13 ] 2>/dev/null && echo 1 || echo 0)" "$(head -4 <<<"$out" | tr '\n' ' ')"
check "run_maintenance dropped the partitions past 7 days' retention" \
	"$([ -n "$parts_after" ] && [ "$parts_after" -lt "$parts_before" ] 2>/dev/null && [ "${rows#*|}" = t ] && echo 1 || echo 0)" \
	"$parts_before -> $parts_after partitions; rows, all recent: $rows"
before=$(q -c "SELECT sum(profile_total(profile)) || '/' || count(*) FROM part")
q -c "CALL profile_compact('part', '{service}', bucket => '1 day', older_than => '1 day')" >/dev/null 2>&1
after=$(q -c "SELECT sum(profile_total(profile)) || '/' || count(*) FROM part")
check "profile_compact packs a partitioned table, each day in its own partition" \
	"$([ "${before%/*}" = "${after%/*}" ] && [ "${after#*/}" -lt "${before#*/}" ] &&
		[ "$(q -c "SELECT count(*) FROM part_default")" = 0 ] && echo 1 || echo 0)" "rows ${before#*/} -> ${after#*/}"

# --- pg_cron: a scheduled compaction ------------------------------------------
q -c "SELECT load_raw(3)" >/dev/null
pp_psql -d postgres -qAt <<SQL >/dev/null 2>&1 || { check "set up pg_cron" 0; finish; }
CREATE EXTENSION IF NOT EXISTS pg_cron;
SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'pprof-compact';
DELETE FROM cron.job_run_details WHERE command LIKE '%pprof_compact_cron%';
SELECT cron.schedule_in_database('pprof-compact', '* * * * *',
	\$\$CALL public.profile_compact('public.series', '{service,labels}') /* pprof_compact_cron */\$\$, '$DB');
SQL
# The job runs at the next minute boundary: wait for it, at most 75 s.
status=""
for i in $(seq 1 75); do
	status=$(pp_psql -d postgres -qAtc "SELECT status || ': ' || coalesce(return_message, '') FROM cron.job_run_details
		WHERE command LIKE '%pprof_compact_cron%' AND status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1")
	[ -n "$status" ] && break
	sleep 1
done
pp_psql -d postgres -qAtc "SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'pprof-compact'" >/dev/null
check "pg_cron ran CALL profile_compact (cron.job_run_details)" "$(grep -q '^succeeded' <<<"$status" && echo 1 || echo 0)" \
	"${status:-no run within 75 s} after ${i} s"
check "the scheduled run packed the table exactly" \
	"$([ "$(q -c 'SELECT count(*) FILTER (WHERE raw_rows > 0) FROM bucket_state')" = 0 ] &&
		[ "$(q -c 'SELECT exact()')" = exact ] && echo 1 || echo 0)"

# --- a week of derived profiles ------------------------------------------------
week=$PP_STATE/week
gen=$PP_STATE/bin/genprofiles
sources=("$PP_EXAMPLES"/cpu_*.pb.gz)
[ ! -f "$PP_CORPUS/gpprof_report_sample.cpu.pb.gz" ] || sources+=("$PP_CORPUS/gpprof_report_sample.cpu.pb.gz")
stamp=$({ cat bench/genprofiles/main.go; sha256sum "${sources[@]}"; } | sha256sum | cut -c1-16)
if ! pp_go_build "$gen" ./bench/genprofiles >/dev/null 2>&1; then
	check "build bench/genprofiles" 0
elif { [ "$(cat "$week/STAMP" 2>/dev/null)" = "$stamp" ] ||
	{ rm -rf "$week" && mkdir -p "$week" && timeout 600 "$gen" -out "$week" -n 10080 -step 1m "${sources[@]}" >/dev/null &&
		echo "$stamp" >"$week/STAMP"; }; } && chmod -R a+rX "$week"; then
	end=$(q -c "SELECT extract(epoch FROM date_bin('1 hour', now(), timestamptz '1970-01-01 00:00+00'))::bigint")
	first=$((end - 10080 * 60))
	q -v dir="$week" -v first="$first" <<'SQL' || check "load the week" 0
SET statement_timeout = '300s';
CREATE TABLE week_raw (service text NOT NULL, time timestamptz NOT NULL, profile profile NOT NULL);
INSERT INTO week_raw SELECT 'shop', to_timestamp(:first + i * 60),
	profile_from_pprof(pg_read_binary_file(format('%s/cpu_%s.pb.gz', :'dir', lpad(i::text, 5, '0'))), 'cpu')
FROM generate_series(0, 10079) i;
CREATE TABLE week_packed AS SELECT * FROM week_raw;
CREATE TABLE week_mixed AS SELECT * FROM week_raw;
SQL
	q -c "CALL profile_compact('week_packed', '{service}', older_than => '0')" >/dev/null &&
		q -c "CALL profile_compact('week_mixed', '{service}', older_than => '12 hours')" >/dev/null
	rows=$(q -c "SELECT (SELECT count(*) FROM week_raw) || '/' || (SELECT count(*) FROM week_packed) || '/' ||
		(SELECT count(*) FILTER (WHERE profile_is_packed(profile)) || '+' || count(*) FILTER (WHERE NOT profile_is_packed(profile)) FROM week_mixed)")
	check "a week of derived profiles compacted hourly (raw/packed/mixed rows)" \
		"$([ "${rows%%/*}" = 10080 ] && grep -q '^10080/168/' <<<"$rows" && echo 1 || echo 0)" "$rows"
	windows="($first, $end), ($((end - 3 * 86400 + 1200)), $((end - 3 * 86400 + 1800))), ($((end - 25 * 3600)), $end)"
	for k in $(seq 1 20); do
		a=$((first - 1800 + (k * 7919 * 61) % (10080 * 60 + 3600)))
		windows+=", ($a, $((a + 1 + (k * 104729) % (2 * 86400))))"
	done
	exact=$(q <<SQL
SELECT count(*) || '/' || count(*) FILTER (WHERE
	(SELECT profile_merge(profile_slice(profile, to_timestamp(f), to_timestamp(t), time)) FROM week_packed
	 WHERE time >= to_timestamp(f - 3600) AND time < to_timestamp(t)) IS NOT DISTINCT FROM r.p
	AND (SELECT profile_merge(profile_slice(profile, to_timestamp(f), to_timestamp(t), time)) FROM week_mixed
	 WHERE time >= to_timestamp(f - 3600) AND time < to_timestamp(t)) IS NOT DISTINCT FROM r.p)
FROM (VALUES $windows) w(f, t),
	LATERAL (SELECT profile_merge(profile) AS p FROM week_raw WHERE time >= to_timestamp(f) AND time < to_timestamp(t)) r
SQL
)
	check "23 windows over the packed and the mixed week equal the raw week's" "$([ "$exact" = 23/23 ] && echo 1 || echo 0)" "$exact"
	unpacked=$(q -c "SELECT count(*) || '/' || count(*) FILTER (WHERE u.profile = r.profile)
		FROM week_packed p CROSS JOIN LATERAL profile_unpack(p.profile) u LEFT JOIN week_raw r ON r.time = u.time")
	check "unpacking every packed row gives back all 10,080 sources, each equal to its raw row" \
		"$([ "$unpacked" = 10080/10080 ] && echo 1 || echo 0)" "$unpacked"
else
	check "generate 10,080 profiles with bench/genprofiles" 0
fi

pp_psql -d postgres -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1
finish
