//! Admins through the API: factories, lines, staff accounts, the audit log, and learners' data
//! requests.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::problem::ApiError;
use super::staff::{ApiTags, Created, Done, staff};
use super::strict_string::StrictString;
use crate::http::AppState;
use crate::http::error::from_db;
use crate::http::headers::shows_secret;
use crate::services::admin;
use crate::services::staff::Role;

#[derive(Debug, Clone, Object)]
pub struct NewFactory {
    pub name_zh: StrictString,
    #[oai(nullable)]
    pub name_en: Option<StrictString>,
    #[oai(nullable)]
    pub city: Option<StrictString>,
}

#[derive(Debug, Clone, Object)]
pub struct NewLine {
    pub name: StrictString,
}

#[derive(Debug, Clone, Object)]
pub struct NewStaff {
    pub email: StrictString,
    /// admin, editor or manager.
    pub role: StrictString,
    #[oai(nullable)]
    pub factory_id: Option<i64>,
    #[oai(nullable)]
    pub line_ids: Option<Vec<i64>>,
}

#[derive(Debug, Clone, Object)]
pub struct Invited {
    pub id: i64,
    /// One-time link (7 days) to set the password.
    pub setup_url: String,
}

#[derive(Debug, Clone, Object)]
pub struct AuditEntry {
    pub actor: String,
    pub action: String,
    pub target: String,
    #[oai(nullable)]
    pub before: Option<String>,
    #[oai(nullable)]
    pub after: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, Object)]
pub struct LearnerRequest {
    pub recovery_code: StrictString,
}

pub struct AdminApi;

#[OpenApi]
impl AdminApi {
    /// Adds a factory (admins).
    #[oai(
        path = "/admin/factories",
        method = "post",
        operation_id = "admin_add_factory",
        tag = "ApiTags::Admin"
    )]
    async fn add_factory(
        &self,
        state: Data<&AppState>,
        body: Json<NewFactory>,
        req: &Request,
    ) -> Result<Json<Created>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        let id = admin::add_factory(
            &state,
            &who,
            &body.name_zh,
            body.name_en.as_deref(),
            body.city.as_deref(),
        )
        .await
        .map_err(|e| ApiError::from_action(e, "no such factory"))?;
        Ok(Json(Created { id }))
    }

    /// Adds a line to a factory (admins).
    #[oai(
        path = "/admin/factories/:factory/lines",
        method = "post",
        operation_id = "admin_add_line",
        tag = "ApiTags::Admin"
    )]
    async fn add_line(
        &self,
        state: Data<&AppState>,
        factory: Path<i64>,
        body: Json<NewLine>,
        req: &Request,
    ) -> Result<Json<Created>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        let id = admin::add_line(&state, &who, *factory, &body.name)
            .await
            .map_err(|e| ApiError::from_action(e, "no such factory"))?;
        Ok(Json(Created { id }))
    }

    /// Adds a staff account and returns its one-time set-password link (admins).
    #[oai(
        path = "/admin/staff",
        method = "post",
        operation_id = "admin_add_staff",
        tag = "ApiTags::Admin"
    )]
    async fn add_staff(
        &self,
        state: Data<&AppState>,
        body: Json<NewStaff>,
        req: &Request,
    ) -> Result<Json<Invited>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        let invited = admin::add_staff(
            &state,
            &who,
            &body.email,
            &body.role,
            body.factory_id,
            body.line_ids.clone(),
        )
        .await
        .map_err(|e| ApiError::from_action(e, "no such factory"))?;
        shows_secret(req);
        Ok(Json(Invited {
            id: invited.id,
            setup_url: invited.setup_url,
        }))
    }

    /// The latest 200 entries of the audit log (admins).
    #[oai(
        path = "/admin/audit",
        method = "get",
        operation_id = "admin_audit",
        tag = "ApiTags::Admin"
    )]
    async fn audit_log(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<Vec<AuditEntry>>, ApiError> {
        staff(&state, req, |s| s.role == Role::Admin, false).await?;
        let rows = admin::audit_log(&state, 200).await.map_err(from_db)?;
        Ok(Json(
            rows.into_iter()
                .map(|r| AuditEntry {
                    actor: r.actor,
                    action: r.action,
                    target: r.target,
                    before: r.before,
                    after: r.after,
                    at: r.at,
                })
                .collect(),
        ))
    }

    /// Finds the learner a recovery code belongs to, for their data request (admins).
    #[oai(
        path = "/admin/learner-requests",
        method = "post",
        operation_id = "admin_learner_request",
        tag = "ApiTags::Admin"
    )]
    async fn learner_request(
        &self,
        state: Data<&AppState>,
        body: Json<LearnerRequest>,
        req: &Request,
    ) -> Result<Json<Created>, ApiError> {
        staff(&state, req, |s| s.role == Role::Admin, true).await?;
        let (id, _) = admin::learner_by_recovery_code(&state, &body.recovery_code)
            .await
            .map_err(from_db)?
            .ok_or_else(|| ApiError::not_found("no learner has that recovery code"))?;
        Ok(Json(Created { id }))
    }

    /// Everything held about a learner, for their data request (admins; audited).
    #[oai(
        path = "/admin/learners/:id/export",
        method = "get",
        operation_id = "admin_learner_export",
        tag = "ApiTags::Admin"
    )]
    async fn learner_export(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        req: &Request,
    ) -> Result<Json<serde_json::Value>, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, false).await?;
        let export = admin::export_learner(&state, &who, *id)
            .await
            .map_err(|e| ApiError::from_action(e, "no such learner"))?;
        shows_secret(req);
        Ok(Json(export))
    }

    /// Deletes a learner and everything about them, for their data request (admins; audited).
    #[oai(
        path = "/admin/learners/:id",
        method = "delete",
        operation_id = "admin_learner_delete",
        tag = "ApiTags::Admin"
    )]
    async fn learner_delete(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, |s| s.role == Role::Admin, true).await?;
        admin::delete_learner(&state, &who, *id)
            .await
            .map_err(|e| ApiError::from_action(e, "no such learner"))?;
        Ok(Done::NoContent)
    }
}
