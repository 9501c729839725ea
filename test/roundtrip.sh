#!/usr/bin/env bash
# test/roundtrip.sh: a table of profiles survives pg_dump/pg_restore and
# COPY BINARY exactly, and a hostile binary COPY is refused with an ERROR.
#
# Expects the private cluster to be running (scripts/test.sh starts it);
# prints `N passed, M failed`.
set -uo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
pp_export_pgenv
export PGOPTIONS='-c client_min_messages=warning'
pp_stage_inputs
work=$(pp_tmpdir)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0

# Record a named check: ok when $2 equals $3.
expect() {
	if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok   $1"
	else failed=$((failed + 1)); echo "FAIL $1: expected [$2], got [$3]"; fi
}

src=roundtrip_src dst=roundtrip_dst
for db in $src $dst; do
	pp_psql -d postgres -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
files=$(ls "$PP_EXAMPLES"/*.pb.gz; [ -d "$PP_CORPUS" ] && find "$PP_CORPUS" -name '*.pb.gz')
pp_psql -d $src -q <<SQL
CREATE EXTENSION pg_pprof;
CREATE TABLE profiles (id serial PRIMARY KEY, file text, sample_type text, labels jsonb, p profile);
SQL
for f in $files; do
	pp_psql -d $src -qc "INSERT INTO profiles (file, sample_type, labels, p)
		SELECT '$(basename "$f")', sample_type, labels, profile
		FROM pprof_split(pg_read_binary_file('$f'), '{endpoint}')"
done
pp_psql -d $src -qc "INSERT INTO profiles (file) VALUES ('null profile')"
# packed values (format version 2, with timelines) travel the same ways
pp_psql -d $src -qc "INSERT INTO profiles (file, sample_type, p)
	SELECT 'packed', sample_type, profile_pack(p, timestamptz '2026-01-01 00:00+00' + id * interval '1 minute')
	FROM profiles WHERE p IS NOT NULL GROUP BY sample_type, profile_unit(p)"
digest="SELECT count(*) || ':' || md5(string_agg(id || file || coalesce(p::text, 'NULL'), ',' ORDER BY id)) FROM profiles"
want=$(pp_psql -d $src -Atc "$digest")

# pg_dump (custom format) and pg_restore into a fresh database.
"$(pp_pgbin)/pg_dump" -Fc -d $src -f "$work/dump"
"$(pp_pgbin)/pg_restore" -d $dst "$work/dump"
expect "pg_dump/pg_restore: $(pp_psql -d $src -Atc 'SELECT count(*) FROM profiles') rows identical" \
	"$want" "$(pp_psql -d $dst -Atc "$digest")"
expect "restored values decode" "0" \
	"$(pp_psql -d $dst -Atc "SELECT count(*) FROM profiles WHERE p IS NOT NULL AND profile_total(p) IS NULL")"

# COPY BINARY out and back in (send/recv), through psql's \copy.
pp_psql -d $src -qc "\\copy profiles TO '$work/profiles.bin' WITH (FORMAT binary)"
pp_psql -d $src -qc "CREATE TABLE copied (LIKE profiles)" \
	-c "\\copy copied FROM '$work/profiles.bin' WITH (FORMAT binary)"
expect "COPY BINARY round trip identical" "$want" \
	"$(pp_psql -d $src -Atc "${digest/FROM profiles/FROM copied}")"

# Hostile COPY BINARY: bytea and profile share a wire format (raw bytes), so
# corrupted stored bytes exported from a bytea column are fed to profile_recv.
pp_psql -d $src -q <<SQL
CREATE TABLE hostile (b bytea);
INSERT INTO hostile SELECT set_byte(profile_send(p), 20, (get_byte(profile_send(p), 20) + 1) % 256)
FROM profiles WHERE p IS NOT NULL ORDER BY id LIMIT 1;
\\copy hostile TO '$work/hostile.bin' WITH (FORMAT binary)
CREATE TABLE hostile_in (p profile);
SQL
out=$(pp_psql -d $src -v VERBOSITY=verbose -qc "\\copy hostile_in FROM '$work/hostile.bin' WITH (FORMAT binary)" 2>&1)
expect "hostile COPY BINARY refused with XX001 (data_corrupted)" "XX001" \
	"$(grep -o 'ERROR:  [0-9A-Z]\{5\}' <<<"$out" | head -1 | cut -c9-)"
pp_psql -d $src -q <<SQL
TRUNCATE hostile;
INSERT INTO hostile VALUES ('\x01'), ('\x0100ff'), (decode(repeat('ff', 64), 'hex'));
\\copy hostile TO '$work/hostile2.bin' WITH (FORMAT binary)
SQL
out=$(pp_psql -d $src -v VERBOSITY=verbose -qc "\\copy hostile_in FROM '$work/hostile2.bin' WITH (FORMAT binary)" 2>&1)
expect "truncated binary COPY values refused with XX001" "XX001" \
	"$(grep -o 'ERROR:  [0-9A-Z]\{5\}' <<<"$out" | head -1 | cut -c9-)"
# a packed value whose timeline had its last byte changed (the row COPY meets
# first), or lost it
pp_psql -d $src -q <<SQL
TRUNCATE hostile;
INSERT INTO hostile SELECT set_byte(profile_send(p), length(profile_send(p)) - 1,
	(get_byte(profile_send(p), length(profile_send(p)) - 1) + 1) % 256)
FROM profiles WHERE file = 'packed' ORDER BY id LIMIT 1;
INSERT INTO hostile SELECT substr(profile_send(p), 1, length(profile_send(p)) - 1)
FROM profiles WHERE file = 'packed' ORDER BY id LIMIT 1;
\\copy hostile TO '$work/hostile3.bin' WITH (FORMAT binary)
SQL
out=$(pp_psql -d $src -v VERBOSITY=verbose -qc "\\copy hostile_in FROM '$work/hostile3.bin' WITH (FORMAT binary)" 2>&1)
expect "binary COPY of packed values with a damaged timeline refused with XX001" "XX001" \
	"$(grep -o 'ERROR:  [0-9A-Z]\{5\}' <<<"$out" | head -1 | cut -c9-)"
expect "nothing was loaded from hostile input" "0" "$(pp_psql -d $src -Atc 'SELECT count(*) FROM hostile_in')"
expect "backend alive" "1" "$(pp_psql -d $src -Atc 'SELECT 1')"

for db in $src $dst; do pp_psql -d postgres -qc "DROP DATABASE $db"; done
echo "roundtrip: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
