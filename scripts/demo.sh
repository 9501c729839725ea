#!/usr/bin/env bash
# scripts/demo.sh: set up everything and show what pg_pprof does.
#
# On a fresh Debian 12 machine (as root) it installs the packages it needs,
# builds and installs the extension, starts a private PostgreSQL cluster
# (data and socket under /var/tmp, see scripts/lib.sh; run as the postgres
# user on its own port), loads the example profiles from examples/ into a
# table, prints what the extension shows and writes two SVG flame graphs into
# demo-output/.  Running it again recreates the table and the files.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$PP_ROOT"

pp_install_deps
pp_build
pp_start_cluster

pp_psql -q <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS pg_pprof;
ALTER EXTENSION pg_pprof UPDATE;
DROP TABLE IF EXISTS profiles;
CREATE TABLE profiles (
	id          bigserial PRIMARY KEY,
	service     text NOT NULL,
	host        text NOT NULL,
	version     text NOT NULL,
	time        timestamptz NOT NULL,
	sample_type text NOT NULL,
	unit        text NOT NULL,
	labels      jsonb NOT NULL DEFAULT '{}',
	profile     profile NOT NULL
);
CREATE INDEX profiles_service_time ON profiles (service, sample_type, time);
SQL

# Load each example file: one row per sample type and endpoint label.  The
# bytes travel from the client (psql reads the file), as an application's
# INSERT with a bytea parameter would send them.
for f in examples/*.pb.gz; do
	PP_FILE=$f pp_psql -q <<'SQL'
\set data `base64 -w0 "$PP_FILE"`
INSERT INTO profiles (service, host, version, time, sample_type, unit, labels, profile)
SELECT 'shop-api', 'demo-host', '1.0.0',
       coalesce((profile_info(profile)->>'start_time')::timestamptz, now()),
       sample_type, unit, labels, profile
FROM pprof_split(decode(:'data', 'base64'), '{endpoint}');
SQL
done

pp_psql <<'SQL'
\echo
\echo '== What was loaded: one row per file, sample type and endpoint'
SELECT sample_type, unit, count(*) AS rows, sum(profile_total(profile)) AS total,
       sum((profile_info(profile)->>'stored_bytes')::int) AS stored_bytes
FROM profiles GROUP BY 1, 2 ORDER BY 1;

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

cat <<MSG

Flame graphs written (open them in a browser):
  $out/cpu-flamegraph.svg
  $out/cpu-diff.svg

The private cluster keeps running. Connect with:
  psql -h $PP_PGDIR/run -p $PP_PORT -U postgres $PP_DB
Stop it with:
  runuser -u postgres -- $(pp_pgbin)/pg_ctl -D $PP_PGDIR/data stop
MSG
