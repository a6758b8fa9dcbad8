//! A client for WeChat's server API and web sign-in. Base URLs, credentials and the timeout
//! are parameters (settings point them at WeChat, tests at a stand-in); every call has the
//! timeout, and every failure is an [`ApiError`] that says which kind it was. Nothing here
//! logs, and no error carries a URL (they hold tokens) or a secret.

mod calls;
mod error;

use std::time::Duration;

use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use calls::{Menu, MenuButton, QrTicket, TemplateMessage, TokenGrant};
pub use error::ApiError;

use super::ids::AppSecret;

/// WeChat's server API.
pub const DEFAULT_API_URL: &str = "https://api.weixin.qq.com";
/// WeChat's web sign-in page.
pub const DEFAULT_OPEN_URL: &str = "https://open.weixin.qq.com";
/// Answers larger than this are not WeChat's.
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// How to reach one account's API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// `https://api.weixin.qq.com`, or a stand-in.
    pub api_url: String,
    /// `https://open.weixin.qq.com`, or a stand-in.
    pub open_url: String,
    pub appid: String,
    pub secret: AppSecret,
    /// For each call, from connecting to the last byte of the answer.
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    api_url: Url,
    open_url: Url,
    appid: String,
    secret: AppSecret,
    timeout: Duration,
}

/// A base URL that is not `http(s)://host[:port][/path]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0} is not an http(s) base URL")]
pub struct BadBaseUrl(pub String);

fn base_url(raw: &str) -> Result<Url, BadBaseUrl> {
    let mut url = Url::parse(raw.trim()).map_err(|_| BadBaseUrl(raw.to_owned()))?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(BadBaseUrl(raw.to_owned()));
    }
    // Joining paths onto the base keeps its own path only if it ends in '/'.
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

impl ApiClient {
    pub fn new(config: ApiConfig) -> Result<ApiClient, BadBaseUrl> {
        let api_url = base_url(&config.api_url)?;
        let open_url = base_url(&config.open_url)?;
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("homeward/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("a TLS backend compiled in");
        Ok(ApiClient {
            http,
            api_url,
            open_url,
            appid: config.appid,
            secret: config.secret,
            timeout: config.timeout,
        })
    }

    pub fn appid(&self) -> &str {
        &self.appid
    }

    fn endpoint(&self, path: &str) -> Url {
        self.api_url
            .join(path.trim_start_matches('/'))
            .expect("a relative API path")
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ApiError> {
        let request = self.http.get(self.endpoint(path)).query(query);
        self.send(request).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        body: &impl Serialize,
    ) -> Result<T, ApiError> {
        let request = self.http.post(self.endpoint(path)).query(query).json(body);
        self.send(request).await
    }

    /// Sends, reads at most [`MAX_ANSWER_BYTES`], and turns WeChat's `{errcode, errmsg}` into
    /// an error before decoding the answer as `T`.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, ApiError> {
        let mut response = request
            .send()
            .await
            .map_err(|e| ApiError::from_transport(e, self.timeout))?;
        let status = response.status();
        if !status.is_success() {
            return Err(ApiError::Http {
                status: status.as_u16(),
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ApiError::from_transport(e, self.timeout))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(ApiError::Unexpected("the answer is too large".into()));
            }
            body.extend_from_slice(&chunk);
        }
        let value: Value = serde_json::from_slice(&body)
            .map_err(|_| ApiError::Unexpected("the answer is not JSON".into()))?;
        if let Some(errcode) = value.get("errcode").and_then(Value::as_i64)
            && errcode != 0
        {
            let errmsg = value
                .get("errmsg")
                .and_then(Value::as_str)
                .unwrap_or_default();
            return Err(ApiError::from_errcode(errcode, errmsg));
        }
        serde_json::from_value(value)
            .map_err(|e| ApiError::Unexpected(format!("the answer lacks a field: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_keep_their_path_and_refuse_other_schemes() {
        let url = base_url("http://127.0.0.1:9000/wechat").unwrap();
        assert_eq!(
            url.join("cgi-bin/token").unwrap().as_str(),
            "http://127.0.0.1:9000/wechat/cgi-bin/token"
        );
        assert_eq!(
            base_url("https://api.weixin.qq.com")
                .unwrap()
                .join("sns/x")
                .unwrap()
                .as_str(),
            "https://api.weixin.qq.com/sns/x"
        );
        for bad in [
            "ftp://x",
            "api.weixin.qq.com",
            "http://x/?a=1",
            "",
            "http://x/#f",
        ] {
            assert!(base_url(bad).is_err(), "{bad}");
        }
    }
}
