//! A stand-in for WeChat's server API and its web sign-in page, so the test suite and a laptop
//! demo never need WeChat: access tokens, permanent QR codes, template and customer-service
//! messages, the custom menu, and `snsapi_base` sign-in (authorize → code → openid). It records
//! every call, and can be told to fail the next calls of a path (an `errcode`, an HTTP status,
//! or an answer slower than the client's timeout) and to answer every call with some latency.
//!
//! Which person a phone is: the `X-Standin-Phone` header, else a `StandinPhone/<name>` token in
//! the user agent (it survives cleared cookies, as a WeChat account does), else the default
//! phone a test set, else `phone`. Each phone's openid is fixed: [`WechatStandin::openid_for_phone`].

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{Body, EndpointExt, Request, Response, Route, Server, handler};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const STANDIN_APPID: &str = "wx0standin0000001";
pub const STANDIN_SECRET: &str = "standin-app-secret";
/// What the stand-in's QR URLs start with (WeChat's are `http://weixin.qq.com/q/…`).
const QR_URL_PREFIX: &str = "http://weixin.qq.com/q/standin_";

/// The account the stand-in plays.
#[derive(Debug, Clone)]
pub struct StandinConfig {
    pub appid: String,
    pub secret: String,
    /// How long an access token lives (WeChat: two hours).
    pub token_lifetime: Duration,
}

impl Default for StandinConfig {
    fn default() -> Self {
        StandinConfig {
            appid: STANDIN_APPID.into(),
            secret: STANDIN_SECRET.into(),
            token_lifetime: Duration::from_secs(7200),
        }
    }
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct RecordedCall {
    pub method: String,
    pub path: String,
    pub query: BTreeMap<String, String>,
    /// The body, when it was JSON.
    pub body: Option<Value>,
    pub at: Instant,
}

/// How to fail a call on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 200 with `{errcode, errmsg}`.
    ErrCode(i64),
    /// This HTTP status with a short text body.
    Status(u16),
    /// Wait this long, then answer normally (past a client's timeout, it never sees the answer).
    Delay(Duration),
}

struct IssuedCode {
    openid: String,
    issued: Instant,
    used: bool,
}

struct State {
    config: StandinConfig,
    calls: Vec<RecordedCall>,
    failures: HashMap<String, VecDeque<Failure>>,
    latency: Duration,
    /// Valid access tokens and when each expires.
    tokens: HashMap<String, Instant>,
    /// The token `stable_token` hands out until it expires or is forced to change.
    stable: Option<String>,
    serial: u64,
    codes: HashMap<String, IssuedCode>,
    code_lifetime: Duration,
    default_phone: Option<String>,
    not_following: HashSet<String>,
    menu: Option<Value>,
}

/// A running stand-in; it stops when dropped.
pub struct WechatStandin {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for WechatStandin {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn errcode(code: i64, message: &str) -> Response {
    json_response(json!({ "errcode": code, "errmsg": message }))
}

fn json_response(value: Value) -> Response {
    Response::builder()
        .content_type("application/json; charset=utf-8")
        .body(value.to_string())
}

fn text_response(status: StatusCode, text: &str) -> Response {
    Response::builder()
        .status(status)
        .content_type("text/plain; charset=utf-8")
        .body(text.to_owned())
}

/// The openid the stand-in's account gives a phone: 28 URL-safe characters starting with `o`,
/// like WeChat's.
pub fn openid_for(appid: &str, phone: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("{appid}:{phone}").as_bytes()));
    format!("o{}", &digest[..27])
}

impl WechatStandin {
    /// Starts on a free port of 127.0.0.1 with the default account.
    pub async fn start() -> WechatStandin {
        WechatStandin::start_on("127.0.0.1:0", StandinConfig::default())
            .await
            .expect("start the WeChat stand-in")
    }

    pub async fn start_on(addr: &str, config: StandinConfig) -> std::io::Result<WechatStandin> {
        let acceptor = TcpListener::bind(addr.to_owned()).into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("no local address"))?;
        let state = Arc::new(Mutex::new(State {
            config,
            calls: Vec::new(),
            failures: HashMap::new(),
            latency: Duration::ZERO,
            tokens: HashMap::new(),
            stable: None,
            serial: 0,
            codes: HashMap::new(),
            code_lifetime: Duration::from_secs(300),
            default_phone: None,
            not_following: HashSet::new(),
            menu: None,
        }));
        let app = Route::new().at("/*path", standin).data(state.clone());
        let server = tokio::spawn(async move {
            let _ = Server::new_with_acceptor(acceptor).run(app).await;
        });
        Ok(WechatStandin {
            addr,
            state,
            server,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The base URL of both the API and the sign-in page (`HOMEWARD_WECHAT_API_URL` and
    /// `HOMEWARD_WECHAT_OPEN_URL`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn appid(&self) -> String {
        self.state().config.appid.clone()
    }

    pub fn secret(&self) -> String {
        self.state().config.secret.clone()
    }

    pub fn openid_for_phone(&self, phone: &str) -> String {
        openid_for(&self.appid(), phone)
    }

    /// The phone a sign-in is for when the request names none.
    pub fn set_default_phone(&self, phone: &str) {
        self.state().default_phone = Some(phone.to_owned());
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.state().calls.clone()
    }

    /// The calls to one path (e.g. `/cgi-bin/stable_token`).
    pub fn calls_to(&self, path: &str) -> Vec<RecordedCall> {
        self.state()
            .calls
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.calls_to(path).len()
    }

    pub fn clear_calls(&self) {
        self.state().calls.clear();
    }

    /// Makes the next `times` calls of `path` fail this way (queued after earlier orders).
    pub fn fail_next(&self, path: &str, times: usize, failure: Failure) {
        let mut state = self.state();
        let queue = state.failures.entry(path.to_owned()).or_default();
        queue.extend(std::iter::repeat_n(failure, times));
    }

    /// Every answer waits this long first (a benchmark sets WeChat's typical few milliseconds).
    pub fn set_latency(&self, latency: Duration) {
        self.state().latency = latency;
    }

    /// Forgets every access token, as when another server forced a refresh: the next use of
    /// an old one gets `40001`.
    pub fn invalidate_tokens(&self) {
        let mut state = self.state();
        state.tokens.clear();
        state.stable = None;
    }

    /// The access tokens that are valid now.
    pub fn valid_tokens(&self) -> Vec<String> {
        let now = Instant::now();
        let state = self.state();
        state
            .tokens
            .iter()
            .filter(|(_, expires)| **expires > now)
            .map(|(token, _)| token.clone())
            .collect()
    }

    /// Whether messages to `openid` are delivered (`false`: they get `43004`).
    pub fn set_following(&self, openid: &str, following: bool) {
        let mut state = self.state();
        if following {
            state.not_following.remove(openid);
        } else {
            state.not_following.insert(openid.to_owned());
        }
    }

    /// The last menu set with `menu/create`.
    pub fn menu(&self) -> Option<Value> {
        self.state().menu.clone()
    }

    /// The scene a QR URL from `qrcode/create` stands for (what scanning it would send).
    pub fn scene_for_qr_url(&self, url: &str) -> Option<String> {
        let bytes = hex::decode(url.strip_prefix(QR_URL_PREFIX)?).ok()?;
        String::from_utf8(bytes).ok()
    }

    /// How long a sign-in code stays usable (WeChat: five minutes).
    pub fn set_code_lifetime(&self, lifetime: Duration) {
        self.state().code_lifetime = lifetime;
    }
}

#[handler]
async fn standin(
    request: &Request,
    body: Body,
    state: poem::web::Data<&Arc<Mutex<State>>>,
) -> Response {
    let state = state.0.clone();
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let query: BTreeMap<String, String> = request.params().unwrap_or_default();
    let bytes = body.into_vec().await.unwrap_or_default();
    let json_body: Option<Value> = serde_json::from_slice(&bytes).ok();

    let (latency, failure) = {
        let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
        s.calls.push(RecordedCall {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            body: json_body.clone(),
            at: Instant::now(),
        });
        let failure = s.failures.get_mut(&path).and_then(VecDeque::pop_front);
        (s.latency, failure)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match failure {
        Some(Failure::ErrCode(code)) => return errcode(code, "stand-in failure on demand"),
        Some(Failure::Status(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return text_response(status, "stand-in failure on demand");
        }
        Some(Failure::Delay(delay)) => tokio::time::sleep(delay).await,
        None => {}
    }

    let phone = phone_of(request);
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    match (method.as_str(), path.as_str()) {
        ("POST", "/cgi-bin/stable_token") => s.stable_token(json_body.as_ref()),
        ("GET", "/cgi-bin/token") => s.token(&query),
        ("POST", "/cgi-bin/qrcode/create") => {
            s.with_token(&query, |s| s.qrcode(json_body.as_ref()))
        }
        ("POST", "/cgi-bin/message/template/send") => {
            s.with_token(&query, |s| s.message(json_body.as_ref(), "template_id"))
        }
        ("POST", "/cgi-bin/message/custom/send") => {
            s.with_token(&query, |s| s.message(json_body.as_ref(), "msgtype"))
        }
        ("POST", "/cgi-bin/menu/create") => s.with_token(&query, |s| s.create_menu(json_body)),
        ("GET", "/connect/oauth2/authorize") => s.authorize(&query, phone),
        ("GET", "/sns/oauth2/access_token") => s.oauth_access_token(&query),
        _ => text_response(StatusCode::NOT_FOUND, "the stand-in has no such call"),
    }
}

/// The phone a request comes from, by header, then user agent.
fn phone_of(request: &Request) -> Option<String> {
    let valid = |p: &str| {
        !p.is_empty()
            && p.len() <= 64
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    };
    if let Some(phone) = request.header("x-standin-phone").filter(|p| valid(p)) {
        return Some(phone.to_owned());
    }
    let agent = request.header("user-agent").unwrap_or_default();
    agent
        .split_whitespace()
        .find_map(|part| part.strip_prefix("StandinPhone/"))
        .filter(|p| valid(p))
        .map(str::to_owned)
}

impl State {
    fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    fn credentials_error(&self, appid: Option<&str>, secret: Option<&str>) -> Option<Response> {
        if appid != Some(self.config.appid.as_str()) {
            return Some(errcode(40013, "invalid appid"));
        }
        if secret != Some(self.config.secret.as_str()) {
            return Some(errcode(40125, "invalid appsecret"));
        }
        None
    }

    fn issue_token(&mut self) -> String {
        let token = format!(
            "standin-token-{}-{}",
            self.next_serial(),
            uuid::Uuid::new_v4().simple()
        );
        let expires = Instant::now() + self.config.token_lifetime;
        self.tokens.insert(token.clone(), expires);
        token
    }

    fn token_answer(&self, token: &str) -> Response {
        let left = self.tokens[token].saturating_duration_since(Instant::now());
        json_response(json!({ "access_token": token, "expires_in": left.as_secs().max(1) }))
    }

    fn stable_token(&mut self, body: Option<&Value>) -> Response {
        let field = |name: &str| body.and_then(|b| b.get(name)).and_then(Value::as_str);
        if field("grant_type") != Some("client_credential") {
            return errcode(40002, "invalid grant_type");
        }
        if let Some(error) = self.credentials_error(field("appid"), field("secret")) {
            return error;
        }
        let force = body
            .and_then(|b| b.get("force_refresh"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let now = Instant::now();
        let current = self
            .stable
            .clone()
            .filter(|t| self.tokens.get(t).is_some_and(|expires| *expires > now));
        let token = match current {
            Some(token) if !force => token,
            previous => {
                if let Some(old) = previous {
                    self.tokens.remove(&old);
                }
                let token = self.issue_token();
                self.stable = Some(token.clone());
                token
            }
        };
        self.token_answer(&token)
    }

    fn token(&mut self, query: &BTreeMap<String, String>) -> Response {
        if query.get("grant_type").map(String::as_str) != Some("client_credential") {
            return errcode(40002, "invalid grant_type");
        }
        let appid = query.get("appid").map(String::as_str);
        let secret = query.get("secret").map(String::as_str);
        if let Some(error) = self.credentials_error(appid, secret) {
            return error;
        }
        // The old call invalidates every earlier token.
        self.tokens.clear();
        self.stable = None;
        let token = self.issue_token();
        self.token_answer(&token)
    }

    fn with_token(
        &mut self,
        query: &BTreeMap<String, String>,
        call: impl FnOnce(&mut State) -> Response,
    ) -> Response {
        let Some(token) = query.get("access_token") else {
            return errcode(41001, "access_token missing");
        };
        match self.tokens.get(token) {
            None => errcode(
                40001,
                "invalid credential, access_token is invalid or not latest",
            ),
            Some(expires) if *expires <= Instant::now() => errcode(42001, "access_token expired"),
            Some(_) => call(self),
        }
    }

    fn qrcode(&self, body: Option<&Value>) -> Response {
        let body = body.cloned().unwrap_or(Value::Null);
        if body["action_name"] != "QR_LIMIT_STR_SCENE" {
            return errcode(40097, "invalid args: action_name");
        }
        let Some(scene) = body["action_info"]["scene"]["scene_str"].as_str() else {
            return errcode(40097, "invalid args: scene_str");
        };
        if scene.is_empty() || scene.len() > 64 {
            return errcode(40097, "invalid args: scene_str length");
        }
        let digest = hex::encode(Sha256::digest(
            format!("{}:{scene}", self.config.appid).as_bytes(),
        ));
        // The scene is written into the URL, so a restarted stand-in still knows what it means.
        let url = format!("{QR_URL_PREFIX}{}", hex::encode(scene));
        json_response(json!({ "ticket": format!("gQstandin{}", &digest[..40]), "url": url }))
    }

    fn message(&mut self, body: Option<&Value>, required: &str) -> Response {
        let body = body.cloned().unwrap_or(Value::Null);
        let Some(touser) = body["touser"].as_str().filter(|t| !t.is_empty()) else {
            return errcode(40003, "invalid openid");
        };
        if body[required].as_str().is_none_or(str::is_empty) {
            return errcode(47001, "data format error");
        }
        if self.not_following.contains(touser) {
            return errcode(43004, "require subscribe");
        }
        let msgid = 2_000_000_000 + self.next_serial();
        json_response(json!({ "errcode": 0, "errmsg": "ok", "msgid": msgid }))
    }

    fn create_menu(&mut self, body: Option<Value>) -> Response {
        let buttons = body
            .as_ref()
            .and_then(|b| b["button"].as_array())
            .map(Vec::len);
        match buttons {
            Some(1..=3) => {
                self.menu = body;
                errcode(0, "ok")
            }
            _ => errcode(40016, "invalid button size"),
        }
    }

    /// The sign-in page: silently approves and sends the phone back with a fresh code.
    fn authorize(&mut self, query: &BTreeMap<String, String>, phone: Option<String>) -> Response {
        let get = |name: &str| query.get(name).map(String::as_str).unwrap_or_default();
        if get("appid") != self.config.appid {
            return text_response(StatusCode::BAD_REQUEST, "appid 参数错误 (wrong appid)");
        }
        if get("response_type") != "code"
            || !matches!(get("scope"), "snsapi_base" | "snsapi_userinfo")
        {
            return text_response(
                StatusCode::BAD_REQUEST,
                "scope 参数错误 (wrong scope or response_type)",
            );
        }
        let redirect = get("redirect_uri");
        let Ok(mut target) = reqwest::Url::parse(redirect) else {
            return text_response(
                StatusCode::BAD_REQUEST,
                "redirect_uri 参数错误 (wrong redirect_uri)",
            );
        };
        if !matches!(target.scheme(), "http" | "https") {
            return text_response(
                StatusCode::BAD_REQUEST,
                "redirect_uri 参数错误 (wrong redirect_uri)",
            );
        }
        let phone = phone
            .or_else(|| self.default_phone.clone())
            .unwrap_or_else(|| "phone".into());
        let openid = openid_for(&self.config.appid, &phone);
        let code = format!("standin{}", uuid::Uuid::new_v4().simple());
        self.codes.insert(
            code.clone(),
            IssuedCode {
                openid,
                issued: Instant::now(),
                used: false,
            },
        );
        target
            .query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", get("state"));
        Response::builder()
            .status(StatusCode::FOUND)
            .header("location", target.as_str())
            .finish()
    }

    fn oauth_access_token(&mut self, query: &BTreeMap<String, String>) -> Response {
        let get = |name: &str| query.get(name).map(String::as_str);
        if let Some(error) = self.credentials_error(get("appid"), get("secret")) {
            return error;
        }
        if get("grant_type") != Some("authorization_code") {
            return errcode(40002, "invalid grant_type");
        }
        let lifetime = self.code_lifetime;
        let Some(issued) = get("code").and_then(|c| self.codes.get_mut(c)) else {
            return errcode(40029, "invalid code");
        };
        if issued.used {
            return errcode(40163, "code been used");
        }
        if issued.issued.elapsed() > lifetime {
            return errcode(40029, "invalid code (expired)");
        }
        issued.used = true;
        let openid = issued.openid.clone();
        let serial = self.next_serial();
        json_response(json!({
            "access_token": format!("standin-web-token-{serial}"),
            "expires_in": 7200,
            "refresh_token": format!("standin-refresh-{serial}"),
            "openid": openid,
            "scope": "snsapi_base",
        }))
    }
}
