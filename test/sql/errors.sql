-- Error paths of ingest: each raises an ERROR with a fitting SQLSTATE.
-- Input files are read on the client side (psql runs base64), so the server
-- needs no access to the checkout.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
\set VERBOSITY default
SET client_min_messages = warning;

-- Unknown sample type: the detail lists the available ones.
SELECT profile_from_pprof(decode(:'cpu1', 'base64'), 'wall');
SELECT profile_from_pprof(decode(:'cpu1', 'base64'), '7');
-- Truncated gzip, truncated protobuf, not protobuf, empty.
SELECT profile_from_pprof(substr(decode(:'cpu1', 'base64'), 1, 100));
SELECT profile_from_pprof('\x0a0208'::bytea);
SELECT profile_from_pprof('\xffffffff'::bytea);
SELECT profile_from_pprof(''::bytea);
-- string_table[0] must be empty (field 6, "x").
SELECT profile_from_pprof('\x320178'::bytea);
-- A sample type whose name index is out of range.
SELECT profile_from_pprof('\x0a0208053200'::bytea);
-- Trailing garbage after the gzip member.
SELECT profile_from_pprof(decode(:'cpu1', 'base64') || '\x00'::bytea);
-- The decompressed size limit.
SET pg_pprof.max_input_bytes = '4kB';
SELECT profile_from_pprof(decode(:'cpu1', 'base64'));
RESET pg_pprof.max_input_bytes;
-- A profile with no sample types at all.
SELECT profile_from_pprof('\x3200'::bytea);

-- The SQLSTATEs.
DO $$
DECLARE
	inputs bytea[] := ARRAY['\xffffffff'::bytea, '\x320178'::bytea, ''::bytea];
	i bytea;
BEGIN
	FOREACH i IN ARRAY inputs LOOP
		BEGIN
			PERFORM profile_from_pprof(i);
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'SQLSTATE %', SQLSTATE;
		END;
	END LOOP;
	BEGIN
		PERFORM '\x0200'::profile;
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'corrupt value: SQLSTATE %', SQLSTATE;
	END;
END $$;
-- The backend is still alive.
SELECT 1 AS alive;

-- The limits guard the server, so only a superuser may change them.
CREATE ROLE pprof_plain_user;
SET ROLE pprof_plain_user;
SET pg_pprof.max_input_bytes = '1GB';
SET pg_pprof.max_stack_depth = 100000000;
SET pg_pprof.compression_level = 19;
SHOW pg_pprof.max_input_bytes;
RESET ROLE;
DROP ROLE pprof_plain_user;

-- Negative counts are refused, as max_nodes is; NULL and 0 mean "all".
SELECT * FROM profile_top(profile_from_folded('a 1'), -1);
SELECT * FROM flamegraph(profile_from_folded('a 1'), -1);
SELECT count(*) FROM profile_top(profile_from_folded(E'a 1\nb 2'), 0);
SELECT count(*) FROM profile_top(profile_from_folded(E'a 1\nb 2'), NULL);
-- Errors name their own operation, and put the hint in HINT.
SELECT * FROM flamegraph_diff(profile_from_folded('a 1', 'cpu', 'nanoseconds'),
                              profile_from_folded('a 1', 'alloc_space', 'bytes'));
SELECT profile_from_folded('a 1', 'cpu', 'nanoseconds') + profile_from_folded('a 1', 'alloc_space', 'bytes');
