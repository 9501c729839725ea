-- Pinned values of stored format version 1, written by pg_pprof 0.1.0.
-- Every later build must read them exactly as this file's expected output
-- says: a change that breaks old values fails here even though every other
-- test makes fresh values.  Never regenerate these literals; add new ones
-- for new format versions instead.
SET client_min_messages = warning;
CREATE TABLE pinned_v1 (name text PRIMARY KEY, p profile NOT NULL);
-- folded stacks, small enough to be stored raw (flags 0)
INSERT INTO pinned_v1 VALUES ('folded', '\x01003e19036370750b6e616e6f7365636f6e6473000000000000021401110004010101046162636d61696e0000000011'
  '000404000001000403000102040406000a');
-- examples/mutex.pb.gz, contentions (zstd)
INSERT INTO pinned_v1 VALUES ('mutex', '\x0101870228b52ffd600700b50600b28c2e2e902b1d7866dccc36a65da955c521235f263290947662892449942f2d47a1'
  'd46f1a21f2b4a6a56d72edb6fdd34e018f463a990cc0c81470d4699c0480525333138212a15155ad309f7a6231342cac'
  '8875a4ac8a3f4af8ddbb609e7fb34547f04b134b64ee3d4b26cf19bfe61215304e9415398818103cde56735bc8938592'
  '2ade7612b595e797f5b62afe482d6b0c5cf6e03e442b72f0b6146eda07e326286893690a4034a3908f0d8e0b8f8c0efd'
  '8ece1ed8eebef9dbd9004409003532f038969b5769360a53a45021879a37b2146879330c');
-- examples/heap.pb.gz, inuse_space, with file names (zstd)
INSERT INTO pinned_v1 VALUES ('heap', '\x0101af0328b52ffd60af000d0900f24f3b34506ddb087225204b7bbd59e4909b29398db7e6a15181165abde8ee34b9d7'
  '148d8436a24bf5a92f100c48fc2c318bbe1949a8c914998dee5e30f9f068784c84ba2b1d18804a80c5b5144d8feaeee7'
  'badb354575839324498ade7bef9a52fbebda83be9ad8667d1ca336fb95b1c5952505dd4c0a33e912aed5fc817e316544'
  'f6afb0b65af0b35bd6b699d85a69407070b9200c580a3014a610731adf6d76258647acca1baf8c3f386798c249efc307'
  '08cf959cfb32faad1ab6e538f3474d052b074c63a7da987f8b090a1986179138c751921275857202223292e11152094d'
  'ef1aa833f994d973fc37ac0a68021400330be0cc8028e993b903107cd978ca0239a4065ff6ce42a701a015562b01a2d4'
  'bc76543b8cba8b2d75218bf66e1426');

SELECT name, profile_info(p) - 'stored_bytes' AS info, (profile_info(p)->>'stored_bytes')::int AS stored_bytes
FROM pinned_v1 ORDER BY name;
SELECT name, s.stack, s.value
FROM pinned_v1, LATERAL profile_stacks(p) s
ORDER BY name, s.stack::text COLLATE "C", s.value;
-- Re-encoding a pinned value with this build gives the same body.
SELECT name, p = profile_merge(p, NULL) AS same_body FROM pinned_v1 ORDER BY name;
-- The text form reads back to the same bytes.
SELECT name, p::text::profile::text = p::text AS text_round_trip FROM pinned_v1 ORDER BY name;
DROP TABLE pinned_v1;
