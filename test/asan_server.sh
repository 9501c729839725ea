#!/usr/bin/env bash
# test/asan_server.sh: the regress, oracle and hostile suites against an
# AddressSanitizer and UBSan build of the extension, loaded in a real server.
#
# The build routes the cores' allocations to malloc (-DPP_ALLOC_MALLOC, see
# src/sql_alloc.c), so every block has ASan's red zones: palloc carves
# chunks out of large blocks, inside which ASan sees no overflow.  So as
# not to replace the extension other checkouts use, it is installed into a
# relocated copy of Debian's PostgreSQL 15 (PostgreSQL finds its libdir and
# sharedir relative to its binaries) under $PP_STATE/asan, and a cluster of
# its own runs there with the ASan runtime preloaded into the postmaster
# (detect_leaks=0; no ulimit -v, which ASan's shadow memory cannot live
# with).  Any report fails the run.
#
# Prints the suites' lines and "asan-server: N passed, M failed".
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
cd "$PP_ROOT"
passed=0 failed=0
check() {
	if [ "$2" = 1 ]; then passed=$((passed + 1)); echo "ok   $1${3:+ ($3)}"
	else failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"; fi
}
finish() { echo "asan-server: $passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }

pp_install_deps || { check "install the Debian packages" 0; finish; }
root=$PP_STATE/asan
inst=$root/install
sys_bin=/usr/lib/postgresql/15/bin
sys_lib=/usr/lib/postgresql/15/lib
sys_share=/usr/share/postgresql/15
reports=$root/reports

# The relocated installation: copied binaries (PostgreSQL resolves symlinks
# to find itself), the libraries and shared files linked, our build in.
rm -rf "$inst" "$reports"
mkdir -p "$inst$sys_bin" "$inst$sys_lib" "$inst$sys_share/extension" "$reports"
cp -a "$sys_bin/." "$inst$sys_bin/"
for f in "$sys_lib"/*; do [ "$(basename "$f")" = pg_pprof.so ] || ln -s "$f" "$inst$sys_lib/"; done
for f in "$sys_share"/*; do [ "$(basename "$f")" = extension ] || ln -s "$f" "$inst$sys_share/"; done
for f in "$sys_share/extension"/*; do
	case $(basename "$f") in pg_pprof*) ;; *) ln -s "$f" "$inst$sys_share/extension/" ;; esac
done

# The ASan/UBSan build, from a copy of the sources (the checkout's own build stays).
build=$root/build
rm -rf "$build" && mkdir -p "$build"
mkdir -p "$build/src"
cp -r Makefile pg_pprof.control include sql proto "$build/"
cp src/*.c "$build/src/"
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g -O1"
# (make install links again: it gets the same flags)
asan_make() {
	make -s -C "$build" PG_CONFIG=/usr/bin/pg_config PG_PPROF_NO_COLLECTOR=1 PG_PPROF_CFLAGS="$san -DPP_ALLOC_MALLOC" \
		SHLIB_LINK="-fsanitize=address,undefined -lubsan -lprotobuf-c -lzstd -lz -lm" "$@"
}
if asan_make >"$root/build.log" 2>&1 && asan_make install DESTDIR="$inst" >>"$root/build.log" 2>&1 &&
	ldd "$inst$sys_lib/pg_pprof.so" | grep -q libubsan &&
	[ "$(nm -D "$inst$sys_lib/pg_pprof.so" | grep -c __asan_report)" -gt 0 ]; then
	check "build and install the ASan/UBSan extension into $inst" 1
else
	check "build and install the ASan/UBSan extension" 0 "$(tail -5 "$root/build.log")"; finish
fi

# A cluster of its own, with the ASan runtime preloaded into the postmaster.
# With glibc 2.36, a preloaded ASan runtime that initializes after other
# libraries' constructors (p11-kit's newlocale, say) leaves glibc's locale
# locks held, and every process then hangs in setlocale or at exit.  So
# the server's own libraries are preloaded first and the runtime last:
# the loader runs constructors in reverse load order, so ASan's runs
# first.  ASan's check that it comes first in the list is switched off for
# that; the lookup of malloc and friends still finds its interceptors first,
# since none of those libraries defines them.
export PP_STATE=$root/state PP_PGBIN=$inst$sys_bin PP_PRELOAD=
unset PP_PGDIR PP_PORT
server_libs=$(ldd "$inst$sys_bin/postgres" | awk '$3 ~ /^\// {print $3}' |
	grep -vE '/libc\.so|/libm\.so|/libgcc_s|ld-linux' | tr '\n' ':')
export PP_SERVER_ENV="LD_PRELOAD=${server_libs}$(gcc -print-file-name=libasan.so)
	ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0:halt_on_error=1:abort_on_error=1:log_path=$reports/asan
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
chown -R postgres:postgres "$reports" 2>/dev/null
# Re-read the settings for the new state folder.
source "$PP_ROOT/scripts/lib.sh"
pp_stop_cluster >/dev/null 2>&1
if ! pp_start_cluster; then
	check "start the server with the ASan runtime" 0 "$(tail -5 "$PP_PGDIR/server.log" 2>/dev/null)"; finish
fi
log_from=$(stat -c %s "$PP_PGDIR/server.log")
pp_stage_inputs
pp_export_pgenv
export PP_CLUSTER_READY=1
pp_psql -d postgres -qc "DROP DATABASE IF EXISTS $PP_DB WITH (FORCE)" -c "CREATE DATABASE $PP_DB"
backend=$(pp_psql -Atc "SELECT pg_backend_pid(), count(*) FROM pg_extension" 2>/dev/null | cut -d'|' -f1)
check "the server runs with the ASan runtime ($PP_PGDIR, port $PP_PORT)" \
	"$([ -n "$backend" ] && grep -q libasan "/proc/$(head -1 "$PP_PGDIR/data/postmaster.pid")/maps" && echo 1 || echo 0)"

# Run a suite; it passes when its own summary says so.
suite() {
	local name=$1 out; shift
	out=$("$@" 2>&1)
	local rc=$?
	echo "$out" | grep -E '^(FAIL|not ok)|passed, [0-9]+ failed|tests passed|failed' | head -20
	check "$name on the ASan/UBSan build" "$([ $rc = 0 ] && echo 1 || echo 0)" \
		"$(grep -oE '[0-9]+ passed, [0-9]+ failed|All [0-9]+ tests passed' <<<"$out" | tail -1)"
}
suite regress make -s -C "$PP_ROOT" installcheck PG_CONFIG=/usr/bin/pg_config
suite oracle bash test/oracle.sh
suite hostile bash test/hostile.sh

# No sanitizer report in the reports folder or the server log, and no crash.
n_reports=$(find "$reports" -type f -size +0 | wc -l)
check "no ASan or UBSan report files" "$([ "$n_reports" = 0 ] && echo 1 || echo 0)" \
	"$(find "$reports" -type f -size +0 -exec head -5 {} \; | head -20)"
bad=$(tail -c +"$((log_from + 1))" "$PP_PGDIR/server.log" |
	grep -E 'AddressSanitizer|runtime error:|terminated by signal' | head -5)
check "no sanitizer report or crashed backend in the server log" "$([ -z "$bad" ] && echo 1 || echo 0)" "$bad"
pp_stop_cluster
finish
