//! Learners inactive for a long time are told, then deleted: one notice per learner and period
//! of inactivity (unique per learner), with when it may be sent, how sending went, and when the
//! learner is deleted unless they come back first; and each learner's last visit, kept after
//! their sessions are gone.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE inactivity_notice (
    id {id},
    learner_id BIGINT NOT NULL UNIQUE REFERENCES learner(id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    send_at {ts} NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at {ts},
    last_error TEXT,
    delete_after {ts} NOT NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX inactivity_notice_due_idx ON inactivity_notice (state, send_at);
CREATE INDEX inactivity_notice_delete_idx ON inactivity_notice (delete_after);
ALTER TABLE learner ADD COLUMN last_active_at {ts}
"#;

const DOWN: &str = r#"
ALTER TABLE learner DROP COLUMN last_active_at;
DROP INDEX inactivity_notice_delete_idx;
DROP INDEX inactivity_notice_due_idx;
DROP TABLE inactivity_notice
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
