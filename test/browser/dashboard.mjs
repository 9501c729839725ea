// test/browser/dashboard.mjs: run the shipped dashboard's queries as Grafana would.
//
// Reads every panel's rawSql from examples/grafana/pg_pprof.json and expands
// Grafana's macros and variables exactly as examples/grafana/check.sh does:
// the time range is the three hours up to the newest CPU profile of the first
// service ([t3 - 3h, t3 + 1ms]: packed hours of the demo's compacted history,
// then its raw hour), $baseline_offset is 3 hours (so the baseline range lies
// in the packed hours), $name is that profile's name and $sample_type is cpu.
// Results are returned the way
// Grafana's PostgreSQL data source types them: integer and floating columns
// (int2/int4/int8/float/numeric) as numbers, everything else as strings.
import fs from 'node:fs';
import pg from 'pg';

// The same statement as check.sh's grafana_env table.
const ENV_SQL = `
SELECT to_char((t3 - interval '3 hours') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t_from,
       to_char((t3 + interval '1 millisecond') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS t_to,
       floor(extract(epoch FROM t3 - interval '3 hours'))::bigint::text AS epoch_from,
       floor(extract(epoch FROM t3 + interval '1 millisecond'))::bigint::text AS epoch_to,
       '3 hours'::text AS baseline_offset, service, name, 'cpu'::text AS sample_type
FROM (SELECT service, name, max(time) AS t3 FROM profiles
      WHERE sample_type = 'cpu' GROUP BY service, name ORDER BY service, name LIMIT 1) s`;

// PostgreSQL's quote_literal for the strings used here (check.sh uses %L / quote_literal).
const lit = (s) => (s.includes('\\') ? 'E' : '') + "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "''") + "'";

// check.sh's replace()/regexp_replace() chain, in the same order.
export function expandSql(raw, e) {
  let sql = raw.replace(/\$__timeGroupAlias\((\w+), *\$__interval\)/g, 'floor(extract(epoch from $1)/1)*1 AS "time"');
  sql = sql.replace(/\$__timeFilter\((\w+)\)/g, (_, col) => `${col} BETWEEN ${lit(e.t_from)} AND ${lit(e.t_to)}`);
  sql = sql.split('$__timeFrom()').join(lit(e.t_from));
  sql = sql.split('$__timeTo()').join(lit(e.t_to));
  sql = sql.split('$__unixEpochFrom()').join(e.epoch_from);
  sql = sql.split('$__unixEpochTo()').join(e.epoch_to);
  sql = sql.split('$baseline_offset').join(e.baseline_offset);
  sql = sql.split('$sample_type').join(e.sample_type);
  sql = sql.split('$name').join(e.name);
  sql = sql.split('$service').join(e.service);
  sql = sql.split('$__interval').join('1s');
  const left = sql.match(/\$\w+/);
  if (left) throw new Error(`unexpanded ${left[0]} in: ${raw}`);
  return sql;
}

export function connect() {
  const pgdir = process.env.PP_PGDIR;
  if (!pgdir) throw new Error('PP_PGDIR is not set: run this through test/browser/run.sh');
  return new pg.Client({
    host: `${pgdir}/run`,
    port: Number(process.env.PP_PORT || 54329),
    user: 'postgres',
    database: process.env.PP_DB || 'pg_pprof',
  });
}

// Column type OIDs that Grafana's PostgreSQL data source turns into number fields.
const NUMERIC_OIDS = new Set([20, 21, 23, 700, 701, 1700]);

// Run a query and return { fields: [{name, type, values}] } typed like the data source does.
export async function frameQuery(client, sql) {
  const res = await client.query({ text: sql, rowMode: 'array', types: { getTypeParser: () => (v) => v } });
  return {
    fields: res.fields.map((f, i) => {
      const isNum = NUMERIC_OIDS.has(f.dataTypeID);
      const values = res.rows.map((r) => {
        const v = r[i];
        if (v === null || !isNum) return v;
        const n = Number(v);
        if (f.dataTypeID === 20 && !Number.isSafeInteger(n)) throw new Error(`${f.name}: ${v} is not a safe integer`);
        return n;
      });
      return { name: f.name, type: isNum ? 'number' : 'string', pgType: f.dataTypeID, values };
    }),
  };
}

// Load the dashboard and return its panels with expanded SQL plus the variable values.
export async function dashboardPanels(client, dashboardPath) {
  const dash = JSON.parse(fs.readFileSync(dashboardPath, 'utf8'));
  const envRes = await client.query(ENV_SQL);
  if (envRes.rows.length !== 1) throw new Error('no CPU profiles in table profiles: run scripts/demo.sh first');
  const env = envRes.rows[0];
  const panels = [];
  for (const p of dash.panels || []) {
    for (const t of p.targets || []) {
      panels.push({
        id: p.id,
        title: p.title,
        type: p.type,
        format: t.format,
        unit: p.fieldConfig?.defaults?.unit,
        rawSql: t.rawSql,
        sql: expandSql(t.rawSql, env),
      });
    }
  }
  return { env, panels };
}
