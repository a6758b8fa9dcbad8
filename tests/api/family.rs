//! Passing a lesson on: the family card scans to the family page; the family page needs no
//! sign-in and shows the message, its audio and the hotlines; neither exists before release,
//! even with a warm cache; the chat's news item.

use homeward::domain::Lang;

use crate::fixture::{self, WEEK2, WEEK3};
use crate::helpers::{Options, PUBLIC_URL, TestApp, TestDatabase, decode_qr};

async fn card(app: &TestApp, path: &str) -> image::GrayImage {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], "image/png");
    image::load_from_memory(&response.bytes().await.unwrap())
        .expect("a PNG")
        .to_luma8()
}

#[tokio::test]
async fn the_card_scans_to_the_family_page() {
    let content = fixture::with_narrated_series();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    for (series, lesson) in [
        ("heard", "first-comic"),
        ("family", "second-video"),
        ("family", "third-article"),
    ] {
        for lang in ["zh", "en"] {
            let image = card(&app, &format!("/s/{series}/{lesson}/card.png?lang={lang}")).await;
            assert_eq!(image.width(), 750);
            assert!(
                image.height() > 900 && image.height() < 2000,
                "{}",
                image.height()
            );
            assert_eq!(
                decode_qr(image.width() as usize, image.height() as usize, |x, y| {
                    image.get_pixel(x as u32, y as u32).0[0]
                }),
                format!("{PUBLIC_URL}/f/{series}/{lesson}"),
                "{series}/{lesson} in {lang}"
            );
        }
    }
    // Drawn once and kept: the same bytes again.
    let first = app
        .get("/s/heard/first-comic/card.png")
        .await
        .bytes()
        .await
        .unwrap();
    let again = app
        .get("/s/heard/first-comic/card.png")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(first, again);
    let english = app
        .get("/s/heard/first-comic/card.png?lang=en")
        .await
        .bytes()
        .await
        .unwrap();
    assert_ne!(first, english, "each language has its own card");
}

#[tokio::test]
async fn the_family_page_needs_no_sign_in_and_has_the_message_audio_and_hotlines() {
    let content = fixture::with_narrated_series();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let response = app.get("/f/heard/first-comic").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("<p class=\"family-message\">第1课要告诉家里人的话。</p>"),
        "{page}"
    );
    assert!(page.contains(
        "<audio controls preload=\"none\" src=\"/media/heard/first-comic/family.zh.mp3\""
    ));
    // The lesson's own audio, part by part, and one button for all of it.
    assert!(page.contains("/media/heard/first-comic/p1.zh.mp3") && page.contains("▶ 第2段"));
    assert!(page.contains("▶ 听整节课"));
    for number in ["110", "120", "12355", "12338", "12356"] {
        assert!(page.contains(&format!("href=\"tel:{number}\"")), "{number}");
    }
    assert!(page.contains("href=\"/help\""));
    assert!(page.contains("href=\"/s/heard/first-comic\""));
    assert!(
        !page.contains("hw-state") && !page.contains("/me\""),
        "nothing of an account"
    );
    let english = app.text("/f/heard/first-comic?lang=en").await;
    assert!(english.contains("What lesson 1 tells the family at home."));
    assert!(english.contains("This lesson: Comic first-comic"));
    assert!(english.contains("Call 12356"));
    // The lesson page leads to the card.
    let lesson = app.text("/s/heard/first-comic").await;
    assert!(
        lesson.contains("href=\"/s/heard/first-comic/card.png\"") && lesson.contains("转给家里人")
    );
}

#[tokio::test]
async fn family_pages_and_cards_are_404_before_release_even_with_a_warm_cache() {
    let content = fixture::standard();
    fixture::comic(content.path(), "family", "later-comic", 9, "published");
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    for path in [
        "/f/family/fourth-draft",
        "/s/family/fourth-draft/card.png",
        "/f/family/later-comic",
        "/s/family/later-comic/card.png",
        "/f/family/nothing-here",
        "/f/nowhere/first-comic",
    ] {
        assert_eq!(app.status(path).await, 404, "{path}");
    }
    // Week 3's lesson: seen at week 3, warm in every cache; then the clock goes back to week 2
    // (as on a server whose release was moved later): gone again at once.
    assert_eq!(app.status("/f/family/third-article").await, 200);
    assert_eq!(app.status("/s/family/third-article/card.png").await, 200);
    app.clock.set(WEEK2.parse().unwrap());
    assert_eq!(app.status("/f/family/third-article").await, 404);
    assert_eq!(app.status("/s/family/third-article/card.png").await, 404);
    // Unpublishing works the same way.
    app.clock.set(WEEK3.parse().unwrap());
    assert_eq!(app.status("/f/family/first-comic").await, 200);
    assert_eq!(app.status("/s/family/first-comic/card.png").await, 200);
    let lesson = homeward::services::lessons::catalog(&app.state)
        .await
        .unwrap()
        .series("family")
        .unwrap()
        .lessons[0]
        .id;
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.state.db,
        &format!("UPDATE lesson SET status = 'draft' WHERE id = {lesson}"),
    )
    .await
    .unwrap();
    homeward::services::lessons::content_changed(&app.state).await;
    assert_eq!(app.status("/f/family/first-comic").await, 404);
    assert_eq!(app.status("/s/family/first-comic/card.png").await, 404);
}

#[tokio::test]
async fn the_chat_forwards_a_news_item_only_for_released_lessons() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let item = homeward::services::family::news_item(&app.state, "family", "first-comic", Lang::Zh)
        .await
        .unwrap()
        .expect("released");
    assert_eq!(item.title, "转给家里人：第1课");
    assert_eq!(item.description, "第1课要告诉家里人的话。");
    assert_eq!(
        item.url,
        format!("{PUBLIC_URL}/f/family/first-comic?lang=zh")
    );
    assert_eq!(
        item.picture_url,
        format!("{PUBLIC_URL}/s/family/first-comic/card.png?lang=zh")
    );
    let english =
        homeward::services::family::news_item(&app.state, "family", "first-comic", Lang::En)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(english.title, "For the family: Comic first-comic");
    for (series, lesson) in [
        ("family", "fourth-draft"),
        ("family", "nope"),
        ("x", "first-comic"),
    ] {
        assert!(
            homeward::services::family::news_item(&app.state, series, lesson, Lang::Zh)
                .await
                .unwrap()
                .is_none()
        );
    }
}

#[tokio::test]
async fn a_server_without_the_font_answers_503_for_cards_and_still_serves_the_page() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let mut options = Options::new(WEEK3, content.path());
    options.card_fonts = Some(std::path::PathBuf::from("/nonexistent/fonts"));
    let app = TestApp::spawn(&db, options).await;
    assert_eq!(app.status("/s/family/first-comic/card.png").await, 503);
    assert_eq!(app.status("/f/family/first-comic").await, 200);
}
