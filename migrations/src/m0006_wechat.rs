//! WeChat: followers (an openid, bound to a learner once they join), the permanent QR code of
//! each enrollment code, what the callback has seen (request nonces and message retry keys),
//! the shared access token with its refresh lease, sign-in states, and the weekly counts of
//! safeguarding matches (counts only, never a message). Times compared in SQL are Unix
//! milliseconds (BIGINT), which order the same on both backends.

use sea_orm_migration::prelude::*;

use crate::sql;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE TABLE wechat_follower (
    id {id},
    openid TEXT NOT NULL UNIQUE,
    learner_id BIGINT UNIQUE REFERENCES learner(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    following BOOLEAN NOT NULL,
    code_id BIGINT REFERENCES enrollment_code(id) ON DELETE SET NULL,
    followed_at {ts},
    unfollowed_at {ts},
    created_at {ts} NOT NULL,
    updated_at {ts} NOT NULL
);
CREATE TABLE wechat_qr (
    id {id},
    code_id BIGINT NOT NULL UNIQUE REFERENCES enrollment_code(id) ON DELETE CASCADE,
    scene TEXT NOT NULL UNIQUE,
    ticket TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at {ts} NOT NULL
);
CREATE TABLE wechat_request (
    id {id},
    nonce_hash TEXT NOT NULL UNIQUE,
    body_hash TEXT NOT NULL,
    seen_at BIGINT NOT NULL
);
CREATE INDEX wechat_request_seen_idx ON wechat_request (seen_at);
CREATE TABLE wechat_message (
    id {id},
    retry_key TEXT NOT NULL UNIQUE,
    seen_at BIGINT NOT NULL
);
CREATE INDEX wechat_message_seen_idx ON wechat_message (seen_at);
CREATE TABLE wechat_token (
    name TEXT PRIMARY KEY,
    token TEXT,
    expires_at BIGINT,
    lease_owner TEXT,
    lease_until BIGINT,
    updated_at BIGINT NOT NULL
);
CREATE TABLE wechat_oauth_state (
    id {id},
    state_hash TEXT NOT NULL UNIQUE,
    next_path TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX wechat_oauth_state_created_idx ON wechat_oauth_state (created_at);
CREATE TABLE safeguarding_count (
    id {id},
    week TEXT NOT NULL,
    category TEXT NOT NULL,
    matches BIGINT NOT NULL,
    UNIQUE (week, category)
)
"#;

const DOWN: &str = r#"
DROP TABLE safeguarding_count;
DROP TABLE wechat_oauth_state;
DROP TABLE wechat_token;
DROP TABLE wechat_message;
DROP TABLE wechat_request;
DROP TABLE wechat_qr;
DROP TABLE wechat_follower
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
