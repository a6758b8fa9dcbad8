-- Test data for scripts/bench-dashboard.sh, part 1: one factory, its lines (one enrollment code
-- each) and its learners, who joined at random times over the past 365 days.
--
-- psql variables:
--   factory_id  the factory (already inserted)
--   lines       how many lines to create
--   learners    how many learners to create
--   tag         text that makes recovery codes and device hashes unique across factories
--   seed        setseed() value (-1..1) so that reruns generate the same data
--
-- Learners are spread unevenly over the lines (the first lines get more), like a real factory
-- with a few big lines and some small ones. Uses only set-based SQL (generate_series).
\set ON_ERROR_STOP on

SELECT setseed(:seed) \gset

INSERT INTO line (factory_id, name, created_at)
SELECT :factory_id, format('%s 号线 (line %s)', g, g), now() - interval '400 days'
FROM generate_series(1, :lines) g;

INSERT INTO enrollment_code (token, label, factory_id, line_id, expires_at, max_joins, joins,
                             revoked_at, created_at)
SELECT substr(translate(encode(sha256(convert_to(:'tag' || '-code-' || l.id, 'UTF8')), 'base64'),
                        '+/=', '-_A'), 1, 24),
       'poster ' || l.name, :factory_id, l.id, NULL, NULL, 0, NULL, now() - interval '366 days'
FROM line l
WHERE l.factory_id = :factory_id;

-- line index (0-based, in id order) → line and its code
CREATE TEMP TABLE bench_line ON COMMIT DROP AS
SELECT (row_number() OVER (ORDER BY l.id) - 1)::int AS idx, l.id AS line_id, c.id AS code_id
FROM line l
JOIN enrollment_code c ON c.line_id = l.id
WHERE l.factory_id = :factory_id;

-- random() is drawn once per learner in a materialized CTE, then joined to the lines
WITH r AS MATERIALIZED (
    SELECT g,
           random() AS a,
           now() - random() * interval '365 days' AS joined,
           floor(power(random(), 1.4) * :lines)::int AS idx
    FROM generate_series(1, :learners) g
)
INSERT INTO learner (nickname, audience, lang, child_age_bands, recovery_hash, device_hash,
                     code_id, factory_id, line_id, created_at, updated_at)
SELECT CASE WHEN r.g % 3 = 0 THEN NULL ELSE '工友' || r.g END,
       CASE WHEN r.a < 0.75 THEN 'parents'
            WHEN r.a < 0.85 THEN 'line-managers'
            ELSE 'young-workers' END,
       CASE WHEN r.g % 8 = 0 THEN 'en' ELSE 'zh' END,
       CASE WHEN r.a < 0.75 THEN (ARRAY['0-2', '3-5', '6-11', '12-17', '3-5,6-11', '6-11,12-17'])[1 + r.g % 6] END,
       -- the stored hash of a XXXX-XXXX-XXXX-XXXX code made of hex digits, which are all in
       -- the recovery-code alphabet (SHA-256 of 'recovery:' and the code, as the app stores it)
       encode(sha256(convert_to('recovery:' || regexp_replace(upper(substr(md5(:'tag' || '-recovery-' || r.g), 1, 16)),
                      '^(.{4})(.{4})(.{4})(.{4})$', '\1-\2-\3-\4'), 'UTF8')), 'hex'),
       encode(sha256(convert_to(:'tag' || '-device-' || r.g, 'UTF8')), 'hex'),
       bl.code_id, :factory_id, bl.line_id, r.joined, r.joined
FROM r
JOIN bench_line bl ON bl.idx = r.idx;

UPDATE enrollment_code c
SET joins = (SELECT count(*) FROM learner WHERE code_id = c.id)
WHERE c.factory_id = :factory_id;
