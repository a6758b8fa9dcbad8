//! Headless Chromium through chromedriver, as a phone in WeChat or as an office PC.
//!
//! The browser is driven over the W3C WebDriver protocol with `reqwest` (plain HTTP to
//! chromedriver on 127.0.0.1), not with `fantoccini`: fantoccini's only TLS option here is
//! rustls, and its `ClientBuilder::rustls()` panics in this crate because rustls is compiled
//! with both the `ring` (from sqlx) and `aws-lc-rs` (from reqwest) providers and none is
//! installed as the process default. Chrome DevTools commands go through chromedriver's
//! `goog/cdp/execute`.
//!
//! Each [`Browser`] starts its own `chromedriver --port=N` (in its own process group, killed
//! with everything it started when the browser is dropped) and a Chromium session with a fresh
//! profile. A missing or broken chromedriver or Chromium fails the test with a message saying
//! what to install; it never skips. `CHROMEDRIVER` and `CHROME_BIN` override the programs used.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

/// The WeChat in-app browser on a mid-range Android phone.
pub const WECHAT_ANDROID_UA: &str = "Mozilla/5.0 (Linux; Android 12; M2102J2SC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/107.0.5304.141 Mobile Safari/537.36 XWEB/5023 MMWEBSDK/20230303 MMWEBID/1234 MicroMessenger/8.0.34.2340(0x2800223F) WeChat/arm64 Weixin NetType/4G Language/zh_CN ABI/arm64";

const INSTALL_HINT: &str = "install the Debian packages `chromium` and `chromium-driver` \
    (or set CHROMEDRIVER / CHROME_BIN), then run: cargo test --test browser -- --ignored";

const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// A 390×844 phone at 3× density, with WeChat's Android user agent and touch.
    Phone,
    /// A 1280×1000 desktop window (a line manager's office PC).
    Desktop,
}

impl Device {
    /// Device pixels per CSS pixel.
    fn pixel_ratio(self) -> f64 {
        match self {
            Device::Phone => 3.0,
            Device::Desktop => 1.0,
        }
    }
}

/// Where screenshots and PDFs go: `target/screenshots/` of this crate.
pub fn screenshot_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("create target/screenshots");
    dir
}

/// A chromedriver process; dropping it kills its whole process group (chromedriver and the
/// Chromium it started).
struct ChromeDriver {
    child: Child,
    port: u16,
    /// Holds `chromedriver.log` and the Chromium profile.
    dir: tempfile::TempDir,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        let program = std::env::var("CHROMEDRIVER")
            .ok()
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| "chromedriver".into());
        let dir = tempfile::tempdir().expect("temp dir for the browser");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("chromedriver.log")).expect("log file");
        let mut command = Command::new(&program);
        command.arg(format!("--port={port}"));
        if std::env::var_os("HOMEWARD_BROWSER_VERBOSE").is_some() {
            command.arg("--verbose");
        }
        command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
        let child = command.spawn().unwrap_or_else(|error| {
            panic!("cannot start `{program}` ({error}); the browser tests need it: {INSTALL_HINT}")
        });
        ChromeDriver { child, port, dir }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(self.dir.path().join("chromedriver.log")) {
            let _ = file.read_to_string(&mut text);
        }
        let tail: Vec<&str> = text.lines().rev().take(40).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// Waits until chromedriver answers `GET /status` with `ready: true`.
    async fn wait_ready(&mut self, http: &reqwest::Client) {
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "chromedriver exited at start ({status}); {INSTALL_HINT}\nchromedriver log:\n{}",
                    self.log()
                );
            }
            if let Ok(response) = http.get(format!("{}/status", self.url())).send().await
                && let Ok(body) = response.json::<Value>().await
                && body["value"]["ready"] == json!(true)
            {
                return;
            }
            if started.elapsed() > TIMEOUT {
                panic!(
                    "chromedriver did not answer on port {} within {TIMEOUT:?}\nchromedriver log:\n{}",
                    self.port,
                    self.log()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The group holds chromedriver and every Chromium process it started.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

fn capabilities(device: Device, profile: &Path) -> Value {
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-gpu".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--no-first-run".into(),
        "--disable-quic".into(),
        "--no-proxy-server".into(),
        "--lang=zh-CN".into(),
        format!("--user-data-dir={}", profile.display()),
    ];
    let mut options = json!({});
    match device {
        Device::Phone => {
            options["mobileEmulation"] = json!({
                "deviceMetrics": {
                    "width": 390,
                    "height": 844,
                    "pixelRatio": device.pixel_ratio(),
                    "mobile": true,
                    "touch": true,
                },
                "userAgent": WECHAT_ANDROID_UA,
            });
        }
        Device::Desktop => args.push("--window-size=1280,1000".into()),
    }
    options["args"] = json!(args);
    if let Some(binary) = std::env::var("CHROME_BIN")
        .ok()
        .filter(|v| !v.trim().is_empty())
    {
        options["binary"] = json!(binary);
    } else if Path::new("/usr/bin/chromium").exists() {
        options["binary"] = json!("/usr/bin/chromium");
    }
    json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "goog:chromeOptions": options,
    })
}

/// A WebDriver error, as chromedriver reports it.
#[derive(Debug)]
pub struct WebDriverError {
    pub error: String,
    pub message: String,
}

impl std::fmt::Display for WebDriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.message)
    }
}

/// The W3C WebDriver key of an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser session, driven over the W3C WebDriver protocol. Call [`Browser::close`] at the
/// end of a test; on a panic, dropping it kills chromedriver and Chromium.
pub struct Browser {
    pub device: Device,
    http: reqwest::Client,
    session: String,
    // Declared last: dropped after everything else.
    driver: ChromeDriver,
}

/// An element on the page the browser shows.
pub struct Element<'a> {
    browser: &'a Browser,
    id: String,
}

impl Browser {
    pub async fn launch(device: Device) -> Browser {
        let mut driver = ChromeDriver::start();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client");
        driver.wait_ready(&http).await;
        let profile = driver.dir.path().join("profile");
        let created = http
            .post(format!("{}/session", driver.url()))
            .json(&json!({ "capabilities": { "alwaysMatch": capabilities(device, &profile) } }))
            .send()
            .await;
        let answer: Result<Value, String> = match created {
            Ok(response) => response.json().await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let session = match &answer {
            Ok(body) => body["value"]["sessionId"].as_str().map(str::to_owned),
            Err(_) => None,
        };
        let Some(session) = session else {
            panic!(
                "chromedriver could not start Chromium: {}\n{INSTALL_HINT}\nchromedriver log:\n{}",
                match answer {
                    Ok(body) => format!(
                        "{}: {}",
                        body["value"]["error"].as_str().unwrap_or("no session"),
                        body["value"]["message"].as_str().unwrap_or_default()
                    ),
                    Err(e) => e,
                },
                driver.log()
            )
        };
        Browser {
            device,
            http,
            session,
            driver,
        }
    }

    /// Ends the session (Chromium quits), then stops chromedriver.
    pub async fn close(self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.driver.url(), self.session))
            .send()
            .await;
    }

    /// Sends a WebDriver command for this session: `path` is relative to `/session/{id}`.
    pub async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, WebDriverError> {
        let url = format!("{}/session/{}{path}", self.driver.url(), self.session);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.map_err(|e| WebDriverError {
            error: "no answer from chromedriver".into(),
            message: format!(
                "{method} {path}: {e}\nchromedriver log:\n{}",
                self.driver.log()
            ),
        })?;
        let ok = response.status().is_success();
        let body: Value = response.json().await.map_err(|e| WebDriverError {
            error: "not JSON".into(),
            message: e.to_string(),
        })?;
        let value = body["value"].clone();
        if ok {
            Ok(value)
        } else {
            Err(WebDriverError {
                error: value["error"]
                    .as_str()
                    .unwrap_or("unknown error")
                    .to_owned(),
                message: value["message"]
                    .as_str()
                    .unwrap_or_default()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
            })
        }
    }

    async fn get(&self, path: &str) -> Value {
        self.command(reqwest::Method::GET, path, None)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.command(reqwest::Method::POST, path, Some(body))
            .await
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn title(&self) -> String {
        self.get("/title")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The path (and query) of the page the browser shows.
    pub async fn path(&self) -> String {
        let url = self.get("/url").await;
        let url: reqwest::Url = url
            .as_str()
            .and_then(|u| u.parse().ok())
            .unwrap_or_else(|| panic!("a URL: {url}"));
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The page's URL for error messages; never panics.
    async fn where_now(&self) -> String {
        match self.command(reqwest::Method::GET, "/url", None).await {
            Ok(url) => url.as_str().unwrap_or_default().to_owned(),
            Err(e) => format!("(unknown page: {e})"),
        }
    }

    /// Waits until the browser shows `path`.
    pub async fn wait_for_path(&self, path: &str) {
        let started = Instant::now();
        loop {
            let now = self.path().await;
            if now == path {
                return;
            }
            if started.elapsed() > TIMEOUT {
                panic!("expected the browser at {path}, it stayed at {now}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Marks the page the browser shows now, so that [`Browser::wait_for_new_page`] can tell
    /// when another page (maybe at the same address, as after a form that redirects back) has
    /// replaced it.
    pub async fn mark_page(&self) {
        self.execute("window.__homewardOldPage = true;").await;
    }

    /// Waits until a page other than the one marked by [`Browser::mark_page`] has loaded.
    pub async fn wait_for_new_page(&self) {
        let started = Instant::now();
        loop {
            // While the page changes, scripts may fail to run: try again.
            let loaded = self
                .command(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(json!({
                        "script": "return document.readyState === 'complete' && !window.__homewardOldPage;",
                        "args": [],
                    })),
                )
                .await;
            if matches!(loaded, Ok(Value::Bool(true))) {
                return;
            }
            if started.elapsed() > TIMEOUT {
                panic!(
                    "no new page within {TIMEOUT:?}; the browser stayed at {}",
                    self.where_now().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Deletes every cookie of the page's site (as signing out of everything would).
    pub async fn delete_cookies(&self) {
        self.command(reqwest::Method::DELETE, "/cookie", None)
            .await
            .unwrap_or_else(|e| panic!("DELETE /cookie: {e}"));
    }

    fn element(&self, found: &Value) -> Element<'_> {
        Element {
            browser: self,
            id: found[ELEMENT_KEY]
                .as_str()
                .unwrap_or_else(|| panic!("an element reference: {found}"))
                .to_owned(),
        }
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn find(&self, css: &str) -> Element<'_> {
        let started = Instant::now();
        loop {
            match self
                .command(
                    reqwest::Method::POST,
                    "/element",
                    Some(json!({ "using": "css selector", "value": css })),
                )
                .await
            {
                Ok(found) => return self.element(&found),
                Err(e) if e.error == "no such element" && started.elapsed() < TIMEOUT => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("no `{css}` on {}: {e}", self.where_now().await),
            }
        }
    }

    /// Every element matching `css` now (maybe none).
    pub async fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let found = self
            .post(
                "/elements",
                json!({ "using": "css selector", "value": css }),
            )
            .await;
        found
            .as_array()
            .expect("a list of elements")
            .iter()
            .map(|f| self.element(f))
            .collect()
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await
    }

    /// Taps (on a phone) or clicks (on a PC) the first element matching `css`, as a person
    /// would: scrolled to the middle of the screen, then a touch or mouse press and release at
    /// its centre, which must not be covered by another element.
    ///
    /// This sends input through the DevTools protocol rather than WebDriver's "element click",
    /// because chromedriver's click waits on a page timer that never fires while page scripts
    /// are disabled.
    pub async fn tap(&self, css: &str) {
        self.find(css).await;
        let point = self
            .execute_with(
                r#"
const el = document.querySelector(arguments[0]);
el.scrollIntoView({ block: 'center', inline: 'nearest' });
const r = el.getBoundingClientRect();
const x = r.left + r.width / 2, y = r.top + r.height / 2;
const hit = document.elementFromPoint(x, y);
const ok = !!hit && (hit === el || el.contains(hit)
  || (el.labels && Array.from(el.labels).some(l => l.contains(hit))));
return { x, y, ok, hit: hit ? hit.outerHTML.slice(0, 160) : null };
"#,
                vec![json!(css)],
            )
            .await;
        assert!(
            point["ok"] == json!(true),
            "tapping `{css}` on {} would hit another element: {}",
            self.where_now().await,
            point["hit"]
        );
        let (x, y) = (&point["x"], &point["y"]);
        match self.device {
            Device::Phone => {
                self.cdp(
                    "Input.dispatchTouchEvent",
                    json!({ "type": "touchStart", "touchPoints": [{ "x": x, "y": y }] }),
                )
                .await;
                self.cdp(
                    "Input.dispatchTouchEvent",
                    json!({ "type": "touchEnd", "touchPoints": [] }),
                )
                .await;
            }
            Device::Desktop => {
                for kind in ["mousePressed", "mouseReleased"] {
                    self.cdp(
                        "Input.dispatchMouseEvent",
                        json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
                    )
                    .await;
                }
            }
        }
    }

    /// `None` when the centre of the first element matching `css` is visible where it is now
    /// on the screen; otherwise what covers it (e.g. a sticky header).
    pub async fn covered(&self, css: &str) -> Option<String> {
        self.find(css).await;
        let found = self
            .execute_with(
                r#"
const el = document.querySelector(arguments[0]);
const r = el.getBoundingClientRect();
const x = r.left + r.width / 2, y = r.top + r.height / 2;
if (y < 0 || y > window.innerHeight) return { ok: false, hit: 'off screen at y=' + Math.round(y) };
const hit = document.elementFromPoint(x, y);
const ok = !!hit && (hit === el || el.contains(hit)
  || (el.labels && Array.from(el.labels).some(l => l.contains(hit))));
return { ok, hit: hit ? hit.outerHTML.slice(0, 160) + ' at y=' + Math.round(y) : null };
"#,
                vec![json!(css)],
            )
            .await;
        if found["ok"] == json!(true) {
            None
        } else {
            Some(found["hit"].to_string())
        }
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page, returns its result.
    pub async fn execute_with(&self, script: &str, args: Vec<Value>) -> Value {
        self.command(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
        .await
        .unwrap_or_else(|e| panic!("run script: {e}\n{script}"))
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.execute_with(script, vec![]).await
    }

    /// Prints the page to PDF (WebDriver "Print Page") on A4 with 1 cm margins.
    pub async fn print_a4(&self) -> Vec<u8> {
        let pdf = self
            .post(
                "/print",
                json!({
                    "orientation": "portrait",
                    "page": { "width": 21.0, "height": 29.7 },
                    "margin": { "top": 1.0, "bottom": 1.0, "left": 1.0, "right": 1.0 },
                    "background": true,
                    "shrinkToFit": true,
                }),
            )
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(pdf.as_str().expect("base64 PDF"))
            .expect("base64 PDF")
    }

    /// Runs a Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        let response = self
            .http
            .post(format!(
                "{}/session/{}/goog/cdp/execute",
                self.driver.url(),
                self.session
            ))
            .json(&json!({ "cmd": cmd, "params": params }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.expect("CDP answer");
        assert!(status.is_success(), "CDP {cmd} failed: {status} {body}");
        body["value"].clone()
    }

    /// Saves what the screen shows (the first screenful on a phone) as `name`.png.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.get("/screenshot").await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64 screenshot"))
            .expect("base64 screenshot");
        assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("save screenshot");
        path
    }

    /// Saves the whole page, top to bottom, as `name`.png (at 2 device pixels per CSS pixel on
    /// a phone, to keep the file small).
    pub async fn full_page_screenshot(&self, name: &str) -> PathBuf {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let (width, height) = (
            size["width"].as_f64().expect("content width"),
            size["height"].as_f64().expect("content height"),
        );
        let scale = match self.device {
            Device::Phone => 2.0 / self.device.pixel_ratio(),
            Device::Desktop => 1.0,
        };
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({
                    "format": "png",
                    "captureBeyondViewport": true,
                    "clip": { "x": 0, "y": 0, "width": width, "height": height, "scale": scale },
                }),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("save screenshot");
        path
    }

    /// `None` when the page fits the screen's width; otherwise what sticks out.
    pub async fn horizontal_overflow(&self) -> Option<String> {
        let found = self
            .execute(
                r#"
const root = document.documentElement;
const limit = Math.min(root.clientWidth, window.innerWidth);
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  const r = el.getBoundingClientRect();
  if (r.width > 0 && (r.right > limit + 0.5 || r.left < -0.5)) {
    wide.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().replace(/\s+/g, '.') : '')
      + ' [' + Math.round(r.left) + '..' + Math.round(r.right) + ']');
  }
}
return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
         innerWidth: window.innerWidth, fits: document.documentElement.scrollWidth <= window.innerWidth
           && root.scrollWidth <= root.clientWidth, wide: wide.slice(0, 12) };
"#,
            )
            .await;
        if found["fits"] == json!(true) {
            None
        } else {
            Some(format!(
                "scrollWidth {} > viewport {} (innerWidth {}); sticking out: {}",
                found["scrollWidth"], found["clientWidth"], found["innerWidth"], found["wide"]
            ))
        }
    }

    /// Asserts that every `img` matching `css` has loaded and decoded (a broken image has a
    /// natural width of 0).
    pub async fn assert_images_loaded(&self, css: &str) -> usize {
        // Lazy images load once they come near the screen.
        self.execute_with(
            "for (const i of document.querySelectorAll(arguments[0])) i.scrollIntoView(); window.scrollTo(0, 0);",
            vec![json!(css)],
        )
        .await;
        let started = Instant::now();
        loop {
            let state = self
                .execute_with(
                    "return Array.from(document.querySelectorAll(arguments[0])).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);",
                    vec![json!(css)],
                )
                .await;
            let images = state.as_array().expect("a list").clone();
            assert!(!images.is_empty(), "no `{css}` on {}", self.path().await);
            if images.iter().all(|i| i[1] == json!(true)) {
                let broken: Vec<&Value> = images.iter().filter(|i| i[2] == json!(0)).collect();
                assert!(
                    broken.is_empty(),
                    "images that did not load on {}: {broken:?}",
                    self.path().await
                );
                return images.len();
            }
            if started.elapsed() > TIMEOUT {
                panic!("images still loading after {TIMEOUT:?}: {images:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Element<'_> {
    async fn get(&self, what: &str) -> Value {
        self.browser
            .get(&format!("/element/{}/{what}", self.id))
            .await
    }

    /// Types `text` into the element.
    pub async fn send_keys(&self, text: &str) {
        self.browser
            .post(
                &format!("/element/{}/value", self.id),
                json!({ "text": text }),
            )
            .await;
    }

    /// Empties an input (WebDriver "Element Clear").
    pub async fn clear(&self) {
        self.browser
            .post(&format!("/element/{}/clear", self.id), json!({}))
            .await;
    }

    /// WebDriver "Element Click": the way to pick an `option` of a `select` (whose list is
    /// drawn by the browser, outside the page, and cannot be tapped at a point).
    pub async fn click(&self) {
        self.browser
            .post(&format!("/element/{}/click", self.id), json!({}))
            .await;
    }

    pub async fn is_selected(&self) -> bool {
        self.get("selected").await == json!(true)
    }

    pub async fn text(&self) -> String {
        self.get("text")
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A DOM property as text (`None` when null).
    pub async fn prop(&self, name: &str) -> Option<String> {
        match self.get(&format!("property/{name}")).await {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        }
    }
}
