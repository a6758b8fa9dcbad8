//! The API calls Homeward makes: access tokens, permanent QR codes, template and customer-service
//! messages, the custom menu, and web sign-in (the authorize URL and code → openid).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApiClient, ApiError};
use crate::wechat::protocol::ids::{AccessToken, OpenId, SceneStr};
use crate::wechat::protocol::reply::Article;

/// A fresh access token and how long WeChat says it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    pub access_token: AccessToken,
    pub expires_in: Duration,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

impl TokenAnswer {
    fn grant(self) -> Result<TokenGrant, ApiError> {
        if self.access_token.is_empty() || self.expires_in == 0 {
            return Err(ApiError::Unexpected("an empty access token".into()));
        }
        Ok(TokenGrant {
            access_token: AccessToken::new(self.access_token),
            expires_in: Duration::from_secs(self.expires_in),
        })
    }
}

/// A permanent parametric QR code: its ticket, and the URL the printed code must encode.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct QrTicket {
    pub ticket: String,
    pub url: String,
}

/// A template message (模板消息): since 2023 just keyed short values and an optional link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateMessage {
    pub to: OpenId,
    pub template_id: String,
    pub url: Option<String>,
    /// Template keys (`thing1`, `time2`…) → values.
    pub data: BTreeMap<String, String>,
}

/// The custom menu: one to three buttons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    pub buttons: Vec<MenuButton>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MenuButton {
    /// Opens a page.
    View { name: String, url: String },
    /// Sends a `CLICK` event with the key to the callback.
    Click { name: String, key: String },
}

impl Menu {
    fn to_json(&self) -> serde_json::Value {
        let buttons: Vec<_> = self
            .buttons
            .iter()
            .map(|button| match button {
                MenuButton::View { name, url } => json!({"type": "view", "name": name, "url": url}),
                MenuButton::Click { name, key } => {
                    json!({"type": "click", "name": name, "key": key})
                }
            })
            .collect();
        json!({ "button": buttons })
    }
}

#[derive(Deserialize)]
struct Ok {}

#[derive(Deserialize)]
struct MsgIdAnswer {
    msgid: i64,
}

#[derive(Deserialize)]
struct OauthAnswer {
    openid: String,
}

#[derive(Serialize)]
struct StableTokenRequest<'a> {
    grant_type: &'a str,
    appid: &'a str,
    secret: &'a str,
    force_refresh: bool,
}

impl ApiClient {
    /// `POST /cgi-bin/stable_token`: the token several servers can share. `force_refresh`
    /// invalidates the previous one; use it only when WeChat said the current one is invalid.
    pub async fn stable_token(&self, force_refresh: bool) -> Result<TokenGrant, ApiError> {
        let body = StableTokenRequest {
            grant_type: "client_credential",
            appid: &self.appid,
            secret: self.secret.expose(),
            force_refresh,
        };
        let answer: TokenAnswer = self.post("cgi-bin/stable_token", &[], &body).await?;
        answer.grant()
    }

    /// `GET /cgi-bin/token`: the older call; each one invalidates the previous token.
    pub async fn token(&self) -> Result<TokenGrant, ApiError> {
        let query = [
            ("grant_type", "client_credential"),
            ("appid", self.appid.as_str()),
            ("secret", self.secret.expose()),
        ];
        let answer: TokenAnswer = self.get("cgi-bin/token", &query).await?;
        answer.grant()
    }

    /// `POST /cgi-bin/qrcode/create` with `QR_LIMIT_STR_SCENE`: a permanent code for `scene`.
    pub async fn create_permanent_qr(
        &self,
        token: &AccessToken,
        scene: &SceneStr,
    ) -> Result<QrTicket, ApiError> {
        let body = json!({
            "action_name": "QR_LIMIT_STR_SCENE",
            "action_info": { "scene": { "scene_str": scene.as_str() } },
        });
        let ticket: QrTicket = self
            .post(
                "cgi-bin/qrcode/create",
                &[("access_token", token.expose())],
                &body,
            )
            .await?;
        if ticket.ticket.is_empty() || !ticket.url.starts_with("http") {
            return Err(ApiError::Unexpected(
                "a QR code without ticket or URL".into(),
            ));
        }
        Ok(ticket)
    }

    /// `POST /cgi-bin/message/template/send`; WeChat's message id.
    pub async fn send_template(
        &self,
        token: &AccessToken,
        message: &TemplateMessage,
    ) -> Result<i64, ApiError> {
        let data: BTreeMap<&str, serde_json::Value> = message
            .data
            .iter()
            .map(|(key, value)| (key.as_str(), json!({ "value": value })))
            .collect();
        let mut body = json!({
            "touser": message.to.as_str(),
            "template_id": message.template_id,
            "data": data,
        });
        if let Some(url) = &message.url {
            body["url"] = json!(url);
        }
        let answer: MsgIdAnswer = self
            .post(
                "cgi-bin/message/template/send",
                &[("access_token", token.expose())],
                &body,
            )
            .await?;
        Ok(answer.msgid)
    }

    /// `POST /cgi-bin/message/custom/send` with one news article (only within 48 hours of the
    /// follower's last message or click).
    pub async fn send_custom_news(
        &self,
        token: &AccessToken,
        to: &OpenId,
        article: &Article,
    ) -> Result<(), ApiError> {
        let body = json!({
            "touser": to.as_str(),
            "msgtype": "news",
            "news": { "articles": [{
                "title": article.title,
                "description": article.description,
                "url": article.url,
                "picurl": article.pic_url,
            }]},
        });
        let _: Ok = self
            .post(
                "cgi-bin/message/custom/send",
                &[("access_token", token.expose())],
                &body,
            )
            .await?;
        Ok(())
    }

    /// `POST /cgi-bin/menu/create`: replaces the account's custom menu.
    pub async fn create_menu(&self, token: &AccessToken, menu: &Menu) -> Result<(), ApiError> {
        let _: Ok = self
            .post(
                "cgi-bin/menu/create",
                &[("access_token", token.expose())],
                &menu.to_json(),
            )
            .await?;
        Ok(())
    }

    /// `GET /sns/oauth2/access_token`: exchanges a sign-in `code` (single use, five minutes)
    /// for the person's openid. The web access token that comes with it is not kept.
    pub async fn oauth_openid(&self, code: &str) -> Result<OpenId, ApiError> {
        let query = [
            ("appid", self.appid.as_str()),
            ("secret", self.secret.expose()),
            ("code", code),
            ("grant_type", "authorization_code"),
        ];
        let answer: OauthAnswer = self.get("sns/oauth2/access_token", &query).await?;
        OpenId::parse(&answer.openid)
            .ok_or_else(|| ApiError::Unexpected("an openid of unexpected form".into()))
    }

    /// Where to send a phone to sign in silently (`snsapi_base`): WeChat sends it back to
    /// `redirect_uri?code=…&state=…`. WeChat wants these parameters in this order.
    pub fn authorize_url(&self, redirect_uri: &str, state: &str) -> String {
        let mut url = self
            .open_url
            .join("connect/oauth2/authorize")
            .expect("a relative path");
        url.query_pairs_mut()
            .append_pair("appid", &self.appid)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("response_type", "code")
            .append_pair("scope", "snsapi_base")
            .append_pair("state", state);
        url.set_fragment(Some("wechat_redirect"));
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::protocol::client::ApiConfig;
    use crate::wechat::protocol::ids::AppSecret;

    fn client() -> ApiClient {
        ApiClient::new(ApiConfig {
            api_url: "http://127.0.0.1:1".into(),
            open_url: "https://open.weixin.qq.com".into(),
            appid: "wx520c15f417810387".into(),
            secret: AppSecret::new("secret"),
            timeout: Duration::from_secs(1),
        })
        .unwrap()
    }

    #[test]
    fn the_authorize_url_has_wechats_parameters_in_order() {
        let url = client().authorize_url(
            "https://homeward.example/wechat/oauth/callback?x=1&y=2",
            "AbC123",
        );
        assert_eq!(
            url,
            "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387\
             &redirect_uri=https%3A%2F%2Fhomeward.example%2Fwechat%2Foauth%2Fcallback%3Fx%3D1%26y%3D2\
             &response_type=code&scope=snsapi_base&state=AbC123#wechat_redirect"
        );
    }

    #[test]
    fn the_menu_is_wechats_button_list() {
        let menu = Menu {
            buttons: vec![
                MenuButton::View {
                    name: "本周课程".into(),
                    url: "https://h.example/".into(),
                },
                MenuButton::Click {
                    name: "求助".into(),
                    key: "HELP".into(),
                },
            ],
        };
        assert_eq!(
            menu.to_json(),
            json!({"button": [
                {"type": "view", "name": "本周课程", "url": "https://h.example/"},
                {"type": "click", "name": "求助", "key": "HELP"},
            ]})
        );
    }

    #[tokio::test]
    async fn a_closed_port_is_a_network_error_without_the_secret() {
        let error = client().token().await.unwrap_err();
        assert!(matches!(error, ApiError::Network(_)), "{error:?}");
        let text = error.to_string();
        assert!(
            !text.contains("secret") && !text.contains("appid"),
            "{text}"
        );
    }
}
