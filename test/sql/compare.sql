-- Equality, order and hashing: =, <>, the btree and hash operator classes.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set cpu2 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_2.pb.gz`
SET client_min_messages = warning;

CREATE TABLE cmp (id int, p profile);
INSERT INTO cmp VALUES
	(1, profile_from_pprof(decode(:'cpu1', 'base64'), 'cpu')),
	(2, profile_from_pprof(decode(:'cpu2', 'base64'), 'cpu')),
	(3, profile_from_pprof(decode(:'cpu1', 'base64'), 'cpu')),
	(4, profile_from_folded(E'main;a 3\nmain;b 5', 'cpu', 'nanoseconds')),
	(5, NULL);
-- The same profile stored at another zstd level: other bytes, equal value.
SET pg_pprof.compression_level = 19;
INSERT INTO cmp VALUES (6, profile_from_pprof(decode(:'cpu1', 'base64'), 'cpu'));
RESET pg_pprof.compression_level;
SELECT (SELECT p::text FROM cmp WHERE id = 1) <> (SELECT p::text FROM cmp WHERE id = 6) AS other_bytes,
       (SELECT p FROM cmp WHERE id = 1) = (SELECT p FROM cmp WHERE id = 6) AS equal_profiles;

SELECT a.id, b.id, a.p = b.p AS eq, a.p <> b.p AS ne
FROM cmp a, cmp b WHERE a.id < b.id AND a.id <= 2 ORDER BY 1, 2;
-- count(DISTINCT), GROUP BY, UNION and DISTINCT
SELECT count(DISTINCT p) FROM cmp;
SELECT count(*), array_agg(id ORDER BY id) FROM cmp GROUP BY p ORDER BY 2;
SELECT count(*) FROM (SELECT p FROM cmp UNION SELECT p FROM cmp) u;
-- A total order, consistent with =: a < b, b > a, and a <= a.
SELECT bool_and((a.p < b.p) = (b.p > a.p) AND (a.p <= b.p) = NOT (a.p > b.p)
                AND (a.p = b.p) = (profile_cmp(a.p, b.p) = 0)) AS consistent
FROM cmp a, cmp b WHERE a.p IS NOT NULL AND b.p IS NOT NULL;
-- Hash join, merge join and a btree index.
SET enable_mergejoin = off; SET enable_nestloop = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM cmp a JOIN cmp b ON a.p = b.p;
SELECT count(*) FROM cmp a JOIN cmp b ON a.p = b.p;
RESET enable_mergejoin; SET enable_hashjoin = off;
SELECT count(*) FROM cmp a JOIN cmp b ON a.p = b.p;
RESET enable_hashjoin; RESET enable_nestloop;
-- A btree index (on small values: a btree row holds at most 2704 bytes).
CREATE TABLE cmp_small AS SELECT i, profile_from_folded('f' || (i % 5) || ' 1') AS p
FROM generate_series(1, 100) i;
CREATE INDEX cmp_small_p ON cmp_small (p);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT count(*) FROM cmp_small WHERE p = profile_from_folded('f3 1');
SELECT count(*) FROM cmp_small WHERE p = profile_from_folded('f3 1');
RESET enable_seqscan;
-- Bodies differ first in the function name here, so ORDER BY p sorts by it.
SELECT (SELECT p FROM cmp_small ORDER BY p LIMIT 1) = profile_from_folded('f0 1') AS smallest_first,
       (SELECT p FROM cmp_small ORDER BY p DESC LIMIT 1) = profile_from_folded('f4 1') AS largest_last;
-- The hash is deterministic (unkeyed): a fixed value for a fixed profile,
-- the same for equal profiles stored with other bytes.
SELECT profile_hash(a.p) = profile_hash(b.p) AS same_hash
FROM cmp a, cmp b WHERE a.id = 1 AND b.id = 6;
SELECT profile_hash(p), profile_hash_extended(p, 0), profile_hash_extended(p, 42)
FROM cmp WHERE id = 4;
-- Hash partitioning by a profile column.
CREATE TABLE cmp_parts (p profile) PARTITION BY HASH (p);
CREATE TABLE cmp_parts_0 PARTITION OF cmp_parts FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE cmp_parts_1 PARTITION OF cmp_parts FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO cmp_parts SELECT p FROM cmp WHERE p IS NOT NULL;
SELECT count(*) FROM cmp_parts;
DROP TABLE cmp, cmp_small, cmp_parts;
