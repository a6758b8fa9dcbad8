-- Test data for scripts/bench-dashboard.sh, part 2: a year of progress for every learner in the
-- database, on every lesson in the `lesson` table (release dates are ignored: this is stored
-- history, and the dashboard counts whatever is stored).
--
-- psql variables:
--   open_pct      % of (learner, lesson) pairs opened      → lesson_progress rows
--   complete_pct  % of (learner, lesson) pairs completed   (≤ open_pct; quiz passed, done pressed)
--   events        progress_event rows per lesson_progress row (opened, what was seen, completed)
--   seed          setseed() value (-1..1) so that reruns generate the same data
--
-- Timeline of an opened lesson: opened at a random time between the learner's join and now;
-- quiz attempts 3 minutes apart; completed (or last touched) up to 2 days later. Completed
-- lessons passed the quiz: one attempt, or a failed one then a pass (35%). 20% of opened but
-- unfinished lessons have one failed attempt. Passing attempts store the right answers, failed
-- ones the last choice of each question (scores vary from pass_mark to full marks and are not
-- recomputed from the answers: the dashboard reads only score and total). Events are stored as the server stores them
-- (canonical JSON payload, its SHA-256, a random client uuid).
\set ON_ERROR_STOP on

SELECT setseed(:seed) \gset

-- What the generator needs to know about each lesson, including the right and wrong answers.
CREATE TEMP TABLE bench_lesson ON COMMIT DROP AS
SELECT s.id AS lesson_id,
       s.kind,
       COALESCE(json_array_length(s.body_json::json -> 'panels'), 0) AS panels,
       COALESCE((s.body_json::json ->> 'duration_seconds')::float8, 120) AS duration,
       q.questions,
       (s.quiz_json::json ->> 'pass_mark')::int AS pass_mark,
       q.right_answers,
       q.wrong_answers
FROM lesson s
LEFT JOIN LATERAL (
    SELECT count(*)::int AS questions,
           -- compact JSON like the server stores: {"q1":["a"],"q2":["b","c"]}
           '{' || string_agg(format('%s:%s', to_json(e ->> 'id'), e -> 'answer'), ',') || '}' AS right_answers,
           '{' || string_agg(format('%s:[%s]', to_json(e ->> 'id'), to_json(e -> 'choices' -> -1 ->> 'id')), ',') || '}' AS wrong_answers
    FROM json_array_elements(s.quiz_json::json -> 'questions') e
    WHERE s.quiz_json IS NOT NULL
) q ON TRUE;

-- Every (learner, lesson) pair with its random draws; the first draw decides opened/completed.
CREATE TEMP TABLE bench_pair ON COMMIT DROP AS
SELECT l.id AS learner_id, bl.*, l.created_at AS joined,
       random() AS u, random() AS v, random() AS w, random() AS x, random() AS y
FROM learner l
CROSS JOIN bench_lesson bl;

CREATE TEMP TABLE bench_lp ON COMMIT DROP AS
SELECT p.*,
       t.t0,
       t.done,
       t.attempts,
       t.pass_score,
       t.fail_score,
       t.t0 + (interval '10 minutes' + p.w * least(interval '2 days', now() - t.t0 - interval '10 minutes')) AS t_end
FROM bench_pair p
CROSS JOIN LATERAL (
    SELECT least(p.joined + p.v * (now() - p.joined), now() - interval '1 hour') AS t0,
           p.u < :complete_pct / 100.0 AS done,
           CASE WHEN p.questions IS NULL OR p.questions = 0 THEN 0
                WHEN p.u < :complete_pct / 100.0 THEN 1 + (p.y < 0.35)::int
                WHEN p.y < 0.20 THEN 1
                ELSE 0 END AS attempts,
           -- a passing score from pass_mark to every question right, a failing one below it
           p.pass_mark + floor(p.x * 7919)::int % greatest(1, p.questions - p.pass_mark + 1) AS pass_score,
           floor(p.w * 7919)::int % greatest(1, p.pass_mark) AS fail_score
) t
WHERE p.u < :open_pct / 100.0;

INSERT INTO lesson_progress (learner_id, lesson_id, first_opened_at, max_panel, video_seconds,
                             article_percent, done_pressed, quiz_first_score, quiz_best_score,
                             quiz_attempts, quiz_passed_at, completed_at, updated_at)
SELECT learner_id, lesson_id, t0,
       CASE WHEN kind <> 'comic' OR panels = 0 THEN -1
            WHEN done THEN panels - 1
            ELSE floor(x * panels)::int END,
       CASE WHEN kind <> 'video' THEN 0
            WHEN done THEN duration
            ELSE round((x * duration)::numeric, 1)::float8 END,
       CASE WHEN kind <> 'article' THEN 0
            WHEN done THEN 100
            ELSE floor(x * 100)::int END,
       done,
       CASE WHEN attempts = 0 THEN NULL
            WHEN attempts = 1 AND done THEN pass_score
            ELSE fail_score END,
       CASE WHEN attempts = 0 THEN NULL
            WHEN done THEN pass_score
            ELSE fail_score END,
       attempts,
       CASE WHEN done AND attempts > 0 THEN t0 + attempts * interval '3 minutes' END,
       CASE WHEN done THEN t_end END,
       t_end
FROM bench_lp
ORDER BY t0; -- rows arrive roughly in time order, as they would in production

INSERT INTO quiz_attempt (learner_id, lesson_id, answers, score, total, passed, created_at)
SELECT p.learner_id, p.lesson_id,
       CASE WHEN passed THEN p.right_answers ELSE p.wrong_answers END,
       CASE WHEN passed THEN p.pass_score ELSE p.fail_score END,
       p.questions,
       passed,
       p.t0 + n * interval '3 minutes'
FROM bench_lp p
CROSS JOIN LATERAL generate_series(1, p.attempts) n
CROSS JOIN LATERAL (SELECT p.done AND n = p.attempts AS passed) a
ORDER BY p.t0 + n * interval '3 minutes';

-- :events events per lesson_progress row: opened first, completed last (when completed), what
-- the learner saw in between, spread between t0 and t_end.
WITH e AS MATERIALIZED (
    SELECT p.learner_id, p.lesson_id,
           CASE WHEN n = 1 THEN '{"kind":"opened"}'
                WHEN n = :events AND p.done THEN '{"kind":"completed"}'
                WHEN p.kind = 'comic' THEN
                    format('{"kind":"panel_viewed","panel":%s}',
                           greatest(0, least(CASE WHEN p.done THEN p.panels - 1 ELSE floor(p.x * p.panels)::int END, n - 2)))
                WHEN p.kind = 'video' THEN
                    format('{"kind":"video_position","seconds":%s,"duration":%s}',
                           round((p.duration * (n - 1) / (:events - 1))::numeric, 1), p.duration)
                ELSE
                    format('{"kind":"article_read","percent":%s}',
                           floor(CASE WHEN p.done THEN 100 ELSE p.x * 100 END * (n - 1) / (:events - 1))::int)
           END AS event,
           CASE WHEN n = 1 THEN p.t0
                ELSE p.t0 + (p.t_end - p.t0) * (n - 1) / (:events - 1) END AS client_time
    FROM bench_lp p
    CROSS JOIN LATERAL generate_series(1, :events) n
)
INSERT INTO progress_event (learner_id, client_id, lesson_id, kind, payload_hash, payload,
                            client_time, received_at)
SELECT learner_id, gen_random_uuid()::text, lesson_id, event::json ->> 'kind',
       encode(sha256(convert_to(payload, 'UTF8')), 'hex'), payload,
       client_time,
       least(now(), client_time + interval '2 seconds' + random() * interval '1 minute')
FROM e
CROSS JOIN LATERAL (
    SELECT format('{"client_time":"%s","event":%s,"lesson_id":%s}',
                  to_char(client_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                  event, lesson_id) AS payload
) pl
ORDER BY client_time;
