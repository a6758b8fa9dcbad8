//! QR images of join links (PNG and SVG) and the printable A4 poster.

use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::i18n_account::{EN, ZH};
use super::pages::render;
use super::views::PosterPage;
use crate::http::error::{AppError, from_db};
use crate::http::{AppState, limits};
use crate::services::enrollment::{self, CodeInfo, CodeStatus};
use crate::services::qr::{self, DEFAULT_PNG_SIZE, MAX_PNG_SIZE, MIN_PNG_SIZE, QrFormat};

/// A code that can still be shared: unknown and revoked codes are 404.
async fn shareable(state: &AppState, req: &Request, token: &str) -> Result<CodeInfo, AppError> {
    limits::limit(
        state,
        &format!("lookup:{}", crate::http::client::client_ip(state, req)),
        limits::LOOKUP_PER_ADDRESS,
    )
    .await?;
    let code = enrollment::find_code(&state.db, token)
        .await
        .map_err(from_db)?
        .ok_or(AppError::NotFound)?;
    if code.status(state.clock.now()) == CodeStatus::Revoked {
        return Err(AppError::NotFound);
    }
    Ok(code)
}

#[derive(Deserialize)]
pub struct SizeQuery {
    size: Option<String>,
}

/// `/qr/{token}.png?size=N` and `/qr/{token}.svg`.
#[handler]
pub async fn qr_image(
    state: Data<&AppState>,
    Path(file): Path<String>,
    Query(query): Query<SizeQuery>,
    req: &Request,
) -> Result<Response, AppError> {
    let (token, format) = if let Some(token) = file.strip_suffix(".png") {
        let size = match query.size.as_deref() {
            None => DEFAULT_PNG_SIZE,
            Some(raw) => raw
                .parse::<u32>()
                .ok()
                .filter(|s| (MIN_PNG_SIZE..=MAX_PNG_SIZE).contains(s))
                .ok_or_else(|| {
                    AppError::BadRequest(format!(
                        "size must be a number from {MIN_PNG_SIZE} to {MAX_PNG_SIZE}"
                    ))
                })?,
        };
        (token, QrFormat::Png(size))
    } else if let Some(token) = file.strip_suffix(".svg") {
        (token, QrFormat::Svg)
    } else {
        return Err(AppError::NotFound);
    };
    let code = shareable(&state, req, token).await?;
    // With WeChat configured, the code's WeChat QR (scanning follows the account); else the
    // web join link.
    let target = crate::services::wechat::qr::target_url(&state, &code)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    let bytes = qr::cached(&state.qr, &target, format).await?;
    let content_type = match format {
        QrFormat::Png(_) => "image/png",
        QrFormat::Svg => "image/svg+xml",
    };
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "private, max-age=300")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        )
        .body(bytes.as_ref().clone()))
}

#[handler]
pub async fn poster(
    state: Data<&AppState>,
    Path(token): Path<String>,
    req: &Request,
) -> Result<Response, AppError> {
    let code = shareable(&state, req, &token).await?;
    let url = qr::join_url(&state.settings, &code.token);
    let page = PosterPage {
        css: state.assets.url("app.css").to_owned(),
        zh: &ZH,
        en: &EN,
        factory_zh: code.factory_name.zh.clone(),
        factory_en: code.factory_name.en.clone(),
        line: code.line_name.clone(),
        qr_src: format!("/qr/{}.svg", code.token),
        short_url: url,
    };
    Ok(super::pages::html(render(&page)?)
        .with_status(StatusCode::OK)
        .into_response())
}

use poem::IntoResponse;
