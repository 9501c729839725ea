-- profile_merge: the aggregate, the two-argument form, +, and parallel plans.
-- Input files are read on the client side (psql runs base64), so the server
-- needs no access to the checkout.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set cpu2 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_2.pb.gz`
\set cpu3 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_3.pb.gz`
\set heap `base64 -w0 "$PG_ABS_SRCDIR"/../examples/heap.pb.gz`
SET client_min_messages = warning;

CREATE TABLE m (id int, t timestamptz, p profile);
INSERT INTO m
SELECT i, to_timestamp(1800000000 + i), profile_from_pprof(decode(f, 'base64'), 'cpu')
FROM (VALUES (1, :'cpu1'), (2, :'cpu2'), (3, :'cpu3')) v(i, f);
INSERT INTO m VALUES (4, now(), NULL);

-- NULLs are ignored; the total is the sum; metadata follows the rules.
SELECT profile_total(profile_merge(p)) = (SELECT sum(profile_total(p)) FROM m) AS sums,
       profile_info(profile_merge(p))->'profiles' AS profiles,
       (profile_info(profile_merge(p))->>'duration_ns')::bigint =
           (SELECT sum((profile_info(p)->>'duration_ns')::bigint) FROM m) AS durations_summed,
       profile_info(profile_merge(p))->>'start_time' =
           (SELECT min(profile_info(p)->>'start_time') FROM m) AS start_is_min,
       profile_info(profile_merge(p))->>'end_time' =
           (SELECT max(profile_info(p)->>'end_time') FROM m) AS end_is_max
FROM m;
-- No rows, or only NULLs: NULL.
SELECT profile_merge(p) IS NULL AS empty_is_null FROM m WHERE false;
SELECT profile_merge(p) IS NULL AS nulls_are_null FROM m WHERE p IS NULL;
-- Order does not matter: the result is canonical.
SELECT (SELECT profile_merge(p ORDER BY id) FROM m)::text =
       (SELECT profile_merge(p ORDER BY id DESC) FROM m)::text AS order_independent;
-- profile_merge(a, b) and a + b equal the aggregate over the two rows.
SELECT profile_merge(a.p, b.p)::text = (SELECT profile_merge(p) FROM m WHERE id IN (1, 2))::text AS pair_equals_agg,
       (a.p + b.p)::text = (SELECT profile_merge(p) FROM m WHERE id IN (1, 2))::text AS plus_equals_agg,
       (a.p + NULL)::text = a.p::text AS plus_null
FROM m a, m b WHERE a.id = 1 AND b.id = 2;
-- A merge of stacks equals the sum of each stack over the inputs.
SELECT count(*) AS mismatched_stacks FROM (
	SELECT stack, sum(value) AS v FROM m, profile_stacks(p) GROUP BY stack
	EXCEPT
	SELECT stack, value FROM profile_stacks((SELECT profile_merge(p) FROM m))
) d;
-- Different sample types cannot be merged: the error names both.
SELECT profile_merge(p) FROM (
	SELECT p FROM m WHERE id = 1
	UNION ALL SELECT profile_from_pprof(decode(:'heap', 'base64'), 'alloc_space')
) x;

-- A parallel plan: Partial Aggregate in workers, same result as serial.
CREATE TABLE big AS SELECT g AS id, p FROM m, generate_series(1, 200) g WHERE m.id <= 3;
ANALYZE big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
-- Workers really ran: their partial states were serialized and read back.
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) SELECT profile_merge(p) FROM big;
CREATE TEMP TABLE parallel_result AS SELECT profile_merge(p) AS p FROM big;
RESET parallel_leader_participation;
SET max_parallel_workers_per_gather = 0;
SELECT (SELECT p FROM parallel_result)::text = (SELECT profile_merge(p) FROM big)::text AS parallel_equals_serial,
       profile_total((SELECT p FROM parallel_result)) = 200 * (SELECT sum(profile_total(p)) FROM m) AS total;
RESET max_parallel_workers_per_gather;

-- Partition-wise aggregation over a partitioned table.
CREATE TABLE parts (id int, p profile) PARTITION BY RANGE (id);
CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100);
CREATE TABLE parts_2 PARTITION OF parts FOR VALUES FROM (100) TO (1000);
INSERT INTO parts SELECT id, p FROM big;
ANALYZE parts;
SET enable_partitionwise_aggregate = on;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT profile_merge(p) FROM parts;
SELECT (SELECT profile_merge(p) FROM parts)::text = (SELECT p FROM parallel_result)::text AS partitionwise_equals;
RESET enable_partitionwise_aggregate;
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;

DROP TABLE m, big, parts;
