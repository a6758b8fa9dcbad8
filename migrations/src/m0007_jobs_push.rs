//! Background jobs claimed from the database, and the weekly push: each learner's pace, shift and
//! mute, the send quota shared by all instances, one row per message (unique per learner, lesson and kind, so nothing is sent twice), and
//! each series' pacing.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE job (
    id {id},
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    unique_key TEXT UNIQUE,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at {ts} NOT NULL,
    locked_by TEXT,
    locked_until {ts},
    last_error TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    finished_at {ts}
);
CREATE INDEX job_due_idx ON job (state, run_at);
CREATE TABLE push_preference (
    id {id},
    learner_id BIGINT NOT NULL UNIQUE REFERENCES learner(id) ON DELETE CASCADE,
    shift TEXT NOT NULL,
    preferred_time TEXT,
    muted_at {ts},
    updated_at {ts} NOT NULL
);
CREATE TABLE push_message (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    send_at {ts} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,
    locked_until {ts},
    sent_at {ts},
    last_error TEXT,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (learner_id, lesson_id, kind)
);
CREATE INDEX push_message_due_idx ON push_message (state, send_at);
CREATE INDEX push_message_lesson_idx ON push_message (lesson_id, state);
CREATE INDEX push_message_learner_idx ON push_message (learner_id, sent_at);
CREATE TABLE push_quota (
    window_start BIGINT PRIMARY KEY,
    used INTEGER NOT NULL
);
ALTER TABLE series ADD COLUMN pacing TEXT NOT NULL DEFAULT 'calendar'
"#;

const DOWN: &str = r#"
ALTER TABLE series DROP COLUMN pacing;
DROP TABLE push_quota;
DROP INDEX push_message_learner_idx;
DROP INDEX push_message_lesson_idx;
DROP INDEX push_message_due_idx;
DROP TABLE push_message;
DROP TABLE push_preference;
DROP INDEX job_due_idx;
DROP TABLE job
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, DOWN).await
    }
}
