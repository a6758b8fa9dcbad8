//! Indexes for the managers' dashboard: quiz figures read from the index alone, and "active in
//! the last N days" without reading every progress row. Measured with scripts/bench-dashboard.sh.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE INDEX quiz_attempt_lesson_cover_idx ON quiz_attempt (lesson_id, learner_id, score, total);
CREATE INDEX quiz_attempt_learner_cover_idx ON quiz_attempt (learner_id, lesson_id, score, total);
DROP INDEX quiz_attempt_lesson_idx;
DROP INDEX quiz_attempt_learner_idx;
CREATE INDEX lesson_progress_updated_idx ON lesson_progress (updated_at, learner_id)
"#;

const DOWN: &str = r#"
DROP INDEX lesson_progress_updated_idx;
CREATE INDEX quiz_attempt_learner_idx ON quiz_attempt (learner_id, lesson_id);
CREATE INDEX quiz_attempt_lesson_idx ON quiz_attempt (lesson_id);
DROP INDEX quiz_attempt_learner_cover_idx;
DROP INDEX quiz_attempt_lesson_cover_idx
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
