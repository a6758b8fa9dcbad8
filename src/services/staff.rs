//! Staff accounts: roles, argon2id passwords, one-time set-password links, sessions with idle
//! and absolute timeouts, personal API tokens, and the audit log of every staff change.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use chrono::{DateTime, Duration, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value};
use serde_json::Value as Json;

use super::ActionError;
use crate::domain::email::parse_email;
use crate::domain::token::SessionToken;

/// Sessions end after 30 minutes without a request, and 12 hours after login in any case.
pub const IDLE_TIMEOUT: i64 = 30 * 60;
pub const ABSOLUTE_TIMEOUT: i64 = 12 * 3600;
/// A set-password link works for a week, once.
pub const INVITE_DAYS: i64 = 7;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Editor,
    Manager,
}

impl Role {
    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "admin" => Some(Role::Admin),
            "editor" => Some(Role::Editor),
            "manager" => Some(Role::Manager),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Editor => "editor",
            Role::Manager => "manager",
        }
    }
}

/// A signed-in staff member.
#[derive(Clone, Debug)]
pub struct Staff {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub factory_id: Option<i64>,
    /// For a manager limited to some lines.
    pub line_ids: Option<Vec<i64>>,
    /// The session's token hash (for CSRF tokens); empty for API tokens.
    pub session_hash: String,
}

impl Staff {
    pub fn can_edit(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Editor)
    }

    /// Whether this person may see the manager's view of `factory_id`.
    pub fn manages(&self, factory_id: i64) -> bool {
        match self.role {
            Role::Admin => true,
            Role::Manager => self.factory_id == Some(factory_id),
            Role::Editor => false,
        }
    }
}

fn argon2() -> Argon2<'static> {
    // argon2id, 19 MiB, 2 passes, 1 lane (OWASP's minimum).
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("argon2 params"),
    )
}

/// Hashes a password off the async runtime.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("random: {e}"))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        Ok(argon2()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| anyhow::anyhow!("hash: {e}"))?
            .to_string())
    })
    .await?
}

/// Checks a password against its hash off the async runtime.
pub async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

/// A real hash of a random password, to spend the same time on unknown accounts.
async fn dummy_hash() -> String {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            hash_password(SessionToken::generate().0)
                .await
                .unwrap_or_default()
        })
        .await
        .clone()
}

/// A password must be at least 10 characters.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 10 {
        return Err("password: at least 10 characters".into());
    }
    if password.len() > 200 {
        return Err("password: at most 200 characters".into());
    }
    Ok(())
}

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> anyhow::Result<u64> {
    Ok(db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await?
        .rows_affected())
}

async fn one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> anyhow::Result<Option<sea_orm::QueryResult>> {
    Ok(db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await?)
}

/// Creates a staff account and a one-time link to set its password; returns (id, link token).
/// A manager needs a factory that exists; lines, if given, must be that factory's.
pub async fn add(
    db: &DatabaseConnection,
    email: &str,
    role: Role,
    factory_id: Option<i64>,
    line_ids: Option<Vec<i64>>,
    now: DateTime<Utc>,
) -> Result<(i64, String), ActionError> {
    let email = parse_email(email).map_err(ActionError::Invalid)?;
    if role == Role::Manager && factory_id.is_none() {
        return Err(ActionError::Invalid(
            "factory: a manager needs a factory".into(),
        ));
    }
    if let Some(factory) = factory_id {
        let found = one(
            db,
            "SELECT id FROM factory WHERE id = $1",
            vec![factory.into()],
        )
        .await?;
        if found.is_none() {
            return Err(ActionError::Invalid(format!(
                "factory: there is no factory {factory}"
            )));
        }
    }
    let line_ids = line_ids.filter(|ids| !ids.is_empty());
    if let Some(ids) = &line_ids {
        let Some(factory) = factory_id else {
            return Err(ActionError::Invalid(
                "lines: lines belong to a factory; give the factory too".into(),
            ));
        };
        for line in ids {
            let owner = one(
                db,
                "SELECT factory_id FROM line WHERE id = $1",
                vec![(*line).into()],
            )
            .await?
            .and_then(|row| row.try_get::<i64>("", "factory_id").ok());
            if owner != Some(factory) {
                return Err(ActionError::Invalid(format!(
                    "lines: line {line} is not a line of factory {factory}"
                )));
            }
        }
    }
    let lines = line_ids.map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let taken = one(
        db,
        "SELECT id FROM staff WHERE email = $1",
        vec![email.clone().into()],
    )
    .await?;
    if taken.is_some() {
        return Err(ActionError::Invalid(format!(
            "email: there is already a staff account for {email}"
        )));
    }
    let row = one(
        db,
        "INSERT INTO staff (email, role, factory_id, line_ids, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        vec![email.clone().into(), role.as_str().into(), factory_id.into(), lines.into(), now.into()],
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("insert returned nothing"))?;
    let id: i64 = row.try_get("", "id").map_err(anyhow::Error::from)?;
    let token = invite(db, id, now).await?;
    Ok((id, token))
}

/// A new one-time set-password link for an account.
pub async fn invite(
    db: &DatabaseConnection,
    staff_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let token = SessionToken::generate().0;
    exec(
        db,
        "INSERT INTO staff_invite (staff_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        vec![staff_id.into(), SessionToken::hash(&token).into(), now.into(), (now + Duration::days(INVITE_DAYS)).into()],
    )
    .await?;
    Ok(token)
}

/// The account a set-password link is for, if the link is unused and unexpired.
pub async fn invite_email(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    if !SessionToken::looks_valid(token) {
        return Ok(None);
    }
    let row = one(
        db,
        "SELECT s.email AS email FROM staff_invite i JOIN staff s ON s.id = i.staff_id \
         WHERE i.token_hash = $1 AND i.used_at IS NULL AND i.expires_at > $2 AND s.disabled_at IS NULL",
        vec![SessionToken::hash(token).into(), now.into()],
    )
    .await?;
    Ok(row.and_then(|r| r.try_get("", "email").ok()))
}

/// Uses a set-password link: sets the password and ends every session of the account.
pub async fn set_password(
    db: &DatabaseConnection,
    token: &str,
    password: &str,
    now: DateTime<Utc>,
) -> Result<i64, String> {
    check_password(password)?;
    let hash = hash_password(password.to_owned())
        .await
        .map_err(|e| e.to_string())?;
    let fail = |e: anyhow::Error| {
        tracing::error!(error = format!("{e:#}"), "set password failed");
        "the password could not be saved; please try again".to_owned()
    };
    let row = one(
        db,
        "UPDATE staff_invite SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING staff_id",
        vec![now.into(), SessionToken::hash(token).into()],
    )
    .await
    .map_err(fail)?
    .ok_or("this link has expired or was already used; ask an admin for a new one")?;
    let staff_id: i64 = row.try_get("", "staff_id").map_err(|e| fail(e.into()))?;
    exec(
        db,
        "UPDATE staff SET password_hash = $1 WHERE id = $2",
        vec![hash.into(), staff_id.into()],
    )
    .await
    .map_err(fail)?;
    exec(
        db,
        "DELETE FROM staff_session WHERE staff_id = $1",
        vec![staff_id.into()],
    )
    .await
    .map_err(fail)?;
    audit(
        db,
        Some(staff_id),
        "staff",
        "set_password",
        &format!("staff:{staff_id}"),
        None,
        None,
        now,
    )
    .await
    .map_err(fail)?;
    Ok(staff_id)
}

/// Checks an email and password; on success starts a new session and returns its token.
pub async fn login(
    db: &DatabaseConnection,
    email: &str,
    password: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let row = one(
        db,
        "SELECT id, password_hash FROM staff WHERE email = $1 AND disabled_at IS NULL",
        vec![email.trim().to_lowercase().into()],
    )
    .await?;
    let (id, hash): (Option<i64>, Option<String>) = match row {
        Some(row) => (
            row.try_get("", "id").ok(),
            row.try_get("", "password_hash").ok().flatten(),
        ),
        None => (None, None),
    };
    // Verify even for unknown accounts, so timing does not tell which emails exist.
    let hash = match hash {
        Some(hash) => hash,
        None => dummy_hash().await,
    };
    let ok = verify_password(password.to_owned(), hash).await;
    let Some(id) = id.filter(|_| ok) else {
        return Ok(None);
    };
    let token = SessionToken::generate().0;
    exec(
        db,
        "INSERT INTO staff_session (staff_id, token_hash, created_at, last_seen_at) VALUES ($1, $2, $3, $3)",
        vec![id.into(), SessionToken::hash(&token).into(), now.into()],
    )
    .await?;
    Ok(Some(token))
}

pub async fn logout(db: &DatabaseConnection, token: &str) -> anyhow::Result<()> {
    exec(
        db,
        "DELETE FROM staff_session WHERE token_hash = $1",
        vec![SessionToken::hash(token).into()],
    )
    .await?;
    Ok(())
}

fn staff_from(row: &sea_orm::QueryResult, session_hash: String) -> anyhow::Result<Staff> {
    let role: String = row.try_get("", "role")?;
    let lines: Option<String> = row.try_get("", "line_ids")?;
    Ok(Staff {
        id: row.try_get("", "id")?,
        email: row.try_get("", "email")?,
        role: Role::parse(&role).ok_or_else(|| anyhow::anyhow!("unknown role {role}"))?,
        factory_id: row.try_get("", "factory_id")?,
        line_ids: lines.map(|l| l.split(',').filter_map(|id| id.parse().ok()).collect()),
        session_hash,
    })
}

/// The staff member a session token belongs to, if the session is within both timeouts; it is
/// renewed (its idle clock restarted) by this request.
pub async fn authenticate_session(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Staff>> {
    if !SessionToken::looks_valid(token) {
        return Ok(None);
    }
    let hash = SessionToken::hash(token);
    let Some(row) = one(
        db,
        "SELECT s.id AS id, s.email AS email, s.role AS role, s.factory_id AS factory_id, s.line_ids AS line_ids, \
                x.id AS session_id, x.created_at AS created_at, x.last_seen_at AS last_seen_at \
         FROM staff_session x JOIN staff s ON s.id = x.staff_id WHERE x.token_hash = $1 AND s.disabled_at IS NULL",
        vec![hash.clone().into()],
    )
    .await?
    else {
        return Ok(None);
    };
    let created: DateTime<Utc> = row.try_get("", "created_at")?;
    let seen: DateTime<Utc> = row.try_get("", "last_seen_at")?;
    let session_id: i64 = row.try_get("", "session_id")?;
    if now - seen > Duration::seconds(IDLE_TIMEOUT)
        || now - created > Duration::seconds(ABSOLUTE_TIMEOUT)
    {
        exec(
            db,
            "DELETE FROM staff_session WHERE id = $1",
            vec![session_id.into()],
        )
        .await?;
        return Ok(None);
    }
    exec(
        db,
        "UPDATE staff_session SET last_seen_at = $1 WHERE id = $2",
        vec![now.into(), session_id.into()],
    )
    .await?;
    Ok(Some(staff_from(&row, hash)?))
}

/// The staff member a personal API token belongs to.
pub async fn authenticate_token(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<Staff>> {
    let Some(raw) = token.strip_prefix("hwk_") else {
        return Ok(None);
    };
    if !SessionToken::looks_valid(raw) {
        return Ok(None);
    }
    let hash = SessionToken::hash(raw);
    let Some(row) = one(
        db,
        "SELECT s.id AS id, s.email AS email, s.role AS role, s.factory_id AS factory_id, s.line_ids AS line_ids, t.id AS token_id \
         FROM api_token t JOIN staff s ON s.id = t.staff_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND s.disabled_at IS NULL",
        vec![hash.into()],
    )
    .await?
    else {
        return Ok(None);
    };
    let token_id: i64 = row.try_get("", "token_id")?;
    exec(
        db,
        "UPDATE api_token SET last_used_at = $1 WHERE id = $2",
        vec![now.into(), token_id.into()],
    )
    .await?;
    Ok(Some(staff_from(&row, String::new())?))
}

/// Creates a personal API token (shown once, as `hwk_…`); returns (id, token).
pub async fn create_token(
    db: &DatabaseConnection,
    staff: &Staff,
    name: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<(i64, String)> {
    let raw = SessionToken::generate().0;
    let row = one(
        db,
        "INSERT INTO api_token (staff_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        vec![staff.id.into(), name.trim().chars().take(80).collect::<String>().into(), SessionToken::hash(&raw).into(), now.into()],
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("insert returned nothing"))?;
    let id: i64 = row.try_get("", "id")?;
    audit(
        db,
        Some(staff.id),
        &staff.email,
        "create_api_token",
        &format!("api_token:{id}"),
        None,
        Some(serde_json::json!({"name": name})),
        now,
    )
    .await?;
    Ok((id, format!("hwk_{raw}")))
}

/// Revokes one of the staff member's own tokens; false when there is no such token of theirs.
pub async fn revoke_token(
    db: &DatabaseConnection,
    staff: &Staff,
    token_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let done = exec(
        db,
        "UPDATE api_token SET revoked_at = $1 WHERE id = $2 AND staff_id = $3 AND revoked_at IS NULL",
        vec![now.into(), token_id.into(), staff.id.into()],
    )
    .await?
        == 1;
    if done {
        audit(
            db,
            Some(staff.id),
            &staff.email,
            "revoke_api_token",
            &format!("api_token:{token_id}"),
            None,
            None,
            now,
        )
        .await?;
    }
    Ok(done)
}

/// Appends to the audit log: who did what to what, when, and the state before and after.
#[allow(clippy::too_many_arguments)]
pub async fn audit(
    db: &impl ConnectionTrait,
    staff_id: Option<i64>,
    actor: &str,
    action: &str,
    target: &str,
    before: Option<Json>,
    after: Option<Json>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    exec(
        db,
        "INSERT INTO audit_log (staff_id, actor, action, target, before_json, after_json, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            staff_id.into(),
            actor.into(),
            action.into(),
            target.into(),
            before.map(|b| b.to_string()).into(),
            after.map(|a| a.to_string()).into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}
