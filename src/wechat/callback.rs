//! `GET` and `POST /wechat/callback`: the URL WeChat calls. `GET` proves we hold the token;
//! `POST` brings messages and events, plain or encrypted (safe mode), answered in the same mode.
//! Everything is checked before anything is written — signature, timestamp, body, encryption,
//! appid, XML — and a request that fails a check gets a 4xx and changes nothing. WeChat's
//! retries of a message get an answer again without acting twice.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Body, IntoResponse, Response, handler};
use serde::Deserialize;

use crate::http::AppState;
use crate::services::wechat::{Wechat, WechatError, chat, inbox};
use crate::wechat::protocol::message::Envelope;
use crate::wechat::protocol::reply::encrypted_envelope;
use crate::wechat::protocol::signature::{verify_callback, verify_message};
use crate::wechat::protocol::xml::MAX_BODY_BYTES;
use crate::wechat::protocol::{CryptoError, Incoming};

/// How far WeChat's timestamp may be from our clock.
const MAX_SKEW_SECONDS: i64 = 300;

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
    msg_signature: Option<String>,
}

/// Why a callback request was refused; each is a 4xx with a one-line reason.
#[derive(Debug, PartialEq, Eq)]
enum Refusal {
    NotConfigured,
    Missing(&'static str),
    BadTimestamp,
    Stale,
    Signature,
    NotUtf8,
    TooLarge,
    SafeModeOff,
    UnknownEncryption,
    Xml(String),
    Crypto(CryptoError),
    Replayed,
}

impl Refusal {
    fn status(&self) -> StatusCode {
        match self {
            Refusal::NotConfigured => StatusCode::NOT_FOUND,
            Refusal::Signature => StatusCode::FORBIDDEN,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Replayed => StatusCode::CONFLICT,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    fn reason(&self) -> String {
        match self {
            Refusal::NotConfigured => "WeChat is not configured on this server".into(),
            Refusal::Missing(name) => format!("the query parameter {name} is required"),
            Refusal::BadTimestamp => "timestamp must be Unix seconds".into(),
            Refusal::Stale => "timestamp is more than 5 minutes from the server's clock".into(),
            Refusal::Signature => "the signature does not match".into(),
            Refusal::NotUtf8 => "the body is not UTF-8".into(),
            Refusal::TooLarge => format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            Refusal::SafeModeOff => "safe mode (encrypt_type=aes) is not configured".into(),
            Refusal::UnknownEncryption => "encrypt_type must be aes or raw".into(),
            Refusal::Xml(reason) => reason.clone(),
            Refusal::Crypto(error) => error.to_string(),
            Refusal::Replayed => {
                "this timestamp and nonce were already used with another body".into()
            }
        }
    }

    fn into_response(self) -> Response {
        metrics::counter!("wechat_callback_refused_total").increment(1);
        tracing::info!(status = self.status().as_u16(), reason = %self.reason(), "WeChat callback refused");
        text(self.status(), &self.reason())
    }
}

fn text(status: StatusCode, body: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .header("cache-control", "no-store")
        .body(body.to_owned())
}

fn internal(error: WechatError) -> Response {
    tracing::error!(error = %error, "WeChat callback failed");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error; WeChat will retry",
    )
}

fn required<'a>(value: &'a Option<String>, name: &'static str) -> Result<&'a str, Refusal> {
    value
        .as_deref()
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .ok_or(Refusal::Missing(name))
}

/// The account, and the request's signature, timestamp and nonce checked.
fn checked<'a>(
    state: &'a AppState,
    query: &'a CallbackQuery,
    now: DateTime<Utc>,
) -> Result<(&'a Wechat, &'a str, &'a str), Refusal> {
    let wechat = state.wechat.as_deref().ok_or(Refusal::NotConfigured)?;
    let signature = required(&query.signature, "signature")?;
    let timestamp = required(&query.timestamp, "timestamp")?;
    let nonce = required(&query.nonce, "nonce")?;
    let seconds: i64 = timestamp.parse().map_err(|_| Refusal::BadTimestamp)?;
    if (now.timestamp() - seconds).abs() > MAX_SKEW_SECONDS {
        return Err(Refusal::Stale);
    }
    if !verify_callback(wechat.callback_token(), signature, timestamp, nonce) {
        return Err(Refusal::Signature);
    }
    Ok((wechat, timestamp, nonce))
}

/// `GET`: WeChat checking the URL when the account's server configuration is saved.
#[handler]
pub async fn verify(state: Data<&AppState>, Query(query): Query<CallbackQuery>) -> Response {
    let now = state.clock.now();
    if let Err(refusal) = checked(&state, &query, now) {
        return refusal.into_response();
    }
    match query.echostr.as_deref() {
        Some(echo)
            if !echo.is_empty()
                && echo.len() <= 256
                && echo.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            text(StatusCode::OK, echo)
        }
        _ => Refusal::Missing("echostr").into_response(),
    }
}

/// The message inside a POST body, and whether it came encrypted.
fn open_body(
    wechat: &Wechat,
    query: &CallbackQuery,
    timestamp: &str,
    nonce: &str,
    body: &str,
) -> Result<(Incoming, bool), Refusal> {
    let encrypted = match query.encrypt_type.as_deref() {
        None | Some("") | Some("raw") => false,
        Some("aes") => true,
        Some(_) => return Err(Refusal::UnknownEncryption),
    };
    let xml = if encrypted {
        let crypto = wechat.crypto.as_ref().ok_or(Refusal::SafeModeOff)?;
        let msg_signature = required(&query.msg_signature, "msg_signature")?;
        let envelope = Envelope::parse(body).map_err(|e| Refusal::Xml(e.to_string()))?;
        if !verify_message(
            wechat.callback_token(),
            msg_signature,
            timestamp,
            nonce,
            &envelope.encrypt,
        ) {
            return Err(Refusal::Signature);
        }
        crypto.decrypt(&envelope.encrypt).map_err(Refusal::Crypto)?
    } else {
        body.to_owned()
    };
    let message = Incoming::parse(&xml).map_err(|e| Refusal::Xml(e.to_string()))?;
    Ok((message, encrypted))
}

/// `POST`: a message or event from a follower.
#[handler]
pub async fn receive(
    state: Data<&AppState>,
    Query(query): Query<CallbackQuery>,
    body: Body,
) -> Response {
    let now = state.clock.now();
    let (wechat, timestamp, nonce) = match checked(&state, &query, now) {
        Ok(checked) => checked,
        Err(refusal) => return refusal.into_response(),
    };
    let Ok(bytes) = body.into_bytes_limit(MAX_BODY_BYTES).await else {
        return Refusal::TooLarge.into_response();
    };
    let Ok(body) = std::str::from_utf8(&bytes) else {
        return Refusal::NotUtf8.into_response();
    };
    let (message, encrypted) = match open_body(wechat, &query, timestamp, nonce, body) {
        Ok(opened) => opened,
        Err(refusal) => return refusal.into_response(),
    };
    // Every check passed: from here on the request may change things.
    match inbox::note_request(&state, timestamp, nonce, &bytes).await {
        Ok(Ok(())) => {}
        Ok(Err(inbox::Replayed)) => return Refusal::Replayed.into_response(),
        Err(error) => return internal(error),
    }
    let retry_key = message.retry_key();
    let first = match inbox::claim_message(&state, &retry_key).await {
        Ok(first) => first,
        Err(error) => return internal(error),
    };
    let kind = match &message.kind {
        crate::wechat::protocol::MessageKind::Text { .. } => "text",
        crate::wechat::protocol::MessageKind::Event(event) => event.name(),
        crate::wechat::protocol::MessageKind::Other { .. } => "other",
    };
    metrics::counter!("wechat_messages_total", "kind" => kind_label(kind), "first" => first.to_string())
        .increment(1);
    tracing::info!(kind = kind_label(kind), first, encrypted, "WeChat message");
    let reply = match chat::respond(&state, wechat, &message, first).await {
        Ok(reply) => reply,
        Err(error) => {
            if first {
                // Let WeChat's retry act: nothing of this attempt counts as done.
                let _ = inbox::release_message(&state, &retry_key).await;
            }
            return internal(error);
        }
    };
    let Some(reply) = reply else {
        return text(StatusCode::OK, "success");
    };
    let xml = reply.to_xml(&message.from, &message.to_user_name, now.timestamp());
    let body = match (&wechat.crypto, encrypted) {
        (Some(crypto), true) => {
            encrypted_envelope(crypto, wechat.callback_token(), &xml, timestamp, nonce)
        }
        _ => xml,
    };
    Response::builder()
        .content_type("application/xml; charset=utf-8")
        .header("cache-control", "no-store")
        .body(body)
        .into_response()
}

/// A fixed set of labels for metrics (event names come from outside).
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "text" => "text",
        "subscribe" => "subscribe",
        "unsubscribe" => "unsubscribe",
        "SCAN" => "scan",
        "CLICK" => "click",
        "VIEW" => "view",
        "other" => "other",
        _ => "other_event",
    }
}
