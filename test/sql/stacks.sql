-- profile_stacks: distinct stacks, root first, non-zero self values.
-- Input files are read on the client side (psql runs base64), so the server
-- needs no access to the checkout.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set mutex `base64 -w0 "$PG_ABS_SRCDIR"/../examples/mutex.pb.gz`
SET client_min_messages = warning;

CREATE TEMP TABLE s AS
SELECT * FROM profile_stacks(profile_from_pprof(decode(:'cpu1', 'base64')));

-- Stacks sum to the total, are distinct, and none has a zero value.
SELECT sum(value) = profile_total(profile_from_pprof(decode(:'cpu1', 'base64'))) AS sums_to_total,
       count(*) = count(DISTINCT stack) AS distinct_stacks,
       bool_and(value <> 0) AS no_zero
FROM s;
-- Root frames: goroutine entry points, never a leaf such as a syscall.
SELECT DISTINCT stack[1] FROM s ORDER BY 1;
-- Recursion shows up as repeated frames in one stack.
SELECT bool_or(cardinality(stack) > (SELECT count(DISTINCT f) FROM unnest(stack) f)) AS has_recursion
FROM s;

-- The mutex profile's contention stacks.
SELECT stack[cardinality(stack) - 1:cardinality(stack)] AS leaf_frames, value > 0 AS positive
FROM profile_stacks(profile_from_pprof(decode(:'mutex', 'base64'), 'contentions'))
WHERE 'main.updateInventory' = ANY (stack)
ORDER BY 1 LIMIT 3;
