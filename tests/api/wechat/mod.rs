//! WeChat, tested from outside: the protocol against wechatpy (an independent implementation,
//! run as a subprocess) and against the stand-in for WeChat's API and sign-in page; and the
//! app's WeChat side through its real HTTP server on the real database — the callback, scans,
//! sign-in, joining, the chat, safeguarding, QR codes, the menu and the access token.

mod callback;
mod chat;
mod client;
mod commands;
mod interop;
mod joining;
mod push;
mod standin;
mod token;
pub mod wechatpy;

use homeward::clock::Clock;
use homeward::wechat::protocol::signature::{callback_signature, message_signature};
use homeward::wechat::protocol::{AesKey, MessageCrypto};

use crate::fixture;
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::support::wechat_standin::WechatStandin;

pub const TOKEN: &str = "hwTestToken42";
pub const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
pub const ACCOUNT: &str = "gh_homeward0001";
/// WeChat's in-app browser on an Android phone, naming the stand-in's phone.
pub fn wechat_agent(phone: &str) -> String {
    format!(
        "Mozilla/5.0 (Linux; Android 12; V2102A) AppleWebKit/537.36 (KHTML, like Gecko) \
         Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230405 \
         MicroMessenger/8.0.35.2360(0x2800235B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN \
         ABI/arm64 StandinPhone/{phone}"
    )
}

/// An app with WeChat configured against a stand-in, on the standard content (week 3 out).
pub struct WechatApp {
    pub app: TestApp,
    pub standin: WechatStandin,
    pub safe_mode: bool,
    _db: TestDatabase,
    _content: tempfile::TempDir,
}

pub async fn spawn(safe_mode: bool) -> WechatApp {
    let db = TestDatabase::create().await;
    let standin = WechatStandin::start().await;
    let content = fixture::standard();
    let app = app_for(&db, &standin, content.path(), safe_mode, None).await;
    WechatApp {
        app,
        standin,
        safe_mode,
        _db: db,
        _content: content,
    }
}

/// An app on `db` whose WeChat is the stand-in; instances given the same `cache_prefix` share
/// a cache (when Redis is configured).
pub async fn app_for(
    db: &TestDatabase,
    standin: &WechatStandin,
    content: &std::path::Path,
    safe_mode: bool,
    cache_prefix: Option<String>,
) -> TestApp {
    let mut options = Options::new(fixture::WEEK3, content);
    options.cache_prefix = cache_prefix;
    let (url, appid, secret) = (standin.url(), standin.appid(), standin.secret());
    let options = options.with_settings(move |settings| {
        settings.wechat.appid = Some(appid.clone());
        settings.wechat.secret = Some(secret.clone());
        settings.wechat.token = Some(TOKEN.into());
        settings.wechat.aes_key = safe_mode.then(|| AES_KEY.to_owned());
        settings.wechat.api_url = url.clone();
        settings.wechat.open_url = url.clone();
    });
    TestApp::spawn(db, options).await
}

/// What the callback answered.
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl WechatApp {
    pub fn now(&self) -> i64 {
        self.app.clock.now().timestamp()
    }

    /// Posts `xml` as WeChat would, in this app's mode (wechatpy encrypts in safe mode), with a
    /// fresh nonce and the app's current time.
    pub async fn send(&self, xml: &str) -> Answer {
        let nonce = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        self.send_with(xml, &self.now().to_string(), &nonce).await
    }

    pub async fn send_with(&self, xml: &str, timestamp: &str, nonce: &str) -> Answer {
        let (query, body) = self.signed(xml, timestamp, nonce);
        self.post(&query, body).await
    }

    /// The query string and body WeChat would send for `xml`.
    pub fn signed(&self, xml: &str, timestamp: &str, nonce: &str) -> (String, String) {
        if self.safe_mode {
            let appid = self.standin.appid();
            let args = [
                "encrypt",
                "--token",
                TOKEN,
                "--aes-key",
                AES_KEY,
                "--appid",
                &appid,
                "--nonce",
                nonce,
                "--timestamp",
                timestamp,
                "--openid",
                "ignored",
            ];
            let sent = wechatpy::call(&args, xml);
            let q = &sent["query"];
            let query = format!(
                "signature={}&timestamp={}&nonce={}&openid=ignored&encrypt_type=aes&msg_signature={}",
                q["signature"].as_str().unwrap(),
                timestamp,
                nonce,
                q["msg_signature"].as_str().unwrap()
            );
            (query, sent["body"].as_str().unwrap().to_owned())
        } else {
            let signature = callback_signature(TOKEN, timestamp, nonce);
            (
                format!("signature={signature}&timestamp={timestamp}&nonce={nonce}"),
                xml.to_owned(),
            )
        }
    }

    /// Like `send`, but encrypted by Homeward's own crypto in safe mode: for bodies wechatpy
    /// refuses to build (DOCTYPEs, non-XML), to see what the server does with them.
    pub async fn send_ours(&self, xml: &str) -> Answer {
        let now = self.now().to_string();
        let nonce = uuid::Uuid::new_v4().simple().to_string()[..10].to_owned();
        if !self.safe_mode {
            return self.send_with(xml, &now, &nonce).await;
        }
        let crypto = MessageCrypto::new(
            AesKey::from_encoding_aes_key(AES_KEY).unwrap(),
            self.standin.appid(),
        );
        let encrypt = crypto.encrypt(xml);
        let body = format!(
            "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        );
        let query = format!(
            "signature={}&timestamp={now}&nonce={nonce}&encrypt_type=aes&msg_signature={}",
            callback_signature(TOKEN, &now, &nonce),
            message_signature(TOKEN, &now, &nonce, &encrypt)
        );
        self.post(&query, body).await
    }

    pub async fn post(&self, query: &str, body: String) -> Answer {
        let response = self
            .app
            .client
            .post(self.app.url(&format!("/wechat/callback?{query}")))
            .header("content-type", "text/xml")
            .body(body)
            .send()
            .await
            .unwrap();
        Answer {
            status: response.status().as_u16(),
            body: response.text().await.unwrap(),
        }
    }

    /// The reply inside an answer, read by wechatpy (decrypted and signature-checked in safe
    /// mode): `{type, target, source, content | articles}`.
    pub fn reply(&self, answer: &Answer) -> serde_json::Value {
        assert_eq!(
            answer.status, 200,
            "callback answered {}: {}",
            answer.status, answer.body
        );
        let read = if self.safe_mode {
            let appid = self.standin.appid();
            let args = [
                "decrypt",
                "--token",
                TOKEN,
                "--aes-key",
                AES_KEY,
                "--appid",
                &appid,
            ];
            wechatpy::call(&args, &answer.body)
        } else {
            wechatpy::call(&["reply"], &answer.body)
        };
        let reply = read["reply"].clone();
        assert_eq!(reply["source"], ACCOUNT, "replies come from our account");
        reply
    }

    /// The text of a text reply.
    pub fn reply_text(&self, answer: &Answer) -> String {
        let reply = self.reply(answer);
        assert_eq!(reply["type"], "text", "{reply}");
        reply["content"].as_str().unwrap().to_owned()
    }
}

fn head(openid: &str, time: i64, msg_type: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>\
         <CreateTime>{time}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
    )
}

pub fn text_xml(openid: &str, time: i64, content: &str, msg_id: u64) -> String {
    format!(
        "{}<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>",
        head(openid, time, "text")
    )
}

pub fn event_xml(openid: &str, time: i64, event: &str, key: &str) -> String {
    format!(
        "{}<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>",
        head(openid, time, "event")
    )
}

/// The event of scanning the WeChat QR of the enrollment code `token`: a follow with the scene
/// for someone new, a `SCAN` for a follower.
pub fn scan_xml(openid: &str, time: i64, token: &str, new_follower: bool) -> String {
    if new_follower {
        event_xml(openid, time, "subscribe", &format!("qrscene_join:{token}"))
    } else {
        event_xml(openid, time, "SCAN", &format!("join:{token}"))
    }
}
