-- Candidate indexes for the manager dashboard, to try with
--   BENCH_EXTRA_SQL=scripts/bench-dashboard-indexes.sql scripts/bench-dashboard.sh
-- (run after the data is generated, before VACUUM ANALYZE). Not a migration: the migrations
-- live in migrations/src. Each index names the query of src/services/reports.rs it serves.

-- lesson_scores (per-lesson average quiz score, COUNT(DISTINCT learner_id) grouped by lesson):
-- today it walks quiz_attempt_lesson_idx and fetches every attempt from the heap in lesson order
-- (random reads), then joins each to learner. Covering it makes that an index-only scan.
DROP INDEX quiz_attempt_lesson_idx;
CREATE INDEX quiz_attempt_lesson_idx ON quiz_attempt (lesson_id, learner_id) INCLUDE (score, total);

-- scores_by_line (average quiz score per line): the join from learner to its attempts becomes an
-- index-only scan too. Same key as before, so it still serves per-learner lookups.
DROP INDEX quiz_attempt_learner_idx;
CREATE INDEX quiz_attempt_learner_idx ON quiz_attempt (learner_id, lesson_id) INCLUDE (score, total);

-- active_7_days / active_30_days (learners with progress updated since a cut-off): no index
-- on lesson_progress.updated_at today, so both read the whole table.
CREATE INDEX lesson_progress_updated_idx ON lesson_progress (updated_at) INCLUDE (learner_id);
