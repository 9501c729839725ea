#!/usr/bin/env bash
# test/browser/run.sh: render the shipped Grafana dashboard's flame graph and diff
# panels with Grafana's own Flame Graph component in headless Chromium.
#
# The rows come from the private cluster (scripts/lib.sh) and the demo table
# of scripts/demo.sh, through the exact rawSql of examples/grafana/pg_pprof.json
# with Grafana's macros expanded as examples/grafana/check.sh expands them.
#
#   PP_CLUSTER_READY=1     the cluster runs and the demo table exists (scripts/test.sh);
#                          otherwise build, start the cluster and run scripts/demo.sh
#   BROWSER_TEST_RENAME=label:name
#                          self-check: rename a column in the frames; the run must fail
#   PP_CHROMIUM            browser binary (default /usr/bin/chromium)
#
# Installs Debian's chromium if missing and the pinned Node.js and npm
# (pp_node_setup in scripts/lib.sh), then `npm ci` from the committed
# lockfile (skipped when node_modules matches it), bundles page.jsx with
# esbuild into test-artifacts/browser-page/, and runs test.mjs.
# Screenshots: test-artifacts/browser-flame.png and browser-diff.png.
# Ends with `browser: N passed, M failed`; exits non-zero on any failure.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../scripts/lib.sh"
cd "$PP_ROOT"

export PP_CHROMIUM=${PP_CHROMIUM:-/usr/bin/chromium}
t0=$SECONDS
failed_early() { echo "FAIL $*"; echo "browser: 0 passed, 1 failed"; exit 1; }
step() { pp_say "browser: $* (${SECONDS}s)"; }

# Debian's chromium, and the project's pinned Node.js and npm from the npm
# registry (Debian 12's npm 9.2 cannot read this lockfile's overrides).
step "packages"
pp_install_deps || failed_early "could not install the Debian packages"
step "node"
pp_node_setup || failed_early "could not install Node.js $PP_NODE_VERSION from the npm registry"

if [ "${PP_CLUSTER_READY:-}" != 1 ]; then
	step "build, cluster, demo table"
	pp_build || failed_early "build failed"
	pp_start_cluster || failed_early "could not start the cluster"
	bash scripts/demo.sh >/dev/null || failed_early "scripts/demo.sh failed"
fi

# npm packages from the committed lockfile, vetted first.
step "lockfile"
lockout=$(node "$here/lockcheck.mjs"); lockrc=$?
echo "$lockout"
[ $lockrc -eq 0 ] || { echo "browser: $(grep -c '^ok' <<<"$lockout") passed, $(grep -c '^FAIL' <<<"$lockout") failed"; exit 1; }
stamp=$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)-$(node --version)
if [ "$(cat "$here/node_modules/.pp-lock-stamp" 2>/dev/null)" != "$stamp" ]; then
	step "npm ci"
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) || failed_early "npm ci failed"
	echo "$stamp" >"$here/node_modules/.pp-lock-stamp"
else
	step "node_modules matches the lockfile, npm ci skipped"
fi

out=$PP_ROOT/test-artifacts
step "bundle"
node "$here/build.mjs" "$out/browser-page" || failed_early "esbuild bundle failed"

step "test"
export PP_ROOT PP_PGDIR PP_PORT PP_DB PP_ARTIFACTS=$out
export PP_PRE_PASSED=$(grep -c '^ok' <<<"$lockout")
node "$here/test.mjs" "$out/browser-page"
rc=$?
step "done in $((SECONDS - t0))s"
exit $rc
