//! Reach, part two: videos a learner says they watched (self-reported), what a learner earned
//! (badges, certificates, best streaks) kept once earned, the children's age bands a lesson is
//! for, and the review of missed quiz questions (Leitner boxes and review answers).

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
ALTER TABLE lesson_progress ADD COLUMN self_reported_at {ts};
CREATE TABLE learner_award (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    amount INTEGER NOT NULL DEFAULT 0,
    earned_at {ts} NOT NULL,
    UNIQUE (learner_id, kind, subject)
);
ALTER TABLE lesson ADD COLUMN age_bands TEXT NOT NULL DEFAULT '';
CREATE TABLE review_item (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    box INTEGER NOT NULL,
    due_at {ts} NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (learner_id, lesson_id, question)
);
CREATE INDEX review_item_due_idx ON review_item (learner_id, due_at);
CREATE TABLE review_attempt (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answers TEXT NOT NULL,
    correct BOOLEAN NOT NULL,
    box_after INTEGER NOT NULL,
    created_at {ts} NOT NULL
);
CREATE INDEX review_attempt_learner_idx ON review_attempt (learner_id)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(
            manager,
            "DROP INDEX review_attempt_learner_idx; DROP TABLE review_attempt; \
             DROP INDEX review_item_due_idx; DROP TABLE review_item; \
             ALTER TABLE lesson DROP COLUMN age_bands; DROP TABLE learner_award; \
             ALTER TABLE lesson_progress DROP COLUMN self_reported_at",
        )
        .await
    }
}
