//! What admins do, each change audited, the same from the pages and the API: factories and
//! lines, staff accounts, the audit log, and learners' requests to see or delete their data.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use super::staff::{self, Role, Staff, audit};
use super::{ActionError, Context, accounts, enrollment};
use crate::domain::token::RecoveryCode;

/// Adds a factory (a Chinese name is required; the English one defaults to it).
pub async fn add_factory(
    ctx: &Context,
    who: &Staff,
    name_zh: &str,
    name_en: Option<&str>,
    city: Option<&str>,
) -> Result<i64, ActionError> {
    let zh = name_zh.trim();
    if zh.is_empty() {
        return Err(ActionError::Invalid(
            "name_zh: the factory needs a name".into(),
        ));
    }
    let en = name_en
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(zh);
    let now = ctx.clock.now();
    let id = enrollment::add_factory(&ctx.db, zh, en, city, now).await?;
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "add_factory",
        &format!("factory:{id}"),
        None,
        Some(serde_json::json!({"name_zh": zh, "name_en": en})),
        now,
    )
    .await?;
    Ok(id)
}

/// Adds a line to a factory (`NotFound` when there is no such factory).
pub async fn add_line(
    ctx: &Context,
    who: &Staff,
    factory: i64,
    name: &str,
) -> Result<i64, ActionError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ActionError::Invalid("name: the line needs a name".into()));
    }
    let now = ctx.clock.now();
    let id = enrollment::add_line(&ctx.db, factory, name, now)
        .await
        .map_err(|_| ActionError::NotFound)?;
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "add_line",
        &format!("line:{id}"),
        None,
        Some(serde_json::json!({"factory_id": factory, "name": name})),
        now,
    )
    .await?;
    Ok(id)
}

/// A new staff account and the one-time link that sets its password.
pub struct Invited {
    pub id: i64,
    pub setup_url: String,
}

/// Adds a staff account with `role` (`admin`, `editor` or `manager`).
pub async fn add_staff(
    ctx: &Context,
    who: &Staff,
    email: &str,
    role: &str,
    factory_id: Option<i64>,
    line_ids: Option<Vec<i64>>,
) -> Result<Invited, ActionError> {
    let role = Role::parse(role)
        .ok_or_else(|| ActionError::Invalid("role: admin, editor or manager".into()))?;
    let now = ctx.clock.now();
    let (id, token) = staff::add(&ctx.db, email, role, factory_id, line_ids, now).await?;
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "add_staff",
        &format!("staff:{id}"),
        None,
        Some(serde_json::json!({
            "email": email.trim().to_lowercase(),
            "role": role.as_str(),
            "factory_id": factory_id,
        })),
        now,
    )
    .await?;
    Ok(Invited {
        id,
        setup_url: format!("{}/staff/setup/{token}", ctx.settings.public_url()),
    })
}

/// One entry of the audit log.
pub struct AuditRow {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: DateTime<Utc>,
}

/// The latest `limit` entries of the audit log, newest first.
pub async fn audit_log(ctx: &Context, limit: u32) -> anyhow::Result<Vec<AuditRow>> {
    let rows = ctx
        .db
        .query_all_raw(Statement::from_string(
            ctx.db.get_database_backend(),
            format!(
                "SELECT actor, action, target, before_json, after_json, created_at \
                 FROM audit_log ORDER BY id DESC LIMIT {limit}"
            ),
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(AuditRow {
                actor: r.try_get("", "actor").ok()?,
                action: r.try_get("", "action").ok()?,
                target: r.try_get("", "target").ok()?,
                before: r.try_get("", "before_json").ok()?,
                after: r.try_get("", "after_json").ok()?,
                at: r.try_get("", "created_at").ok()?,
            })
        })
        .collect())
}

/// The learner a recovery code belongs to: id and nickname.
pub async fn learner_by_recovery_code(
    ctx: &Context,
    recovery_code: &str,
) -> anyhow::Result<Option<(i64, Option<String>)>> {
    let Some(code) = RecoveryCode::parse(recovery_code) else {
        return Ok(None);
    };
    let row = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            "SELECT id, nickname FROM learner WHERE recovery_hash = $1",
            [code.hash().into()],
        ))
        .await?;
    Ok(row.and_then(|r| {
        Some((
            r.try_get::<i64>("", "id").ok()?,
            r.try_get::<Option<String>>("", "nickname").ok()?,
        ))
    }))
}

/// Everything held about a learner, for their data request (audited).
pub async fn export_learner(
    ctx: &Context,
    who: &Staff,
    learner_id: i64,
) -> Result<serde_json::Value, ActionError> {
    let now = ctx.clock.now();
    let export = accounts::export(&ctx.db, learner_id, now)
        .await?
        .ok_or(ActionError::NotFound)?;
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "export_learner",
        &format!("learner:{learner_id}"),
        None,
        None,
        now,
    )
    .await?;
    Ok(export)
}

/// Deletes a learner and everything about them, for their data request (audited).
pub async fn delete_learner(
    ctx: &Context,
    who: &Staff,
    learner_id: i64,
) -> Result<(), ActionError> {
    if !accounts::delete_and_sign_out(ctx, learner_id).await? {
        return Err(ActionError::NotFound);
    }
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "delete_learner",
        &format!("learner:{learner_id}"),
        None,
        None,
        ctx.clock.now(),
    )
    .await?;
    Ok(())
}
