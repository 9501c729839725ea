#!/usr/bin/env bash
# examples/grafana/check.sh: run the dashboard's queries against the private cluster.
#
# Reads every rawSql of examples/grafana/pg_pprof.json, expands Grafana's macros
# and variables the way the PostgreSQL data source does, and runs each query on
# the profiles table loaded by scripts/demo.sh, which holds packed rows (six
# compacted hours of history) and raw rows (the examples' own hour).  The time
# range is the three hours up to the newest CPU profile, so it cuts a packed
# hour and ends in the raw one; the baseline offset is 3 hours, so the
# baseline range lies in the packed hours; $name is process_cpu.  Flame graph
# rows are checked against what the Flame Graph panel needs: one level-0 row
# labelled total, first, and no level jumping by more than 1.  Then every query
# must give the same rows over a raw copy of the table (the packed rows
# unpacked into their sources): the queries are exact over packed, raw and
# mixed tables.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$PP_ROOT"

pp_psql -q -v dash="$(cat examples/grafana/pg_pprof.json)" <<'SQL'
\set QUIET on
CREATE TEMP TABLE grafana_env AS
SELECT to_char((t3 - interval '3 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t_from,
       to_char((t3 + interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t_to,
       floor(extract(epoch FROM t3 - interval '3 hours'))::bigint AS epoch_from,
       floor(extract(epoch FROM t3 + interval '1 millisecond'))::bigint AS epoch_to,
       '3 hours'::text AS baseline_offset, service, name, 'cpu'::text AS sample_type
FROM (SELECT service, name, max(time) AS t3 FROM profiles
      WHERE sample_type = 'cpu' GROUP BY service, name ORDER BY service, name LIMIT 1) s;
CREATE FUNCTION pg_temp.grafana_assert(ok boolean, msg text) RETURNS boolean
LANGUAGE plpgsql AS $$BEGIN IF ok IS NOT TRUE THEN RAISE EXCEPTION '%', msg; END IF; RETURN ok; END$$;
\o /dev/null
SELECT pg_temp.grafana_assert(count(*) = 1, 'no CPU profiles in table profiles: run scripts/demo.sh first')
FROM grafana_env;

CREATE TEMP TABLE grafana_queries AS
SELECT p->>'title' AS title, p->>'type' AS panel, t->>'format' AS format, sql
FROM jsonb_path_query(:'dash'::jsonb, '$.panels[*]') p,
     jsonb_path_query(p, '$.targets[*]') t, grafana_env e,
     LATERAL (SELECT
       replace(replace(replace(replace(replace(replace(replace(replace(replace(
       regexp_replace(regexp_replace(t->>'rawSql',
         '\$__timeGroupAlias\((\w+), *\$__interval\)', 'floor(extract(epoch from \1)/1)*1 AS "time"', 'g'),
         '\$__timeFilter\((\w+)\)', format('\1 BETWEEN %L AND %L', e.t_from, e.t_to), 'g'),
         '$__timeFrom()', quote_literal(e.t_from)),
         '$__timeTo()', quote_literal(e.t_to)),
         '$__unixEpochFrom()', e.epoch_from::text),
         '$__unixEpochTo()', e.epoch_to::text),
         '$baseline_offset', e.baseline_offset),
         '$sample_type', e.sample_type),
         '$name', e.name),
         '$service', e.service),
         '$__interval', '1s') AS sql) x;

SELECT pg_temp.grafana_assert(sql !~ '\$', format('%s: unexpanded %s', title, substring(sql from '\$\w+')))
FROM grafana_queries;
\o
\set QUIET off

-- One check query per panel, run by \gexec.
SELECT CASE WHEN panel = 'flamegraph' THEN format($q$
SELECT %L AS panel, count(*) AS rows,
       pg_temp.grafana_assert(coalesce(bool_and(CASE WHEN n = 1 THEN level = 0 AND label = 'total'
                                                     ELSE level BETWEEN 1 AND prev + 1 END), false),
                              %L) AS panel_rules_ok,
       min(r::text) FILTER (WHERE n = 1) AS first_row
FROM (SELECT to_jsonb(q) AS r, level, label, row_number() OVER () AS n, lag(level) OVER () AS prev
      FROM (%s) q) s$q$, title, title || ': rows break the Flame Graph panel rules', sql)
       ELSE format('SELECT %L AS panel, count(*) AS rows FROM (%s) q', title, sql) END
FROM grafana_queries \gexec

-- The time range holds packed and raw rows of the series.
SELECT pg_temp.grafana_assert(count(*) FILTER (WHERE profile_is_packed(p.profile)) > 0
                              AND count(*) FILTER (WHERE NOT profile_is_packed(p.profile)) > 0,
                              'the time range should hold packed and raw rows: run scripts/demo.sh') AS mixed,
       count(*) FILTER (WHERE profile_is_packed(p.profile)) AS packed_rows,
       count(*) FILTER (WHERE NOT profile_is_packed(p.profile)) AS raw_rows
FROM profiles p, grafana_env e
WHERE p.service = e.service AND p.name = e.name AND p.sample_type = e.sample_type
  AND p.time >= e.t_from::timestamptz - interval '3 hours' AND p.time < e.t_to::timestamptz;

-- Exactness: each query's rows over the demo table, then over a raw copy of it.
CREATE FUNCTION pg_temp.grafana_digest(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE d text;
BEGIN
	EXECUTE format('SELECT md5(coalesce(string_agg(r::text, E''\n'' ORDER BY r::text), '''')) FROM (%s) r', q) INTO d;
	RETURN d;
END$$;
\o /dev/null
CREATE TEMP TABLE grafana_mixed AS SELECT title, pg_temp.grafana_digest(sql) AS digest FROM grafana_queries;
-- a temporary table comes first in the search path, so it stands in for profiles
CREATE TEMP TABLE profiles AS
SELECT u.time, p.service, p.name, p.sample_type, p.unit, p.labels, u.profile
FROM public.profiles p, profile_unpack(p.profile) u WHERE profile_is_packed(p.profile)
UNION ALL
SELECT time, service, name, sample_type, unit, labels, profile FROM public.profiles
WHERE NOT profile_is_packed(profile);
\o
SELECT m.title AS panel, pg_temp.grafana_assert(m.digest = pg_temp.grafana_digest(q.sql),
                                                m.title || ': rows differ between the mixed table and its raw copy') AS same_rows_raw_and_packed
FROM grafana_mixed m JOIN grafana_queries q USING (title) ORDER BY 1;
SELECT pg_temp.grafana_assert(count(*) = 0, 'the raw copy should hold no packed rows') AS raw_copy_is_raw
FROM profiles WHERE profile_is_packed(profile);
SQL
