//! Enrollment: factories, lines and codes (for operators), scans, and joining as a learner.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
    TransactionTrait,
};

use crate::domain::learner::{
    POLICY_VERSION, children_consent_text, parse_age_band, parse_nickname, policy_text,
};
use crate::domain::token::{EnrollmentToken, RecoveryCode, SessionToken};
use crate::domain::{Audience, Lang, Text};
use crate::services::push::prefs;
use crate::store::entity::{
    code_scan, consent, enrollment_code, factory, learner, learner_session, line,
};

/// A code with the names learners see on the join page.
#[derive(Clone, Debug)]
pub struct CodeInfo {
    pub id: i64,
    pub token: String,
    pub label: String,
    pub factory_id: i64,
    pub factory_name: Text,
    pub city: Option<String>,
    pub line_id: Option<i64>,
    pub line_name: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_joins: Option<i32>,
    pub joins: i32,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whether a code can still bring people in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStatus {
    Usable,
    Expired,
    Revoked,
    Full,
}

impl CodeInfo {
    pub fn status(&self, now: DateTime<Utc>) -> CodeStatus {
        if self.revoked_at.is_some() {
            CodeStatus::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            CodeStatus::Expired
        } else if self.max_joins.is_some_and(|max| self.joins >= max) {
            CodeStatus::Full
        } else {
            CodeStatus::Usable
        }
    }
}

/// Looks a code up by token. Malformed tokens never reach the database.
pub async fn find_code(
    db: &DatabaseConnection,
    raw_token: &str,
) -> anyhow::Result<Option<CodeInfo>> {
    let Some(token) = EnrollmentToken::parse(raw_token) else {
        return Ok(None);
    };
    let Some(code) = enrollment_code::Entity::find()
        .filter(enrollment_code::Column::Token.eq(token.as_str()))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let factory = factory::Entity::find_by_id(code.factory_id).one(db).await?;
    let line = match code.line_id {
        Some(id) => line::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    Ok(factory.map(|factory| CodeInfo {
        id: code.id,
        token: code.token,
        label: code.label,
        factory_id: factory.id,
        factory_name: Text::new(factory.name_zh, factory.name_en),
        city: factory.city,
        line_id: line.as_ref().map(|l| l.id),
        line_name: line.map(|l| l.name),
        expires_at: code.expires_at,
        max_joins: code.max_joins,
        joins: code.joins,
        revoked_at: code.revoked_at,
    }))
}

/// Records a scan of a real code, at most once per device and day.
pub async fn record_scan(
    db: &DatabaseConnection,
    code_id: i64,
    device_hash: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let day = now
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
        .to_string();
    let result = code_scan::Entity::insert(code_scan::ActiveModel {
        code_id: Set(code_id),
        device_hash: Set(device_hash.to_owned()),
        day: Set(day),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            code_scan::Column::CodeId,
            code_scan::Column::DeviceHash,
            code_scan::Column::Day,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec(db)
    .await;
    match result {
        Ok(_) | Err(sea_orm::DbErr::RecordNotInserted) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// What a person submits to join.
#[derive(Clone, Debug, Default)]
pub struct JoinRequest {
    pub token: String,
    pub accept_policy: Option<String>,
    pub audience: Option<String>,
    pub nickname: Option<String>,
    pub lang: Option<String>,
    pub child_age_bands: Vec<String>,
    pub children_consent: bool,
    /// A hash of the joining device's id, so the same phone never makes a second learner.
    pub device_hash: Option<String>,
    /// `day` (default), `night` or `rotating`: when lesson messages may arrive.
    pub shift: Option<String>,
    /// `HH:MM` within the shift's message hours, or none.
    pub preferred_time: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("there is no such enrollment code")]
    NotFound,
    #[error("this code is no longer valid")]
    Closed(CodeStatus),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub struct Joined {
    pub learner_id: i64,
    pub session_token: String,
    /// The new learner's recovery code, to show once; `None` for a device that had joined
    /// before (its code was shown then, and only its hash is kept).
    pub recovery_code: Option<String>,
    pub audience: Audience,
    /// The device had joined before: it is signed in again, not enrolled twice.
    pub returning: bool,
}

/// Checks a join request before anything is written.
fn validate(
    request: &JoinRequest,
) -> Result<(Audience, Lang, Option<String>, Vec<String>), JoinError> {
    match request.accept_policy.as_deref().map(str::trim) {
        Some(version) if version == POLICY_VERSION => {}
        Some(other) if !other.is_empty() => {
            return Err(JoinError::Invalid(format!(
                "accept_policy: '{other}' is not the current policy version ({POLICY_VERSION}); please read it again and agree"
            )));
        }
        _ => {
            return Err(JoinError::Invalid(format!(
                "accept_policy: you must agree to the privacy policy (version {POLICY_VERSION}) to join"
            )));
        }
    }
    let audience = request
        .audience
        .as_deref()
        .and_then(Audience::parse)
        .ok_or_else(|| {
            JoinError::Invalid("audience: choose parents, line-managers or young-workers".into())
        })?;
    let lang = match request.lang.as_deref().filter(|l| !l.is_empty()) {
        None => Lang::Zh,
        Some(raw) => Lang::parse(raw).ok_or_else(|| JoinError::Invalid("lang: zh or en".into()))?,
    };
    let nickname = parse_nickname(request.nickname.as_deref()).map_err(JoinError::Invalid)?;
    let mut bands = Vec::new();
    for raw in &request.child_age_bands {
        let band = parse_age_band(raw).ok_or_else(|| {
            JoinError::Invalid(format!(
                "child_age_bands: '{raw}' is not one of 0-2, 3-5, 6-11, 12-17"
            ))
        })?;
        if !bands.contains(&band.to_owned()) {
            bands.push(band.to_owned());
        }
    }
    if !bands.is_empty() && !request.children_consent {
        return Err(JoinError::Invalid(
            "children_consent: children's age bands are kept only with their own consent".into(),
        ));
    }
    Ok((audience, lang, nickname, bands))
}

/// Joins through a code: creates the learner with their consents, attributes them to the
/// code, line and factory, and starts a session — all in one transaction. A device that already
/// joined is signed in to its existing learner instead.
pub async fn join(
    db: &DatabaseConnection,
    request: &JoinRequest,
    now: DateTime<Utc>,
) -> Result<Joined, JoinError> {
    let code = find_code(db, &request.token)
        .await?
        .ok_or(JoinError::NotFound)?;
    let (audience, lang, nickname, bands) = validate(request)?;
    let (shift, preferred_time) =
        prefs::parse(request.shift.as_deref(), request.preferred_time.as_deref())
            .map_err(|invalid| JoinError::Invalid(invalid.message(Lang::En).to_owned()))?;
    let txn = db.begin().await.map_err(anyhow::Error::from)?;
    if let Some(device) = &request.device_hash {
        let existing = learner::Entity::find()
            .filter(learner::Column::DeviceHash.eq(device.as_str()))
            .one(&txn)
            .await
            .map_err(anyhow::Error::from)?;
        if let Some(existing) = existing {
            let session_token = start_session(&txn, existing.id, now).await?;
            txn.commit().await.map_err(anyhow::Error::from)?;
            return Ok(Joined {
                learner_id: existing.id,
                session_token,
                recovery_code: None,
                audience: Audience::parse(&existing.audience).unwrap_or(audience),
                returning: true,
            });
        }
    }
    match code.status(now) {
        CodeStatus::Usable => {}
        closed => return Err(JoinError::Closed(closed)),
    }
    // Count the join only while the code is still open: two people racing for the last place
    // cannot both get it.
    let counted = enrollment_code::Entity::update_many()
        .col_expr(
            enrollment_code::Column::Joins,
            Expr::col(enrollment_code::Column::Joins).add(1),
        )
        .filter(enrollment_code::Column::Id.eq(code.id))
        .filter(enrollment_code::Column::RevokedAt.is_null())
        .filter(
            enrollment_code::Column::MaxJoins
                .is_null()
                .or(Expr::col(enrollment_code::Column::Joins)
                    .lt(Expr::col(enrollment_code::Column::MaxJoins))),
        )
        .exec(&txn)
        .await
        .map_err(anyhow::Error::from)?;
    if counted.rows_affected != 1 {
        return Err(JoinError::Closed(CodeStatus::Full));
    }
    let recovery_code = RecoveryCode::generate();
    let learner = learner::ActiveModel {
        nickname: Set(nickname),
        audience: Set(audience.as_str().to_owned()),
        lang: Set(lang.code().to_owned()),
        child_age_bands: Set((!bands.is_empty()).then(|| bands.join(","))),
        recovery_hash: Set(recovery_code.hash()),
        device_hash: Set(request.device_hash.clone()),
        code_id: Set(Some(code.id)),
        factory_id: Set(Some(code.factory_id)),
        line_id: Set(code.line_id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(anyhow::Error::from)?;
    let policy = policy_text();
    record_consent(&txn, learner.id, "privacy", &policy, now).await?;
    if !bands.is_empty() {
        record_consent(&txn, learner.id, "children", &children_consent_text(), now).await?;
    }
    let messages = prefs::PushPrefs {
        shift,
        preferred_time,
        muted: false,
    };
    prefs::set(&txn, learner.id, &messages, now).await?;
    let session_token = start_session(&txn, learner.id, now).await?;
    txn.commit().await.map_err(anyhow::Error::from)?;
    Ok(Joined {
        learner_id: learner.id,
        session_token,
        recovery_code: Some(recovery_code.as_str().to_owned()),
        audience,
        returning: false,
    })
}

pub(crate) async fn record_consent(
    txn: &impl sea_orm::ConnectionTrait,
    learner_id: i64,
    kind: &str,
    text: &Text,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    consent::ActiveModel {
        learner_id: Set(learner_id),
        kind: Set(kind.to_owned()),
        policy_version: Set(POLICY_VERSION.to_owned()),
        agreed_to: Set(format!("{}\n\n{}", text.zh, text.en)),
        agreed_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// Creates a session and returns its token; only the token's hash is stored.
pub(crate) async fn start_session(
    txn: &impl sea_orm::ConnectionTrait,
    learner_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<String> {
    let token = SessionToken::generate();
    learner_session::ActiveModel {
        learner_id: Set(learner_id),
        token_hash: Set(SessionToken::hash(&token.0)),
        created_at: Set(now),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    super::accounts::note_active(txn, learner_id, now).await?;
    Ok(token.0)
}

// ---- Operators' commands -------------------------------------------------------------------

pub async fn add_factory(
    db: &DatabaseConnection,
    name_zh: &str,
    name_en: &str,
    city: Option<&str>,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    let row = factory::ActiveModel {
        name_zh: Set(name_zh.trim().to_owned()),
        name_en: Set(name_en.trim().to_owned()),
        city: Set(city.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty())),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

pub async fn add_line(
    db: &DatabaseConnection,
    factory_id: i64,
    name: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<i64> {
    anyhow::ensure!(
        factory::Entity::find_by_id(factory_id)
            .one(db)
            .await?
            .is_some(),
        "there is no factory {factory_id}"
    );
    let row = line::ActiveModel {
        factory_id: Set(factory_id),
        name: Set(name.trim().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

pub struct NewCode {
    pub factory_id: i64,
    pub line_id: Option<i64>,
    pub label: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub max_joins: Option<i32>,
}

/// Creates a code; returns its id and token.
pub async fn create_code(
    db: &DatabaseConnection,
    new: NewCode,
    now: DateTime<Utc>,
) -> anyhow::Result<(i64, String)> {
    anyhow::ensure!(
        factory::Entity::find_by_id(new.factory_id)
            .one(db)
            .await?
            .is_some(),
        "there is no factory {}",
        new.factory_id
    );
    if let Some(line_id) = new.line_id {
        let line = line::Entity::find_by_id(line_id).one(db).await?;
        anyhow::ensure!(
            line.is_some_and(|l| l.factory_id == new.factory_id),
            "line {line_id} does not belong to factory {}",
            new.factory_id
        );
    }
    if let Some(max) = new.max_joins {
        anyhow::ensure!(max > 0, "--max-joins must be at least 1");
    }
    let token = EnrollmentToken::generate();
    let row = enrollment_code::ActiveModel {
        token: Set(token.as_str().to_owned()),
        label: Set(new.label.trim().to_owned()),
        factory_id: Set(new.factory_id),
        line_id: Set(new.line_id),
        expires_at: Set(new.expires_at),
        max_joins: Set(new.max_joins),
        joins: Set(0),
        revoked_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok((row.id, row.token))
}

pub async fn list_codes(db: &DatabaseConnection) -> anyhow::Result<Vec<enrollment_code::Model>> {
    Ok(enrollment_code::Entity::find()
        .order_by_asc(enrollment_code::Column::Id)
        .all(db)
        .await?)
}

/// Revokes a code; returns false when there is no such code.
pub async fn revoke_code(
    db: &DatabaseConnection,
    token: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let result = enrollment_code::Entity::update_many()
        .col_expr(enrollment_code::Column::RevokedAt, Expr::value(now))
        .filter(enrollment_code::Column::Token.eq(token))
        .filter(enrollment_code::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Ok(enrollment_code::Entity::find()
            .filter(enrollment_code::Column::Token.eq(token))
            .one(db)
            .await?
            .is_some());
    }
    Ok(true)
}
