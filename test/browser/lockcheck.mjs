// test/browser/lockcheck.mjs: vet package-lock.json before `npm ci` installs from it.
//
// - every fetch location ("resolved") is on the npm registry, over https;
// - no git, GitHub, file or http dependencies (e.g. @grafana/ui's GitHub
//   tarball of react-data-grid, which the override replaces);
// - every package has a sha512 integrity hash;
// - the only other URLs are npm's "funding" metadata, which npm never fetches;
// - the pinned versions (NOTES.md section 3) are the ones locked.
// Prints one ok/FAIL line per check; exits 1 if any fails.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const REGISTRY = 'https://registry.npmjs.org/';
const lock = JSON.parse(fs.readFileSync(path.join(here, 'package-lock.json'), 'utf8'));
const pkgs = Object.entries(lock.packages || {}).filter(([k]) => k !== '');
let bad = 0;
const report = (ok, name, detail) => {
  if (!ok) bad++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} lockfile: ${name}${detail ? ': ' + detail : ''}`);
};

const offRegistry = pkgs.filter(([, p]) => p.resolved && !p.resolved.startsWith(REGISTRY));
report(!offRegistry.length, `every resolved URL is under ${REGISTRY}`,
  offRegistry.length ? offRegistry.slice(0, 5).map(([k, p]) => `${k} -> ${p.resolved}`).join(', ')
    : `${pkgs.filter(([, p]) => p.resolved).length} resolved URLs, ${pkgs.length} packages`);

// A declared range that is not a registry version must be replaced by an override
// in package.json (@grafana/ui declares react-data-grid as a GitHub commit).
const overrides = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8')).overrides || {};
const nonRegistrySpec = /^(git\+|git:|github:|http:|https:|file:|link:)|^[\w.-]+\/[\w.-]+(#.*)?$/;
const odd = [], overridden = new Set();
for (const [k, p] of pkgs) {
  if (p.link || nonRegistrySpec.test(p.version || '')) odd.push(`${k}@${p.version}`);
  for (const [n, v] of Object.entries({ ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies })) {
    if (!nonRegistrySpec.test(v)) continue;
    if (overrides[n] && (lock.packages[`node_modules/${n}`] || {}).version === overrides[n]) overridden.add(`${n} (${v} -> ${overrides[n]})`);
    else odd.push(`${k} needs ${n}@${v}`);
  }
}
report(!odd.length, 'no git, GitHub, file or link dependencies',
  odd.length ? odd.slice(0, 5).join(', ') : overridden.size ? `overridden: ${[...overridden].join(', ')}` : '');

const noHash = pkgs.filter(([, p]) => !p.link && !/^sha512-/.test(p.integrity || ''));
report(!noHash.length, 'every package has a sha512 integrity', noHash.slice(0, 5).map(([k]) => k).join(', '));

// Any URL anywhere in the file outside "funding" entries.
const stray = [];
(function walk(v, key) {
  if (key === 'funding') return;
  if (typeof v === 'string') { if (/\b(https?|git|ssh):\/\//.test(v) && !v.startsWith(REGISTRY)) stray.push(v); return; }
  if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
})(lock);
report(!stray.length, 'no other URLs (npm\'s "funding" metadata aside)', stray.slice(0, 5).join(', '));

const want = {
  '@grafana/flamegraph': '13.0.1', '@grafana/data': '13.0.1', '@grafana/ui': '13.0.1',
  '@grafana/runtime': '13.0.1', '@grafana/schema': '13.0.1', '@grafana/assistant': '0.1.34',
  react: '18.3.1', 'react-dom': '18.3.1', 'react-data-grid': '7.0.0-beta.48',
};
const wrong = Object.entries(want).filter(([n, v]) => (lock.packages[`node_modules/${n}`] || {}).version !== v);
report(!wrong.length, 'pinned versions locked',
  wrong.length ? wrong.map(([n, v]) => `${n} is ${(lock.packages[`node_modules/${n}`] || {}).version}, want ${v}`).join(', ')
    : Object.entries(want).map(([n, v]) => `${n}@${v}`).join(' '));
process.exit(bad ? 1 : 0);
