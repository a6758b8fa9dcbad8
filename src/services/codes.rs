//! A factory's enrollment codes as its manager (or an admin) handles them, the same from the
//! pages and the API: which codes and lines they may touch, creating and revoking codes, each
//! change audited.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::enrollment::{self, NewCode};
use super::staff::{Staff, audit};
use super::{ActionError, Context};
use crate::store::entity::{enrollment_code, line};

/// The factory's codes this staff member may see: all of them, or those of their lines.
pub async fn scoped_codes(
    ctx: &Context,
    who: &Staff,
    factory: i64,
) -> anyhow::Result<Vec<enrollment_code::Model>> {
    let codes = enrollment_code::Entity::find()
        .filter(enrollment_code::Column::FactoryId.eq(factory))
        .order_by_desc(enrollment_code::Column::Id)
        .all(&ctx.db)
        .await?;
    Ok(codes
        .into_iter()
        .filter(|c| {
            who.line_ids
                .as_ref()
                .is_none_or(|ids| c.line_id.is_some_and(|l| ids.contains(&l)))
        })
        .collect())
}

/// The factory's lines this staff member may use: all of them, or their own.
pub async fn scoped_lines(
    ctx: &Context,
    who: &Staff,
    factory: i64,
) -> anyhow::Result<Vec<line::Model>> {
    let lines = line::Entity::find()
        .filter(line::Column::FactoryId.eq(factory))
        .order_by_asc(line::Column::Id)
        .all(&ctx.db)
        .await?;
    Ok(lines
        .into_iter()
        .filter(|l| who.line_ids.as_ref().is_none_or(|ids| ids.contains(&l.id)))
        .collect())
}

/// A code as a manager asks for it.
pub struct CodeRequest {
    pub label: String,
    pub line_id: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_joins: Option<i32>,
}

/// Creates a code for `factory` on one of the staff member's lines; returns (id, token).
/// Another factory is `NotFound`, as if it did not exist.
pub async fn create(
    ctx: &Context,
    who: &Staff,
    factory: i64,
    request: CodeRequest,
) -> Result<(i64, String), ActionError> {
    if !who.manages(factory) {
        return Err(ActionError::NotFound);
    }
    let allowed = scoped_lines(ctx, who, factory).await?;
    let line_ok = match request.line_id {
        Some(id) => allowed.iter().any(|l| l.id == id),
        None => who.line_ids.is_none(),
    };
    if !line_ok {
        return Err(ActionError::Invalid("line: pick one of your lines".into()));
    }
    if request.max_joins.is_some_and(|n| n < 1) {
        return Err(ActionError::Invalid("max_joins: a number from 1".into()));
    }
    let label: String = request.label.chars().take(80).collect();
    let now = ctx.clock.now();
    let (id, token) = enrollment::create_code(
        &ctx.db,
        NewCode {
            factory_id: factory,
            line_id: request.line_id,
            label: label.clone(),
            expires_at: request.expires_at,
            max_joins: request.max_joins,
        },
        now,
    )
    .await
    .map_err(|e| ActionError::Invalid(e.to_string()))?;
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "create_code",
        &format!("code:{id}"),
        None,
        Some(serde_json::json!({
            "factory_id": factory,
            "line_id": request.line_id,
            "label": label,
            "expires_at": request.expires_at,
            "max_joins": request.max_joins,
        })),
        now,
    )
    .await?;
    super::wechat::qr::after_code_created(ctx, id, &token).await;
    Ok((id, token))
}

/// Revokes one of the factory's codes that the staff member may see.
pub async fn revoke(
    ctx: &Context,
    who: &Staff,
    factory: i64,
    code_id: i64,
) -> Result<(), ActionError> {
    if !who.manages(factory) {
        return Err(ActionError::NotFound);
    }
    let found = scoped_codes(ctx, who, factory)
        .await?
        .into_iter()
        .find(|c| c.id == code_id)
        .ok_or(ActionError::NotFound)?;
    let now = ctx.clock.now();
    enrollment::revoke_code(&ctx.db, &found.token, now).await?;
    audit(
        &ctx.db,
        Some(who.id),
        &who.email,
        "revoke_code",
        &format!("code:{code_id}"),
        Some(serde_json::json!({"revoked_at": found.revoked_at})),
        Some(serde_json::json!({"revoked_at": now})),
        now,
    )
    .await?;
    Ok(())
}
