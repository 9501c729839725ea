-- Packed series: profile_pack, profile_slice, profile_unpack, profile_points,
-- profile_is_packed and profile_compact, checked against the raw rows.
-- Input files are read on the client side (psql runs base64).
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set cpu2 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_2.pb.gz`
\set cpu3 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_3.pb.gz`
\set heap `base64 -w0 "$PG_ABS_SRCDIR"/../examples/heap.pb.gz`
SET client_min_messages = warning;

CREATE TABLE src (i int, p profile);
INSERT INTO src VALUES
	(1, profile_from_pprof(decode(:'cpu1', 'base64'))),
	(2, profile_from_pprof(decode(:'cpu2', 'base64'))),
	(3, profile_from_pprof(decode(:'cpu3', 'base64')));

-- 180 raw rows of two services over three hours, one a minute, each its
-- own source; rows 7 and 8 of svc "a" share a time (they are summed).
CREATE TABLE raw (service text, time timestamptz, profile profile);
INSERT INTO raw
SELECT s, timestamptz '2026-06-01 10:00:00+00' + m * interval '1 minute'
          + CASE WHEN s = 'a' AND m = 8 THEN interval '-1 minute' ELSE interval '0' END,
       (SELECT p FROM src WHERE i = (m + length(s)) % 3 + 1)
FROM generate_series(0, 89) m, unnest(ARRAY['a', 'bb']) s;

CREATE TABLE packed AS
SELECT service, date_bin('1 hour', time, timestamptz '1970-01-01 00:00:00+00') AS time,
       profile_pack(profile, time) AS profile
FROM raw GROUP BY 1, 2;

-- One packed value per series and hour; points are distinct times.
SELECT service, time, profile_is_packed(profile) AS packed,
       profile_info(profile)->'points' AS points,
       profile_info(profile)->'profiles' AS profiles,
       profile_info(profile)->>'first_point' AS first_point,
       profile_info(profile)->>'last_point' AS last_point,
       (profile_info(profile)->>'timeline_bytes')::int > 0 AS has_timeline
FROM packed ORDER BY 1, 2;

-- The merge of a packed value is the merge of its sources, and plain.
SELECT service,
       profile_merge(profile) = (SELECT profile_merge(r.profile) FROM raw r WHERE r.service = p.service) AS merge_equal,
       profile_is_packed(profile_merge(profile)) AS merge_packed
FROM packed p GROUP BY service ORDER BY 1;
-- Every reader works on a packed value as its totals.
WITH m AS (SELECT profile_merge(profile) AS plain, (SELECT profile_pack(profile, time) FROM raw WHERE service = 'a') AS pk
           FROM raw WHERE service = 'a')
SELECT profile_total(pk) = profile_total(plain) AS total,
       (SELECT array_agg(f ORDER BY f::text) FROM flamegraph(pk) f) =
           (SELECT array_agg(f ORDER BY f::text) FROM flamegraph(plain) f) AS flamegraph,
       (SELECT array_agg(t ORDER BY t::text) FROM profile_top(pk) t) =
           (SELECT array_agg(t ORDER BY t::text) FROM profile_top(plain) t) AS top,
       (SELECT array_agg(s ORDER BY s::text) FROM profile_stacks(pk) s) =
           (SELECT array_agg(s ORDER BY s::text) FROM profile_stacks(plain) s) AS stacks,
       (SELECT count(*) FROM flamegraph_diff(pk, plain) d WHERE d.value <> d."valueRight" OR d.self <> d."selfRight") AS diff_rows,
       profile_to_pprof(pk) = profile_to_pprof(plain) AS pprof,
       profile_to_folded(pk) = profile_to_folded(plain) AS folded,
       profile_to_svg(pk) = profile_to_svg(plain) AS svg,
       profile_info(pk) - '{points,first_point,last_point,timeline_bytes,stored_bytes,format_version}'::text[] =
           profile_info(plain) - '{points,first_point,last_point,timeline_bytes,stored_bytes,format_version}'::text[] AS info,
       profile_info(plain)->'points' AS plain_points
FROM m;

-- Unpacking gives back every source (rows of one time merged).
SELECT count(*) AS points,
       count(*) FILTER (WHERE u.profile = (SELECT profile_merge(r.profile) FROM raw r
                                          WHERE r.service = p.service AND r.time = u.time)) AS exact,
       count(*) FILTER (WHERE profile_info(u.profile) - 'stored_bytes' =
                              (SELECT profile_info(profile_merge(r.profile)) - 'stored_bytes' FROM raw r
                               WHERE r.service = p.service AND r.time = u.time)) AS same_info,
       count(*) FILTER (WHERE profile_is_packed(u.profile)) AS packed
FROM packed p, profile_unpack(p.profile) u;
SELECT count(*) AS raw_rows, count(DISTINCT (service, time)) AS distinct_times FROM raw;

-- Packing packed values keeps their timelines (their t is ignored); the
-- order of inputs does not matter, and equal times are summed.
SELECT (SELECT profile_pack(profile, NULL) FROM packed WHERE service = 'a') =
       (SELECT profile_pack(profile, time ORDER BY time DESC) FROM raw WHERE service = 'a') AS pack_of_packs,
       (SELECT profile_pack(profile, now()) FROM packed WHERE service = 'a') =
       (SELECT profile_pack(profile, time) FROM raw WHERE service = 'a') AS t_ignored;
-- Mixed packed and raw inputs.
SELECT (SELECT profile_pack(x.profile, x.time) FROM (
            SELECT profile, time FROM packed WHERE service = 'a' AND time < '2026-06-01 11:00+00'
            UNION ALL SELECT profile, time FROM raw WHERE service = 'a' AND time >= '2026-06-01 11:00+00') x) =
       (SELECT profile_pack(profile, time) FROM raw WHERE service = 'a') AS mixed;
-- A plain value with no t is one point at its own start time.
SELECT profile_info(profile_pack(p, NULL))->>'first_point' = profile_info(p)->>'start_time' AS start_time
FROM src WHERE i = 1 GROUP BY p;
-- NULL profiles are skipped; nothing gives NULL.
SELECT profile_pack(p, now()) IS NULL AS empty FROM src WHERE false;
SELECT profile_pack(NULL::profile, now()) IS NULL AS only_nulls;
-- A time without nanoseconds since 1970 cannot be stored.
SELECT profile_pack(p, 'infinity') FROM src WHERE i = 1;
SELECT profile_pack(p, '1500-01-01 00:00+00') FROM src WHERE i = 1;
-- Sample types must agree.
SELECT profile_pack(p, now()) FROM (SELECT p FROM src UNION ALL
       SELECT profile_from_pprof(decode(:'heap', 'base64'))) x;

-- profile_slice: exact windows, half-open, over packed and raw rows.
CREATE FUNCTION window_equal(since timestamptz, until timestamptz) RETURNS boolean
LANGUAGE sql AS $$
	SELECT (SELECT profile_merge(profile_slice(profile, since, until, time)) FROM packed)
	       IS NOT DISTINCT FROM
	       (SELECT profile_merge(profile) FROM raw WHERE time >= since AND time < until)
$$;
SELECT since, until, window_equal(since, until)
FROM (VALUES ('2026-06-01 10:07+00'::timestamptz, '2026-06-01 10:08+00'::timestamptz),
             ('2026-06-01 10:07+00', '2026-06-01 10:09+00'),
             ('2026-06-01 10:10+00', '2026-06-01 10:20+00'),
             ('2026-06-01 10:59:59+00', '2026-06-01 11:00:00.000001+00'),
             ('2026-06-01 10:30+00', '2026-06-01 11:45+00'),
             ('2026-06-01 09:00+00', '2026-06-01 13:00+00'),
             ('-infinity', 'infinity'),
             ('2026-06-01 12:00+00', '2026-06-01 13:00+00'),
             ('2026-06-01 08:00+00', '2026-06-01 10:00+00')) v(since, until)
ORDER BY 1, 2;
-- A value wholly inside gives its merge (a plain value); wholly outside, NULL.
SELECT profile_slice(profile, '2026-06-01 10:00+00', '2026-06-01 11:00+00') = profile_merge(profile, NULL) AS inside_merge,
       profile_is_packed(profile_slice(profile, '2026-06-01 10:00+00', '2026-06-01 11:00+00')) AS inside_packed,
       profile_info(profile_slice(profile, '2026-06-01 10:00+00', '2026-06-01 11:00+00')) - 'stored_bytes' =
           profile_info(profile_merge(profile, NULL)) - 'stored_bytes' AS inside_info,
       profile_slice(profile, '2026-06-01 11:00+00', '2026-06-01 12:00+00') IS NULL AS after_null,
       profile_slice(profile, '2026-06-01 09:00+00', '2026-06-01 10:00+00') IS NULL AS before_null,
       profile_is_packed(profile_slice(profile, '2026-06-01 10:00+00', '2026-06-01 10:30+00')) AS part_packed,
       profile_slice(profile, '2026-06-01 11:00+00', '2026-06-01 10:00+00') IS NULL AS empty_range,
       profile_slice(profile, NULL, '2026-06-01 10:00+00') IS NULL AS null_bound
FROM packed WHERE service = 'a' AND time = '2026-06-01 10:00+00';
-- A plain value is one point: at `at`, or at its start time when at is NULL.
SELECT profile_slice(p, '2026-06-01 00:00+00', '2026-06-02 00:00+00', '2026-06-01 05:00+00') = p AS at_inside,
       profile_slice(p, '2026-06-01 00:00+00', '2026-06-02 00:00+00', '2026-06-02 00:00+00') IS NULL AS at_until_excluded,
       profile_slice(p, (profile_info(p)->>'start_time')::timestamptz,
                     (profile_info(p)->>'start_time')::timestamptz + interval '1 second') = p AS own_start,
       profile_slice(p, (profile_info(p)->>'start_time')::timestamptz + interval '1 second', 'infinity') IS NULL AS own_start_after
FROM src WHERE i = 1;
-- A slice's metadata is its points': start, end, duration and count.
SELECT profile_info(profile_slice(profile, '2026-06-01 10:10+00', '2026-06-01 10:20+00')) =
       (SELECT profile_info(profile_merge(profile)) FROM raw
        WHERE service = 'a' AND time >= '2026-06-01 10:10+00' AND time < '2026-06-01 10:20+00') AS slice_info
FROM packed WHERE service = 'a' AND time = '2026-06-01 10:00+00';

-- profile_points: one row per distinct time, totals as the raw rows'.
SELECT count(*) AS points,
       count(*) FILTER (WHERE pt.total = (SELECT sum(profile_total(r.profile)) FROM raw r
                                         WHERE r.service = p.service AND r.time = pt.time)) AS exact
FROM packed p, profile_points(p.profile) pt;
SELECT count(*) AS plain_points, bool_and(pt.total = profile_total(p)) AS plain_total,
       bool_and(pt.time = (profile_info(p)->>'start_time')::timestamptz) AS plain_time
FROM src, profile_points(p) pt;
-- profile_unpack of a plain value is the value at its start time.
SELECT bool_and(u.profile = s.p) AS plain_self,
       bool_and(u.time = (profile_info(s.p)->>'start_time')::timestamptz) AS plain_time
FROM src s, profile_unpack(s.p) u;

-- Equality and hashing see the timeline: same merge, other times, not equal.
CREATE TABLE shifted AS SELECT profile_pack(profile, time + interval '1 second') AS profile FROM raw WHERE service = 'a';
SELECT profile_merge(s.profile) = (SELECT profile_merge(profile) FROM raw WHERE service = 'a') AS same_merge,
       s.profile = (SELECT profile_pack(profile, time) FROM raw WHERE service = 'a') AS same_value,
       profile_hash(s.profile) = (SELECT profile_hash(profile_pack(profile, time)) FROM raw WHERE service = 'a') AS same_hash,
       s.profile = (SELECT profile_pack(profile, time + interval '1 second') FROM raw WHERE service = 'a') AS equal_itself,
       profile_hash(s.profile) = (SELECT profile_hash(profile_pack(profile, time + interval '1 second')) FROM raw WHERE service = 'a') AS hash_itself
FROM shifted s GROUP BY s.profile;
SELECT count(DISTINCT profile) AS distinct_values FROM
	(SELECT profile FROM shifted UNION ALL SELECT profile_pack(profile, time) FROM raw WHERE service = 'a'
	 UNION ALL SELECT profile_merge(profile) FROM raw WHERE service = 'a') x;

-- Text form round trip, and a damaged timeline is refused on input.
SELECT profile::text::profile = profile AS text_round_trip FROM shifted;
CREATE FUNCTION damaged(p profile, from_end int) RETURNS text LANGUAGE sql AS $$
	SELECT '\x' || encode(overlay(decode(substr(p::text, 3), 'hex') PLACING
	       set_byte('\x00'::bytea, 0, get_byte(decode(substr(p::text, 3), 'hex'),
	                octet_length(decode(substr(p::text, 3), 'hex')) - from_end) # 1)
	       FROM octet_length(decode(substr(p::text, 3), 'hex')) - from_end + 1 FOR 1), 'hex')
$$;
\set VERBOSITY sqlstate
SELECT damaged(profile, 1)::profile FROM shifted;
SELECT damaged(profile, 5)::profile FROM shifted;
\set VERBOSITY default
SELECT damaged(profile, 1)::profile FROM shifted;
-- A timeline small enough to be stored raw: a changed value fails its checksum.
CREATE TABLE tiny AS SELECT profile_pack(profile_from_folded('main;work 5'), '2026-06-01 10:00+00') AS profile;
SELECT (profile_info(profile)->>'timeline_bytes')::int < 40 AS small FROM tiny;
SELECT damaged(profile, 1)::profile FROM tiny;

-- Parallel plans: partial states travel serialized and give the same value.
CREATE TABLE many AS SELECT r.service, r.time + g * interval '3 hours' AS time, r.profile
FROM raw r, generate_series(0, 19) g;
ANALYZE many;
CREATE TABLE serial_result AS SELECT service, profile_pack(profile, time) AS profile FROM many GROUP BY 1;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET force_parallel_mode = on;
EXPLAIN (COSTS OFF) SELECT profile_pack(profile, time) FROM many;
SELECT (SELECT profile_pack(profile, time) FROM many WHERE service = 'a') =
       (SELECT profile FROM serial_result WHERE service = 'a') AS parallel_equal;
SELECT count(*) FROM many m, LATERAL profile_points((SELECT profile FROM serial_result s WHERE s.service = m.service)) p
WHERE m.time = p.time;
RESET force_parallel_mode;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- The slice, unpack and points functions are immutable and parallel safe.
SELECT proname, provolatile, proparallel FROM pg_proc
WHERE proname IN ('profile_slice', 'profile_unpack', 'profile_points', 'profile_is_packed', 'profile_pack')
ORDER BY 1;

-- profile_compact ------------------------------------------------------------
CREATE TABLE series (id bigserial PRIMARY KEY, service text, labels jsonb, time timestamptz NOT NULL,
                     profile profile NOT NULL);
INSERT INTO series (service, labels, time, profile) SELECT service, '{"env": "prod"}', time, profile FROM raw;
INSERT INTO series (service, labels, time, profile) SELECT service, NULL, time, profile FROM raw WHERE time < '2026-06-01 10:30+00';
CREATE TABLE series_raw AS SELECT * FROM series;
CALL profile_compact('series', '{service,labels}', older_than => interval '0');
SELECT count(*) AS rows, count(*) FILTER (WHERE profile_is_packed(profile)) AS packed,
       count(DISTINCT (service, labels, time)) AS series_hours,
       bool_and(time = date_bin('1 hour', time, timestamptz '1970-01-01 00:00+00')) AS aligned
FROM series;
-- Exact: every window over the compacted table equals the raw table's.
SELECT bool_and((SELECT profile_merge(profile_slice(profile, since, since + len, time)) FROM series s WHERE s.labels IS NOT DISTINCT FROM l.labels)
                IS NOT DISTINCT FROM
                (SELECT profile_merge(profile) FROM series_raw r WHERE r.labels IS NOT DISTINCT FROM l.labels AND time >= since AND time < since + len)) AS windows_exact
FROM (VALUES ('{"env": "prod"}'::jsonb), (NULL)) l(labels),
     generate_series(timestamptz '2026-06-01 09:50+00', '2026-06-01 11:40+00', interval '17 minutes') since,
     unnest(ARRAY[interval '1 minute', '13 minutes', '1 hour', '2 hours']) len;
SELECT (SELECT count(*) FROM series s, profile_unpack(s.profile) u) AS unpacked,
       (SELECT count(DISTINCT (service, labels, time)) FROM series_raw) AS raw_times;
-- A second run finds nothing to do; late rows are folded into their bucket.
CALL profile_compact('series', '{service,labels}', older_than => interval '0');
INSERT INTO series (service, labels, time, profile) SELECT 'a', '{"env": "prod"}', '2026-06-01 10:30:30+00', p FROM src WHERE i = 2;
INSERT INTO series_raw (service, labels, time, profile) SELECT 'a', '{"env": "prod"}', '2026-06-01 10:30:30+00', p FROM src WHERE i = 2;
CALL profile_compact('series', '{service,labels}', older_than => interval '0');
SELECT count(*) AS rows, count(*) FILTER (WHERE profile_is_packed(profile)) AS packed FROM series;
SELECT (SELECT profile_merge(profile_slice(profile, '2026-06-01 10:30+00', '2026-06-01 10:31+00', time)) FROM series WHERE service = 'a' AND labels IS NOT NULL) =
       (SELECT profile_merge(profile) FROM series_raw WHERE service = 'a' AND labels IS NOT NULL AND time >= '2026-06-01 10:30+00' AND time < '2026-06-01 10:31+00') AS late_row_exact;
-- Only buckets wholly older than older_than are packed.
INSERT INTO series (service, labels, time, profile)
SELECT 'c', NULL, date_bin('1 day', now(), timestamptz '1970-01-01 00:00+00') + i * interval '1 microsecond', p FROM src;
CALL profile_compact('series', '{service,labels}', bucket => '1 day', older_than => interval '0');
SELECT count(*) AS recent_raw FROM series WHERE service = 'c' AND NOT profile_is_packed(profile);
-- Lossy downsampling: keep_timeline => false merges into plain values.
CALL profile_compact('series', '{service}', bucket => '1 day', older_than => interval '2 days', keep_timeline => false);
SELECT service, count(*) AS rows, bool_or(profile_is_packed(profile)) AS packed,
       sum(profile_total(profile)) = (SELECT sum(profile_total(profile)) FROM series_raw r WHERE r.service = s.service) AS totals
FROM series s WHERE service <> 'c' GROUP BY 1 ORDER BY 1;
-- Arguments are checked.
CALL profile_compact('series', '{nope}');
CALL profile_compact('series', '{service,service}');
CALL profile_compact('series', '{time}');
CALL profile_compact('series', '{}', time_column => 'service');
CALL profile_compact('series', '{}', profile_column => 'labels');
CALL profile_compact('series', '{}', bucket => '0');
CALL profile_compact('series', NULL);
CALL profile_compact('series_id_seq', '{}');
-- Qualified names alone: objects that shadow pg_catalog's in the search_path do not run.
CREATE SCHEMA trap;
CREATE TABLE trap.fired (what text);
CREATE FUNCTION trap.now() RETURNS timestamptz LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('now') RETURNING timestamptz '1990-01-01' $$;
CREATE FUNCTION trap.count(anyelement) RETURNS bigint LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('count') RETURNING 0::bigint $$;
CREATE FUNCTION trap.date_bin(interval, timestamptz, timestamptz) RETURNS timestamptz LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('date_bin') RETURNING $2 $$;
CREATE FUNCTION trap.cmp(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('<') RETURNING true $$;
CREATE OPERATOR trap.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = trap.cmp);
CREATE OPERATOR trap.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = trap.cmp);
CREATE FUNCTION trap.text_eq(text, text) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('=') RETURNING true $$;
CREATE OPERATOR trap.= (LEFTARG = text, RIGHTARG = text, FUNCTION = trap.text_eq);
CREATE FUNCTION trap.oid_eq(oid, oid) RETURNS boolean LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('oid =') RETURNING true $$;
CREATE OPERATOR trap.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = trap.oid_eq);
CREATE FUNCTION trap.char_eq("char", "char") RETURNS boolean LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('char =') RETURNING true $$;
CREATE OPERATOR trap.= (LEFTARG = "char", RIGHTARG = "char", FUNCTION = trap.char_eq);
CREATE FUNCTION trap.profile_pack(profile, timestamptz) RETURNS profile LANGUAGE sql AS $$ INSERT INTO trap.fired VALUES ('profile_pack') RETURNING $1 $$;
TRUNCATE series;
INSERT INTO series (service, labels, time, profile) SELECT service, labels, time, profile FROM series_raw;
SET search_path = trap, public, pg_catalog;
CALL public.profile_compact('public.series', '{service,labels}', older_than => interval '0');
RESET search_path;
SELECT count(*) AS trap_fired FROM trap.fired;
SELECT count(*) AS rows, count(*) FILTER (WHERE profile_is_packed(profile)) AS packed FROM series;
SELECT (SELECT profile_merge(profile) FROM series) = (SELECT profile_merge(profile) FROM series_raw) AS trap_exact;
-- It reports rows and bytes through its INOUT parameters (and a NOTICE).
TRUNCATE series;
INSERT INTO series (service, labels, time, profile) SELECT service, labels, time, profile FROM series_raw;
SET client_min_messages = notice;
CALL profile_compact('series', '{service,labels}', older_than => interval '0', rows_before => NULL);
SET client_min_messages = warning;
-- It cannot run inside a transaction block (it commits per bucket).
BEGIN;
INSERT INTO series (service, labels, time, profile) SELECT 'a', NULL, '2026-06-01 10:30:30+00', p FROM src WHERE i = 2;
CALL profile_compact('series', '{service,labels}', older_than => interval '0');
ROLLBACK;
