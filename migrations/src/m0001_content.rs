//! Series, lessons and their media: what `content/` is imported into.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE series (
    id {id},
    slug TEXT NOT NULL UNIQUE,
    audience TEXT NOT NULL,
    timezone TEXT NOT NULL,
    first_release TEXT NOT NULL,
    release_weekday TEXT NOT NULL,
    release_time TEXT NOT NULL,
    sort_order INTEGER NOT NULL DEFAULT 0,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    summary_zh TEXT NOT NULL,
    summary_en TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE lesson (
    id {id},
    series_id BIGINT NOT NULL REFERENCES series(id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    week INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    release_override {ts},
    release_at {ts} NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    summary_zh TEXT NOT NULL,
    summary_en TEXT NOT NULL,
    body_json TEXT NOT NULL,
    quiz_json TEXT,
    content_hash TEXT NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (series_id, slug)
);
CREATE INDEX lesson_release_idx ON lesson (series_id, status, release_at);
CREATE TABLE media (
    id {id},
    lesson_id BIGINT NOT NULL REFERENCES lesson(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    bytes {blob} NOT NULL,
    updated_at {ts} NOT NULL,
    UNIQUE (lesson_id, name)
)
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        sql::run(
            manager,
            "DROP TABLE media; DROP INDEX lesson_release_idx; DROP TABLE lesson; DROP TABLE series",
        )
        .await
    }
}
