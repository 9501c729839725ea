#!/usr/bin/env bash
# test/symbols.sh: every C function that any shipped install or update script
# names is exported by the built pg_pprof.so.
#
# $libdir/pg_pprof is unversioned: one library serves every installed
# version of the extension, so a database still at 0.1.0 calls the symbols
# that sql/pg_pprof--0.1.0.sql named, after the library has moved on.  A
# symbol that any script in sql/ ever named must stay exported (with its
# pg_finfo_ record), even when a later script stops using it.
#
# Prints one ok/FAIL line per symbol and "symbols: N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PP_ROOT"
passed=0 failed=0
lib=$PP_ROOT/pg_pprof.so
[ -f "$lib" ] || { echo "FAIL $lib is not built"; echo "symbols: 0 passed, 1 failed"; exit 1; }
exported=$(nm -D --defined-only "$lib" | awk '{print $3}')

# Each C function of the scripts: "AS 'MODULE_PATHNAME', 'symbol'", or the
# SQL name when the symbol is not given.
symbols=$(cat sql/pg_pprof--*.sql | tr '\n\t' '  ' | grep -oE "FUNCTION [a-z_0-9]+\([^;]*LANGUAGE C" |
	sed -E "s/^FUNCTION ([a-z_0-9]+)\(.*AS 'MODULE_PATHNAME'(, *'([a-z_0-9]+)')?.*/\1 \3/" |
	awk '{print ($2 != "" ? $2 : $1)}' | sort -u)
for sym in $symbols; do
	if grep -qx "$sym" <<<"$exported" && grep -qx "pg_finfo_$sym" <<<"$exported"; then
		passed=$((passed + 1)); echo "ok   $sym"
	else
		failed=$((failed + 1)); echo "FAIL $sym is named by a script in sql/ but not exported by pg_pprof.so"
	fi
done
[ -n "$symbols" ] || { failed=$((failed + 1)); echo "FAIL no C functions found in sql/"; }
echo "symbols: $passed passed, $failed failed"
[ "$failed" = 0 ]
