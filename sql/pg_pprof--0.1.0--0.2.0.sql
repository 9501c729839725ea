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

-- Packed series ---------------------------------------------------------------
-- A packed value is the merge of many profiles of one series plus a timeline:
-- each source's values under its time.  Every other function reads it as its
-- merge; these read the timeline, validating it first.

CREATE FUNCTION profile_pack_transfn(internal, profile, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE COST 2000;
CREATE FUNCTION profile_pack_combinefn(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;
CREATE FUNCTION profile_pack_serialfn(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION profile_pack_deserialfn(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C STRICT PARALLEL SAFE;
CREATE FUNCTION profile_pack_finalfn(internal) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C CALLED ON NULL INPUT PARALLEL SAFE;

-- Partial states serialize to packed values, validated on read.
CREATE AGGREGATE profile_pack(p profile, t timestamptz) (
	SFUNC = profile_pack_transfn,
	STYPE = internal,
	FINALFUNC = profile_pack_finalfn,
	COMBINEFUNC = profile_pack_combinefn,
	SERIALFUNC = profile_pack_serialfn,
	DESERIALFUNC = profile_pack_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE profile_pack(profile, timestamptz) IS
	'the merge of profiles of one series plus a timeline of each input under its time t (packed inputs keep theirs); lossless';

CREATE FUNCTION profile_slice(p profile, since timestamptz, until timestamptz,
	at timestamptz DEFAULT NULL) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION profile_slice(profile, timestamptz, timestamptz, timestamptz) IS
	'the merge of the points of p whose time lies in [since, until), NULL when none does; a plain value is one point at at (or its start time)';

CREATE FUNCTION profile_unpack(p profile) RETURNS TABLE ("time" timestamptz, profile profile)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 60;
COMMENT ON FUNCTION profile_unpack(profile) IS
	'the points of a packed value as separate profiles; a plain value gives itself at its start time';

CREATE FUNCTION profile_points(p profile) RETURNS TABLE ("time" timestamptz, total bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 60;
COMMENT ON FUNCTION profile_points(profile) IS
	'the total of each point of a packed value: a time series';

CREATE FUNCTION profile_is_packed(p profile) RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_is_packed(profile) IS
	'whether p has a timeline (from its first bytes alone)';

-- Compaction: replace old rows by one packed row per bucket and series.  It
-- commits per bucket, so it cannot carry SET or SECURITY DEFINER: every name
-- below is qualified, every identifier quoted, and the extension's own
-- functions are called through the schema found in pg_extension.
CREATE PROCEDURE profile_compact(
	target regclass,
	group_by text[],
	bucket interval DEFAULT '1 hour',
	older_than interval DEFAULT '1 hour',
	keep_timeline boolean DEFAULT true,
	time_column name DEFAULT 'time',
	profile_column name DEFAULT 'profile',
	INOUT rows_before bigint DEFAULT NULL,
	INOUT rows_after bigint DEFAULT NULL,
	INOUT bytes_before bigint DEFAULT NULL,
	INOUT bytes_after bigint DEFAULT NULL)
LANGUAGE plpgsql
AS $compact$
DECLARE
	v_origin constant pg_catalog.timestamptz := '1970-01-01 00:00:00+00';
	v_ext_schema pg_catalog.text;
	v_profile_type pg_catalog.oid;
	v_relation pg_catalog.text;
	v_kind pg_catalog."char";
	v_type pg_catalog.oid;
	v_column pg_catalog.text;
	v_group pg_catalog.text := '';
	v_cutoff pg_catalog.timestamptz;
	v_buckets pg_catalog.timestamptz[];
	v_bucket pg_catalog.timestamptz;
	v_combine pg_catalog.text;
	v_rows_before pg_catalog.int8;
	v_rows_after pg_catalog.int8;
	v_bytes_before pg_catalog.int8;
	v_bytes_after pg_catalog.int8;
BEGIN
	rows_before := 0; rows_after := 0; bytes_before := 0; bytes_after := 0;
	IF target IS NULL OR group_by IS NULL OR bucket IS NULL OR older_than IS NULL
		OR keep_timeline IS NULL OR time_column IS NULL OR profile_column IS NULL THEN
		RAISE EXCEPTION 'profile_compact: arguments must not be NULL'
			USING ERRCODE = '22004';
	END IF;
	IF bucket OPERATOR(pg_catalog.<=) '0'::pg_catalog.interval
		OR older_than OPERATOR(pg_catalog.<) '0'::pg_catalog.interval THEN
		RAISE EXCEPTION 'profile_compact: bucket must be positive and older_than not negative'
			USING ERRCODE = '22023';
	END IF;

	SELECT n.nspname, t.oid INTO v_ext_schema, v_profile_type
		FROM pg_catalog.pg_extension e
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace
		JOIN pg_catalog.pg_type t ON t.typnamespace OPERATOR(pg_catalog.=) n.oid
			AND t.typname OPERATOR(pg_catalog.=) 'profile'
		WHERE e.extname OPERATOR(pg_catalog.=) 'pg_pprof';
	SELECT pg_catalog.format('%I.%I', n.nspname, c.relname), c.relkind INTO v_relation, v_kind
		FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
		WHERE c.oid OPERATOR(pg_catalog.=) target;
	IF v_kind IS NULL OR (v_kind OPERATOR(pg_catalog.<>) 'r' AND v_kind OPERATOR(pg_catalog.<>) 'p') THEN
		RAISE EXCEPTION 'profile_compact: % is not a table', target
			USING ERRCODE = '42809';
	END IF;

	-- the time and profile columns must exist with their types
	SELECT a.atttypid INTO v_type FROM pg_catalog.pg_attribute a
		WHERE a.attrelid OPERATOR(pg_catalog.=) target AND a.attname OPERATOR(pg_catalog.=) time_column
			AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
	IF v_type IS NULL OR v_type OPERATOR(pg_catalog.<>) 'pg_catalog.timestamptz'::pg_catalog.regtype THEN
		RAISE EXCEPTION 'profile_compact: % has no column % of type timestamptz', target, time_column
			USING ERRCODE = '42703';
	END IF;
	v_type := NULL;
	SELECT a.atttypid INTO v_type FROM pg_catalog.pg_attribute a
		WHERE a.attrelid OPERATOR(pg_catalog.=) target AND a.attname OPERATOR(pg_catalog.=) profile_column
			AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped;
	IF v_type IS NULL OR v_type OPERATOR(pg_catalog.<>) v_profile_type THEN
		RAISE EXCEPTION 'profile_compact: % has no column % of type profile', target, profile_column
			USING ERRCODE = '42703';
	END IF;

	-- the group-by columns: existing, distinct, neither the time nor the profile
	FOREACH v_column IN ARRAY group_by LOOP
		IF v_column IS NULL OR v_column OPERATOR(pg_catalog.=) time_column::pg_catalog.text
			OR v_column OPERATOR(pg_catalog.=) profile_column::pg_catalog.text
			OR NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
				WHERE a.attrelid OPERATOR(pg_catalog.=) target
					AND a.attname OPERATOR(pg_catalog.=) v_column::pg_catalog.name
					AND a.attnum OPERATOR(pg_catalog.>) 0 AND NOT a.attisdropped) THEN
			RAISE EXCEPTION 'profile_compact: % is not a column of % to group by', v_column, target
				USING ERRCODE = '42703',
					HINT = 'group_by names the columns that identify a series, not the time or profile column.';
		END IF;
		IF pg_catalog.strpos(v_group, pg_catalog.format('%I, ', v_column)) OPERATOR(pg_catalog.=) 1
			OR pg_catalog.strpos(v_group, pg_catalog.format(', %I, ', v_column)) OPERATOR(pg_catalog.>) 0 THEN
			RAISE EXCEPTION 'profile_compact: column % is named twice in group_by', v_column
				USING ERRCODE = '42701';
		END IF;
		v_group := v_group OPERATOR(pg_catalog.||) pg_catalog.format('%I, ', v_column);
	END LOOP;

	v_combine := CASE WHEN keep_timeline
		THEN pg_catalog.format('%I.profile_pack(p, t)', v_ext_schema)
		ELSE pg_catalog.format('%I.profile_merge(p)', v_ext_schema) END;
	-- whole buckets only: each is packed once, when all of it is old enough
	v_cutoff := pg_catalog.date_bin(bucket, pg_catalog.now() OPERATOR(pg_catalog.-) older_than, v_origin);

	-- the buckets with work: a series with several rows, or one not yet in its final form
	EXECUTE pg_catalog.format($q$
		SELECT pg_catalog.array_agg(s.b ORDER BY s.b) FROM (
			SELECT s.b FROM (
				SELECT pg_catalog.date_bin($1, %1$I, $2) AS b, pg_catalog.count(*) AS n,
					pg_catalog.bool_and(%1$I OPERATOR(pg_catalog.=) pg_catalog.date_bin($1, %1$I, $2)
						AND %2$I.profile_is_packed(%3$I) OPERATOR(pg_catalog.=) $3) AS done
				FROM %4$s WHERE %1$I OPERATOR(pg_catalog.<) $4
				GROUP BY %5$s 1) s
			WHERE s.n OPERATOR(pg_catalog.>) 1 OR NOT s.done
			GROUP BY s.b) s$q$,
		time_column, v_ext_schema, profile_column, v_relation, v_group)
		INTO v_buckets USING bucket, v_origin, keep_timeline, v_cutoff;

	FOREACH v_bucket IN ARRAY COALESCE(v_buckets, '{}'::pg_catalog.timestamptz[]) LOOP
		-- one compaction of a table at a time
		PERFORM pg_catalog.pg_advisory_xact_lock(
			7021584756125450240 OPERATOR(pg_catalog.+) target::pg_catalog.oid::pg_catalog.int8);
		-- one statement: it deletes exactly the rows it packs, and inserts their packing
		EXECUTE pg_catalog.format($q$
			WITH gone AS (
				DELETE FROM %1$s
				WHERE %2$I OPERATOR(pg_catalog.>=) $1 AND %2$I OPERATOR(pg_catalog.<) $2
				RETURNING %3$s %4$I AS p, %2$I AS t),
			packed AS (
				INSERT INTO %1$s (%3$s %2$I, %4$I)
				SELECT %3$s $1, %5$s FROM gone
				GROUP BY %3$s ()
				HAVING pg_catalog.count(*) OPERATOR(pg_catalog.>) 0
				RETURNING pg_catalog.pg_column_size(%4$I) AS size)
			SELECT (SELECT pg_catalog.count(*) FROM gone),
				(SELECT pg_catalog.sum(pg_catalog.pg_column_size(p)) FROM gone),
				(SELECT pg_catalog.count(*) FROM packed),
				(SELECT pg_catalog.sum(size) FROM packed)$q$,
			v_relation, time_column, v_group, profile_column, v_combine)
			INTO v_rows_before, v_bytes_before, v_rows_after, v_bytes_after
			USING v_bucket, v_bucket OPERATOR(pg_catalog.+) bucket;
		rows_before := rows_before OPERATOR(pg_catalog.+) v_rows_before;
		rows_after := rows_after OPERATOR(pg_catalog.+) v_rows_after;
		bytes_before := bytes_before OPERATOR(pg_catalog.+) COALESCE(v_bytes_before, 0);
		bytes_after := bytes_after OPERATOR(pg_catalog.+) COALESCE(v_bytes_after, 0);
		COMMIT;
	END LOOP;
	RAISE NOTICE 'profile_compact: % rows (% bytes) in % buckets of % became % rows (% bytes)',
		rows_before, bytes_before, COALESCE(pg_catalog.cardinality(v_buckets), 0),
		target, rows_after, bytes_after;
END
$compact$;
COMMENT ON PROCEDURE profile_compact(regclass, text[], interval, interval, boolean, name, name,
	bigint, bigint, bigint, bigint) IS
	'replace the rows older than older_than by one packed row per bucket and group_by series, committing per bucket';
