//! Staff: accounts with roles, their sessions, set-password invitations, personal API tokens,
//! and the audit log of every change they make. Lessons remember edits made in the studio.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE staff (
    id {id},
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    factory_id BIGINT REFERENCES factory(id) ON DELETE SET NULL,
    line_ids TEXT,
    password_hash TEXT,
    created_at {ts} NOT NULL,
    disabled_at {ts}
);
CREATE TABLE staff_session (
    id {id},
    staff_id BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    last_seen_at {ts} NOT NULL
);
CREATE TABLE staff_invite (
    id {id},
    staff_id BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    expires_at {ts} NOT NULL,
    used_at {ts}
);
CREATE TABLE api_token (
    id {id},
    staff_id BIGINT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at {ts} NOT NULL,
    last_used_at {ts},
    revoked_at {ts}
);
CREATE TABLE audit_log (
    id {id},
    staff_id BIGINT REFERENCES staff(id) ON DELETE SET NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    created_at {ts} NOT NULL
);
CREATE INDEX audit_log_created_idx ON audit_log (created_at);
ALTER TABLE lesson ADD COLUMN studio_edited_at {ts};
CREATE INDEX learner_created_idx ON learner (factory_id, created_at)
"#;

const DOWN: &str = r#"
DROP INDEX learner_created_idx;
ALTER TABLE lesson DROP COLUMN studio_edited_at;
DROP TABLE audit_log;
DROP TABLE api_token;
DROP TABLE staff_invite;
DROP TABLE staff_session;
DROP TABLE staff
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
