# scripts/lib.sh: shared set-up for the demo, the tests and the benchmarks.
# Source it from bash; it defines functions and never runs anything itself.
#
#   pp_install_deps   install the Debian packages the project needs (as root)
#   pp_build          build and install the extension (make && make install)
#   pp_start_cluster  start the private cluster in .pg/ (idempotent)
#   pp_stop_cluster   stop it
#   pp_psql           psql connected to the private cluster
#
# The cluster never touches a system cluster: its data and socket
# directories live in .pg/ in the work tree, it runs as the Debian
# `postgres` user, and it listens on its own socket and on localhost:$PP_PORT
# (for Grafana) only.

PP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PP_PGDIR=${PP_PGDIR:-$PP_ROOT/.pg}
PP_PORT=${PP_PORT:-54329}
PP_DB=${PP_DB:-pg_pprof}
PP_SHARED=$(cd "$PP_ROOT/.." && pwd)/shared
export GOCACHE=${GOCACHE:-$PP_ROOT/.cache/go-build}

PP_PACKAGES=(build-essential pkg-config postgresql-15 postgresql-server-dev-15
	libprotobuf-c-dev protobuf-c-compiler libzstd-dev zlib1g-dev
	golang-go golang-github-google-pprof-dev libxml2-utils chromium)

# Say something on stderr with a prefix.
pp_say() { printf '[pg_pprof] %s\n' "$*" >&2; }

# Install the Debian packages that are missing (apt-get update only if needed).
pp_install_deps() {
	local missing=() p
	for p in "${PP_PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ]; then
			pp_say "missing packages: ${missing[*]} (run as root to install them)"; return 1
		fi
		pp_say "installing: ${missing[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	fi
	# Debian's postgresql-15 creates its own cluster; we leave it alone and use ours.
	PATH=$(pp_pgbin):$PATH
	export PATH
}

# Directory of the PostgreSQL 15 server binaries.
pp_pgbin() { echo /usr/lib/postgresql/15/bin; }

# Build and install the extension.
pp_build() {
	make -C "$PP_ROOT" -s PG_CONFIG=/usr/bin/pg_config >/dev/null
	make -C "$PP_ROOT" -s install PG_CONFIG=/usr/bin/pg_config >/dev/null
}

# Run a command as the postgres user (or as is, if we are not root).
pp_as_postgres() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Start the private cluster (initdb on first use); safe to call twice.
pp_start_cluster() {
	local bin; bin=$(pp_pgbin)
	mkdir -p "$PP_PGDIR/run"
	[ "$(id -u)" = 0 ] && chown -R postgres:postgres "$PP_PGDIR"
	if [ ! -f "$PP_PGDIR/data/PG_VERSION" ]; then
		pp_say "initdb in $PP_PGDIR/data"
		pp_as_postgres "$bin/initdb" -D "$PP_PGDIR/data" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C >/dev/null
	fi
	if ! pp_as_postgres "$bin/pg_ctl" -D "$PP_PGDIR/data" status >/dev/null 2>&1; then
		pp_as_postgres "$bin/pg_ctl" -D "$PP_PGDIR/data" -l "$PP_PGDIR/server.log" -w -s \
			-o "-p $PP_PORT -k $PP_PGDIR/run -c listen_addresses=localhost -c max_worker_processes=8" start
	fi
	if ! pp_psql -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname = '$PP_DB'" | grep -q 1; then
		pp_psql -d postgres -qc "CREATE DATABASE $PP_DB"
	fi
}

# Stop the private cluster.
pp_stop_cluster() {
	pp_as_postgres "$(pp_pgbin)/pg_ctl" -D "$PP_PGDIR/data" -w -s stop -m fast || true
}

# psql on the private cluster (extra arguments are passed through; -d overrides the db).
pp_psql() {
	psql -X -h "$PP_PGDIR/run" -p "$PP_PORT" -U postgres -d "$PP_DB" -v ON_ERROR_STOP=1 "$@"
}

# Environment for libpq clients (pg_regress, pg_dump, ...).
pp_export_pgenv() {
	export PGHOST=$PP_PGDIR/run PGPORT=$PP_PORT PGUSER=postgres PGDATABASE=$PP_DB
}

# Build a Go tool in GOPATH mode against Debian's pprof library.
pp_go_build() {
	local out=$1 pkg=$2
	mkdir -p "$(dirname "$out")" "$GOCACHE"
	(cd "$PP_ROOT" && GO111MODULE=off GOPATH=/usr/share/gocode:$PP_ROOT/.cache/gopath \
		go build -o "$out" "$pkg")
}
