//! A learner's own account: sessions, recovery, profile changes, export and deletion.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    FromQueryResult, JsonValue, QueryFilter, Set, Statement, TransactionTrait,
};
use serde_json::json;

use super::Context;
use super::enrollment::start_session;
use crate::domain::learner::{parse_age_band, parse_nickname};
use crate::domain::token::{RecoveryCode, SessionToken};
use crate::domain::{Audience, Lang};
use crate::store::entity::{factory, learner, learner_session, line};

/// Every table that holds rows about a learner, by a `learner_id` column. Export and deletion
/// cover exactly these (plus the `learner` row itself); a test fails when a table with a
/// `learner_id` column is missing here.
pub const LEARNER_TABLES: &[&str] = &[
    "consent",
    "inactivity_notice",
    "learner_award",
    "learner_session",
    "lesson_progress",
    "progress_event",
    "push_message",
    "push_preference",
    "quiz_attempt",
    "review_attempt",
    "review_item",
    "wechat_follower",
];

/// Columns never exported: secrets that are not the learner's data.
const SECRET_COLUMNS: &[&str] = &["token_hash", "device_hash", "recovery_hash"];

/// Finds the learner a session token belongs to, and notes the visit (at most hourly). A session
/// unused for `HOMEWARD_LEARNER_IDLE_DAYS` has ended: it is deleted and counts as signed out.
pub async fn authenticate(
    ctx: &Context,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<i64>> {
    if !SessionToken::looks_valid(token) {
        return Ok(None);
    }
    let token_hash = SessionToken::hash(token);
    if let Some(learner_id) = ctx.sessions.learner(&ctx.cache, &token_hash, now).await {
        return Ok(Some(learner_id));
    }
    let epoch = ctx.sessions.epoch();
    let Some(session) = learner_session::Entity::find()
        .filter(learner_session::Column::TokenHash.eq(token_hash.clone()))
        .one(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let idle = now - session.last_seen_at;
    if idle > Duration::days(i64::from(ctx.settings.learner_idle_days)) {
        learner_session::Entity::delete_by_id(session.id)
            .exec(&ctx.db)
            .await?;
        return Ok(None);
    }
    let mut last_seen_at = session.last_seen_at;
    if idle > crate::services::sessions::TOUCH_INTERVAL {
        last_seen_at = now;
        learner_session::Entity::update_many()
            .col_expr(learner_session::Column::LastSeenAt, Expr::value(now))
            .filter(learner_session::Column::Id.eq(session.id))
            .exec(&ctx.db)
            .await?;
        note_active(&ctx.db, session.learner_id, now).await?;
    }
    ctx.sessions
        .remember(token_hash, session.learner_id, last_seen_at, epoch);
    Ok(Some(session.learner_id))
}

/// Notes that the learner was here (`learner.last_active_at`, which outlives their sessions):
/// a learner inactive for long is told and then deleted (`services::inactivity`).
pub(crate) async fn note_active(
    db: &impl ConnectionTrait,
    learner_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "UPDATE learner SET last_active_at = $1 WHERE id = $2",
        [now.into(), learner_id.into()],
    ))
    .await?;
    Ok(())
}

/// Restores an account on a new phone: every other session of the learner ends (whoever holds
/// the old phone is signed out) and a new one starts.
pub async fn recover(
    ctx: &Context,
    raw_code: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(i64, String)>> {
    let db = &ctx.db;
    let Some(code) = RecoveryCode::parse(raw_code) else {
        return Ok(None);
    };
    let Some(learner) = learner::Entity::find()
        .filter(learner::Column::RecoveryHash.eq(code.hash()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let txn = db.begin().await?;
    end_sessions(&txn, learner.id).await?;
    let token = start_session(&txn, learner.id, now).await?;
    txn.commit().await?;
    ctx.sessions.forget_learner(&ctx.cache, learner.id).await;
    Ok(Some((learner.id, token)))
}

/// Ends one session (the token's). The phone that joined no longer signs back in by joining
/// again either: after signing out, only the recovery code does.
pub async fn sign_out(ctx: &Context, token: &str) -> anyhow::Result<()> {
    let db = &ctx.db;
    let hash = SessionToken::hash(token);
    let Some(session) = learner_session::Entity::find()
        .filter(learner_session::Column::TokenHash.eq(hash.clone()))
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let txn = db.begin().await?;
    learner_session::Entity::delete_by_id(session.id)
        .exec(&txn)
        .await?;
    forget_device(&txn, session.learner_id).await?;
    txn.commit().await?;
    ctx.sessions.forget_token(&ctx.cache, &hash).await;
    Ok(())
}

/// Signs the learner out on every phone (see `end_sessions`), on every instance within seconds.
pub async fn sign_out_everywhere(ctx: &Context, learner_id: i64) -> anyhow::Result<()> {
    end_sessions(&ctx.db, learner_id).await?;
    ctx.sessions.forget_learner(&ctx.cache, learner_id).await;
    Ok(())
}

/// Ends every session of a learner, on every phone, and forgets the phone that joined.
pub async fn end_sessions(db: &impl ConnectionTrait, learner_id: i64) -> anyhow::Result<()> {
    learner_session::Entity::delete_many()
        .filter(learner_session::Column::LearnerId.eq(learner_id))
        .exec(db)
        .await?;
    forget_device(db, learner_id).await
}

/// A joined phone signs back in by joining again; once signed out, it must not.
async fn forget_device(db: &impl ConnectionTrait, learner_id: i64) -> anyhow::Result<()> {
    learner::Entity::update_many()
        .col_expr(
            learner::Column::DeviceHash,
            Expr::value(Option::<String>::None),
        )
        .filter(learner::Column::Id.eq(learner_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Gives the learner a new recovery code (returned to be shown once); the old one stops working.
pub async fn new_recovery_code(
    db: &DatabaseConnection,
    learner_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<String>> {
    let code = RecoveryCode::generate();
    let changed = learner::Entity::update_many()
        .col_expr(learner::Column::RecoveryHash, Expr::value(code.hash()))
        .col_expr(learner::Column::UpdatedAt, Expr::value(now))
        .filter(learner::Column::Id.eq(learner_id))
        .exec(db)
        .await?;
    Ok((changed.rows_affected == 1).then(|| code.as_str().to_owned()))
}

/// Whether `raw_code` is the learner's current recovery code.
pub fn is_recovery_code_of(account: &Account, raw_code: &str) -> bool {
    RecoveryCode::parse(raw_code).is_some_and(|code| code.hash() == account.learner.recovery_hash)
}

/// What the account page shows.
#[derive(Clone, Debug)]
pub struct Account {
    pub learner: learner::Model,
    pub factory: Option<factory::Model>,
    pub line: Option<line::Model>,
}

impl Account {
    pub fn audience(&self) -> Audience {
        Audience::parse(&self.learner.audience).unwrap_or(Audience::Parents)
    }

    pub fn lang(&self) -> Lang {
        Lang::parse(&self.learner.lang).unwrap_or_default()
    }

    pub fn age_bands(&self) -> Vec<String> {
        self.learner
            .child_age_bands
            .as_deref()
            .map(|b| b.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

pub async fn account(db: &DatabaseConnection, learner_id: i64) -> anyhow::Result<Option<Account>> {
    let Some(learner) = learner::Entity::find_by_id(learner_id).one(db).await? else {
        return Ok(None);
    };
    let factory = match learner.factory_id {
        Some(id) => factory::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let line = match learner.line_id {
        Some(id) => line::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(Some(Account {
        learner,
        factory,
        line,
    }))
}

/// Changes to a learner's own choices; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct ProfileChange {
    pub nickname: Option<String>,
    pub audience: Option<String>,
    pub lang: Option<String>,
    pub child_age_bands: Option<Vec<String>>,
    pub children_consent: bool,
}

/// Applies a change after checking all of it; an invalid field changes nothing.
pub async fn update_profile(
    db: &DatabaseConnection,
    learner_id: i64,
    change: ProfileChange,
    now: DateTime<Utc>,
) -> Result<(), String> {
    let mut model = learner::ActiveModel {
        id: Set(learner_id),
        updated_at: Set(now),
        ..Default::default()
    };
    if let Some(nickname) = &change.nickname {
        model.nickname = Set(parse_nickname(Some(nickname))?);
    }
    if let Some(audience) = &change.audience {
        let audience = Audience::parse(audience)
            .ok_or("audience: choose parents, line-managers or young-workers")?;
        model.audience = Set(audience.as_str().to_owned());
    }
    if let Some(lang) = &change.lang {
        model.lang = Set(Lang::parse(lang).ok_or("lang: zh or en")?.code().to_owned());
    }
    let mut new_children_consent = false;
    if let Some(bands) = &change.child_age_bands {
        let mut parsed: Vec<&str> = Vec::new();
        for raw in bands {
            let band = parse_age_band(raw).ok_or_else(|| {
                format!("child_age_bands: '{raw}' is not one of 0-2, 3-5, 6-11, 12-17")
            })?;
            if !parsed.contains(&band) {
                parsed.push(band);
            }
        }
        if !parsed.is_empty() && !change.children_consent {
            return Err(
                "children_consent: children's age bands are kept only with their own consent"
                    .into(),
            );
        }
        new_children_consent = !parsed.is_empty();
        model.child_age_bands = Set((!parsed.is_empty()).then(|| parsed.join(",")));
    }
    let write = async {
        let txn = db.begin().await?;
        model.update(&txn).await?;
        if let Some(bands) = &change.child_age_bands {
            if bands.is_empty() {
                // Removing the bands withdraws that consent too.
                txn.execute_raw(Statement::from_sql_and_values(
                    txn.get_database_backend(),
                    "DELETE FROM consent WHERE learner_id = $1 AND kind = 'children'",
                    [learner_id.into()],
                ))
                .await?;
            } else if new_children_consent {
                super::enrollment::record_consent(
                    &txn,
                    learner_id,
                    "children",
                    &crate::domain::learner::children_consent_text(),
                    now,
                )
                .await?;
            }
        }
        txn.commit().await?;
        anyhow::Ok(())
    };
    write.await.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "profile update failed");
        "the change could not be saved; please try again".to_owned()
    })
}

async fn rows(
    db: &DatabaseConnection,
    table: &str,
    learner_id: i64,
) -> anyhow::Result<Vec<JsonValue>> {
    let column = if table == "learner" {
        "id"
    } else {
        "learner_id"
    };
    let statement = Statement::from_sql_and_values(
        db.get_database_backend(),
        format!("SELECT * FROM {table} WHERE {column} = $1 ORDER BY id"),
        [learner_id.into()],
    );
    let mut rows = JsonValue::find_by_statement(statement).all(db).await?;
    for row in &mut rows {
        if let Some(object) = row.as_object_mut() {
            for secret in SECRET_COLUMNS {
                object.remove(*secret);
            }
        }
    }
    Ok(rows)
}

/// Everything held about a learner, as JSON: their row and every row of every learner table.
pub async fn export(
    db: &DatabaseConnection,
    learner_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<JsonValue>> {
    let mut learner_rows = rows(db, "learner", learner_id).await?;
    let Some(learner_row) = learner_rows.pop() else {
        return Ok(None);
    };
    let mut tables = serde_json::Map::new();
    for table in LEARNER_TABLES {
        tables.insert(
            (*table).to_owned(),
            JsonValue::Array(rows(db, table, learner_id).await?),
        );
    }
    Ok(Some(json!({
        "exported_at": now,
        "learner": learner_row,
        "tables": tables,
    })))
}

/// Withdraws consent and deletes the learner: every row in every learner table, then the
/// learner. Factory totals are computed from these rows, so they drop with them.
pub async fn delete(db: &DatabaseConnection, learner_id: i64) -> anyhow::Result<bool> {
    let txn = db.begin().await?;
    for table in LEARNER_TABLES {
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            format!("DELETE FROM {table} WHERE learner_id = $1"),
            [learner_id.into()],
        ))
        .await?;
    }
    let deleted = learner::Entity::delete_by_id(learner_id).exec(&txn).await?;
    txn.commit().await?;
    if deleted.rows_affected == 1 {
        // Backups taken before keep this learner until they expire; after restoring one, the
        // operator applies these deletions again (README, Backups).
        tracing::info!(learner_id, "learner deleted");
    }
    Ok(deleted.rows_affected == 1)
}

/// Deletes the learner (see `delete`) and ends their sessions on every instance within seconds.
pub async fn delete_and_sign_out(ctx: &Context, learner_id: i64) -> anyhow::Result<bool> {
    let deleted = delete(&ctx.db, learner_id).await?;
    ctx.sessions.forget_learner(&ctx.cache, learner_id).await;
    Ok(deleted)
}
