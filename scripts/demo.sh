#!/usr/bin/env bash
# scripts/demo.sh: set up everything and show what pg_pprof does.
#
# On a fresh Debian 12 machine (as root) it installs the packages it needs,
# builds and installs the extension, starts a private PostgreSQL cluster
# (data and socket under /var/tmp, see scripts/lib.sh; run as the postgres
# user on its own port), loads the example profiles from examples/ into a
# table, prints what the extension shows and writes two SVG flame graphs into
# demo-output/.  It then starts pg_pprof_collector on that table (stopping
# one a previous run started) and prints how to point a Pyroscope SDK or
# Grafana Alloy at it.  Running it again recreates the table and the files.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$PP_ROOT"

pp_install_deps
pp_build
# the collector alone (pp_build makes it too, unless PP_SKIP_BUILD=1)
make -s -C "$PP_ROOT" collector PG_CONFIG=/usr/bin/pg_config >/dev/null
pp_start_cluster
# a collector started by a previous run writes into the table recreated below
pp_collector_stop

pp_psql -q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_pprof;
ALTER EXTENSION pg_pprof UPDATE;
DROP TABLE IF EXISTS profiles;
-- the layout pprof_ingest() and pg_pprof_collector write (README, "Ingest into a table")
CREATE TABLE profiles (
	time        timestamptz NOT NULL,
	service     text        NOT NULL,
	name        text        NOT NULL,
	sample_type text        NOT NULL,
	unit        text        NOT NULL,
	labels      jsonb       NOT NULL DEFAULT '{}',
	profile     profile     NOT NULL
);
CREATE INDEX ON profiles (service, name, sample_type, time);
CREATE INDEX ON profiles USING brin (time);
CREATE INDEX ON profiles USING gin (labels jsonb_path_ops);
-- the collector's role, with exactly the README's GRANTs
DO $$BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'collector') THEN CREATE ROLE collector LOGIN; END IF;
END$$;
GRANT INSERT ON profiles TO collector;
GRANT INSERT, SELECT (request_id) ON pprof_ingest_requests TO collector;
SQL

# Load each example file through pprof_ingest: one row per sample type and
# endpoint label, with Pyroscope's profile name.  The bytes travel from the
# client (psql reads the file), as an application's call with a bytea
# parameter would send them.
for f in examples/*.pb.gz; do
	case $(basename "$f") in
		cpu_*) name=process_cpu ;;
		heap*) name=memory ;;
		mutex*) name=mutex ;;
		*) name="" ;;
	esac
	PP_FILE=$f PP_NAME=$name pp_psql -q <<'SQL'
\set data `base64 -w0 "$PP_FILE"`
\set name `echo "$PP_NAME"`
SELECT pprof_ingest('profiles', decode(:'data', 'base64'), 'shop-api', nullif(:'name', ''),
                    '{"host": "demo-host", "version": "1.0.0"}', label_keys => '{endpoint}') \g /dev/null
SQL
done

pp_psql <<'SQL'
\echo
\echo '== What was loaded: one row per file, sample type and endpoint'
SELECT name, sample_type, unit, count(*) AS rows, sum(profile_total(profile)) AS total,
       sum((profile_info(profile)->>'stored_bytes')::int) AS stored_bytes
FROM profiles GROUP BY 1, 2, 3 ORDER BY 1, 2;

\echo '== CPU time per endpoint (from the pprof labels)'
SELECT coalesce(labels->>'endpoint', '(none)') AS endpoint,
       round(sum(profile_total(profile)) / 1e9, 2) AS cpu_seconds
FROM profiles WHERE sample_type = 'cpu' GROUP BY 1 ORDER BY 2 DESC;

\echo '== Top functions of all CPU profiles merged (self = flat, total = cum, as go tool pprof -top)'
SELECT function, round(self / 1e6) AS self_ms, round(total / 1e6) AS total_ms
FROM profile_top((SELECT profile_merge(profile) FROM profiles WHERE sample_type = 'cpu'), 10);

\echo '== The merged CPU flame graph as Grafana gets it (first 25 rows, max_nodes 40)'
SELECT level, value, self, repeat('  ', level) || label AS label
FROM flamegraph((SELECT profile_merge(profile) FROM profiles WHERE sample_type = 'cpu'), 40)
LIMIT 25;

\echo '== Diff of /api/users CPU: first profile (baseline) against the last (comparison)'
SELECT level, value, "valueRight", repeat('  ', level) || label AS label
FROM flamegraph_diff(
	(SELECT profile FROM profiles WHERE sample_type = 'cpu' AND labels->>'endpoint' = '/api/users' ORDER BY time LIMIT 1),
	(SELECT profile FROM profiles WHERE sample_type = 'cpu' AND labels->>'endpoint' = '/api/users' ORDER BY time DESC LIMIT 1),
	12);
SQL

# Two pictures: the merged CPU flame graph and the diff above, as SVG files.
out=$PP_ROOT/demo-output
mkdir -p "$out"
pp_psql -Atq -o "$out/cpu-flamegraph.svg" <<'SQL'
SELECT profile_to_svg((SELECT profile_merge(profile) FROM profiles WHERE sample_type = 'cpu'),
                      'shop-api: all CPU profiles merged');
SQL
pp_psql -Atq -o "$out/cpu-diff.svg" <<'SQL'
SELECT profile_diff_to_svg(
	(SELECT profile FROM profiles WHERE sample_type = 'cpu' AND labels->>'endpoint' = '/api/users' ORDER BY time LIMIT 1),
	(SELECT profile FROM profiles WHERE sample_type = 'cpu' AND labels->>'endpoint' = '/api/users' ORDER BY time DESC LIMIT 1),
	'/api/users CPU: first profile against the last');
SQL

# Six hours of history before the examples: copies of their CPU rows every
# 10 minutes, as a service profiled all along would have left.  Compaction
# then packs every whole hour before the examples' own hour into one row per
# series, as a scheduled profile_compact does once rows are an hour old; the
# table now holds packed and raw rows, which the dashboard reads alike.
pp_psql -q <<'SQL'
SET client_min_messages = warning;
INSERT INTO profiles (time, service, name, sample_type, unit, labels, profile)
SELECT p.time - k * interval '10 minutes', service, name, sample_type, unit, labels, profile
FROM profiles p, generate_series(1, 36) k WHERE name = 'process_cpu';
SELECT now() - date_bin('1 hour', max(time), timestamptz '1970-01-01 00:00+00') AS older_than
FROM profiles \gset
CALL profile_compact('profiles', '{service,name,sample_type,unit,labels}', older_than => :'older_than') \g /dev/null
SQL
pp_psql <<'SQL'
\echo '== Six hours of history, compacted: one packed row per hour and series, the last hour raw'
SELECT date_bin('1 hour', time, timestamptz '1970-01-01 00:00+00') AS hour,
       count(*) FILTER (WHERE profile_is_packed(profile)) AS packed_rows,
       count(*) FILTER (WHERE NOT profile_is_packed(profile)) AS raw_rows,
       sum((profile_info(profile)->>'points')::int) AS points,
       sum(pg_column_size(profile)) AS stored_bytes
FROM profiles WHERE name = 'process_cpu' AND sample_type = 'cpu' GROUP BY 1 ORDER BY 1;
\echo '== A 25-minute window sliced out of the packed hours, exact: CPU seconds per endpoint'
SELECT coalesce(labels->>'endpoint', '(none)') AS endpoint,
       round(profile_total(profile_merge(profile_slice(profile, w.since, w.since + interval '25 minutes', time))) / 1e9, 2) AS cpu_seconds
FROM profiles, (SELECT min(time) + interval '95 minutes' AS since FROM profiles) w
WHERE sample_type = 'cpu' AND time >= w.since - interval '1 hour' AND time < w.since + interval '25 minutes'
GROUP BY 1 ORDER BY 2 DESC;
SQL

# The collector: Pyroscope's clients push to it, and it scrapes Go services.
pp_collector_start
ready=$(curl -s --max-time 5 "$PP_COLLECTOR_URL/ready" | tr -d '\n')

cat <<MSG

Flame graphs written (open them in a browser):
  $out/cpu-flamegraph.svg
  $out/cpu-diff.svg

pg_pprof_collector runs at $PP_COLLECTOR_URL ($ready), writing into the
profiles table as role collector. Point a Pyroscope SDK at it:
  Go       pyroscope.Start(pyroscope.Config{ApplicationName: "checkout", ServerAddress: "$PP_COLLECTOR_URL"})
  Node.js  Pyroscope.init({ appName: 'checkout', serverAddress: '$PP_COLLECTOR_URL' })
  Python   pyroscope.configure(application_name="checkout", server_address="$PP_COLLECTOR_URL")
  others   set the SDK's server address, e.g. PYROSCOPE_SERVER_ADDRESS=$PP_COLLECTOR_URL
or Grafana Alloy:
  pyroscope.write "pg_pprof" { endpoint { url = "$PP_COLLECTOR_URL" } }
  pyroscope.scrape "go" {
    targets    = [{"__address__" = "localhost:6060", "service_name" = "checkout"}]
    forward_to = [pyroscope.write.pg_pprof.receiver]
  }
or let it scrape Go services itself: add a [scrape] section to
  $PP_COLLECTOR_DIR/collector.conf and reload: kill -HUP \$(cat $PP_COLLECTOR_DIR/collector.pid)
Try it:
  curl --data-binary @examples/cpu_1.pb.gz '$PP_COLLECTOR_URL/ingest?name=my-app&format=pprof'
Its log is $PP_COLLECTOR_DIR/collector.log. Stop it with:
  kill \$(cat $PP_COLLECTOR_DIR/collector.pid)

The private cluster keeps running. Connect with:
  psql -h $PP_PGDIR/run -p $PP_PORT -U postgres $PP_DB
Stop it with:
  runuser -u postgres -- $(pp_pgbin)/pg_ctl -D $PP_PGDIR/data stop
MSG
