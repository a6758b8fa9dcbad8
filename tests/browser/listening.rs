//! Listening to a lesson in the phone's browser: nothing is fetched before play, a panel's
//! button plays its recording, "listen" plays the lesson part by part, and without JavaScript
//! the page keeps plain audio controls.

use serde_json::json;

use crate::ONE_AT_A_TIME;
use crate::driver::{Browser, Device};
use crate::support::fixture::{self, WEEK3};
use crate::support::{Options, TestApp, TestDatabase};

const LESSON: &str = "/s/heard/first-comic";

/// The names of the recordings the page has fetched so far.
async fn audio_fetched(phone: &Browser) -> Vec<String> {
    let names = phone
        .execute(
            "return performance.getEntriesByType('resource').map(e => e.name)\
               .filter(n => n.endsWith('.mp3')).map(n => n.split('/').pop());",
        )
        .await;
    serde_json::from_value(names).unwrap()
}

/// Waits until the audio of panel `n` (1-based) has played a little: its position moved on
/// and the browser lists a played range.
async fn wait_until_panel_plays(phone: &Browser, n: usize) -> serde_json::Value {
    let mut state = json!(null);
    for _ in 0..100 {
        state = phone
            .execute_with(
                "const a = document.querySelectorAll('figure.panel audio')[arguments[0]];\
                 return { time: a.currentTime, played: a.played.length, paused: a.paused, error: a.error && a.error.code };",
                vec![json!(n - 1)],
            )
            .await;
        if state["time"].as_f64().unwrap_or(0.0) > 0.3 && state["played"].as_u64() >= Some(1) {
            return state;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("panel {n}'s audio never played: {state}");
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn a_panel_s_button_plays_its_recording() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let content = fixture::with_narrated_series();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let phone = Browser::launch(Device::Phone).await;

    phone.goto(&app.url(LESSON)).await;
    assert_eq!(phone.text("#listen-all").await, "▶ 听一听");
    assert!(
        audio_fetched(&phone).await.is_empty(),
        "no recording is fetched before play"
    );
    let controls = phone
        .execute("return [...document.querySelectorAll('audio')].filter(a => a.controls).length;")
        .await;
    assert_eq!(
        controls,
        json!(0),
        "the script puts large buttons in place of the controls"
    );

    // The second panel's own button.
    phone.tap("figure.panel:nth-of-type(2) button.play").await;
    let state = wait_until_panel_plays(&phone, 2).await;
    assert_eq!(state["paused"], json!(false), "{state}");
    assert_eq!(
        phone.text("figure.panel:nth-of-type(2) button.play").await,
        "❚❚ 暂停"
    );
    assert_eq!(audio_fetched(&phone).await, ["p2.zh.mp3"]);
    phone.screenshot("listen-1-panel").await;

    // "Listen" plays from the first panel, and stops the second.
    phone.tap("#listen-all").await;
    wait_until_panel_plays(&phone, 1).await;
    let second_paused = phone
        .execute("return document.querySelectorAll('figure.panel audio')[1].paused;")
        .await;
    assert_eq!(second_paused, json!(true));
    assert_eq!(phone.text("#listen-all").await, "❚❚ 暂停");
    phone.screenshot("listen-2-all").await;

    // Without JavaScript: plain audio controls, and still nothing fetched before play.
    phone
        .cdp(
            "Emulation.setScriptExecutionDisabled",
            json!({ "value": true }),
        )
        .await;
    phone.goto(&app.url(LESSON)).await;
    let plain = phone
        .execute(
            "return { controls: [...document.querySelectorAll('audio')].filter(a => a.controls && a.getBoundingClientRect().height > 0).length,\
                      buttons: [...document.querySelectorAll('button.play, #listen-all')].filter(b => b.getBoundingClientRect().height > 0).length };",
        )
        .await;
    assert_eq!(plain, json!({ "controls": 4, "buttons": 0 }));
    assert!(audio_fetched(&phone).await.is_empty());
    phone.screenshot("listen-3-no-script").await;

    phone.close().await;
    app.stop().await;
}

#[tokio::test]
#[ignore = "needs chromium and chromedriver; run with: cargo test --test browser -- --ignored"]
async fn the_family_page_reads_its_message_aloud() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let content = fixture::with_narrated_series();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let phone = Browser::launch(Device::Phone).await;
    phone.goto(&app.url("/f/heard/first-comic")).await;
    assert_eq!(
        phone.text(".family-message").await,
        "第1课要告诉家里人的话。"
    );
    assert!(audio_fetched(&phone).await.is_empty());
    let size = phone
        .execute("return parseFloat(getComputedStyle(document.querySelector('.family-message')).fontSize);")
        .await;
    assert!(size.as_f64().unwrap() >= 30.0, "very large type: {size}px");
    phone.tap(".family-page > .narration button.play").await;
    let mut state = json!(null);
    for _ in 0..100 {
        state = phone
            .execute("const a = document.querySelector('.family-page > .narration audio'); return { time: a.currentTime, played: a.played.length };")
            .await;
        if state["time"].as_f64().unwrap_or(0.0) > 0.3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        state["time"].as_f64().unwrap_or(0.0) > 0.3,
        "the message never played: {state}"
    );
    assert_eq!(audio_fetched(&phone).await, ["family.zh.mp3"]);
    phone.full_page_screenshot("family-page").await;
    phone.close().await;
    app.stop().await;
}
