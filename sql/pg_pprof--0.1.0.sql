-- pg_pprof 0.1.0: pprof profiles as a compressed `profile` type.
\echo Use "CREATE EXTENSION pg_pprof" to load this file. \quit

-- The type --------------------------------------------------------------

CREATE TYPE profile;

CREATE FUNCTION profile_in(cstring) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_out(profile) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_recv(internal) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_send(profile) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- The value compresses itself (zstd), so PostgreSQL must not try again.
CREATE TYPE profile (
	INPUT = profile_in,
	OUTPUT = profile_out,
	RECEIVE = profile_recv,
	SEND = profile_send,
	INTERNALLENGTH = VARIABLE,
	STORAGE = external
);

COMMENT ON TYPE profile IS 'one sample type of one or more merged pprof profiles, as a zstd-compressed call tree';

-- Ingest ----------------------------------------------------------------

CREATE FUNCTION profile_from_pprof(data bytea, sample_type text DEFAULT NULL)
	RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION profile_from_pprof(bytea, text) IS
	'one sample type (pprof''s default when NULL) of a gzip or raw pprof file';

CREATE FUNCTION pprof_split(data bytea, label_keys text[] DEFAULT '{}',
	OUT sample_type text, OUT unit text, OUT labels jsonb, OUT profile profile)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 4;
COMMENT ON FUNCTION pprof_split(bytea, text[]) IS
	'one profile per sample type and per distinct combination of the named sample labels';

-- Accessors -------------------------------------------------------------

CREATE FUNCTION profile_total(profile) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_total(profile) IS 'sum of all sample values';

CREATE FUNCTION profile_sample_type(profile) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_sample_type(profile) IS 'sample type, e.g. cpu';

CREATE FUNCTION profile_unit(profile) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_unit(profile) IS 'sample unit, e.g. nanoseconds';

CREATE FUNCTION profile_info(profile) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_info(profile) IS 'metadata, node and function counts and stored size';

CREATE FUNCTION profile_stacks(profile, OUT stack text[], OUT value bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION profile_stacks(profile) IS
	'one row per distinct stack (root first) with a non-zero self value';

-- Merge -----------------------------------------------------------------

-- Decoding a profile costs about a hundred microseconds: a high COST lets
-- the planner see that a parallel aggregate pays off even on a small heap.
CREATE FUNCTION profile_merge_transfn(internal, profile) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE COST 2000;
CREATE FUNCTION profile_merge_combinefn(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION profile_merge_serialfn(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION profile_merge_deserialfn(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION profile_merge_finalfn(internal) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

-- Partial states serialize to the stored profile format, validated on read.
CREATE AGGREGATE profile_merge(profile) (
	SFUNC = profile_merge_transfn,
	STYPE = internal,
	FINALFUNC = profile_merge_finalfn,
	COMBINEFUNC = profile_merge_combinefn,
	SERIALFUNC = profile_merge_serialfn,
	DESERIALFUNC = profile_merge_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE profile_merge(profile) IS
	'merge profiles of one sample type; NULLs are ignored, no rows give NULL';

CREATE FUNCTION profile_merge(a profile, b profile) RETURNS profile
	AS 'MODULE_PATHNAME', 'profile_merge_pair' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION profile_merge(profile, profile) IS 'the merge of two profiles';

CREATE OPERATOR + (
	LEFTARG = profile,
	RIGHTARG = profile,
	FUNCTION = profile_merge,
	COMMUTATOR = +
);

-- Views -----------------------------------------------------------------

CREATE FUNCTION flamegraph(p profile, max_nodes int DEFAULT 8192, focus text DEFAULT NULL,
	ignore text DEFAULT NULL, hide text DEFAULT NULL,
	OUT level int, OUT value bigint, OUT self bigint, OUT label text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION flamegraph(profile, int, text, text, text) IS
	'rows for Grafana''s Flame Graph panel: depth-first pre-order, root "total" first';

CREATE FUNCTION flamegraph_diff(baseline profile, comparison profile, max_nodes int DEFAULT 8192,
	OUT level int, OUT value bigint, OUT self bigint, OUT label text,
	OUT "valueRight" bigint, OUT "selfRight" bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION flamegraph_diff(profile, profile, int) IS
	'diff rows for Grafana''s Flame Graph panel: baseline in value/self, comparison in valueRight/selfRight';

CREATE FUNCTION profile_top(p profile, n int DEFAULT 100,
	OUT function text, OUT self bigint, OUT total bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION profile_top(profile, int) IS
	'functions by self value; total counts each sample once per function, like pprof''s cum';

-- Interchange -------------------------------------------------------------

CREATE FUNCTION profile_to_pprof(p profile) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_to_pprof(profile) IS
	'a gzip-compressed pprof (one location per function, no addresses) that go tool pprof reads';

CREATE FUNCTION profile_from_folded(data text, sample_type text DEFAULT 'samples',
	unit text DEFAULT 'count') RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION profile_from_folded(text, text, text) IS
	'parse folded stacks: one "root;caller;leaf count" per line';

CREATE FUNCTION profile_to_folded(p profile) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_to_folded(profile) IS
	'folded stacks, one sorted line per distinct stack';

CREATE FUNCTION profile_to_svg(p profile, title text DEFAULT NULL, width int DEFAULT 1200,
	max_nodes int DEFAULT 8192)
	RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION profile_to_svg(profile, text, int, int) IS
	'a standalone SVG flame graph of a profile, as flamegraph.pl draws it';
