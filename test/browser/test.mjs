// test/browser/test.mjs: Grafana's Flame Graph component, in Debian's Chromium,
// on the rows the shipped dashboard's queries return from the private cluster.
//
//   node test.mjs <built page dir>
//
// Environment: PP_ROOT (repository root), PP_PORT, PP_PGDIR, PP_DB as in
// scripts/lib.sh; PP_ARTIFACTS (default $PP_ROOT/test-artifacts);
// BROWSER_TEST_RENAME=old:new renames a column of every flame-graph frame
// before it reaches the component (a self-check: the test must then fail).
//
// Prints one ok/FAIL line per check and `browser: N passed, M failed`.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { connect, dashboardPanels, frameQuery } from './dashboard.mjs';

const root = process.env.PP_ROOT;
const pageDir = path.resolve(process.argv[2]);
const artifacts = process.env.PP_ARTIFACTS || path.join(root, 'test-artifacts');
const chromiumPath = process.env.PP_CHROMIUM || '/usr/bin/chromium';
const rename = process.env.BROWSER_TEST_RENAME || '';

// Checks already passed by run.sh (the lockfile) count in the summary line.
let passed = Number(process.env.PP_PRE_PASSED || 0), failed = 0;
function check(name, ok, detail = '') {
  if (ok) passed++; else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ': ' + detail : ''}`);
  return ok;
}
const col = (frame, name) => frame.fields.find((f) => f.name === name);

// ---- 1. The dashboard's queries on the demo table --------------------------------------
// Every panel's query must run (the time series and table panels too).
const client = connect();
client.on('error', () => {}); // a lost connection surfaces as a failed query below
let env, panels;
const results = [];
try {
  await client.connect();
  ({ env, panels } = await dashboardPanels(client, path.join(root, 'examples/grafana/pg_pprof.json')));
} catch (e) {
  check('dashboard variables from the profiles table', false, e.message);
  process.exit(finish());
}
console.log(`dashboard variables: service=${env.service} name=${env.name} sample_type=${env.sample_type} ` +
  `baseline_offset=${env.baseline_offset} time=[${env.t_from}, ${env.t_to}]`);
// The demo's table holds packed rows (compacted history) and raw rows in the range.
try {
  const mix = await client.query(
    `SELECT count(*) FILTER (WHERE profile_is_packed(profile))::int AS packed,
            count(*) FILTER (WHERE NOT profile_is_packed(profile))::int AS raw
     FROM profiles WHERE service = $1 AND name = $2 AND sample_type = $3
       AND time >= $4::timestamptz - interval '1 hour' AND time < $5::timestamptz`,
    [env.service, env.name, env.sample_type, env.t_from, env.t_to]);
  const { packed, raw } = mix.rows[0];
  check('the queries run over packed and raw rows of the series', packed > 0 && raw > 0,
    `${packed} packed, ${raw} raw rows in the time range`);
} catch (e) {
  check('the queries run over packed and raw rows of the series', false, e.message);
}
for (const p of panels) {
  try {
    results.push({ ...p, frame: await frameQuery(client, p.sql) });
  } catch (e) {
    check(`panel ${p.id} query runs (${p.type}: ${p.title})`, false, `${e.message}\n${p.sql}`);
  }
}
await client.end().catch(() => {});
const flamePanels = results.filter((p) => p.type === 'flamegraph');
const flame = flamePanels.filter((p) => !col(p.frame, 'valueRight'));
const diff = flamePanels.filter((p) => col(p.frame, 'valueRight') && col(p.frame, 'selfRight'));
const top = results.filter((p) => p.type === 'table' && /\bprofile_top\s*\(/.test(p.rawSql));
if (!check('dashboard has one flame graph, one diff and one profile_top panel',
  flame.length === 1 && diff.length === 1 && top.length === 1,
  `flame ${flame.length}, diff ${diff.length}, top ${top.length}`)) {
  process.exit(finish());
}
const [F, D, T] = [flame[0], diff[0], top[0]];

// Panel titles use the same variables; Grafana expands them too.
const expandTitle = (t) => t.split('$baseline_offset').join(env.baseline_offset)
  .split('$sample_type').join(env.sample_type).split('$name').join(env.name)
  .split('$service').join(env.service);
const nrows = (fr) => (fr.fields[0] ? fr.fields[0].values.length : 0);
for (const p of [F, D]) {
  check(`${expandTitle(p.title)}: query returns rows typed as the data source types them`,
    nrows(p.frame) > 1 && p.frame.fields.every((f) => f.name === 'label' ? f.type === 'string' : f.type === 'number'),
    `${nrows(p.frame)} rows; ` + p.frame.fields.map((f) => `${f.name}:${f.type}(oid ${f.pgType})`).join(' '));
}

// The expected top function: first row of the dashboard's profile_top panel, whose
// merged profile is the flame graph panel's (same WHERE clause).
const tFun = col(T.frame, 'function').values, tSelf = col(T.frame, 'self').values;
const topFn = tFun[0], topSelf = tSelf[0];
const tiedFns = tFun.filter((_, i) => tSelf[i] === topSelf);
// What the component's top table sums for that function: self over every node with its label.
const fl = col(F.frame, 'label').values, fs_ = col(F.frame, 'self').values;
const frameSelf = fl.reduce((s, l, i) => (l === topFn ? s + fs_[i] : s), 0);
check('profile_top self of the top function equals the flame graph rows\' self sum (exact)',
  frameSelf === topSelf, `${topFn}: profile_top self ${topSelf}, flamegraph rows ${frameSelf}`);

const dv = col(D.frame, 'value').values, dvr = col(D.frame, 'valueRight').values;
check('diff query compares two different profiles',
  dv[0] > 0 && dvr[0] > 0 && dv.some((v, i) => v !== dvr[i]),
  `baseline total ${dv[0]}, comparison total ${dvr[0]}`);

// ---- 2. Frames for the page ----------------------------------------------------------
function pageFrame(p) {
  const frame = structuredClone(p.frame);
  if (rename) {
    const [from, to] = rename.split(':');
    for (const f of frame.fields) if (f.name === from) f.name = to;
    console.log(`self-check: column ${from} renamed to ${to} in the "${expandTitle(p.title)}" frame`);
  }
  return frame;
}
const data = {
  panels: {
    flame: { title: expandTitle(F.title), unit: F.unit, frame: pageFrame(F) },
    diff: { title: expandTitle(D.title), unit: D.unit, frame: pageFrame(D) },
  },
};
fs.writeFileSync(path.join(pageDir, 'data.json'), JSON.stringify(data));

// ---- 3. Serve the page on 127.0.0.1 ---------------------------------------------------
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml' };
const server = http.createServer((req, res) => {
  const rel = path.normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^[/\\.]+/, '') || 'index.html';
  if (rel === 'favicon.ico') { res.writeHead(204); res.end(); return; }
  const file = path.join(pageDir, rel);
  if (!file.startsWith(pageDir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404); res.end(); return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

// ---- 4. Debian's Chromium through playwright-core ------------------------------------
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pp-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1600, height: 1000 },
  deviceScaleFactor: 1,
});
fs.mkdirSync(artifacts, { recursive: true });

// Count canvas pixels: drawn (alpha > 0) and on the diff palette
// (rgb(0,170,0) -> rgb(148,142,142) -> rgb(200,0,0), the component's default diff colours).
function canvasStats() {
  const c = document.querySelector('canvas[data-testid="flameGraph"]');
  if (!c || !c.width || !c.height) return { width: 0, height: 0, drawn: 0, diffPalette: 0 };
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let drawn = 0, diffPalette = 0;
  const near = (a, b) => Math.abs(a - b) <= 4;
  for (let i = 0; i < px.length; i += 4) {
    const [r, g, b, a] = [px[i], px[i + 1], px[i + 2], px[i + 3]];
    if (a === 0) continue;
    drawn++;
    if (a !== 255) continue;
    let on = false;
    if (r <= 148) { const t = r / 148; on = near(g, 170 - 28 * t) && near(b, 142 * t); }
    else { const t = (r - 148) / 52; on = t <= 1.02 && near(g, 142 * (1 - t)) && near(b, 142 * (1 - t)); }
    if (on) diffPalette++;
  }
  return { width: c.width, height: c.height, drawn, diffPalette };
}

// The component's top table: header names and rows of cell texts.
function topTable() {
  const t = document.querySelector('[data-testid="topTable"]');
  if (!t) return null;
  const headers = [...t.querySelectorAll('[role="columnheader"]')].map((h) => h.innerText.trim());
  const rows = [...t.querySelectorAll('[role="row"]')]
    .map((r) => [...r.querySelectorAll('[role="cell"]')].map((c) => c.innerText.trim()))
    .filter((r) => r.length);
  return { headers, rows };
}

const ERROR_TEXT = /Data is missing fields|Data has fields of wrong type|Malformed dataFrame|Minified React error|Something went wrong/i;

async function render(name, p) {
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // Console errors are shown, not failed on (Grafana's runtime complains that grafanaBootData is unset).
  const seen = new Set();
  page.on('console', (m) => {
    const loc = m.location() && m.location().url ? ` (${m.location().url})` : '';
    const msg = `${m.text().slice(0, 300)}${loc}`;
    if (m.type() === 'error' && !seen.has(msg)) { seen.add(msg); console.log(`  [console.error] ${msg}`); }
  });
  await page.goto(`${base}/index.html?panel=${name}`);
  await page.waitForFunction(() => window.__pp && window.__pp.ready, null, { timeout: 60000 });
  // Wait for the canvas to be drawn (or give up and let the checks report it).
  await page.waitForFunction(() => {
    const c = document.querySelector('canvas[data-testid="flameGraph"]');
    return document.querySelector('.pp-error') || (c && c.width > 0);
  }, null, { timeout: 20000 }).catch(() => {});
  await page.waitForTimeout(500);
  const shot = path.join(artifacts, `browser-${name}${rename ? '-renamed' : ''}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  const st = await page.evaluate(() => ({
    pp: { checkFields: window.__pp.checkFields, errors: window.__pp.errors, fieldTypes: window.__pp.fieldTypes },
    text: document.body.innerText,
    legend: [...document.querySelectorAll('button[aria-label="Change color scheme"]')].map((b) => b.innerText.replace(/\s+/g, ' ').trim()),
  }));
  const canvas = await page.evaluate(canvasStats);
  const table = await page.evaluate(topTable);
  const fmt = (unit, v) => page.evaluate(([u, x]) => window.__pp.format(u, x), [unit, v]);

  const errText = (st.text.match(ERROR_TEXT) || [])[0];
  const shown = st.text.split('\n').find((l) => ERROR_TEXT.test(l));
  check(`${name}: checkFields() reports no missing or mistyped fields`, st.pp.checkFields === null,
    st.pp.checkFields ? JSON.stringify(st.pp.checkFields) : st.pp.fieldTypes.map((f) => f.join(':')).join(' '));
  check(`${name}: no error text on the page and no page errors`, !errText && !pageErrors.length && !st.pp.errors.length,
    errText ? `page shows "${shown}"` : [...pageErrors, ...st.pp.errors].join(' | ').slice(0, 400));
  const area = canvas.width * canvas.height;
  check(`${name}: flame graph canvas has drawn pixels`, canvas.drawn > 0.01 * area,
    `${canvas.drawn} of ${area} pixels drawn (${canvas.width}x${canvas.height})`);
  return { page, st, canvas, table, fmt, shot };
}

try {
  // Flame graph panel.
  const f = await render('flame', F);
  const unit = F.unit || 'none';
  const want = await f.fmt(unit, topSelf);
  const row = f.table && f.table.rows.find((r) => r.includes(topFn));
  // Columns: action, Symbol, Self, Total.
  const selfIdx = f.table ? f.table.headers.findIndex((h) => /^Self/.test(h)) : -1;
  const got = row && selfIdx >= 0 ? row[selfIdx] : undefined;
  check(`flame: top table shows ${topFn} with profile_top's self`, got !== undefined && got === want,
    `displayed Self ${got === undefined ? '(no such row in the top table)' : `"${got}"`}, profile_top self ${topSelf} formatted with unit ${unit} is "${want}"`);
  const first = f.table && f.table.rows[0] ? f.table.rows[0][1] : undefined;
  check('flame: the top table\'s first row (sorted by Self) is profile_top\'s first function',
    tiedFns.includes(first), `first row ${first === undefined ? '(none)' : `"${first}"`}, expected ${tiedFns.join(' or ')}`);
  check('flame: not in diff mode', !f.st.legend.some((l) => /removed/.test(l)),
    `colour legend "${f.st.legend.join(' ')}", ${f.canvas.diffPalette} diff-palette pixels`);
  console.log(`  screenshot ${f.shot}`);

  // Diff panel.
  const d = await render('diff', D);
  check('diff: diff legend shows', d.st.legend.some((l) => /-100% \(removed\).*0%.*\+100% \(added\)/.test(l)),
    `colour legend "${d.st.legend.join(' ')}"`);
  const hdr = d.table ? d.table.headers : [];
  check('diff: top table has Baseline, Comparison and Diff columns',
    ['Baseline', 'Comparison', 'Diff'].every((h) => hdr.some((x) => x.startsWith(h))), `headers ${JSON.stringify(hdr)}`);
  check('diff: bars are drawn in diff colours (green-grey-red)', d.canvas.diffPalette > 0.5 * d.canvas.drawn &&
    f.canvas.diffPalette < 0.2 * Math.max(1, f.canvas.drawn),
    `${d.canvas.diffPalette} of ${d.canvas.drawn} drawn pixels on the diff palette (flame panel: ${f.canvas.diffPalette} of ${f.canvas.drawn})`);
  console.log(`  screenshot ${d.shot}`);
} catch (e) {
  check('browser run', false, e.stack || String(e));
} finally {
  await context.close().catch(() => {});
  server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}

function finish() {
  console.log(`browser: ${passed} passed, ${failed} failed`);
  return failed ? 1 : 0;
}
process.exit(finish());
