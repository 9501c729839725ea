-- Ingest: profile_from_pprof and pprof_split on the committed examples.
\getenv abs_srcdir PG_ABS_SRCDIR
\set cpu1 :abs_srcdir '/examples/cpu_1.pb.gz'
\set heap :abs_srcdir '/examples/heap.pb.gz'
SET client_min_messages = warning;

-- NULL sample type: pprof's default, the last type.
SELECT profile_sample_type(p), profile_unit(p), profile_total(p)
FROM profile_from_pprof(pg_read_binary_file(:'cpu1')) p;
SELECT profile_sample_type(p), profile_unit(p), profile_total(p)
FROM profile_from_pprof(pg_read_binary_file(:'heap')) p;

-- By name, by index, and pprof's legacy inuse_ prefix.
SELECT profile_total(profile_from_pprof(pg_read_binary_file(:'cpu1'), 'samples')) AS samples,
       profile_total(profile_from_pprof(pg_read_binary_file(:'cpu1'), '0')) AS by_index;
SELECT profile_sample_type(profile_from_pprof(pg_read_binary_file(:'heap'), 'alloc_space'));

-- Metadata.
SELECT i - 'start_time' - 'end_time' - 'duration_ns' - 'stored_bytes' AS info,
       (i->>'end_time')::timestamptz > (i->>'start_time')::timestamptz AS ends_after_start,
       (i->>'duration_ns')::bigint > 0 AS has_duration,
       (i->>'stored_bytes')::int < octet_length(pg_read_binary_file(:'cpu1')) AS smaller_than_gzip
FROM profile_info(profile_from_pprof(pg_read_binary_file(:'cpu1'))) i;

-- Each row is the very value profile_from_pprof gives for its sample type.
SELECT bool_and(profile::text = profile_from_pprof(pg_read_binary_file(:'heap'), sample_type)::text)
       AS split_equals_single
FROM pprof_split(pg_read_binary_file(:'heap'));
SELECT bool_and(profile::text = profile_from_pprof(pg_read_binary_file(:'cpu1'), sample_type)::text)
       AS split_equals_single
FROM pprof_split(pg_read_binary_file(:'cpu1'));

-- One row per sample type without label keys.
SELECT sample_type, unit, labels, profile_total(profile)
FROM pprof_split(pg_read_binary_file(:'heap'));

-- Split by labels: per type and endpoint; the parts add up to the whole.
SELECT sample_type, labels->>'endpoint' AS endpoint, profile_total(profile) > 0 AS nonzero
FROM pprof_split(pg_read_binary_file(:'cpu1'), '{endpoint}')
ORDER BY 1, 2;
SELECT sample_type, sum(profile_total(profile)) =
       profile_total(profile_from_pprof(pg_read_binary_file(:'cpu1'), sample_type)) AS parts_add_up
FROM pprof_split(pg_read_binary_file(:'cpu1'), '{endpoint,region}')
GROUP BY 1 ORDER BY 1;
-- Keys a sample lacks are absent; unknown keys give one group with {}.
SELECT DISTINCT labels FROM pprof_split(pg_read_binary_file(:'cpu1'), '{no_such_label}');
-- Label values are JSON strings (numeric labels become numbers: see heap "bytes").
SELECT jsonb_typeof(labels->'bytes') AS bytes_type, count(*) > 1 AS several
FROM pprof_split(pg_read_binary_file(:'heap'), '{bytes}')
WHERE sample_type = 'alloc_space' GROUP BY 1;
-- Duplicate and NULL keys are ignored.
SELECT count(*) FROM pprof_split(pg_read_binary_file(:'cpu1'), '{endpoint,endpoint,NULL}');
