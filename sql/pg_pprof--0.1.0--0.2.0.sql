-- pg_pprof 0.1.0 -> 0.2.0
\echo Use "ALTER EXTENSION pg_pprof UPDATE TO '0.2.0'" to load this file. \quit

-- Interchange -------------------------------------------------------------

CREATE FUNCTION profile_diff_to_svg(baseline profile, comparison profile, title text DEFAULT NULL,
	width int DEFAULT 1200, max_nodes int DEFAULT 8192)
	RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION profile_diff_to_svg(profile, profile, text, int, int) IS
	'a standalone differential SVG flame graph: red where the comparison''s share grew, blue where it shrank';

-- Equality, order and hashing -----------------------------------------------
-- Two profiles are equal when their decompressed bodies are: the body is
-- canonical, while the stored bytes also depend on the zstd level and
-- version.  The order is a total order on bodies (for btree, DISTINCT and
-- sorting); it means nothing about the profiles.  The hash is unkeyed, the
-- same in every backend, as hash joins and hash partitioning need.

CREATE FUNCTION profile_eq(profile, profile) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_ne(profile, profile) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_lt(profile, profile) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_le(profile, profile) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_gt(profile, profile) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_ge(profile, profile) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_cmp(profile, profile) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_hash(profile) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_hash_extended(profile, bigint) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE OPERATOR = (
	LEFTARG = profile, RIGHTARG = profile, FUNCTION = profile_eq,
	COMMUTATOR = =, NEGATOR = <>, RESTRICT = eqsel, JOIN = eqjoinsel,
	HASHES, MERGES
);
CREATE OPERATOR <> (
	LEFTARG = profile, RIGHTARG = profile, FUNCTION = profile_ne,
	COMMUTATOR = <>, NEGATOR = =, RESTRICT = neqsel, JOIN = neqjoinsel
);
CREATE OPERATOR < (
	LEFTARG = profile, RIGHTARG = profile, FUNCTION = profile_lt,
	COMMUTATOR = >, NEGATOR = >=, RESTRICT = scalarltsel, JOIN = scalarltjoinsel
);
CREATE OPERATOR <= (
	LEFTARG = profile, RIGHTARG = profile, FUNCTION = profile_le,
	COMMUTATOR = >=, NEGATOR = >, RESTRICT = scalarlesel, JOIN = scalarlejoinsel
);
CREATE OPERATOR > (
	LEFTARG = profile, RIGHTARG = profile, FUNCTION = profile_gt,
	COMMUTATOR = <, NEGATOR = <=, RESTRICT = scalargtsel, JOIN = scalargtjoinsel
);
CREATE OPERATOR >= (
	LEFTARG = profile, RIGHTARG = profile, FUNCTION = profile_ge,
	COMMUTATOR = <=, NEGATOR = <, RESTRICT = scalargesel, JOIN = scalargejoinsel
);

CREATE OPERATOR CLASS profile_ops DEFAULT FOR TYPE profile USING btree AS
	OPERATOR 1 <,
	OPERATOR 2 <=,
	OPERATOR 3 =,
	OPERATOR 4 >=,
	OPERATOR 5 >,
	FUNCTION 1 profile_cmp(profile, profile);

CREATE OPERATOR CLASS profile_hash_ops DEFAULT FOR TYPE profile USING hash AS
	OPERATOR 1 =,
	FUNCTION 1 profile_hash(profile),
	FUNCTION 2 profile_hash_extended(profile, bigint);

-- Ingest into a table ---------------------------------------------------------

-- Request ids of pprof_ingest calls already stored: a repeated call with the
-- same id is a no-op, which makes the collector's replays idempotent.  Old
-- ids can be deleted once no replay can bring them back (see the README).
CREATE TABLE pprof_ingest_requests (
	request_id uuid PRIMARY KEY,
	received timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE pprof_ingest_requests IS
	'request ids of pprof_ingest calls already stored (repeats are no-ops)';
SELECT pg_catalog.pg_extension_config_dump('pprof_ingest_requests', '');

CREATE FUNCTION pprof_ingest(target regclass, data bytea, service text, name text DEFAULT NULL,
	labels jsonb DEFAULT '{}', at timestamptz DEFAULT now(), label_keys text[] DEFAULT '{}',
	tenant text DEFAULT NULL, request_id uuid DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE CALLED ON NULL INPUT PARALLEL UNSAFE;
COMMENT ON FUNCTION pprof_ingest(regclass, bytea, text, text, jsonb, timestamptz, text[], text, uuid) IS
	'split a pprof file as pprof_split does and insert one row per sample type and label combination into target';
