//! Factories, lines, enrollment codes and their scans; learners, their consents and sessions.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE factory (
    id {id},
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    city TEXT,
    created_at {ts} NOT NULL
);
CREATE TABLE line (
    id {id},
    factory_id BIGINT NOT NULL REFERENCES factory(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE enrollment_code (
    id {id},
    token TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    factory_id BIGINT NOT NULL REFERENCES factory(id) ON DELETE CASCADE,
    line_id BIGINT REFERENCES line(id) ON DELETE SET NULL,
    expires_at {ts},
    max_joins INTEGER,
    joins INTEGER NOT NULL DEFAULT 0,
    revoked_at {ts},
    created_at {ts} NOT NULL
);
CREATE TABLE code_scan (
    id {id},
    code_id BIGINT NOT NULL REFERENCES enrollment_code(id) ON DELETE CASCADE,
    device_hash TEXT NOT NULL,
    day TEXT NOT NULL,
    created_at {ts} NOT NULL,
    UNIQUE (code_id, device_hash, day)
);
CREATE TABLE learner (
    id {id},
    nickname TEXT,
    audience TEXT NOT NULL,
    lang TEXT NOT NULL,
    child_age_bands TEXT,
    recovery_code TEXT NOT NULL UNIQUE,
    device_hash TEXT,
    code_id BIGINT REFERENCES enrollment_code(id) ON DELETE SET NULL,
    factory_id BIGINT REFERENCES factory(id) ON DELETE SET NULL,
    line_id BIGINT REFERENCES line(id) ON DELETE SET NULL,
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE INDEX learner_factory_idx ON learner (factory_id, line_id);
CREATE INDEX learner_device_idx ON learner (device_hash);
CREATE TABLE consent (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    agreed_to TEXT NOT NULL,
    agreed_at {ts} NOT NULL
);
CREATE INDEX consent_learner_idx ON consent (learner_id);
CREATE TABLE learner_session (
    id {id},
    learner_id BIGINT NOT NULL REFERENCES learner(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    last_seen_at {ts} NOT NULL
);
CREATE INDEX learner_session_learner_idx ON learner_session (learner_id)
"#;

const DOWN: &str = r#"
DROP TABLE learner_session;
DROP TABLE consent;
DROP TABLE learner;
DROP TABLE code_scan;
DROP TABLE enrollment_code;
DROP TABLE line;
DROP TABLE factory
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
