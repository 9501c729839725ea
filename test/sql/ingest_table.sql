-- pprof_ingest: split a pprof file and insert the rows into a table.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set heap `base64 -w0 "$PG_ABS_SRCDIR"/../examples/heap.pb.gz`
\set mutex `base64 -w0 "$PG_ABS_SRCDIR"/../examples/mutex.pb.gz`
-- A one-sample cpu/nanoseconds pprof written by hand, with time_nanos
-- 1700000000000000 (a microsecond clock read as nanoseconds: 1970-01-20) ...
\set micros '\\x0a04080110021203120105320032036370753' '20b6e616e6f7365636f6e6473488080f9c0c1c48203'
-- ... and with time_nanos 1800000000000000000 (2027-01-15 08:00 UTC).
\set nanos '\\x0a04080110021203120105320032036370753' '20b6e616e6f7365636f6e647348' '8080d09de9ceb8fd18'
SET client_min_messages = warning;
SET timezone = 'UTC';

CREATE TABLE profiles (time timestamptz, service text, name text, sample_type text, unit text,
                       labels jsonb, profile profile, tenant text);
-- One row per sample type and label combination, as pprof_split splits them.
SELECT pprof_ingest('profiles', decode(:'cpu1', 'base64'), 'shop', labels => '{"env": "prod"}',
                    label_keys => '{endpoint}') AS rows;
SELECT count(*) = (SELECT count(*) FROM pprof_split(decode(:'cpu1', 'base64'), '{endpoint}')) AS as_split,
       bool_and(p.profile = s.profile) AS same_profiles
FROM profiles p JOIN pprof_split(decode(:'cpu1', 'base64'), '{endpoint}') s
  ON p.sample_type = s.sample_type AND p.labels - 'env' = s.labels;
-- The caller's labels are merged in; on a shared key the sample's label wins.
SELECT DISTINCT labels->>'env' AS env, labels ? 'endpoint' AS has_endpoint FROM profiles;
SELECT pprof_ingest('profiles', decode(:'cpu1', 'base64'), 'shop', labels => '{"endpoint": "caller"}',
                    label_keys => '{endpoint}');
SELECT labels->>'endpoint' AS endpoint, count(*) FROM profiles
WHERE labels->>'env' IS NULL GROUP BY 1 ORDER BY 1;
DELETE FROM profiles;

-- name: Pyroscope's name when NULL, else the caller's.
SELECT pprof_ingest('profiles', decode(:'cpu1', 'base64'), 'shop');
SELECT pprof_ingest('profiles', decode(:'heap', 'base64'), 'shop');
SELECT pprof_ingest('profiles', decode(:'mutex', 'base64'), 'shop');
SELECT pprof_ingest('profiles', decode(:'mutex', 'base64'), 'shop', name => 'block');
SELECT name, sample_type, unit, count(*) FROM profiles GROUP BY 1, 2, 3 ORDER BY 1, 2;
DELETE FROM profiles;

-- time: the profile's own time_nanos, or "at" when it is 0 or lies in 1970.
SELECT pprof_ingest('profiles', :'nanos'::bytea, 'clock', at => '2026-01-01 00:00+00');
SELECT pprof_ingest('profiles', :'micros'::bytea, 'clock', at => '2026-01-01 00:00+00');
SELECT pprof_ingest('profiles', '\x0a0408011002120312010532003203637075320b6e616e6f7365636f6e6473'::bytea,
                    'clock', at => '2026-02-02 00:00+00');
SELECT time, name, profile_total(profile) FROM profiles ORDER BY time;
DELETE FROM profiles;

-- request_id: a repeated call is a no-op.
SELECT pprof_ingest('profiles', decode(:'heap', 'base64'), 'shop',
                    request_id => '7f1b4e0e-8d3c-4c57-9d8e-0f6a3b2c1d01') AS first,
       pprof_ingest('profiles', decode(:'heap', 'base64'), 'shop',
                    request_id => '7f1b4e0e-8d3c-4c57-9d8e-0f6a3b2c1d01') AS again;
SELECT count(*) FROM profiles;
SELECT count(*) FROM pprof_ingest_requests WHERE request_id = '7f1b4e0e-8d3c-4c57-9d8e-0f6a3b2c1d01';
-- An error rolls the request id back with the rows, so a retry stores them.
SELECT pprof_ingest('profiles', '\xffff'::bytea, 'shop', request_id => '7f1b4e0e-8d3c-4c57-9d8e-0f6a3b2c1d02');
SELECT count(*) FROM pprof_ingest_requests WHERE request_id = '7f1b4e0e-8d3c-4c57-9d8e-0f6a3b2c1d02';

-- tenant fills the tenant column; without it the column may be missing.
SELECT pprof_ingest('profiles', decode(:'mutex', 'base64'), 'shop', tenant => 'acme');
SELECT DISTINCT tenant FROM profiles WHERE tenant IS NOT NULL;
CREATE TABLE "Odd ""Name""" (time timestamptz, service text, name text, sample_type text, unit text,
                             labels jsonb, profile profile);
SELECT pprof_ingest('"Odd ""Name"""', decode(:'mutex', 'base64'), 'shop');
SELECT pprof_ingest('"Odd ""Name"""', decode(:'mutex', 'base64'), 'shop', tenant => 'acme');

-- Caller text is never SQL: a hostile service, name or label is just data.
SELECT pprof_ingest('profiles', decode(:'mutex', 'base64'), $$x'); DROP TABLE profiles; --$$,
                    name => $$'; DROP TABLE profiles; --$$);
SELECT service, name FROM profiles WHERE service LIKE 'x%' LIMIT 1;

-- Least privilege: INSERT on the table, and INSERT and SELECT (request_id)
-- on pprof_ingest_requests (ON CONFLICT reads the key), are enough.
CREATE ROLE pprof_collector;
GRANT INSERT ON profiles TO pprof_collector;
GRANT INSERT, SELECT (request_id) ON pprof_ingest_requests TO pprof_collector;
SET ROLE pprof_collector;
SELECT pprof_ingest('profiles', decode(:'mutex', 'base64'), 'least',
                    request_id => '7f1b4e0e-8d3c-4c57-9d8e-0f6a3b2c1d03');
SELECT pprof_ingest('"Odd ""Name"""', decode(:'mutex', 'base64'), 'least');
SELECT count(*) FROM profiles;
RESET ROLE;
SELECT count(*) FROM profiles WHERE service = 'least';
REVOKE ALL ON profiles, pprof_ingest_requests FROM pprof_collector;
DROP ROLE pprof_collector;

-- Bad arguments.
SELECT pprof_ingest('profiles', decode(:'mutex', 'base64'), NULL);
SELECT pprof_ingest('profiles', NULL, 'shop');
CREATE TABLE lacking (time timestamptz, profile profile);
SELECT pprof_ingest('lacking', decode(:'mutex', 'base64'), 'shop');
DROP TABLE profiles, "Odd ""Name""", lacking;
DELETE FROM pprof_ingest_requests;
