//! Joining through the API, restoring an account, and the learner's own account.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use super::learner::{signed_in, signed_in_to_change};
use super::lessons::LocalizedText;
use super::problem::{ApiError, Problem};
use super::strict_string::StrictString;
use crate::domain::Lang;
use crate::domain::learner::{AGE_BANDS, POLICY_VERSION, children_consent_text, policy_text};
use crate::http::AppState;
use crate::http::cookies::{SESSION_COOKIE, YEAR, set_cookie};
use crate::http::error::from_db;
use crate::http::headers::shows_secret;
use crate::http::{auth, limits};
use crate::services::accounts::{self, ProfileChange};
use crate::services::enrollment::{self, CodeStatus, JoinError, JoinRequest};
use crate::services::push::prefs;

#[derive(Tags)]
enum ApiTags {
    /// Joining through a factory's code, and the learner's own account.
    Learners,
}

#[derive(Debug, Clone, Object)]
pub struct FactoryDto {
    pub id: i64,
    pub name: LocalizedText,
    #[oai(nullable)]
    pub city: Option<String>,
}

#[derive(Debug, Clone, Object)]
pub struct LineDto {
    pub id: i64,
    pub name: String,
}

/// What a join screen shows before anyone agrees to anything.
#[derive(Debug, Clone, Object)]
pub struct EnrollmentInfo {
    pub factory: FactoryDto,
    #[oai(nullable)]
    pub line: Option<LineDto>,
    /// Send this back as `accept_policy` to agree.
    pub policy_version: String,
    pub policy_text: LocalizedText,
    pub children_consent_text: LocalizedText,
    pub audiences: Vec<String>,
    pub child_age_bands: Vec<String>,
}

#[derive(Debug, Clone, Object)]
pub struct EnrollmentRequest {
    /// The token from the QR code.
    pub token: StrictString,
    /// The policy version shown by `GET /enrollments/{token}`; anything else creates nothing.
    #[oai(nullable)]
    pub accept_policy: Option<StrictString>,
    /// `parents`, `line-managers` or `young-workers`.
    pub audience: StrictString,
    #[oai(nullable)]
    pub nickname: Option<StrictString>,
    /// `zh` (default) or `en`.
    #[oai(nullable)]
    pub lang: Option<StrictString>,
    /// Any of `0-2`, `3-5`, `6-11`, `12-17`; needs `children_consent`.
    #[oai(default)]
    pub child_age_bands: Vec<StrictString>,
    #[oai(default)]
    pub children_consent: bool,
    /// `day` (default), `night` or `rotating`: when lesson messages may arrive.
    #[oai(nullable)]
    pub shift: Option<StrictString>,
    /// `HH:MM` within the shift's message hours (day 08:00–22:00, night 16:00–20:00,
    /// rotating 18:00–21:00); absent: the first allowed moment after a release.
    #[oai(nullable)]
    pub preferred_time: Option<StrictString>,
}

#[derive(Debug, Clone, Object)]
pub struct Enrolled {
    pub learner_id: i64,
    /// Send as `Authorization: Bearer …`; the same value is set as the session cookie.
    pub session_token: String,
    /// Keep it: it restores the account on a new phone. Shown only this once (only its hash
    /// is stored); `null` when this device had joined before and is signed in again.
    #[oai(nullable)]
    pub recovery_code: Option<String>,
}

#[derive(ApiResponse)]
pub enum EnrolledResponse {
    /// Joined: the learner exists, consent is recorded and a session started.
    #[oai(status = 201)]
    Created(Json<Enrolled>, #[oai(header = "Set-Cookie")] String),
}

#[derive(Debug, Clone, Object)]
pub struct RecoverRequest {
    pub recovery_code: StrictString,
}

#[derive(Debug, Clone, Object)]
pub struct Session {
    pub learner_id: i64,
    pub session_token: String,
}

#[derive(ApiResponse)]
pub enum SessionResponse {
    /// A new session for the account.
    #[oai(status = 201)]
    Created(Json<Session>, #[oai(header = "Set-Cookie")] String),
}

#[derive(Debug, Clone, Object)]
pub struct Me {
    pub learner_id: i64,
    #[oai(nullable)]
    pub nickname: Option<String>,
    pub audience: String,
    pub lang: String,
    pub child_age_bands: Vec<String>,
    #[oai(nullable)]
    pub factory: Option<FactoryDto>,
    #[oai(nullable)]
    pub line: Option<LineDto>,
    pub joined_at: chrono::DateTime<chrono::Utc>,
    pub messages: MessageSettings,
}

/// When lesson messages reach the learner, and whether they are stopped.
#[derive(Debug, Clone, Object)]
pub struct MessageSettings {
    /// `day`, `night` or `rotating`.
    pub shift: String,
    /// `HH:MM`, or absent for the first allowed moment after a release.
    #[oai(nullable)]
    pub preferred_time: Option<String>,
    /// Stopped (退订 / "stop"): no messages at all.
    pub stopped: bool,
}

/// Fields to change; absent fields stay as they are.
#[derive(Debug, Clone, Object)]
pub struct MeChange {
    #[oai(nullable)]
    pub nickname: Option<StrictString>,
    #[oai(nullable)]
    pub audience: Option<StrictString>,
    #[oai(nullable)]
    pub lang: Option<StrictString>,
    #[oai(nullable)]
    pub child_age_bands: Option<Vec<StrictString>>,
    #[oai(default)]
    pub children_consent: bool,
    /// `day`, `night` or `rotating`.
    #[oai(nullable)]
    pub shift: Option<StrictString>,
    /// `HH:MM` within the shift's message hours; `""` clears it.
    #[oai(nullable)]
    pub preferred_time: Option<StrictString>,
    /// `true` stops every lesson message (as replying 退订 / "stop" does); `false` restarts them.
    #[oai(nullable)]
    pub messages_stopped: Option<bool>,
}

#[derive(ApiResponse)]
pub enum Deleted {
    /// Everything about the learner is gone.
    #[oai(status = 204)]
    NoContent,
}

#[derive(Debug, Clone, Object)]
pub struct NewRecoveryCode {
    /// Shown only this once; the previous code no longer works.
    pub recovery_code: String,
}

#[derive(ApiResponse)]
pub enum RecoveryCodeResponse {
    /// A new recovery code.
    #[oai(status = 201)]
    Created(Json<NewRecoveryCode>),
}

#[derive(ApiResponse)]
pub enum SignedOut {
    /// The session (or every session of the learner) has ended.
    #[oai(status = 204)]
    NoContent(#[oai(header = "Set-Cookie")] String),
}

fn closed(status: CodeStatus) -> ApiError {
    let detail = match status {
        CodeStatus::Expired => "this enrollment code has expired; ask for a new one",
        CodeStatus::Revoked => "this enrollment code was revoked; ask for a new one",
        _ => "this enrollment code has reached its maximum number of joins; ask for a new one",
    };
    ApiError::Gone(Json(Problem::new(poem::http::StatusCode::GONE, detail)))
}

/// The signed-in learner; with `changes`, a cookie session must also send the CSRF header.
async fn learner(state: &AppState, req: &Request, changes: bool) -> Result<i64, ApiError> {
    if changes {
        signed_in_to_change(state, req, None).await
    } else {
        signed_in(state, req).await
    }
}

pub struct EnrollmentApi;

#[OpenApi(tag = "ApiTags::Learners")]
impl EnrollmentApi {
    /// What joining through this code means: the factory, the line and the policy to agree to.
    #[oai(
        path = "/enrollments/:token",
        method = "get",
        operation_id = "get_enrollment"
    )]
    async fn get_enrollment(
        &self,
        state: Data<&AppState>,
        token: Path<String>,
        req: &Request,
    ) -> Result<Json<EnrollmentInfo>, ApiError> {
        limits::limit(
            &state,
            &format!("lookup:{}", crate::http::client::client_ip(&state, req)),
            limits::LOOKUP_PER_ADDRESS,
        )
        .await?;
        let code = enrollment::find_code(&state.db, &token)
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("there is no such enrollment code"))?;
        match code.status(state.clock.now()) {
            CodeStatus::Usable => {}
            closed_status => return Err(closed(closed_status)),
        }
        Ok(Json(EnrollmentInfo {
            factory: FactoryDto {
                id: code.factory_id,
                name: (&code.factory_name).into(),
                city: code.city,
            },
            line: code
                .line_id
                .zip(code.line_name)
                .map(|(id, name)| LineDto { id, name }),
            policy_version: POLICY_VERSION.into(),
            policy_text: (&policy_text()).into(),
            children_consent_text: (&children_consent_text()).into(),
            audiences: vec![
                "parents".into(),
                "line-managers".into(),
                "young-workers".into(),
            ],
            child_age_bands: AGE_BANDS.iter().map(|b| (*b).to_owned()).collect(),
        }))
    }

    /// Joins: records consent, attributes the learner to the code, line and factory, and
    /// starts a session. A missing or stale `accept_policy` is a 422 and creates nothing.
    #[oai(path = "/enrollments", method = "post", operation_id = "enroll")]
    async fn enroll(
        &self,
        state: Data<&AppState>,
        body: Json<EnrollmentRequest>,
        req: &Request,
    ) -> Result<EnrolledResponse, ApiError> {
        let ip = crate::http::client::client_ip(&state, req);
        limits::limit(&state, &format!("join-ip:{ip}"), limits::JOIN_PER_ADDRESS).await?;
        if let Ok(Some(code)) = enrollment::find_code(&state.db, &body.token).await {
            limits::limit(
                &state,
                &format!("join-code:{}", code.id),
                limits::JOIN_PER_CODE,
            )
            .await?;
        }
        let body = body.0;
        let request = JoinRequest {
            token: body.token.into(),
            accept_policy: body.accept_policy.map(String::from),
            audience: Some(body.audience.into()),
            nickname: body.nickname.map(String::from),
            lang: body.lang.map(String::from),
            child_age_bands: body.child_age_bands.into_iter().map(String::from).collect(),
            children_consent: body.children_consent,
            device_hash: crate::http::cookies::cookie(req, crate::http::cookies::DEVICE_COOKIE)
                .map(auth::device_hash),
            shift: body.shift.map(String::from),
            preferred_time: body.preferred_time.map(String::from),
        };
        match enrollment::join(&state.db, &request, state.clock.now()).await {
            Ok(joined) => {
                shows_secret(req);
                Ok(EnrolledResponse::Created(
                    Json(Enrolled {
                        learner_id: joined.learner_id,
                        session_token: joined.session_token.clone(),
                        recovery_code: joined.recovery_code,
                    }),
                    set_cookie(&state, SESSION_COOKIE, &joined.session_token, YEAR),
                ))
            }
            Err(JoinError::NotFound) => {
                Err(ApiError::not_found("there is no such enrollment code"))
            }
            Err(JoinError::Closed(status)) => Err(closed(status)),
            Err(JoinError::Invalid(message)) => Err(ApiError::invalid(message)),
            Err(JoinError::Internal(error)) => Err(from_db(error).into()),
        }
    }

    /// Restores an account with its recovery code (rate-limited per address).
    #[oai(path = "/sessions/recover", method = "post", operation_id = "recover")]
    async fn recover(
        &self,
        state: Data<&AppState>,
        body: Json<RecoverRequest>,
        req: &Request,
    ) -> Result<SessionResponse, ApiError> {
        limits::limit(
            &state,
            &format!("recover-ip:{}", crate::http::client::client_ip(&state, req)),
            limits::RECOVER_PER_ADDRESS,
        )
        .await?;
        match accounts::recover(&state, &body.recovery_code, state.clock.now())
            .await
            .map_err(from_db)?
        {
            Some((learner_id, token)) => {
                shows_secret(req);
                Ok(SessionResponse::Created(
                    Json(Session {
                        learner_id,
                        session_token: token.clone(),
                    }),
                    set_cookie(&state, SESSION_COOKIE, &token, YEAR),
                ))
            }
            None => Err(ApiError::invalid("that recovery code is not right")),
        }
    }

    /// Everything the account holds, in short.
    #[oai(path = "/me", method = "get", operation_id = "get_me")]
    async fn get_me(&self, state: Data<&AppState>, req: &Request) -> Result<Json<Me>, ApiError> {
        let id = learner(&state, req, false).await?;
        shows_secret(req);
        let account = accounts::account(&state.db, id)
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("no such learner"))?;
        let messages = prefs::get(&state, id).await.map_err(from_db)?;
        Ok(Json(Me {
            learner_id: id,
            nickname: account.learner.nickname.clone(),
            audience: account.audience().as_str().to_owned(),
            lang: account.lang().code().to_owned(),
            child_age_bands: account.age_bands(),
            factory: account.factory.as_ref().map(|f| FactoryDto {
                id: f.id,
                name: LocalizedText {
                    zh: f.name_zh.clone(),
                    en: f.name_en.clone(),
                },
                city: f.city.clone(),
            }),
            line: account.line.as_ref().map(|l| LineDto {
                id: l.id,
                name: l.name.clone(),
            }),
            joined_at: account.learner.created_at,
            messages: MessageSettings {
                shift: messages.shift.as_str().to_owned(),
                preferred_time: messages
                    .preferred_time
                    .map(|t| t.format("%H:%M").to_string()),
                stopped: messages.muted,
            },
        }))
    }

    /// Changes nickname, language, audience, children's age bands, or the lesson messages'
    /// shift, preferred time and stop.
    #[oai(path = "/me", method = "patch", operation_id = "update_me")]
    async fn update_me(
        &self,
        state: Data<&AppState>,
        body: Json<MeChange>,
        req: &Request,
    ) -> Result<Json<Me>, ApiError> {
        let id = learner(&state, req, true).await?;
        // Checked before anything is written, so a bad time changes nothing.
        let current = prefs::get(&state, id).await.map_err(from_db)?;
        let messages = prefs::resolve(
            &current,
            body.0.shift.as_deref(),
            body.0.preferred_time.as_deref(),
            body.0.messages_stopped,
        )
        .map_err(|invalid| ApiError::invalid(invalid.message(Lang::En)))?;
        let change = ProfileChange {
            nickname: body.0.nickname.map(String::from),
            audience: body.0.audience.map(String::from),
            lang: body.0.lang.map(String::from),
            child_age_bands: body
                .0
                .child_age_bands
                .map(|bands| bands.into_iter().map(String::from).collect()),
            children_consent: body.0.children_consent,
        };
        accounts::update_profile(&state.db, id, change, state.clock.now())
            .await
            .map_err(ApiError::invalid)?;
        if messages != current {
            prefs::set(&state.db, id, &messages, state.clock.now())
                .await
                .map_err(from_db)?;
        }
        self.get_me(state, req).await
    }

    /// Everything held about the learner, as JSON.
    #[oai(path = "/me/export", method = "get", operation_id = "export_me")]
    async fn export_me(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let id = learner(&state, req, false).await?;
        shows_secret(req);
        accounts::export(&state.db, id, state.clock.now())
            .await
            .map_err(from_db)?
            .map(Json)
            .ok_or_else(|| ApiError::not_found("no such learner"))
    }

    /// Makes a new recovery code for the learner (shown once); the old one stops working.
    #[oai(
        path = "/me/recovery-code",
        method = "post",
        operation_id = "new_recovery_code"
    )]
    async fn new_recovery_code(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<RecoveryCodeResponse, ApiError> {
        let id = learner(&state, req, true).await?;
        let code = accounts::new_recovery_code(&state.db, id, state.clock.now())
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("no such learner"))?;
        shows_secret(req);
        Ok(RecoveryCodeResponse::Created(Json(NewRecoveryCode {
            recovery_code: code,
        })))
    }

    /// Signs out: ends the session this request was made with.
    #[oai(
        path = "/sessions/current",
        method = "delete",
        operation_id = "sign_out"
    )]
    async fn sign_out(&self, state: Data<&AppState>, req: &Request) -> Result<SignedOut, ApiError> {
        learner(&state, req, true).await?;
        if let Some(token) = auth::session_token(req) {
            accounts::sign_out(&state, token).await.map_err(from_db)?;
        }
        Ok(SignedOut::NoContent(set_cookie(
            &state,
            SESSION_COOKIE,
            "",
            0,
        )))
    }

    /// Signs out everywhere: ends every session of the learner, on every phone.
    #[oai(
        path = "/sessions",
        method = "delete",
        operation_id = "sign_out_everywhere"
    )]
    async fn sign_out_everywhere(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<SignedOut, ApiError> {
        let id = learner(&state, req, true).await?;
        accounts::sign_out_everywhere(&state, id)
            .await
            .map_err(from_db)?;
        Ok(SignedOut::NoContent(set_cookie(
            &state,
            SESSION_COOKIE,
            "",
            0,
        )))
    }

    /// Withdraws consent and deletes every record about the learner.
    #[oai(path = "/me", method = "delete", operation_id = "delete_me")]
    async fn delete_me(&self, state: Data<&AppState>, req: &Request) -> Result<Deleted, ApiError> {
        let id = learner(&state, req, true).await?;
        accounts::delete_and_sign_out(&state, id)
            .await
            .map_err(from_db)?;
        Ok(Deleted::NoContent)
    }
}
