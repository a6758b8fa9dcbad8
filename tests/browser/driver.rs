//! Headless Chromium through chromedriver, as a phone in WeChat or as an office PC.
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
use fantoccini::{Client, ClientBuilder, Locator};
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
        command
            .arg(format!("--port={port}"))
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

fn capabilities(device: Device, profile: &Path) -> fantoccini::wd::Capabilities {
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
    let capabilities = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "goog:chromeOptions": options,
    });
    match capabilities {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// One browser session. Call [`Browser::close`] at the end of a test; on a panic, dropping it
/// kills chromedriver and Chromium.
pub struct Browser {
    pub client: Client,
    pub device: Device,
    http: reqwest::Client,
    session: String,
    // Declared last: dropped after the client.
    driver: ChromeDriver,
}

impl Browser {
    pub async fn launch(device: Device) -> Browser {
        let mut driver = ChromeDriver::start();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("http client");
        driver.wait_ready(&http).await;
        let profile = driver.dir.path().join("profile");
        let client = ClientBuilder::rustls()
            .expect("TLS roots for the WebDriver client")
            .capabilities(capabilities(device, &profile))
            .connect(&driver.url())
            .await
            .unwrap_or_else(|error| {
                panic!(
                    "chromedriver could not start Chromium: {error}\n{INSTALL_HINT}\nchromedriver log:\n{}",
                    driver.log()
                )
            });
        let session = client
            .session_id()
            .await
            .expect("session id")
            .expect("a WebDriver session");
        Browser {
            client,
            device,
            http,
            session,
            driver,
        }
    }

    /// Ends the session (Chromium quits), then stops chromedriver.
    pub async fn close(self) {
        let Browser { client, driver, .. } = self;
        let _ = client.close().await;
        drop(driver);
    }

    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The path (and query) of the page the browser shows.
    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
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

    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self
            .client
            .wait()
            .at_most(TIMEOUT)
            .for_element(Locator::Css(css))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("no `{css}` on {}: {e}", self.path().await),
        }
    }

    pub async fn find_all(&self, css: &str) -> Vec<fantoccini::elements::Element> {
        self.client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find `{css}`: {e}"))
    }

    /// The visible text of the first element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        self.find(css).await.text().await.expect("element text")
    }

    pub async fn click(&self, css: &str) {
        if let Err(e) = self.find(css).await.click().await {
            panic!("click `{css}` on {}: {e}", self.path().await);
        }
    }

    pub async fn execute(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("run script: {e}\n{script}"))
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
        let png = self.client.screenshot().await.expect("screenshot");
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
        self.client
            .execute(
                "for (const i of document.querySelectorAll(arguments[0])) i.scrollIntoView(); window.scrollTo(0, 0);",
                vec![json!(css)],
            )
            .await
            .expect("scroll images into view");
        let started = Instant::now();
        loop {
            let state = self
                .client
                .execute(
                    "return Array.from(document.querySelectorAll(arguments[0])).map(i => [i.getAttribute('src'), i.complete, i.naturalWidth]);",
                    vec![json!(css)],
                )
                .await
                .expect("read images");
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
