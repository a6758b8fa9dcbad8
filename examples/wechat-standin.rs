//! WeChat on a laptop, without a WeChat account: the stand-in for WeChat's API and sign-in page
//! (`tests/support/wechat_standin.rs`), plus a "phone" page that plays WeChat's servers for a
//! follower — scanning a code's WeChat QR, following, sending a message — by posting to
//! Homeward's callback as WeChat would (plain mode), and shows the reply with its links.
//!
//! `cargo run --example wechat-standin [STANDIN_ADDR [PHONE_ADDR]]`
//! (defaults 127.0.0.1:8091 and 127.0.0.1:8092), then start Homeward with the settings it prints.

#[path = "../tests/support/wechat_standin.rs"]
mod wechat_standin;

use std::sync::Arc;

use homeward::wechat::protocol::signature::callback_signature;
use poem::listener::TcpListener;
use poem::web::{Data, Form, Html};
use poem::{EndpointExt, Route, Server, get, handler};
use serde::Deserialize;
use wechat_standin::{StandinConfig, WechatStandin, openid_for};

/// The callback token the demo uses (Homeward's HOMEWARD_WECHAT_TOKEN).
const DEMO_TOKEN: &str = "homewarddemo";
const ACCOUNT: &str = "gh_standin000001";

struct Demo {
    standin: WechatStandin,
    callback: String,
    http: reqwest::Client,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The reply's text with its links made clickable.
fn linked(text: &str) -> String {
    text.split_inclusive(char::is_whitespace)
        .map(|word| {
            let trimmed = word.trim_end();
            let start = trimmed.find("http://").or_else(|| trimmed.find("https://"));
            match start {
                Some(at) => {
                    let href = escape(&trimmed[at..]);
                    format!(
                        "{}<a href=\"{href}\">{href}</a>{}",
                        escape(&trimmed[..at]),
                        &word[trimmed.len()..]
                    )
                }
                None => escape(word),
            }
        })
        .collect()
}

fn page(body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>WeChat stand-in phone</title><style>body{{font:16px system-ui,sans-serif;max-width:40em;margin:1em auto;padding:0 1em}}\
         fieldset{{margin:1em 0}}input[type=text]{{width:100%}}pre{{white-space:pre-wrap;background:#f4f5f7;padding:1em}}</style></head>\
         <body><h1>WeChat stand-in: a phone</h1>{body}\
         <form method=\"post\" action=\"/send\"><fieldset><legend>Phone</legend>\
         <input type=\"text\" name=\"phone\" value=\"ana\" aria-label=\"phone name\"></fieldset>\
         <fieldset><legend>Scan a WeChat QR (the URL in it, or <code>homeward code create</code>'s “WeChat QR” line)</legend>\
         <input type=\"text\" name=\"qr\" aria-label=\"QR URL\"><button name=\"action\" value=\"scan\">Scan</button></fieldset>\
         <fieldset><legend>Say something in the chat</legend><input type=\"text\" name=\"text\" value=\"本周课程\" aria-label=\"message\">\
         <button name=\"action\" value=\"say\">Send</button></fieldset>\
         <p><button name=\"action\" value=\"follow\">Follow</button> <button name=\"action\" value=\"unfollow\">Unfollow</button></p>\
         </form></body></html>"
    ))
}

#[handler]
fn home() -> Html<String> {
    page(
        "<p>Pick a phone, then scan a code or chat. Links in replies open Homeward; WeChat's sign-in \
          (this stand-in) signs you in as that phone.</p>",
    )
}

#[derive(Deserialize)]
struct Send {
    phone: String,
    action: String,
    qr: Option<String>,
    text: Option<String>,
}

#[handler]
async fn send(demo: Data<&Arc<Demo>>, Form(form): Form<Send>) -> Html<String> {
    let phone: String = form
        .phone
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(32)
        .collect();
    let phone = if phone.is_empty() {
        "phone".to_owned()
    } else {
        phone
    };
    // Sign-ins from this laptop's browser are this phone's from now on.
    demo.standin.set_default_phone(&phone);
    let openid = openid_for(&demo.standin.appid(), &phone);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let head = format!(
        "<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{now}</CreateTime>"
    );
    let event = |name: &str, key: &str| {
        format!(
            "{head}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>"
        )
    };
    let xml = match form.action.as_str() {
        "scan" => {
            let url = form.qr.unwrap_or_default();
            let Some(scene) = demo.standin.scene_for_qr_url(url.trim()) else {
                return page("<p><strong>That is not a QR URL this stand-in made.</strong></p>");
            };
            // A scan follows the account; scanning again as a follower is a SCAN event.
            event("subscribe", &format!("qrscene_{scene}"))
        }
        "follow" => event("subscribe", ""),
        "unfollow" => event("unsubscribe", ""),
        _ => {
            let text = escape(&form.text.unwrap_or_default()).replace("]]>", "");
            let id = now * 1000 + u64::from(rand_digit());
            format!(
                "{head}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content><MsgId>{id}</MsgId></xml>"
            )
        }
    };
    let nonce = format!("{}{}", now, rand_digit());
    let signature = callback_signature(DEMO_TOKEN, &now.to_string(), &nonce);
    let url = format!(
        "{}?signature={signature}&timestamp={now}&nonce={nonce}",
        demo.callback
    );
    let answer = demo.http.post(&url).body(xml).send().await;
    let shown = match answer {
        Err(error) => format!(
            "<p><strong>Homeward did not answer:</strong> {}</p>",
            escape(&error.to_string())
        ),
        Ok(response) => {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            let reply = body
                .split("<Content><![CDATA[")
                .nth(1)
                .and_then(|rest| rest.split("]]></Content>").next())
                .map(str::to_owned)
                .or_else(|| {
                    let title = body.split("<Title><![CDATA[").nth(1)?.split("]]>").next()?;
                    let url = body.split("<Url><![CDATA[").nth(1)?.split("]]>").next()?;
                    Some(format!("{title}\n{url}"))
                })
                .unwrap_or(body);
            format!(
                "<p>Homeward answered {status} to {phone}:</p><pre>{}</pre>",
                linked(&reply)
            )
        }
    };
    page(&shown)
}

/// A cheap varying digit, so two messages in one second differ.
fn rand_digit() -> u8 {
    let mut byte = [0u8; 1];
    getrandom::fill(&mut byte).expect("the operating system's random source");
    byte[0] % 10
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let standin_addr = args.next().unwrap_or_else(|| "127.0.0.1:8091".to_owned());
    let phone_addr = args.next().unwrap_or_else(|| "127.0.0.1:8092".to_owned());
    let homeward =
        std::env::var("HOMEWARD_PUBLIC_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    let standin = WechatStandin::start_on(&standin_addr, StandinConfig::default()).await?;
    println!(
        "WeChat stand-in (API and sign-in page) on {}",
        standin.url()
    );
    println!("Start Homeward with:");
    println!("  HOMEWARD_WECHAT_APPID={} \\", standin.appid());
    println!("  HOMEWARD_WECHAT_SECRET={} \\", standin.secret());
    println!("  HOMEWARD_WECHAT_TOKEN={DEMO_TOKEN} \\");
    println!("  HOMEWARD_WECHAT_API_URL={} \\", standin.url());
    println!("  HOMEWARD_WECHAT_OPEN_URL={} cargo run", standin.url());
    println!("Then play a phone at http://{phone_addr}/ (it posts to {homeward}/wechat/callback).");
    let demo = Arc::new(Demo {
        standin,
        callback: format!("{}/wechat/callback", homeward.trim_end_matches('/')),
        http: reqwest::Client::new(),
    });
    let app = Route::new()
        .at("/", get(home))
        .at("/send", poem::post(send))
        .data(demo.clone());
    Server::new(TcpListener::bind(phone_addr)).run(app).await
}
