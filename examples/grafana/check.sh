#!/usr/bin/env bash
# examples/grafana/check.sh: run the dashboard's queries against the private cluster.
#
# Reads every rawSql of examples/grafana/pg_pprof.json, expands Grafana's macros
# and variables the way the PostgreSQL data source does, and runs each query on
# the profiles table loaded by scripts/demo.sh.  The time range is the newest CPU
# profile; the baseline offset points at the oldest one; $name is that
# profile's name (process_cpu).  Flame graph rows are
# checked against what the Flame Graph panel needs: one level-0 row labelled
# total, first, and no level jumping by more than 1.
set -euo pipefail
source "$(dirname "$0")/../../scripts/lib.sh"
cd "$PP_ROOT"

pp_psql -q -v dash="$(cat examples/grafana/pg_pprof.json)" <<'SQL'
\set QUIET on
CREATE TEMP TABLE grafana_env AS
SELECT to_char((t3 - interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t_from,
       to_char(t3 AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t_to,
       (t3 - t1)::text AS baseline_offset, service, name, 'cpu'::text AS sample_type
FROM (SELECT service, name, min(time) AS t1, max(time) AS t3 FROM profiles
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
       replace(replace(replace(replace(replace(replace(replace(
       regexp_replace(regexp_replace(t->>'rawSql',
         '\$__timeGroupAlias\((\w+), *\$__interval\)', 'floor(extract(epoch from \1)/1)*1 AS "time"', 'g'),
         '\$__timeFilter\((\w+)\)', format('\1 BETWEEN %L AND %L', e.t_from, e.t_to), 'g'),
         '$__timeFrom()', quote_literal(e.t_from)),
         '$__timeTo()', quote_literal(e.t_to)),
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
SQL
