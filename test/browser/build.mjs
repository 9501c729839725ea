// test/browser/build.mjs: bundle page.jsx (React 18 + @grafana/flamegraph) with esbuild.
//
// CommonJS interop: Grafana's ESM (.mjs) files default-import a few old
// CommonJS packages.  In an .mjs importer esbuild follows Node's rule and
// gives the whole module.exports object as the default export, which for
// packages that set `exports.default = Component` yields an object, and React
// fails with error #130 ("element type is invalid ... got: object").  The
// plugin below routes such imports through a shim that unwraps `.default`.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2] || path.join(here, 'dist');

// CommonJS packages whose module.exports carries the real export in .default.
const UNWRAP_DEFAULT = ['react-custom-scrollbars-2'];

const cjsDefaultInterop = {
  name: 'cjs-default-interop',
  setup(build) {
    const filter = new RegExp(`^(${UNWRAP_DEFAULT.map((s) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|')})$`);
    build.onResolve({ filter }, (args) => {
      if (args.namespace === 'cjs-interop') return undefined; // the shim's own import
      return { path: args.path, namespace: 'cjs-interop', pluginData: { resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: 'cjs-interop' }, (args) => ({
      contents:
        `import * as m from ${JSON.stringify(args.path)};\n` +
        `const d = m.default && m.default.__esModule && 'default' in m.default ? m.default.default : m.default;\n` +
        `export default d;\nexport * from ${JSON.stringify(args.path)};\n`,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }));
  },
};

fs.mkdirSync(outdir, { recursive: true });
const result = await esbuild.build({
  entryPoints: [path.join(here, 'page.jsx')],
  bundle: true,
  outfile: path.join(outdir, 'bundle.js'),
  format: 'iife',
  platform: 'browser',
  target: 'chrome110',
  jsx: 'automatic',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
  // Fonts and images referenced from third-party CSS (monaco, via @grafana/ui's barrel) are not needed.
  loader: { '.svg': 'text', '.png': 'empty', '.gif': 'empty', '.ttf': 'empty', '.woff': 'empty', '.woff2': 'empty', '.eot': 'empty' },
  plugins: [cjsDefaultInterop],
  metafile: true,
});
fs.copyFileSync(path.join(here, 'index.html'), path.join(outdir, 'index.html'));
// @grafana/ui fetches its SVG icons from public/build/img/icons/ at run time.
fs.cpSync(path.join(here, 'node_modules/@grafana/ui/dist/public/img/icons'), path.join(outdir, 'public/build/img/icons'), { recursive: true });
if (!fs.existsSync(path.join(outdir, 'bundle.css'))) fs.writeFileSync(path.join(outdir, 'bundle.css'), '');
const bytes = fs.statSync(path.join(outdir, 'bundle.js')).size;
console.log(`bundle: ${outdir}/bundle.js, ${(bytes / 1e6).toFixed(1)} MB, ${Object.keys(result.metafile.inputs).length} modules`);
