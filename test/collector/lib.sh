# test/collector/lib.sh: helpers for test/collector.sh (source it after
# scripts/lib.sh).  Collectors, the Go app, the proxy and the Node app are
# started in the background from the test's shell and stopped by their pid.

CT_PASSED=0
CT_FAILED=0
CT_SKIPPED=0
CT_PIDS=()

# Record one check: check NAME OK [detail]  (OK is 1 or 0)
check() {
	if [ "$2" = 1 ]; then
		CT_PASSED=$((CT_PASSED + 1)); echo "ok   $1"
	else
		CT_FAILED=$((CT_FAILED + 1)); echo "FAIL $1${3:+: $3}"
	fi
}

# 1 when the command succeeds, else 0 (for check's second argument).
ok_if() { if "$@"; then echo 1; else echo 0; fi; }

# A skipped check says why: skip NAME REASON
skip() {
	CT_SKIPPED=$((CT_SKIPPED + 1)); echo "SKIP $1: $2"
}

# A free TCP port on localhost, from 4100 up.
ct_free_port() {
	local p
	for p in $(seq "${1:-4100}" 4999); do
		if ! pp_port_busy "$p"; then echo "$p"; return 0; fi
	done
	return 1
}

# psql on the test database, tuples only.
ct_sql() { pp_psql -Atq "$@"; }

# Write a collector config: ct_write_conf FILE PORT TABLE SPOOL [extra lines...]
ct_write_conf() {
	local file=$1 port=$2 table=$3 spool=$4; shift 4
	{
		echo "# written by test/collector.sh"
		echo "listen = 127.0.0.1:$port"
		echo "dsn = host=$PP_PGDIR/run port=$PP_PORT dbname=$PP_DB user=$CT_ROLE"
		echo "table = $table"
		echo "spool_dir = $spool"
		echo "batch_max_delay = 100ms"
		echo "reconnect_interval = 300ms"
		local line
		for line in "$@"; do echo "$line"; done
	} >"$file"
}

# Start a collector in the background: ct_start NAME CONF (log in $CT_WORK/NAME.log).
ct_start() {
	local name=$1 conf=$2
	"$CT_BIN" --config "$conf" >>"$CT_WORK/$name.log" 2>&1 &
	local pid=$!
	echo "$pid" >"$CT_WORK/$name.pid"
	CT_PIDS+=("$pid")
}

# The pid of a started collector (or other process) by name.
ct_pid() { cat "$CT_WORK/$1.pid" 2>/dev/null; }

# True while the named process runs.
ct_alive() { local pid; pid=$(ct_pid "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# Wait until GET /ready answers at all (200 or 503) on a port: ct_wait_up PORT [SECONDS]
ct_wait_up() {
	local port=$1 limit=${2:-15} i
	for i in $(seq $((limit * 10))); do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/ready" && return 0
		sleep 0.1
	done
	return 1
}

# SIGTERM a named process and wait for it; its exit status goes to CT_RC
# ("timeout" if it did not end).  Not in $(...): wait needs this shell.
ct_stop() {
	local name=$1 limit=${2:-20} pid i
	CT_RC=none
	pid=$(ct_pid "$name")
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq $((limit * 10))); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			CT_RC=$?
			rm -f "$CT_WORK/$name.pid"
			return 0
		fi
		sleep 0.1
	done
	CT_RC=timeout
}

# SIGKILL a named process.
ct_kill9() {
	local pid; pid=$(ct_pid "$1")
	[ -n "$pid" ] && { kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; }
	rm -f "$CT_WORK/$1.pid"
}

# A metric's value from /metrics: ct_metric PORT 'name{labels}' (0 when absent).
ct_metric() {
	curl -s --max-time 5 "http://127.0.0.1:$1/metrics" | awk -v m="$2" '$1 == m { print $2; found = 1 } END { if (!found) print 0 }'
}

# Wait until a metric reaches a value: ct_wait_metric PORT NAME VALUE [SECONDS] (numeric >=)
ct_wait_metric() {
	local port=$1 name=$2 want=$3 limit=${4:-20} i v
	for i in $(seq $((limit * 5))); do
		v=$(ct_metric "$port" "$name")
		awk -v v="$v" -v w="$want" 'BEGIN { exit !(v + 0 >= w + 0) }' && return 0
		sleep 0.2
	done
	return 1
}

# Wait until the spool of a collector is empty: ct_wait_spool_empty PORT [SECONDS]
ct_wait_spool_empty() {
	local port=$1 limit=${2:-30} i
	for i in $(seq $((limit * 5))); do
		[ "$(ct_metric "$port" pg_pprof_collector_spool_entries)" = 0 ] && return 0
		sleep 0.2
	done
	return 1
}

# HTTP status of a curl upload: ct_post URL FILE|-d DATA [curl args...]
ct_status() {
	curl -g -s -o "$CT_WORK/last_body" -w '%{http_code}' --max-time "${CT_CURL_TIMEOUT:-20}" "$@"
}

# Stop everything still running that the test started (by pid).
ct_cleanup() {
	local pid
	for pid in "${CT_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	sleep 0.5
	for pid in "${CT_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	wait 2>/dev/null
}

# Stop the private cluster (the collectors then spool).
ct_pg_stop() { pp_stop_cluster; }

# Start the private cluster again, on the same port number and socket.  The
# TCP port is free while the cluster is down, and another cluster (say, a
# CI run in a chroot that shares this machine's network) may take it
# meanwhile; then the cluster comes back on its Unix socket only, which is
# all that the collectors and the later suites use.
ct_pg_start() {
	local bin opts
	bin=$(pp_pgbin)
	pp_cluster_running && return 0
	opts="-p $PP_PORT -k $PP_PGDIR/run -c max_worker_processes=8"
	pp_as_postgres "$bin/pg_ctl" -D "$PP_PGDIR/data" -l "$PP_PGDIR/server.log" -w -s \
		-o "$opts -c listen_addresses=localhost" start 2>/dev/null && return 0
	pp_say "collector: localhost:$PP_PORT was taken while the cluster was down; it listens on its socket only"
	pp_as_postgres "$bin/pg_ctl" -D "$PP_PGDIR/data" -l "$PP_PGDIR/server.log" -w -s \
		-o "$opts -c listen_addresses=''" start
}
