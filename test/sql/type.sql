-- The profile type: text and binary I/O, NULLs, and corrupt values.
-- Input files are read on the client side (psql runs base64), so the server
-- needs no access to the checkout.
\set cpu1 `base64 -w0 "$PG_ABS_SRCDIR"/../examples/cpu_1.pb.gz`
SET client_min_messages = warning;

CREATE TABLE prof (id int, p profile);
INSERT INTO prof SELECT 1, profile_from_pprof(decode(:'cpu1', 'base64'));
INSERT INTO prof VALUES (2, NULL);

-- Text output is \x and hex; reading it back gives the same value.
SELECT id, left(p::text, 4) AS text_prefix FROM prof ORDER BY id;
SELECT (p::text)::profile::text = p::text AS text_round_trip,
       profile_total((p::text)::profile) = profile_total(p) AS same_total
FROM prof WHERE id = 1;

-- Storage is external: PostgreSQL does not compress it again.
SELECT typstorage FROM pg_type WHERE typname = 'profile';

-- Binary send/recv round trip through a bytea of the send format.
SELECT profile_send(p) = decode(substr(p::text, 3), 'hex') AS send_is_stored_bytes
FROM prof WHERE id = 1;

-- Identical input gives identical bytes (canonical encoding).
SELECT profile_from_pprof(decode(:'cpu1', 'base64'))::text = p::text AS deterministic
FROM prof WHERE id = 1;

-- Accessors are STRICT: NULL in, NULL out.
SELECT profile_total(p) IS NULL AS total_null, profile_info(p) IS NULL AS info_null
FROM prof WHERE id = 2;
SELECT profile_from_pprof(NULL) IS NULL AS from_null;
SELECT count(*) FROM profile_stacks(NULL);

-- Bad text input.
SELECT 'not a profile'::profile;
SELECT '\x0'::profile;
SELECT '\xzz'::profile;
SELECT '\x'::profile;
-- Wrong format version, unknown flags, truncated body; a packed header cut short.
SELECT '\x0300'::profile;
SELECT '\x0200'::profile;
SELECT '\x020001'::profile;
SELECT '\x02000102040000'::profile;
SELECT '\x0180'::profile;
SELECT '\x010105'::profile;
-- A valid value with one byte flipped in the compressed body.
SELECT (substr(p::text, 1, 40) ||
        CASE substr(p::text, 41, 1) WHEN 'f' THEN '0' ELSE 'f' END ||
        substr(p::text, 42))::profile IS NOT NULL AS accepted
FROM prof WHERE id = 1;
-- A valid value with a trailing byte.
SELECT (p::text || '00')::profile FROM prof WHERE id = 1;
-- A raw (uncompressed) body whose META section claims more bytes than exist.
SELECT '\x010002ff01'::profile;

DROP TABLE prof;
