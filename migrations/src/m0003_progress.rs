//! Learners' progress: the events their phones send, merged progress per lesson, quiz attempts.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE progress_event (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    payload TEXT NOT NULL,
    client_time {ts},
    received_at {ts} NOT NULL,
    UNIQUE (learner_id, client_id)
);
CREATE TABLE lesson_progress (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    first_opened_at {ts},
    max_panel INTEGER NOT NULL DEFAULT -1,
    video_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    article_percent INTEGER NOT NULL DEFAULT 0,
    done_pressed BOOLEAN NOT NULL DEFAULT FALSE,
    quiz_first_score INTEGER,
    quiz_best_score INTEGER,
    quiz_attempts INTEGER NOT NULL DEFAULT 0,
    quiz_passed_at {ts},
    completed_at {ts},
    updated_at {ts} NOT NULL,
    UNIQUE (learner_id, lesson_id)
);
CREATE INDEX lesson_progress_lesson_idx ON lesson_progress (lesson_id);
CREATE TABLE quiz_attempt (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    answers TEXT NOT NULL,
    score INTEGER NOT NULL,
    total INTEGER NOT NULL,
    passed BOOLEAN NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX quiz_attempt_learner_idx ON quiz_attempt (learner_id, lesson_id);
CREATE INDEX quiz_attempt_lesson_idx ON quiz_attempt (lesson_id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(
            manager,
            "DROP TABLE quiz_attempt; DROP TABLE lesson_progress; DROP TABLE progress_event",
        )
        .await
    }
}
