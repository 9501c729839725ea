-- Ingest: profile_from_pprof and pprof_split on the committed examples.
-- Input files are read on the client side (psql runs base64), so the server
-- needs no access to the checkout.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set heap `base64 -w0 "$PG_ABS_SRCDIR"/../examples/heap.pb.gz`
SET client_min_messages = warning;

-- NULL sample type: pprof's default, the last type.
SELECT profile_sample_type(p), profile_unit(p), profile_total(p)
FROM profile_from_pprof(decode(:'cpu1', 'base64')) p;
SELECT profile_sample_type(p), profile_unit(p), profile_total(p)
FROM profile_from_pprof(decode(:'heap', 'base64')) p;

-- By name, by index, and pprof's legacy inuse_ prefix.
SELECT profile_total(profile_from_pprof(decode(:'cpu1', 'base64'), 'samples')) AS samples,
       profile_total(profile_from_pprof(decode(:'cpu1', 'base64'), '0')) AS by_index;
SELECT profile_sample_type(profile_from_pprof(decode(:'heap', 'base64'), 'alloc_space'));

-- Metadata.
SELECT i - 'start_time' - 'end_time' - 'duration_ns' - 'stored_bytes' AS info,
       (i->>'end_time')::timestamptz > (i->>'start_time')::timestamptz AS ends_after_start,
       (i->>'duration_ns')::bigint > 0 AS has_duration,
       (i->>'stored_bytes')::int < octet_length(decode(:'cpu1', 'base64')) AS smaller_than_gzip
FROM profile_info(profile_from_pprof(decode(:'cpu1', 'base64'))) i;

-- Each row is the very value profile_from_pprof gives for its sample type.
SELECT bool_and(profile::text = profile_from_pprof(decode(:'heap', 'base64'), sample_type)::text)
       AS split_equals_single
FROM pprof_split(decode(:'heap', 'base64'));
SELECT bool_and(profile::text = profile_from_pprof(decode(:'cpu1', 'base64'), sample_type)::text)
       AS split_equals_single
FROM pprof_split(decode(:'cpu1', 'base64'));

-- One row per sample type without label keys.
SELECT sample_type, unit, labels, profile_total(profile)
FROM pprof_split(decode(:'heap', 'base64'));

-- Split by labels: per type and endpoint; the parts add up to the whole.
SELECT sample_type, labels->>'endpoint' AS endpoint, profile_total(profile) > 0 AS nonzero
FROM pprof_split(decode(:'cpu1', 'base64'), '{endpoint}')
ORDER BY 1, 2;
SELECT sample_type, sum(profile_total(profile)) =
       profile_total(profile_from_pprof(decode(:'cpu1', 'base64'), sample_type)) AS parts_add_up
FROM pprof_split(decode(:'cpu1', 'base64'), '{endpoint,region}')
GROUP BY 1 ORDER BY 1;
-- Keys a sample lacks are absent; unknown keys give one group with {}.
SELECT DISTINCT labels FROM pprof_split(decode(:'cpu1', 'base64'), '{no_such_label}');
-- Label values are JSON strings (numeric labels become numbers: see heap "bytes").
SELECT jsonb_typeof(labels->'bytes') AS bytes_type, count(*) > 1 AS several
FROM pprof_split(decode(:'heap', 'base64'), '{bytes}')
WHERE sample_type = 'alloc_space' GROUP BY 1;
-- Duplicate and NULL keys are ignored.
SELECT count(*) FROM pprof_split(decode(:'cpu1', 'base64'), '{endpoint,endpoint,NULL}');
