//! Followers of the account: the openid, whether they still follow, the language the chat
//! answers them in, and — once they join — the learner they are. A follower who never joined
//! is forgotten when they unfollow; a learner's binding stays until they delete their data.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use super::WechatError;
use crate::domain::Lang;
use crate::services::Context;
use crate::store::entity::{learner, wechat_follower};
use crate::wechat::protocol::OpenId;

pub async fn find(
    ctx: &Context,
    openid: &OpenId,
) -> Result<Option<wechat_follower::Model>, WechatError> {
    Ok(wechat_follower::Entity::find()
        .filter(wechat_follower::Column::Openid.eq(openid.as_str()))
        .one(&ctx.db)
        .await?)
}

pub async fn of_learner(
    ctx: &Context,
    learner_id: i64,
) -> Result<Option<wechat_follower::Model>, WechatError> {
    Ok(wechat_follower::Entity::find()
        .filter(wechat_follower::Column::LearnerId.eq(learner_id))
        .one(&ctx.db)
        .await?)
}

/// Makes sure a row exists for `openid` (not following until told otherwise); returns it.
async fn ensure(
    ctx: &Context,
    openid: &OpenId,
    now: DateTime<Utc>,
) -> Result<wechat_follower::Model, WechatError> {
    let inserted = wechat_follower::Entity::insert(wechat_follower::ActiveModel {
        openid: Set(openid.as_str().to_owned()),
        learner_id: Set(None),
        lang: Set(Lang::Zh.code().to_owned()),
        following: Set(false),
        code_id: Set(None),
        followed_at: Set(None),
        unfollowed_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(wechat_follower::Column::Openid)
            .do_nothing()
            .to_owned(),
    )
    .exec(&ctx.db)
    .await;
    match inserted {
        Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => {}
        Err(error) => return Err(error.into()),
    }
    find(ctx, openid)
        .await?
        .ok_or_else(|| WechatError::Failed(anyhow::anyhow!("the follower row vanished")))
}

/// A follow (or a scan by a follower): following again, attributed to `code_id` when the scan
/// was of a usable code.
pub async fn followed(
    ctx: &Context,
    openid: &OpenId,
    code_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<wechat_follower::Model, WechatError> {
    let row = ensure(ctx, openid, now).await?;
    let mut model: wechat_follower::ActiveModel = row.clone().into();
    if !row.following {
        model.following = Set(true);
        model.followed_at = Set(Some(now));
    }
    if code_id.is_some() {
        model.code_id = Set(code_id);
    }
    model.updated_at = Set(now);
    Ok(model.update(&ctx.db).await?)
}

/// An unfollow: no more messages. Someone who never joined is forgotten altogether.
pub async fn unfollowed(
    ctx: &Context,
    openid: &OpenId,
    now: DateTime<Utc>,
) -> Result<(), WechatError> {
    let Some(row) = find(ctx, openid).await? else {
        return Ok(());
    };
    if row.learner_id.is_none() {
        wechat_follower::Entity::delete_by_id(row.id)
            .exec(&ctx.db)
            .await?;
        return Ok(());
    }
    let mut model: wechat_follower::ActiveModel = row.into();
    model.following = Set(false);
    model.unfollowed_at = Set(Some(now));
    model.updated_at = Set(now);
    model.update(&ctx.db).await?;
    Ok(())
}

/// The language the chat answers this follower in: their learner's, else their own choice.
pub async fn lang_of(
    ctx: &Context,
    follower: Option<&wechat_follower::Model>,
) -> Result<Lang, WechatError> {
    let Some(follower) = follower else {
        return Ok(Lang::Zh);
    };
    if let Some(learner_id) = follower.learner_id
        && let Some(learner) = learner::Entity::find_by_id(learner_id).one(&ctx.db).await?
    {
        return Ok(Lang::parse(&learner.lang).unwrap_or_default());
    }
    Ok(Lang::parse(&follower.lang).unwrap_or_default())
}

/// Sets the chat's language for this follower (and their learner's, if they joined).
pub async fn set_lang(
    ctx: &Context,
    openid: &OpenId,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(), WechatError> {
    let row = ensure(ctx, openid, now).await?;
    let txn = ctx.db.begin().await?;
    if let Some(learner_id) = row.learner_id {
        learner::Entity::update_many()
            .col_expr(
                learner::Column::Lang,
                sea_orm::sea_query::Expr::value(lang.code()),
            )
            .filter(learner::Column::Id.eq(learner_id))
            .exec(&txn)
            .await?;
    }
    let mut model: wechat_follower::ActiveModel = row.into();
    model.lang = Set(lang.code().to_owned());
    model.updated_at = Set(now);
    model.update(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Binds `openid` to a learner, who from then on is signed in by it on any phone. A learner has
/// one openid: binding another replaces it. An openid already bound to another learner stays
/// theirs (returns `false`).
pub async fn bind(
    ctx: &Context,
    openid: &OpenId,
    learner_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, WechatError> {
    let row = ensure(ctx, openid, now).await?;
    match row.learner_id {
        Some(bound) if bound == learner_id => return Ok(true),
        Some(_) => return Ok(false),
        None => {}
    }
    let txn = ctx.db.begin().await?;
    wechat_follower::Entity::delete_many()
        .filter(wechat_follower::Column::LearnerId.eq(learner_id))
        .exec(&txn)
        .await?;
    let learner_lang = learner::Entity::find_by_id(learner_id)
        .one(&txn)
        .await?
        .map(|l| l.lang);
    let mut model: wechat_follower::ActiveModel = row.into();
    model.learner_id = Set(Some(learner_id));
    if let Some(lang) = learner_lang {
        model.lang = Set(lang);
    }
    model.updated_at = Set(now);
    model.update(&txn).await?;
    txn.commit().await?;
    tracing::info!(learner_id, "WeChat account linked to a learner");
    Ok(true)
}
