//! Any staff member through the API: their personal API tokens.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::problem::ApiError;
use super::staff::{ApiTags, Done, staff};
use super::strict_string::StrictString;
use crate::http::AppState;
use crate::http::error::from_db;
use crate::http::headers::shows_secret;

#[derive(Debug, Clone, Object)]
pub struct NewToken {
    pub name: StrictString,
}

#[derive(Debug, Clone, Object)]
pub struct TokenCreated {
    pub id: i64,
    /// Shown only this once.
    pub token: String,
}

pub struct TokensApi;

#[OpenApi]
impl TokensApi {
    /// Creates a personal API token for the signed-in staff member (shown once).
    #[oai(
        path = "/staff/tokens",
        method = "post",
        operation_id = "staff_create_token",
        tag = "ApiTags::Staff"
    )]
    async fn create_token(
        &self,
        state: Data<&AppState>,
        body: Json<NewToken>,
        req: &Request,
    ) -> Result<Json<TokenCreated>, ApiError> {
        let who = staff(&state, req, |_| true, true).await?;
        let (id, token) =
            crate::services::staff::create_token(&state.db, &who, &body.name, state.clock.now())
                .await
                .map_err(from_db)?;
        shows_secret(req);
        Ok(Json(TokenCreated { id, token }))
    }

    /// Revokes one of the signed-in staff member's tokens.
    #[oai(
        path = "/staff/tokens/:id",
        method = "delete",
        operation_id = "staff_revoke_token",
        tag = "ApiTags::Staff"
    )]
    async fn revoke_token(
        &self,
        state: Data<&AppState>,
        id: Path<i64>,
        req: &Request,
    ) -> Result<Done, ApiError> {
        let who = staff(&state, req, |_| true, true).await?;
        if crate::services::staff::revoke_token(&state.db, &who, *id, state.clock.now())
            .await
            .map_err(from_db)?
        {
            Ok(Done::NoContent)
        } else {
            Err(ApiError::not_found("no such token of yours"))
        }
    }
}
