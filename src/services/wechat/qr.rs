//! WeChat's permanent QR code for each enrollment code: created through the API when the code
//! is made (or by `homeward wechat qr` for older codes), stored with its ticket and URL, and
//! then what the code's QR images and poster encode. Scanning it follows the account with the
//! code's scene, which names the code.

use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};

use super::token::with_token;
use super::{Wechat, WechatError};
use crate::services::Context;
use crate::services::enrollment::{self, CodeInfo};
use crate::services::qr::join_url;
use crate::store::entity::{enrollment_code, wechat_qr};
use crate::wechat::protocol::SceneStr;

const SCENE_PREFIX: &str = "join:";

/// The scene of an enrollment code's QR: `join:` and its token.
pub fn scene_for(token: &str) -> SceneStr {
    SceneStr::parse(&format!("{SCENE_PREFIX}{token}")).expect("a 24-character token fits a scene")
}

/// The enrollment code a scanned scene names, if it names one that exists.
pub async fn code_for_scene(
    ctx: &Context,
    scene: &SceneStr,
) -> Result<Option<CodeInfo>, WechatError> {
    let Some(token) = scene.as_str().strip_prefix(SCENE_PREFIX) else {
        return Ok(None);
    };
    Ok(enrollment::find_code(&ctx.db, token).await?)
}

pub async fn stored(ctx: &Context, code_id: i64) -> Result<Option<wechat_qr::Model>, WechatError> {
    Ok(wechat_qr::Entity::find()
        .filter(wechat_qr::Column::CodeId.eq(code_id))
        .one(&ctx.db)
        .await?)
}

/// The code's WeChat QR, created through the API when it has none yet.
pub async fn ensure(
    ctx: &Context,
    wechat: &Wechat,
    code_id: i64,
    token: &str,
) -> Result<wechat_qr::Model, WechatError> {
    if let Some(existing) = stored(ctx, code_id).await? {
        return Ok(existing);
    }
    let scene = scene_for(token);
    let ticket = with_token(ctx, wechat, |access| {
        let scene = scene.clone();
        async move { wechat.api.create_permanent_qr(&access, &scene).await }
    })
    .await?;
    let inserted = wechat_qr::Entity::insert(wechat_qr::ActiveModel {
        code_id: Set(code_id),
        scene: Set(scene.as_str().to_owned()),
        ticket: Set(ticket.ticket),
        url: Set(ticket.url),
        created_at: Set(ctx.clock.now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(wechat_qr::Column::CodeId)
            .do_nothing()
            .to_owned(),
    )
    .exec(&ctx.db)
    .await;
    match inserted {
        Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
        Err(error) => return Err(error.into()),
    }
    stored(ctx, code_id)
        .await?
        .ok_or_else(|| WechatError::Failed(anyhow::anyhow!("the QR row vanished")))
}

/// After a code is created: its WeChat QR too, when WeChat is configured. A failure is logged
/// and leaves the web join link in the code's images until `homeward wechat qr` runs.
pub async fn after_code_created(ctx: &Context, code_id: i64, token: &str) {
    let Some(wechat) = ctx.wechat.as_deref() else {
        return;
    };
    if let Err(error) = ensure(ctx, wechat, code_id, token).await {
        tracing::warn!(code_id, %error, "could not create the WeChat QR code; run `homeward wechat qr`");
    }
}

/// What a code's QR images encode: its WeChat QR URL when there is one, else the web join link.
pub async fn target_url(ctx: &Context, code: &CodeInfo) -> Result<String, WechatError> {
    if ctx.wechat.is_some()
        && let Some(qr) = stored(ctx, code.id).await?
    {
        return Ok(qr.url);
    }
    Ok(join_url(&ctx.settings, &code.token))
}

/// What `homeward wechat qr` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct QrSummary {
    pub created: usize,
    pub existing: usize,
    pub failed: Vec<(i64, String)>,
}

/// Creates the WeChat QR of every code that is not revoked and has none.
pub async fn ensure_all(ctx: &Context) -> Result<QrSummary, WechatError> {
    let wechat = ctx.wechat.as_deref().ok_or(WechatError::Off)?;
    let codes = enrollment_code::Entity::find()
        .filter(enrollment_code::Column::RevokedAt.is_null())
        .all(&ctx.db)
        .await?;
    let mut summary = QrSummary::default();
    for code in codes {
        if stored(ctx, code.id).await?.is_some() {
            summary.existing += 1;
            continue;
        }
        match ensure(ctx, wechat, code.id, &code.token).await {
            Ok(_) => summary.created += 1,
            Err(error) => summary.failed.push((code.id, error.to_string())),
        }
    }
    Ok(summary)
}
