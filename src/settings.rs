//! Typed settings from the environment (and `.env`), validated at start. Every variable is
//! listed by `homeward --help` and documented in the README and `.env.example`.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, bail};

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/homeward.db?mode=rwc";

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, clap::Args)]
pub struct Settings {
    /// Database: `sqlite://PATH?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    /// Unset: the embedded SQLite file ./data/homeward.db, created when missing.
    #[arg(long, env = "DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Redis for the shared cache, e.g. `redis://127.0.0.1:6379/0`. Unset: an in-process cache.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,

    /// Address and port the HTTP server listens on.
    #[arg(
        long,
        env = "HOMEWARD_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// The public base URL learners reach the server at (used in links and QR codes).
    /// Unset: http://{HOMEWARD_BIND}.
    #[arg(long, env = "HOMEWARD_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Folder holding the lesson series (see content/README.md).
    #[arg(
        long,
        env = "HOMEWARD_CONTENT_DIR",
        default_value = "./content",
        global = true
    )]
    pub content_dir: PathBuf,

    /// Take the client's address from the last `X-Forwarded-For` entry, the one the proxy in
    /// front wrote (only behind a proxy you run; see deploy/nginx/homeward.conf).
    #[arg(
        long,
        env = "HOMEWARD_TRUST_PROXY",
        default_value_t = false,
        global = true
    )]
    pub trust_proxy: bool,

    /// Secret for signing CSRF tokens (at least 32 characters). Required on PostgreSQL; on the
    /// embedded default a random one is made at each start.
    #[arg(
        long,
        env = "HOMEWARD_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// Run the background job worker inside `serve` (set false when `homeward worker` runs
    /// separately).
    #[arg(long, env = "HOMEWARD_WORKER", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub worker: bool,

    /// Days raw progress events are kept (the merged progress stays).
    #[arg(
        long,
        env = "HOMEWARD_RETAIN_EVENTS_DAYS",
        default_value_t = 180,
        global = true
    )]
    pub retain_events_days: u32,

    /// Days an unused learner session is kept (staff sessions go when they expire).
    #[arg(
        long,
        env = "HOMEWARD_RETAIN_SESSIONS_DAYS",
        default_value_t = 180,
        global = true
    )]
    pub retain_sessions_days: u32,

    /// Days QR-code scans are kept.
    #[arg(
        long,
        env = "HOMEWARD_RETAIN_SCANS_DAYS",
        default_value_t = 365,
        global = true
    )]
    pub retain_scans_days: u32,

    /// Days finished (done or dead) jobs are kept.
    #[arg(
        long,
        env = "HOMEWARD_RETAIN_JOBS_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub retain_jobs_days: u32,

    /// Days without any activity after which a learner is told, then deleted (0: never).
    #[arg(
        long,
        env = "HOMEWARD_RETAIN_INACTIVE_DAYS",
        default_value_t = 730,
        global = true
    )]
    pub retain_inactive_days: u32,

    /// Days between telling an inactive learner and deleting them, unless they come back.
    #[arg(
        long,
        env = "HOMEWARD_INACTIVE_GRACE_DAYS",
        default_value_t = 30,
        global = true
    )]
    pub inactive_grace_days: u32,
    /// A learner's session ends after this many days without a visit (they sign in again with
    /// their recovery code, or by joining from the same phone).
    #[arg(
        long,
        env = "HOMEWARD_LEARNER_IDLE_DAYS",
        default_value_t = 90,
        value_parser = clap::value_parser!(u32).range(1..=3650),
        global = true
    )]
    pub learner_idle_days: u32,

    /// The WeChat template message the weekly push sends (its id in the official account's
    /// template library). Unset: no messages are sent.
    #[arg(long, env = "HOMEWARD_WECHAT_TEMPLATE_ID", global = true)]
    pub wechat_template_id: Option<String>,

    /// Messages per second the push may send, all instances together: set it to what the
    /// WeChat account's quota allows.
    #[arg(long, env = "HOMEWARD_PUSH_RATE", default_value_t = 20, global = true)]
    pub push_rate: u32,

    /// Folder of the CJK fonts the family cards are drawn with (Debian: `fonts-noto-cjk`; the
    /// card uses Noto Sans CJK SC).
    #[arg(
        long,
        env = "HOMEWARD_CARD_FONTS",
        default_value = "/usr/share/fonts/opentype/noto",
        global = true
    )]
    pub card_fonts: PathBuf,

    /// Seconds a request may take before it is answered 503 (`Retry-After`); on PostgreSQL
    /// also every statement's `statement_timeout`, so the server stops work nobody waits for.
    #[arg(
        long,
        env = "HOMEWARD_REQUEST_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=600),
        global = true
    )]
    pub request_timeout: u64,

    /// Seconds `serve` lets requests in flight finish after Ctrl-C / SIGTERM; requests still
    /// running then are cut off, logged, and make the exit code non-zero.
    #[arg(
        long,
        env = "HOMEWARD_SHUTDOWN_TIMEOUT",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub shutdown_timeout: u64,

    /// Seconds a client has to send a request's head (from connecting, or from the last byte of
    /// the previous answer); a client still sending it then is disconnected.
    #[arg(
        long,
        env = "HOMEWARD_HEADER_TIMEOUT",
        default_value_t = 10,
        value_parser = clap::value_parser!(u64).range(1..=600),
        global = true
    )]
    pub header_timeout: u64,

    /// Seconds a request's body may go without a byte arriving (the rest of a body nobody reads
    /// any more: in all); a client that stops sending is disconnected.
    #[arg(
        long,
        env = "HOMEWARD_BODY_TIMEOUT",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub body_timeout: u64,

    /// Log output: `text` for people, `json` for log collectors. Filter with RUST_LOG.
    #[arg(
        long,
        env = "LOG_FORMAT",
        default_value = "text",
        value_enum,
        global = true
    )]
    pub log_format: LogFormat,

    /// The WeChat Official Account (all optional; see `WechatSettings`).
    #[command(flatten)]
    pub wechat: WechatSettings,
}

/// The WeChat Official Account behind which Homeward runs. All unset: WeChat is off. The
/// appid, secret and callback token come together; the EncodingAESKey adds safe mode.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct WechatSettings {
    /// The account's AppID (`wx…`).
    #[arg(
        id = "wechat-appid",
        long = "wechat-appid",
        env = "HOMEWARD_WECHAT_APPID",
        global = true
    )]
    pub appid: Option<String>,

    /// The account's AppSecret.
    #[arg(
        id = "wechat-secret",
        long = "wechat-secret",
        env = "HOMEWARD_WECHAT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub secret: Option<String>,

    /// The callback Token set on the account's server configuration page (3–32 letters/digits).
    #[arg(
        id = "wechat-token",
        long = "wechat-token",
        env = "HOMEWARD_WECHAT_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// The 43-character EncodingAESKey, for safe mode (消息加解密). Unset: plain mode only.
    #[arg(
        id = "wechat-aes-key",
        long = "wechat-aes-key",
        env = "HOMEWARD_WECHAT_AES_KEY",
        global = true,
        hide_env_values = true
    )]
    pub aes_key: Option<String>,

    /// WeChat's server API (a stand-in for tests and demos).
    #[arg(
        id = "wechat-api-url",
        long = "wechat-api-url",
        env = "HOMEWARD_WECHAT_API_URL",
        default_value = "https://api.weixin.qq.com",
        global = true
    )]
    pub api_url: String,

    /// WeChat's web sign-in page (a stand-in for tests and demos).
    #[arg(
        id = "wechat-open-url",
        long = "wechat-open-url",
        env = "HOMEWARD_WECHAT_OPEN_URL",
        default_value = "https://open.weixin.qq.com",
        global = true
    )]
    pub open_url: String,
}

/// A complete WeChat configuration, checked.
#[derive(Clone, Debug)]
pub struct WechatConfig {
    pub appid: String,
    pub secret: String,
    pub token: String,
    pub aes_key: Option<String>,
    pub api_url: String,
    pub open_url: String,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl WechatSettings {
    /// Defaults: WeChat off, WeChat's real URLs.
    pub fn off() -> WechatSettings {
        WechatSettings {
            api_url: "https://api.weixin.qq.com".into(),
            open_url: "https://open.weixin.qq.com".into(),
            ..WechatSettings::default()
        }
    }

    /// `None` when WeChat is off; the whole configuration when it is on; an error naming what
    /// is missing or wrong when only part of it is set.
    pub fn config(&self) -> anyhow::Result<Option<WechatConfig>> {
        let named = [
            ("HOMEWARD_WECHAT_APPID", set(&self.appid)),
            ("HOMEWARD_WECHAT_SECRET", set(&self.secret)),
            ("HOMEWARD_WECHAT_TOKEN", set(&self.token)),
        ];
        let aes_key = set(&self.aes_key);
        if named.iter().all(|(_, v)| v.is_none()) && aes_key.is_none() {
            return Ok(None);
        }
        let missing: Vec<&str> = named
            .iter()
            .filter(|(_, v)| v.is_none())
            .map(|(name, _)| *name)
            .collect();
        if !missing.is_empty() {
            bail!(
                "WeChat is partly configured: set {} too (or unset every HOMEWARD_WECHAT_* setting to turn WeChat off)",
                missing.join(", ")
            );
        }
        let [appid, secret, token] = named.map(|(_, v)| v.unwrap_or_default().to_owned());
        if !(appid.starts_with("wx")
            && appid.len() <= 32
            && appid.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            bail!("HOMEWARD_WECHAT_APPID must be the account's AppID, starting with wx");
        }
        if !(3..=32).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
            bail!(
                "HOMEWARD_WECHAT_TOKEN must be 3 to 32 letters or digits, as on the account's server configuration page"
            );
        }
        if let Some(key) = aes_key
            && !(key.len() == 43
                && key
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/'))
        {
            bail!(
                "HOMEWARD_WECHAT_AES_KEY must be the 43-character EncodingAESKey (letters, digits, + and /)"
            );
        }
        for (name, url) in [
            ("HOMEWARD_WECHAT_API_URL", &self.api_url),
            ("HOMEWARD_WECHAT_OPEN_URL", &self.open_url),
        ] {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("{name} must start with http:// or https://");
            }
        }
        Ok(Some(WechatConfig {
            appid,
            secret,
            token,
            aes_key: aes_key.map(str::to_owned),
            api_url: self.api_url.trim().trim_end_matches('/').to_owned(),
            open_url: self.open_url.trim().trim_end_matches('/').to_owned(),
        }))
    }
}

impl Settings {
    /// Settings for a server on `database_url`, everything else at its default.
    pub fn with_database(database_url: impl Into<String>) -> Settings {
        Settings {
            database_url: Some(database_url.into()),
            redis_url: None,
            bind: "127.0.0.1:0".into(),
            public_url: None,
            content_dir: PathBuf::from("./content"),
            trust_proxy: false,
            secret_key: None,
            learner_idle_days: 90,
            log_format: LogFormat::Text,
            worker: true,
            retain_events_days: 180,
            retain_sessions_days: 180,
            retain_scans_days: 365,
            retain_jobs_days: 30,
            retain_inactive_days: 730,
            inactive_grace_days: 30,
            wechat_template_id: None,
            push_rate: 20,
            card_fonts: PathBuf::from("/usr/share/fonts/opentype/noto"),
            request_timeout: 10,
            shutdown_timeout: 30,
            header_timeout: 10,
            body_timeout: 30,
            wechat: WechatSettings::off(),
        }
    }

    pub fn database_url(&self) -> &str {
        self.database_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or(DEFAULT_DATABASE_URL)
    }

    pub fn redis_url(&self) -> Option<&str> {
        self.redis_url
            .as_deref()
            .filter(|url| !url.trim().is_empty())
    }

    /// The push's WeChat template, when one is configured (empty counts as unset).
    pub fn wechat_template_id(&self) -> Option<&str> {
        self.wechat_template_id
            .as_deref()
            .map(str::trim)
            .filter(|id| !id.is_empty())
    }

    pub fn is_embedded(&self) -> bool {
        self.database_url().starts_with("sqlite:")
    }

    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) if !url.trim().is_empty() => url.trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.bind),
        }
    }

    /// Whether learners reach us over https: then cookies are Secure and HSTS is sent.
    pub fn is_https(&self) -> bool {
        self.public_url().starts_with("https://")
    }

    /// Checks every setting and says which one is wrong and how.
    pub fn validate(&self) -> anyhow::Result<()> {
        let url = self.database_url();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            bail!(
                "DATABASE_URL must start with sqlite: or postgres:// (got a value starting with '{}')",
                url.split(':').next().unwrap_or_default()
            );
        }
        if let Some(redis) = self.redis_url()
            && !(redis.starts_with("redis://") || redis.starts_with("rediss://"))
        {
            bail!("REDIS_URL must start with redis:// or rediss://");
        }
        self.bind.parse::<SocketAddr>().with_context(|| {
            format!(
                "HOMEWARD_BIND '{}' is not an address such as 127.0.0.1:8080",
                self.bind
            )
        })?;
        if let Some(public) = self.public_url.as_deref().filter(|u| !u.trim().is_empty()) {
            check_public_url(public.trim())?;
        }
        if let Some(secret) = &self.secret_key
            && secret.len() < 32
        {
            bail!("HOMEWARD_SECRET_KEY must be at least 32 characters");
        }
        self.wechat.config()?;
        Ok(())
    }

    /// How long a request may take (`HOMEWARD_REQUEST_TIMEOUT`).
    pub fn request_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.request_timeout)
    }

    /// How long requests in flight may finish after a stop signal (`HOMEWARD_SHUTDOWN_TIMEOUT`).
    pub fn shutdown_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.shutdown_timeout)
    }

    /// What serving needs beyond `validate`: a real secret key in production.
    pub fn validate_for_serving(&self) -> anyhow::Result<()> {
        self.validate()?;
        if self.secret_key.is_none() && !self.is_embedded() {
            bail!(
                "HOMEWARD_SECRET_KEY is required on PostgreSQL (it signs CSRF tokens): set it to a random string of at least 32 characters, e.g. `openssl rand -hex 32`"
            );
        }
        Ok(())
    }

    /// The secret key, or a random one for this process on the embedded default.
    pub fn secret(&self) -> Vec<u8> {
        match &self.secret_key {
            Some(secret) => secret.as_bytes().to_vec(),
            None => crate::domain::token::SessionToken::generate()
                .0
                .into_bytes(),
        }
    }
}

/// A public URL every link and QR code can be built on: http or https, a host, no user,
/// query or fragment (`http://` alone would make links such as `http:/join/…`).
fn check_public_url(public: &str) -> anyhow::Result<()> {
    let example = "such as https://homeward.example.org";
    let parsed = url::Url::parse(public).ok();
    let Some(url) =
        parsed.filter(|_| public.starts_with("http://") || public.starts_with("https://"))
    else {
        bail!(
            "HOMEWARD_PUBLIC_URL '{public}' must be an http:// or https:// address with a host, {example}"
        );
    };
    if url.host_str().is_none_or(str::is_empty) {
        bail!(
            "HOMEWARD_PUBLIC_URL '{public}' has no host: give the address learners reach the server at, {example}"
        );
    }
    if !url.username().is_empty() || url.password().is_some() {
        bail!("HOMEWARD_PUBLIC_URL must not carry a user name or password");
    }
    if url.query().is_some() || url.fragment().is_some() {
        bail!("HOMEWARD_PUBLIC_URL '{public}' must not have a ?query or #fragment, {example}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_url_needs_a_scheme_and_a_host() {
        for good in [
            "https://homeward.example.org",
            "https://homeward.example.org/",
            "http://127.0.0.1:8080",
            "https://example.org/homeward",
        ] {
            assert!(check_public_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://",
            "https://",
            "http:/homeward.example.org",
            "homeward.example.org",
            "ftp://homeward.example.org",
            "https://user:pw@homeward.example.org",
            "https://homeward.example.org/?a=1",
            "https://homeward.example.org/#x",
            "https:// bad host",
        ] {
            let error = check_public_url(bad).unwrap_err().to_string();
            assert!(error.contains("HOMEWARD_PUBLIC_URL"), "{bad}: {error}");
        }
    }

    fn wechat(
        appid: Option<&str>,
        secret: Option<&str>,
        token: Option<&str>,
        aes: Option<&str>,
    ) -> WechatSettings {
        WechatSettings {
            appid: appid.map(str::to_owned),
            secret: secret.map(str::to_owned),
            token: token.map(str::to_owned),
            aes_key: aes.map(str::to_owned),
            ..WechatSettings::off()
        }
    }

    #[test]
    fn wechat_is_off_without_settings_and_on_with_the_three() {
        assert!(WechatSettings::off().config().unwrap().is_none());
        assert!(
            wechat(Some(" "), None, Some(""), None)
                .config()
                .unwrap()
                .is_none()
        );
        let on = wechat(Some("wx0123456789abcdef"), Some("s"), Some("tok123"), None)
            .config()
            .unwrap()
            .unwrap();
        assert_eq!(on.api_url, "https://api.weixin.qq.com");
        assert!(on.aes_key.is_none());
    }

    #[test]
    fn a_partial_wechat_configuration_names_what_is_missing() {
        let error = wechat(Some("wx0123456789abcdef"), None, None, None)
            .config()
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("HOMEWARD_WECHAT_SECRET, HOMEWARD_WECHAT_TOKEN"),
            "{error}"
        );
        let error = wechat(
            None,
            None,
            None,
            Some("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"),
        )
        .config()
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("HOMEWARD_WECHAT_APPID, HOMEWARD_WECHAT_SECRET, HOMEWARD_WECHAT_TOKEN"),
            "{error}"
        );
        for (settings, named) in [
            (
                wechat(Some("gh_nope"), Some("s"), Some("tok123"), None),
                "HOMEWARD_WECHAT_APPID",
            ),
            (
                wechat(Some("wx01"), Some("s"), Some("t"), None),
                "HOMEWARD_WECHAT_TOKEN",
            ),
            (
                wechat(Some("wx01"), Some("s"), Some("tok123"), Some("short")),
                "HOMEWARD_WECHAT_AES_KEY",
            ),
        ] {
            let error = settings.config().unwrap_err().to_string();
            assert!(error.starts_with(named), "{error}");
        }
    }
}
