-- The upgrade chain: install the oldest version, then walk ALTER EXTENSION
-- UPDATE to the newest, and check that the result has every object a fresh
-- installation has.  Values stored by the old version stay readable.
SET client_min_messages = warning;
-- What a fresh installation of the default version has.
CREATE TEMP TABLE fresh AS
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_pprof') AND deptype = 'e';
DROP EXTENSION pg_pprof CASCADE;

CREATE EXTENSION pg_pprof VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'pg_pprof';
CREATE TABLE kept (p profile);
INSERT INTO kept VALUES (profile_from_folded(E'main;a 3\nmain;b 5', 'cpu', 'nanoseconds'));
-- Every update path from 0.1.0 leads to the default version.
SELECT source, target, path FROM pg_extension_update_paths('pg_pprof')
WHERE source = '0.1.0' AND path IS NOT NULL ORDER BY target;
ALTER EXTENSION pg_pprof UPDATE;
SELECT extversion = (SELECT default_version FROM pg_available_extensions WHERE name = 'pg_pprof')
       AS at_default_version
FROM pg_extension WHERE extname = 'pg_pprof';

-- Objects a fresh installation has that the updated one lacks, and the reverse.
CREATE TEMP TABLE updated AS
SELECT pg_describe_object(classid, objid, objsubid) AS object
FROM pg_depend WHERE refclassid = 'pg_extension'::regclass
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_pprof') AND deptype = 'e';
(SELECT 'only fresh' AS side, object FROM fresh EXCEPT SELECT 'only fresh', object FROM updated)
UNION ALL
(SELECT 'only updated', object FROM updated EXCEPT SELECT 'only updated', object FROM fresh)
ORDER BY 1, 2;
SELECT count(*) > 40 AS has_objects FROM updated;

-- The value stored under 0.1.0 works with what 0.2.0 added.
SELECT p = p AS equal, profile_total(p), profile_diff_to_svg(p, p) LIKE '<?xml%' AS diff_svg
FROM kept;
DROP TABLE kept;
