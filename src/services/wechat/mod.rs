//! WeChat's use cases: the account as configured (credentials, safe mode, the API client, the
//! chat's texts), and — in the submodules — the shared access token, followers and their
//! attribution, the chat's replies, safeguarding counts, QR codes for enrollment codes, web
//! sign-in, the custom menu, and what the callback has already seen.

pub mod channel;
pub mod chat;
pub mod followers;
pub mod inbox;
pub mod menu;
pub mod oauth;
pub mod qr;
pub mod review;
pub mod safeguarding;
pub mod token;

use std::time::Duration;

use anyhow::Context as _;

use crate::content;
use crate::domain::chat::Chat;
use crate::settings::Settings;
use crate::wechat::protocol::{AesKey, ApiClient, ApiConfig, AppSecret, MessageCrypto};

/// How long one call to WeChat's API may take. Nothing waits on it inside the callback.
const API_TIMEOUT: Duration = Duration::from_secs(4);

/// The configured Official Account.
pub struct Wechat {
    pub appid: String,
    /// The callback token (a shared secret).
    token: String,
    /// Safe mode, when an EncodingAESKey is configured.
    pub crypto: Option<MessageCrypto>,
    pub api: ApiClient,
    pub chat: Chat,
    /// Names this instance when it holds the token-refresh lease.
    pub instance: String,
}

impl std::fmt::Debug for Wechat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wechat")
            .field("appid", &self.appid)
            .field("safe_mode", &self.crypto.is_some())
            .finish_non_exhaustive()
    }
}

impl Wechat {
    /// The account from the settings, or `None` when WeChat is off. The chat's texts come from
    /// `HOMEWARD_CONTENT_DIR/wechat/` when it is there and valid, else from the compiled-in copy.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Option<Wechat>> {
        let Some(config) = settings.wechat.config()? else {
            return Ok(None);
        };
        let crypto = match &config.aes_key {
            Some(key) => Some(MessageCrypto::new(
                AesKey::from_encoding_aes_key(key).context("HOMEWARD_WECHAT_AES_KEY")?,
                config.appid.clone(),
            )),
            None => None,
        };
        let api = ApiClient::new(ApiConfig {
            api_url: config.api_url.clone(),
            open_url: config.open_url.clone(),
            appid: config.appid.clone(),
            secret: AppSecret::new(config.secret.clone()),
            timeout: API_TIMEOUT,
        })
        .context("HOMEWARD_WECHAT_API_URL or HOMEWARD_WECHAT_OPEN_URL")?;
        let chat = match content::wechat::load(&settings.content_dir) {
            Some(Ok(chat)) => chat,
            Some(Err(problems)) => {
                for problem in &problems {
                    tracing::warn!(%problem, "WeChat chat content problem");
                }
                tracing::warn!(
                    "using the compiled-in WeChat chat texts; run `homeward content check`"
                );
                content::wechat::embedded()
            }
            None => content::wechat::embedded(),
        };
        Ok(Some(Wechat {
            appid: config.appid,
            token: config.token,
            crypto,
            api,
            chat,
            instance: uuid::Uuid::new_v4().simple().to_string(),
        }))
    }

    /// The callback token, for checking signatures.
    pub fn callback_token(&self) -> &str {
        &self.token
    }
}

/// Why a WeChat action could not be done.
#[derive(Debug, thiserror::Error)]
pub enum WechatError {
    #[error("WeChat is not configured")]
    Off,
    #[error(transparent)]
    Api(#[from] crate::wechat::protocol::ApiError),
    #[error("another instance is refreshing the access token; try again")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for WechatError {
    fn from(error: sea_orm::DbErr) -> Self {
        WechatError::Failed(error.into())
    }
}

/// Milliseconds since the epoch, the unit of the WeChat tables' compared times.
pub(crate) fn millis(at: chrono::DateTime<chrono::Utc>) -> i64 {
    at.timestamp_millis()
}
