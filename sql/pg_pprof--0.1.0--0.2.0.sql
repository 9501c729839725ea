-- pg_pprof 0.1.0 -> 0.2.0
\echo Use "ALTER EXTENSION pg_pprof UPDATE TO '0.2.0'" to load this file. \quit

-- Interchange -------------------------------------------------------------

CREATE FUNCTION profile_diff_to_svg(baseline profile, comparison profile, title text DEFAULT NULL,
	width int DEFAULT 1200, max_nodes int DEFAULT 8192)
	RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE CALLED ON NULL INPUT PARALLEL SAFE;
COMMENT ON FUNCTION profile_diff_to_svg(profile, profile, text, int, int) IS
	'a standalone differential SVG flame graph: red where the comparison''s share grew, blue where it shrank';
