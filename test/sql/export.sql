-- Interchange: profile_to_pprof, folded stacks in and out, profile_to_svg.
-- Input files are read on the client side (psql runs base64), so the server
-- needs no access to the checkout.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set heap `base64 -w0 "$PG_ABS_SRCDIR"/../examples/heap.pb.gz`
SET client_min_messages = warning;

CREATE TEMP TABLE x AS
SELECT profile_from_pprof(decode(:'cpu1', 'base64')) AS cpu,
       profile_from_pprof(decode(:'heap', 'base64'), 'inuse_space') AS heap;

-- Exported pprof is gzip, deterministic, and reads back to the same value:
-- same stacks, names, files, sample type, period, time and duration.
SELECT substr(profile_to_pprof(cpu), 1, 2) = '\x1f8b'::bytea AS gzip,
       profile_to_pprof(cpu) = profile_to_pprof(cpu) AS deterministic,
       profile_from_pprof(profile_to_pprof(cpu))::text = cpu::text AS cpu_round_trip,
       profile_from_pprof(profile_to_pprof(heap))::text = heap::text AS heap_round_trip
FROM x;
SELECT profile_info(profile_from_pprof(profile_to_pprof(cpu))) - 'stored_bytes' =
       profile_info(cpu) - 'stored_bytes' AS same_info
FROM x;

-- Folded stacks: sorted, summed, blank lines and CRLF accepted.
SELECT profile_to_folded(profile_from_folded(E'main;work;alloc 3\r\n\nmain;b c;d 2\n  \nmain;work;alloc 4\nmain;work 1'));
SELECT profile_sample_type(p), profile_unit(p), profile_total(p)
FROM profile_from_folded(E'a;b 5\na 0\n', 'cpu', 'samples') p;
SELECT profile_from_folded(NULL) IS NULL AS null_in_null_out;
-- Exact round trips both ways.
SELECT profile_to_folded(profile_from_folded(profile_to_folded(cpu))) = profile_to_folded(cpu) AS text_fixed_point,
       (SELECT array_agg(s ORDER BY s::text) FROM profile_stacks(profile_from_folded(profile_to_folded(cpu))) s) =
       (SELECT array_agg(s ORDER BY s::text) FROM profile_stacks(cpu) s) AS same_stacks
FROM x;
-- Malformed lines name the line number and show it.
SELECT profile_from_folded(E'a;b 1\na;b x\n');
SELECT profile_from_folded(E'a;b 1\n\na;;b 2');
SELECT profile_from_folded(E'justonetoken');
SELECT profile_from_folded(E'a;b -3');
SELECT profile_from_folded(E'a;b 99999999999999999999');
DO $$
BEGIN
	PERFORM profile_from_folded('a;b x');
EXCEPTION WHEN OTHERS THEN
	RAISE WARNING 'SQLSTATE %', SQLSTATE;
END $$;

-- SVG: a standalone document with escaped names.
SELECT left(s, 5) AS starts, s LIKE '%</svg>' AS ends, s LIKE '%main.fib%' AS has_frames,
       position(E'\n' IN s) = 0 AS one_line
FROM (SELECT profile_to_svg(cpu) AS s FROM x) v;
SELECT s LIKE '%&lt;script&gt;%' AS escaped, s NOT LIKE '%<script%' AS no_raw_tag,
       s LIKE '%a &amp; b%' AS ampersand, s LIKE '%Tom&apos;s &quot;x&quot;%' AS quotes
FROM (SELECT profile_to_svg(profile_from_folded(E'main;<script>alert(1)</script> 5\nmain;a & b 3\nmain;Tom''s "x" 2'),
                            'a <title> & more') AS s) v;
SELECT profile_to_svg(cpu, NULL, 10) FROM x;
SELECT profile_to_svg(NULL) IS NULL AS null_in_null_out;
