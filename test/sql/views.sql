-- flamegraph, flamegraph_diff and profile_top on the committed examples.
-- Input files are read on the client side (psql runs base64), so the server
-- needs no access to the checkout.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set cpu2 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_2.pb.gz`
\set mutex `base64 -w0 "$PG_ABS_SRCDIR"/../examples/mutex.pb.gz`
SET client_min_messages = warning;

CREATE TEMP TABLE v AS
SELECT profile_from_pprof(decode(:'cpu1', 'base64')) AS a,
       profile_from_pprof(decode(:'cpu2', 'base64')) AS b,
       profile_from_pprof(decode(:'mutex', 'base64'), 'delay') AS lock;

-- The column names Grafana matches, case-sensitively.
SELECT proname, array_to_string(proargnames, ', ') AS columns FROM pg_proc
WHERE proname IN ('flamegraph', 'flamegraph_diff', 'profile_top') ORDER BY 1;

-- Shape: one root first, labelled total, holding the profile total.
SELECT level, label, value = (SELECT profile_total(a) FROM v) AS root_is_total
FROM flamegraph((SELECT a FROM v)) LIMIT 1;
SELECT count(*) FILTER (WHERE level = 0) AS roots FROM flamegraph((SELECT a FROM v));
-- A small profile, whole: the mutex delay tree.
SELECT level, value, self, label FROM flamegraph((SELECT lock FROM v), 0)
WHERE level <= 3;

-- Truncation keeps the total and folds small children into "other".
SELECT count(*) <= 2 * 10 + 1 AS bounded,
       max(value) FILTER (WHERE level = 0) = (SELECT profile_total(a) FROM v) AS total_kept,
       count(*) FILTER (WHERE label = 'other') > 0 AS has_other
FROM flamegraph((SELECT a FROM v), 10);
SELECT count(*) = (SELECT (profile_info(a)->>'nodes')::int + 1 FROM v) AS untruncated_rows
FROM flamegraph((SELECT a FROM v), 0);
SELECT count(*) FROM flamegraph((SELECT a FROM v), NULL) f
WHERE f.label = 'other';

-- Filters.
SELECT bool_and(label <> 'main.fib' OR level = 0) AS hidden
FROM flamegraph((SELECT a FROM v), 0, hide => 'main\.fib');
SELECT max(value) FILTER (WHERE level = 0) =
       (SELECT sum(value) FROM profile_stacks((SELECT a FROM v)) WHERE 'main.fib' = ANY (stack)) AS focus_total
FROM flamegraph((SELECT a FROM v), 0, focus => 'main\.fib');
SELECT max(value) FILTER (WHERE level = 0) =
       (SELECT sum(value) FROM profile_stacks((SELECT a FROM v))
        WHERE NOT stack && ARRAY['main.fib']) AS ignore_total
FROM flamegraph((SELECT a FROM v), 0, ignore => '^main\.fib$');
SELECT count(*) FROM flamegraph((SELECT a FROM v), 0, focus => 'no such function');
SELECT count(*) FROM flamegraph((SELECT a FROM v), 0, focus => '(');
-- No data (NULL): a single zero root row, since the panel breaks on an empty frame.
SELECT * FROM flamegraph(NULL);
SELECT * FROM flamegraph_diff(NULL, NULL);
SELECT count(*) FROM flamegraph((SELECT a FROM v), -1);

-- Diff: both sides in one tree, 0 where a side lacks a node.
SELECT level, label,
       value = (SELECT profile_total(a) FROM v) AS left_total,
       "valueRight" = (SELECT profile_total(b) FROM v) AS right_total
FROM flamegraph_diff((SELECT a FROM v), (SELECT b FROM v)) LIMIT 1;
SELECT count(*) FILTER (WHERE value = 0 AND "valueRight" <> 0) > 0 AS only_right,
       count(*) FILTER (WHERE value <> 0 AND "valueRight" = 0) > 0 AS only_left
FROM flamegraph_diff((SELECT a FROM v), (SELECT b FROM v), 0);
SELECT sum(self) = 0 AS empty_left, sum("selfRight") = (SELECT profile_total(b) FROM v) AS right_side
FROM flamegraph_diff(NULL, (SELECT b FROM v), 0);
SELECT count(*) FROM flamegraph_diff((SELECT a FROM v), (SELECT lock FROM v));

-- Top: ordered by self, then name; total counts recursion once.
SELECT function, self, total FROM profile_top((SELECT lock FROM v), 3);
SELECT function, self <= total AS self_within_total FROM profile_top((SELECT a FROM v), 5)
WHERE function = 'main.fib';
SELECT count(*) = (SELECT count(*) FROM profile_top((SELECT a FROM v), 0)) AS null_means_all
FROM profile_top((SELECT a FROM v), NULL);
