//! Browser tests: the real app, driven by headless Chromium through chromedriver, as a worker
//! sees it on a phone in WeChat and as a line manager prints it on an office PC.
//!
//! They need `chromium` and `chromedriver` (Debian: `chromium`, `chromium-driver`), so they are
//! ignored by a plain `cargo test`; run them with
//!
//! ```sh
//! cargo test --test browser -- --ignored
//! ```
//!
//! A missing or broken browser fails them with a message; they never skip. Each test uses its
//! own database like the API tests (SQLite by default, PostgreSQL with
//! `HOMEWARD_TEST_DATABASE_URL`, Redis with `HOMEWARD_TEST_REDIS_URL`). Screenshots and the
//! printed poster are written to `target/screenshots/`.

mod driver;
mod listening;
#[path = "../support/mod.rs"]
mod support;
mod wechat;

use serde_json::json;

use crate::driver::{Browser, Device, screenshot_dir};
use crate::support::fixture::{self, WEEK2, WEEK3};
use crate::support::{Options, PUBLIC_URL, TestApp, TestDatabase};

/// One browser at a time: each test starts its own Chromium, and they are heavy.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The parents' lesson released in the week of `WEEK3` in the standard fixture.
const THIS_WEEKS_LESSON: &str = "/s/family/third-article";

/// Layout problems found on the way; a test reports them all at its end, after it has gone
/// through the whole flow.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    async fn check_fits_the_screen(&mut self, browser: &Browser, what: &str) {
        if let Some(overflow) = browser.horizontal_overflow().await {
            self.0.push(format!(
                "{what} is wider than the phone's screen: {overflow}"
            ));
        }
    }

    /// The text of `css` must sit on one line (a recovery code broken over lines is easy to
    /// copy wrongly).
    async fn check_one_line(&mut self, browser: &Browser, css: &str, what: &str) {
        let lines = browser
            .execute_with(
                "return document.querySelector(arguments[0]).getClientRects().length;",
                vec![json!(css)],
            )
            .await;
        if lines != json!(1) {
            self.0.push(format!(
                "{what} (`{css}`) is broken over {lines} lines on the phone's screen"
            ));
        }
    }

    fn assert_none(self) {
        assert!(
            self.0.is_empty(),
            "layout problems:\n- {}",
            self.0.join("\n- ")
        );
    }
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn a_worker_joins_from_a_qr_link_on_a_phone() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let token = app.make_code(None, None).await.token;
    let phone = Browser::launch(Device::Phone).await;
    let mut problems = Problems::default();

    let agent = phone.execute("return navigator.userAgent;").await;
    assert!(
        agent
            .as_str()
            .unwrap_or_default()
            .contains("MicroMessenger"),
        "the phone browses as WeChat: {agent}"
    );

    // The QR code's link: who the code belongs to, the privacy notice, the form.
    let join_path = format!("/join/{token}");
    phone.goto(&app.url(&join_path)).await;
    assert_eq!(phone.path().await, join_path);
    assert_eq!(phone.text("main h1").await, "加入归家课堂");
    let via = phone.text("main p.card").await;
    assert!(
        via.contains("东莞电子厂") && via.contains("A3线"),
        "the page says which factory and line the code is for: {via}"
    );
    phone.screenshot("join-1-page").await;
    phone.full_page_screenshot("join-1-page-full").await;
    problems
        .check_fits_the_screen(&phone, "the join page")
        .await;

    // Consent is not pre-ticked, and the browser will not send the form without it.
    let accept = phone.find("input[name=accept_policy]").await;
    assert!(!accept.is_selected().await, "consent is not pre-ticked");
    phone.tap("form button[type=submit]").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        phone.path().await,
        join_path,
        "the form is not sent without consent"
    );
    // The browser scrolls back to the box to tick: it must be in sight, not under the header.
    phone.screenshot("join-2-no-consent").await;
    if let Some(cover) = phone.covered("input[name=accept_policy]").await {
        problems.0.push(format!(
            "after tapping the join button without consent, the browser scrolls the consent \
             checkbox to the top of the screen, where the sticky header covers it: {cover}"
        ));
    }

    phone.tap("input[name=accept_policy]").await;
    assert!(accept.is_selected().await);
    let nickname = phone.find("input[name=nickname]").await;
    nickname.send_keys("小王").await;
    assert_eq!(nickname.prop("value").await.as_deref(), Some("小王"));
    assert!(
        phone
            .find("input[name=audience][value=parents]")
            .await
            .is_selected()
            .await,
        "the parents' lessons are chosen by default"
    );
    phone.screenshot("join-3-filled").await;

    // Joining lands on this week's lesson with a one-time welcome and the recovery code.
    phone.tap("form button[type=submit]").await;
    phone.wait_for_path(THIS_WEEKS_LESSON).await;
    let banner = phone.text("section.banner").await;
    assert!(banner.contains("欢迎加入"), "welcome banner: {banner}");
    let recovery_code = phone.text("section.banner code.code").await;
    assert!(
        recovery_code.trim().len() >= 8,
        "the banner shows the recovery code: {recovery_code:?}"
    );
    assert_eq!(phone.text("main h1").await, "第3课");
    problems
        .check_one_line(
            &phone,
            "section.banner code.code",
            "the recovery code in the welcome",
        )
        .await;
    phone.screenshot("join-4-lesson").await;
    phone.full_page_screenshot("join-4-lesson-full").await;
    problems
        .check_fits_the_screen(&phone, "the lesson page with the welcome banner")
        .await;

    phone.goto(&app.url(THIS_WEEKS_LESSON)).await;
    assert!(
        phone.find_all("section.banner").await.is_empty(),
        "the welcome shows once"
    );

    // "Me": the nickname, the factory and line; the recovery code was shown once and is not
    // shown again (only its hash is kept), but a new one can be made.
    phone.goto(&app.url("/me")).await;
    assert_eq!(phone.path().await, "/me");
    let facts = phone.text("dl.facts").await;
    for needle in ["小王", "东莞电子厂", "A3线"] {
        assert!(facts.contains(needle), "/me shows {needle:?}: {facts}");
    }
    let me_page = phone.text("main").await;
    assert!(
        !me_page.contains(recovery_code.trim()),
        "/me shows the recovery code again"
    );
    assert!(
        !phone
            .find_all("form[action='/me/recovery-code'] button")
            .await
            .is_empty(),
        "/me offers a new recovery code"
    );
    assert_eq!(
        phone
            .find("input[name=nickname]")
            .await
            .prop("value")
            .await
            .as_deref(),
        Some("小王")
    );
    for summary in phone.find_all("details summary").await {
        let text = summary.text().await;
        if text.contains("privacy") || text.contains("children") {
            problems.0.push(format!(
                "/me in Chinese lists a consent by its internal name: {text:?}"
            ));
        }
    }
    phone.screenshot("join-5-me").await;
    phone.full_page_screenshot("join-5-me-full").await;
    problems.check_fits_the_screen(&phone, "the /me page").await;

    phone.close().await;
    app.stop().await;
    problems.assert_none();
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn lesson_pages_work_without_javascript_and_render_comics() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let phone = Browser::launch(Device::Phone).await;
    let mut problems = Problems::default();

    // Turn off the pages' JavaScript, and check that it is off.
    phone
        .cdp(
            "Emulation.setScriptExecutionDisabled",
            json!({ "value": true }),
        )
        .await;
    phone
        .goto("data:text/html,<title>off</title><script>document.title='on'</script>")
        .await;
    assert_eq!(phone.title().await, "off", "page scripts are disabled");

    // A comic: every panel drawn, with its caption.
    phone.goto(&app.url("/s/family/first-comic")).await;
    assert_eq!(phone.text("main h1").await, "第1课");
    assert_eq!(phone.assert_images_loaded("figure.panel img").await, 2);
    let captions: Vec<String> = {
        let mut texts = Vec::new();
        for caption in phone.find_all("figure.panel figcaption").await {
            texts.push(caption.text().await);
        }
        texts
    };
    assert_eq!(captions, ["第一格", "第二格"]);
    let panel_width = phone
        .execute("return document.querySelector('figure.panel img').getBoundingClientRect().width;")
        .await;
    assert!(
        panel_width.as_f64().unwrap() > 300.0,
        "panels fill the phone's width: {panel_width}"
    );
    phone.screenshot("lesson-1-comic").await;
    phone.full_page_screenshot("lesson-1-comic-full").await;
    problems
        .check_fits_the_screen(&phone, "the comic lesson")
        .await;

    // The quiz, answered wrongly first: a plain form post, no script.
    phone.tap("input[name='q.q1'][value='a']").await;
    phone.tap("form#quiz button[type=submit]").await;
    phone.wait_for_path("/s/family/first-comic/quiz").await;
    assert_eq!(phone.text("main h1").await, "您的得分：0 / 2");
    assert_eq!(phone.find_all("section.result.fail").await.len(), 1);
    phone.screenshot("quiz-1-wrong").await;

    // Then right: a single choice and two of a multiple choice.
    phone.goto(&app.url("/s/family/first-comic")).await;
    phone.tap("input[name='q.q1'][value='b']").await;
    phone.tap("input[name='q.q2'][value='a']").await;
    phone.tap("input[name='q.q2'][value='c']").await;
    phone.screenshot("quiz-2-answered").await;
    phone.tap("form#quiz button[type=submit]").await;
    phone.wait_for_path("/s/family/first-comic/quiz").await;
    assert_eq!(phone.text("main h1").await, "您的得分：2 / 2");
    assert!(phone.text("section.result").await.contains("通过了"));
    assert_eq!(phone.find_all("ol.answers li.pass").await.len(), 2);
    let answers = phone.text("ol.answers").await;
    assert!(
        answers.contains("因为乙对。") && answers.contains("甲和丙对。"),
        "the result explains the answers: {answers}"
    );
    phone.screenshot("quiz-3-result").await;
    phone.full_page_screenshot("quiz-3-result-full").await;
    problems
        .check_fits_the_screen(&phone, "the quiz result")
        .await;

    // "Try again" jumps back to the quiz, which must show below the sticky header.
    phone.tap("a.button[href$='#quiz']").await;
    phone.wait_for_path("/s/family/first-comic").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    phone.screenshot("quiz-4-try-again").await;
    if let Some(cover) = phone.covered("form#quiz h2").await {
        problems.0.push(format!(
            "the quiz result's \"try again\" link jumps to #quiz, whose heading ends up under \
             the sticky header: {cover}"
        ));
    }

    phone.close().await;
    app.stop().await;
    problems.assert_none();
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn the_poster_prints_to_pdf() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let token = app.make_code(None, None).await.token;
    let join_url = format!("{PUBLIC_URL}/join/{token}");
    let pc = Browser::launch(Device::Desktop).await;
    let mut problems = Problems::default();

    pc.goto(&app.url(&format!("/qr/{token}/poster"))).await;
    assert_eq!(pc.assert_images_loaded("img.poster-qr").await, 1);
    assert_eq!(pc.text("main h1").await, "扫码加入归家课堂");
    assert!(pc.text(".poster-where").await.contains("东莞电子厂 · A3线"));
    assert_eq!(pc.text(".poster-url strong").await, join_url);

    // On screen, the QR code reads as the join link.
    let screen = pc.full_page_screenshot("poster-1-screen").await;
    assert_eq!(qr_in_png(&screen), join_url);

    // Printed: an A4 PDF of one page.
    let pdf = pc.print_a4().await;
    let pdf_path = screenshot_dir().join("poster.pdf");
    std::fs::write(&pdf_path, &pdf).expect("save the PDF");
    assert!(pdf.starts_with(b"%PDF"), "a PDF");
    assert_eq!(
        pdf_pages(&pdf),
        1,
        "the poster prints on one A4 page ({})",
        pdf_path.display()
    );

    // The printed QR code scans too (when poppler's pdftoppm is there to draw the page).
    let printed = screenshot_dir().join("poster-2-print");
    match std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "100", "-singlefile"])
        .arg(&pdf_path)
        .arg(&printed)
        .status()
    {
        Ok(status) if status.success() => {
            assert_eq!(qr_in_png(&printed.with_extension("png")), join_url);
        }
        Ok(status) => panic!("pdftoppm could not read the printed poster: {status}"),
        Err(_) => eprintln!("pdftoppm not installed (poppler-utils): not drawing the PDF"),
    }

    // Step 1 says where the code is; it must be where it says.
    let layout = pc
        .execute(
            "const qr = document.querySelector('img.poster-qr').getBoundingClientRect();\n\
             const steps = document.querySelector('ol.poster-steps').getBoundingClientRect();\n\
             return { qr_above_steps: qr.bottom <= steps.top, step1: document.querySelector('ol.poster-steps li').innerText };",
        )
        .await;
    let step1 = layout["step1"].as_str().unwrap_or_default().to_owned();
    if layout["qr_above_steps"] == json!(true)
        && (step1.contains("下面") || step1.contains("below"))
    {
        problems.0.push(format!(
            "the poster's step 1 says the QR code is below ({step1:?}), but it is printed above the steps"
        ));
    }
    pc.close().await;

    // A manager opening the poster link on a phone (to share it) can see it whole.
    let phone = Browser::launch(Device::Phone).await;
    phone.goto(&app.url(&format!("/qr/{token}/poster"))).await;
    phone.assert_images_loaded("img.poster-qr").await;
    phone.execute("window.scrollTo(0, 0);").await;
    phone.screenshot("poster-3-phone").await;
    problems
        .check_fits_the_screen(&phone, "the poster page")
        .await;
    phone.close().await;

    app.stop().await;
    problems.assert_none();
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn staff_plan_releases_and_share_codes() {
    use chrono::{Datelike, Duration, NaiveTime, TimeZone};
    use homeward::clock::Clock;
    use homeward::services::staff::Role;

    let _turn = ONE_AT_A_TIME.lock().await;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    // Week 2: `third-article` (week 3) is next week's lesson.
    let app = TestApp::spawn(&db, Options::new(WEEK2, content.path())).await;
    let (factory_id, line_id) = app.make_factory().await;
    app.add_staff(EDITOR, Role::Editor, None, STAFF_PASSWORD)
        .await;
    app.add_staff(MANAGER, Role::Manager, Some(factory_id), STAFF_PASSWORD)
        .await;
    let learner = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    let pc = Browser::launch(Device::Desktop).await;

    // The editor signs in and lands in the studio.
    pc.goto(&app.url("/staff/login")).await;
    assert_eq!(pc.text("main h1").await, "工作人员登录");
    type_into(&pc, "input[name=email]", EDITOR).await;
    type_into(&pc, "input[name=password]", STAFF_PASSWORD).await;
    pc.screenshot("staff-1-login").await;
    pc.tap("form[action='/staff/login'] button[type=submit]")
        .await;
    pc.wait_for_path("/studio").await;
    assert_eq!(pc.text("main h1").await, "课程编辑");

    // The family series' release calendar: next week's lesson is scheduled for Monday 21st.
    pc.tap("a[href='/studio/s/family']").await;
    pc.wait_for_path("/studio/s/family").await;
    let row = "form[action='/studio/s/family/third-article/reschedule']";
    let before = row_text(&pc, row).await;
    assert!(
        before.contains("待发布") && before.contains("1月21日（周一）20:00"),
        "week 3 is scheduled for Monday 20:00 next week: {before:?}"
    );

    // Bring it forward to tomorrow morning, Beijing time (the clock is Monday 20:00 there).
    let now = app.clock.now();
    let tomorrow = now.with_timezone(&chrono_tz::Asia::Shanghai).date_naive() + Duration::days(1);
    let at = NaiveTime::from_hms_opt(9, 30, 0).unwrap();
    let release = chrono_tz::Asia::Shanghai
        .from_local_datetime(&tomorrow.and_time(at))
        .single()
        .expect("a Beijing time")
        .with_timezone(&chrono::Utc);
    let date = tomorrow.format("%Y-%m-%d").to_string();
    fill_date_or_time(&pc, &format!("{row} input[name=date]"), &date).await;
    fill_date_or_time(&pc, &format!("{row} input[name=time]"), "09:30").await;
    pc.mark_page().await;
    pc.tap(&format!("{row} button[type=submit]")).await;
    pc.wait_for_new_page().await;
    assert_eq!(pc.path().await, "/studio/s/family");
    let shown = format!(
        "{}月{}日（周{}）09:30",
        tomorrow.month(),
        tomorrow.day(),
        ["一", "二", "三", "四", "五", "六", "日"]
            [tomorrow.weekday().num_days_from_monday() as usize]
    );
    let after = row_text(&pc, row).await;
    assert!(
        after.contains(&shown) && after.contains("待发布"),
        "the calendar shows the new release time {shown:?}, still scheduled: {after:?}"
    );
    assert_eq!(
        pc.find(&format!("{row} input[name=date]"))
            .await
            .prop("value")
            .await
            .as_deref(),
        Some(date.as_str())
    );
    pc.full_page_screenshot("staff-2-calendar").await;

    // The editor previews it as learners will see it, under a banner.
    pc.tap("a[href='/studio/preview/family/third-article']")
        .await;
    pc.wait_for_path("/studio/preview/family/third-article")
        .await;
    let banner = pc.text(".preview-banner").await;
    assert!(
        banner.contains("预览：学员现在看不到这一课") && banner.contains(&shown),
        "the preview banner says learners cannot see it yet, and when they will: {banner:?}"
    );
    assert_eq!(pc.text("main h1").await, "第3课");
    assert!(
        pc.text("main").await.contains("要多听孩子说话。"),
        "the preview shows the article"
    );
    pc.screenshot("staff-3-preview").await;

    // Learners cannot see it today, and can tomorrow after 09:30.
    let lesson_url = app.url(THIS_WEEKS_LESSON);
    let today = learner.get(&lesson_url).send().await.expect("GET lesson");
    assert_eq!(
        today.status(),
        reqwest::StatusCode::NOT_FOUND,
        "{THIS_WEEKS_LESSON} is hidden from learners before its new release time"
    );
    app.clock.set(release + Duration::minutes(1));
    let tomorrow_page = learner.get(&lesson_url).send().await.expect("GET lesson");
    assert_eq!(
        tomorrow_page.status(),
        reqwest::StatusCode::OK,
        "{THIS_WEEKS_LESSON} is out after its new release time ({release})"
    );
    let body = tomorrow_page.text().await.expect("lesson page");
    assert!(body.contains("第3课"), "the lesson page: {body}");

    // The manager signs in on the same PC after the editor (whose cookies go).
    pc.delete_cookies().await;
    pc.goto(&app.url("/staff/login")).await;
    type_into(&pc, "input[name=email]", MANAGER).await;
    type_into(&pc, "input[name=password]", STAFF_PASSWORD).await;
    pc.tap("form[action='/staff/login'] button[type=submit]")
        .await;
    let dashboard = format!("/manage/f/{factory_id}");
    pc.wait_for_path(&dashboard).await;
    assert_eq!(pc.text("main h1").await, "东莞电子厂 · 数据看板");
    assert!(
        pc.find_all("a[href$='/poster']").await.is_empty(),
        "the factory has no codes yet"
    );

    // A new code for line A3, for the canteen.
    let form = format!("form[action='/manage/f/{factory_id}/codes']");
    type_into(&pc, &format!("{form} input[name=label]"), "食堂海报").await;
    pc.find(&format!(
        "{form} select[name=line] option[value='{line_id}']"
    ))
    .await
    .click()
    .await;
    assert_eq!(
        pc.find(&format!("{form} select[name=line]"))
            .await
            .prop("value")
            .await,
        Some(line_id.to_string())
    );
    pc.mark_page().await;
    pc.tap(&format!("{form} button[type=submit]")).await;
    pc.wait_for_new_page().await;
    assert_eq!(pc.path().await, dashboard);
    let codes = pc
        .execute(
            "return Array.from(document.querySelectorAll('a[href$=\"/poster\"]')).map(a => {\n\
               const cells = a.closest('tr').querySelectorAll('td');\n\
               return { label: cells[0].innerText, line: cells[1].innerText, joins: cells[2].innerText, poster: a.getAttribute('href') };\n\
             });",
        )
        .await;
    let codes = codes.as_array().expect("a list of codes");
    assert_eq!(codes.len(), 1, "one code in the table: {codes:?}");
    let code = &codes[0];
    assert_eq!(code["label"], json!("✔ 食堂海报"), "{code}");
    assert_eq!(code["line"], json!("A3线"), "{code}");
    // No one has joined yet: a group under 5 is never shown, not even as 0.
    assert_eq!(code["joins"], json!("少于5人"), "{code}");
    let poster = code["poster"].as_str().expect("poster link").to_owned();
    let token = poster
        .strip_prefix("/qr/")
        .and_then(|p| p.strip_suffix("/poster"))
        .expect("/qr/{token}/poster")
        .to_owned();
    pc.full_page_screenshot("staff-4-dashboard").await;

    // Its poster: the factory and line, and a QR code that loaded and reads as the join link.
    pc.tap(&format!("a[href='{poster}']")).await;
    pc.wait_for_path(&poster).await;
    assert_eq!(pc.text("main h1").await, "扫码加入归家课堂");
    let whereabouts = pc.text(".poster-where").await;
    assert!(
        whereabouts.contains("东莞电子厂 · A3线") && whereabouts.contains("Dongguan Electronics"),
        "the poster names the factory and line: {whereabouts:?}"
    );
    assert_eq!(pc.assert_images_loaded("img.poster-qr").await, 1);
    let width = pc
        .execute("return document.querySelector('img.poster-qr').naturalWidth;")
        .await;
    assert!(
        width.as_u64().is_some_and(|w| w > 0),
        "the QR image has loaded: naturalWidth {width}"
    );
    let screen = pc.full_page_screenshot("staff-5-poster").await;
    assert_eq!(qr_in_png(&screen), format!("{PUBLIC_URL}/join/{token}"));

    pc.close().await;
    app.stop().await;
}

const EDITOR: &str = "editor@example.org";
const MANAGER: &str = "manager@example.org";
const STAFF_PASSWORD: &str = "correct horse battery";

/// Types `text` into the empty input `css`, and checks that it took it.
async fn type_into(browser: &Browser, css: &str, text: &str) {
    let input = browser.find(css).await;
    input.clear().await;
    input.send_keys(text).await;
    assert_eq!(
        input.prop("value").await.as_deref(),
        Some(text),
        "typed into `{css}`"
    );
}

/// Sets a date (`YYYY-MM-DD`) or time (`HH:MM`) input with the keyboard, as a person does.
///
/// What to type depends on the browser's locale (`1/15/2030` and `9:30 AM` in en-US,
/// `2030/1/15` and `09:30` in zh-CN), which the page's `Intl` tells: its fields, in order. The
/// browser moves to the next field by itself once one is full, except after a year (which may
/// have up to 6 digits), where the test presses the right arrow.
async fn fill_date_or_time(browser: &Browser, css: &str, value: &str) {
    const RIGHT_ARROW: char = '\u{E014}';
    let fields = browser
        .execute_with(
            r#"
const [value, kind] = arguments;
const options = kind === 'date'
  ? { year: 'numeric', month: 'numeric', day: 'numeric' }
  : { hour: 'numeric', minute: 'numeric' };
const moment = kind === 'date' ? new Date(value + 'T12:00:00') : new Date('2030-01-15T' + value + ':00');
return new Intl.DateTimeFormat(undefined, options).formatToParts(moment)
  .filter(p => p.type !== 'literal').map(p => [p.type, p.value]);
"#,
            vec![
                json!(value),
                json!(if value.contains(':') { "time" } else { "date" }),
            ],
        )
        .await;
    let fields = fields.as_array().expect("the fields of the input");
    let mut keys = String::new();
    for (i, field) in fields.iter().enumerate() {
        let (kind, text) = (field[0].as_str().unwrap(), field[1].as_str().unwrap());
        match kind {
            "dayPeriod" => keys.push_str(text),
            "year" => {
                keys.push_str(text);
                if i + 1 < fields.len() {
                    keys.push(RIGHT_ARROW);
                }
            }
            _ => keys.push_str(&format!("{text:0>2}")),
        }
    }
    let input = browser.find(css).await;
    input.clear().await;
    input.send_keys(&keys).await;
    assert_eq!(
        input.prop("value").await.as_deref(),
        Some(value),
        "typed {keys:?} (the fields {fields:?} of the browser's locale) into `{css}`"
    );
}

/// The text of the table row holding `css`.
async fn row_text(browser: &Browser, css: &str) -> String {
    browser.find(css).await;
    browser
        .execute_with(
            "return document.querySelector(arguments[0]).closest('tr').innerText;",
            vec![json!(css)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Pages in a PDF: page objects (`/Type /Page`, not `/Type /Pages`).
fn pdf_pages(pdf: &[u8]) -> usize {
    let mut pages = 0;
    for needle in [&b"/Type /Page"[..], &b"/Type/Page"[..]] {
        pages += pdf
            .windows(needle.len() + 1)
            .filter(|w| w.starts_with(needle) && w[needle.len()] != b's')
            .count();
    }
    pages
}

/// The text of the one QR code in a PNG file.
fn qr_in_png(path: &std::path::Path) -> String {
    let picture = image::open(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .to_luma8();
    let (width, height) = picture.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(width as usize, height as usize, |x, y| {
            picture.get_pixel(x as u32, y as u32)[0]
        });
    let grids = prepared.detect_grids();
    assert_eq!(
        grids.len(),
        1,
        "one QR code in {} (found {})",
        path.display(),
        grids.len()
    );
    grids[0]
        .decode()
        .unwrap_or_else(|e| panic!("decode the QR code in {}: {e}", path.display()))
        .1
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn a_new_learner_reads_watches_retries_and_sees_progress() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let token = app.make_code(None, None).await.token;
    let phone = Browser::launch(Device::Phone).await;
    let pause = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));

    // Join through the code's link; it lands on this week's lesson.
    phone.goto(&app.url(&format!("/join/{token}"))).await;
    phone.tap("input[name=accept_policy]").await;
    phone
        .find("input[name=nickname]")
        .await
        .send_keys("小李")
        .await;
    phone.tap("form button[type=submit]").await;
    phone.wait_for_path(THIS_WEEKS_LESSON).await;

    // The comic, read to the end slowly so that the script sees every panel.
    phone.goto(&app.url("/s/family/first-comic")).await;
    assert_eq!(phone.text("main h1").await, "第1课");
    assert!(
        !phone.find_all("#hw-state").await.is_empty(),
        "the lesson page carries the script's state for a learner"
    );
    assert_eq!(phone.assert_images_loaded("figure.panel img").await, 2);
    for step in 1..=5 {
        phone
            .execute_with(
                "window.scrollTo(0, document.body.scrollHeight * arguments[0] / 5);",
                vec![json!(step)],
            )
            .await;
        pause(400).await;
    }
    phone.screenshot("progress-1-comic").await;
    // Leaving the page sends the batch with sendBeacon on pagehide.
    phone.goto(&app.url("/me")).await;
    pause(1000).await;

    // The quiz: wrong first, then right.
    phone.goto(&app.url("/s/family/first-comic")).await;
    phone.tap("input[name='q.q1'][value='a']").await;
    phone.tap("form#quiz button[type=submit]").await;
    phone.wait_for_path("/s/family/first-comic/quiz").await;
    assert_eq!(phone.text("main h1").await, "您的得分：0 / 2");
    assert_eq!(phone.find_all("section.result.fail").await.len(), 1);
    phone.goto(&app.url("/s/family/first-comic")).await;
    phone.tap("input[name='q.q1'][value='b']").await;
    phone.tap("input[name='q.q2'][value='a']").await;
    phone.tap("input[name='q.q2'][value='c']").await;
    phone.tap("form#quiz button[type=submit]").await;
    phone.wait_for_path("/s/family/first-comic/quiz").await;
    assert_eq!(phone.text("main h1").await, "您的得分：2 / 2");
    assert!(phone.text("section.result").await.contains("通过了"));
    phone.screenshot("progress-2-quiz-retry").await;

    // The video lesson, opened (the fake video cannot play).
    phone.goto(&app.url("/s/family/second-video")).await;
    assert_eq!(phone.text("main h1").await, "第2课");
    pause(500).await;

    // Home: one of three lessons done, and a one-week streak.
    phone.goto(&app.url("/")).await;
    let home = phone.text("main").await;
    phone.screenshot("progress-3-home").await;
    phone.close().await;
    app.stop().await;
    assert!(
        home.contains("已完成 1 / 3 课"),
        "home shows the comic as done (panels seen by the script and quiz passed): {home}"
    );
    assert!(
        home.contains("已连续 1 周完成课程"),
        "home shows a one-week streak: {home}"
    );
}
