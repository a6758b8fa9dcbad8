//! Learner pages and media over HTTP: content, quiz form, language, caching headers, ranges.

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

async fn app(db: &TestDatabase, content: &tempfile::TempDir) -> TestApp {
    TestApp::spawn(db, Options::new(WEEK3, content.path())).await
}

#[tokio::test]
async fn a_comic_lesson_shows_panels_captions_and_a_quiz_form() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    let response = app.get("/s/family/first-comic").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-cache");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"<html lang="zh-CN">"#));
    assert!(page.contains("第一格") && page.contains(r#"alt="一个圆""#));
    // First panel eager, the rest lazy, all with sizes.
    let first = page.find("p1.svg").unwrap();
    let second = page.find("p2.png").unwrap();
    assert!(!page[first..second].contains("loading=\"lazy\""));
    assert!(page[second..].contains("loading=\"lazy\""));
    assert!(page.contains(r#"width="750" height="500""#));
    assert!(page.contains(
        r#"<form class="card quiz" id="quiz" method="post" action="/s/family/first-comic/quiz">"#
    ));
    assert!(page.contains(r#"type="radio" name="q.q1" value="b""#));
    assert!(page.contains(r#"type="checkbox" name="q.q2" value="c""#));
    // The answers are not in the page.
    assert!(!page.contains("因为乙对"));
}

#[tokio::test]
async fn english_is_one_switch_away_and_remembered() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    let page = app.text("/s/family/first-comic").await;
    assert!(page.contains(r#"href="/lang/en?next=/s/family/first-comic""#));
    let switch = app.get("/lang/en?next=/s/family/first-comic").await;
    assert_eq!(switch.status(), 303);
    assert_eq!(switch.headers()["location"], "/s/family/first-comic");
    let cookie = switch.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.starts_with("hw_lang=en;")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Lax")
    );
    let english = app
        .client
        .get(app.url("/s/family/first-comic"))
        .header("cookie", "hw_lang=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains(r#"<html lang="en">"#) && english.contains("First panel"));
    // No open redirect.
    let evil = app.get("/lang/en?next=//evil.example/").await;
    assert_eq!(evil.headers()["location"], "/");
    assert_eq!(app.status("/lang/fr").await, 404);
}

#[tokio::test]
async fn video_and_article_lessons_render() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    let video = app.text("/s/family/second-video?lang=en").await;
    for needle in [
        "playsinline",
        "x5-playsinline",
        r#"preload="none""#,
        r#"poster="/media/family/second-video/poster.svg""#,
        r#"src="/media/family/second-video/clip.mp4""#,
        r#"srclang="en" label="English" src="/media/family/second-video/cap.en.vtt" default"#,
        "The transcript",
        // The length says what it is.
        "<p class=\"meta\">Video, 0:42</p>",
    ] {
        assert!(video.contains(needle), "missing {needle}");
    }
    let video_zh = app.text("/s/family/second-video").await;
    assert!(
        video_zh.contains("<p class=\"meta\">视频 0:42</p>"),
        "{video_zh}"
    );
    let article = app.text("/s/family/third-article?lang=en").await;
    assert!(
        article.contains("<p>Listen to your child.</p>"),
        "{article}"
    );
    // The page's heading is the lesson's title; the article's own `#` title is not shown again.
    assert!(!article.contains("<h1>Heading</h1>"), "{article}");
    assert_eq!(article.matches("<h1").count(), 1, "{article}");
    assert!(
        !article.contains("<script>alert"),
        "raw HTML from Markdown must be removed"
    );
}

#[tokio::test]
async fn the_quiz_form_is_graded_with_answers_and_explanations() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    let response = app
        .client
        .post(app.url("/s/family/first-comic/quiz?lang=en"))
        .body("q.q1=b&q.q2=a&q.q2=c")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Your score: 2 / 2"), "{page}");
    assert!(page.contains("You passed"));
    assert!(page.contains("Because B is right.") && page.contains("A and C are right."));

    let failed = app
        .client
        .post(app.url("/s/family/first-comic/quiz"))
        .form(&[("q.q1", "a")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(failed.contains("您的得分：0 / 2"));
    assert!(failed.contains("正确答案：乙") && failed.contains("没有作答"));
    // Several right answers are listed with each language's own separator.
    assert!(failed.contains("正确答案：甲；丙"), "{failed}");
    let failed_en = app
        .client
        .post(app.url("/s/family/first-comic/quiz?lang=en"))
        .form(&[("q.q1", "a")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(failed_en.contains("Right answer: A; C"), "{failed_en}");
}

#[tokio::test]
async fn the_quiz_hint_shows_once_in_each_languages_brackets() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    let zh = app.text("/s/family/first-comic").await;
    assert_eq!(zh.matches("（选一个）").count(), 1, "{zh}");
    assert_eq!(zh.matches("（可以选多个）").count(), 1, "{zh}");
    let en = app.text("/s/family/first-comic?lang=en").await;
    assert_eq!(en.matches("(Pick one)").count(), 1, "{en}");
    assert_eq!(en.matches("(Pick all that apply)").count(), 1, "{en}");
    assert!(!en.contains('（') && !en.contains('）'), "{en}");
}

#[tokio::test]
async fn malformed_quiz_forms_get_a_friendly_400() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    for body in ["q.q1=z", "q.q9=a", "q.q1=a&q.q1=b", "hack=1"] {
        let response = app
            .client
            .post(app.url("/s/family/first-comic/quiz"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{body}");
        let page = response.text().await.unwrap();
        assert!(page.contains("请求有误") && page.contains("Something in the request was wrong"));
    }
}

#[tokio::test]
async fn unknown_pages_get_a_bilingual_404_with_security_headers() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    for path in [
        "/s/nope",
        "/s/family/nope",
        "/media/family/first-comic/nope.svg",
        "/no/such/page",
        "/static/app.css",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("object-src 'none'")
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(headers.contains_key("referrer-policy"));
        assert!(headers.contains_key("x-request-id"));
        let page = response.text().await.unwrap();
        if path != "/static/app.css" {
            assert!(
                page.contains("找不到这个页面") && page.contains("Page not found"),
                "{path}"
            );
        }
    }
}

#[tokio::test]
async fn media_support_revalidation_and_byte_ranges() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    let path = "/media/family/second-video/clip.mp4";
    let full = app.get(path).await;
    assert_eq!(full.status(), 200);
    assert_eq!(full.headers()["content-type"], "video/mp4");
    assert_eq!(full.headers()["accept-ranges"], "bytes");
    let etag = full.headers()["etag"].to_str().unwrap().to_owned();
    assert!(full.headers().contains_key("last-modified"));
    let bytes = full.bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), fixture::mp4().as_slice());

    let range = |value: &'static str| app.client.get(app.url(path)).header("range", value).send();
    let part = range("bytes=100-199").await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.headers()["content-range"],
        format!("bytes 100-199/{}", bytes.len())
    );
    assert_eq!(part.bytes().await.unwrap().as_ref(), &bytes[100..200]);
    let tail = range("bytes=-10").await.unwrap();
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.unwrap().as_ref(),
        &bytes[bytes.len() - 10..]
    );
    let open = range("bytes=5000-").await.unwrap();
    assert_eq!(open.status(), 206);
    assert_eq!(open.bytes().await.unwrap().len(), bytes.len() - 5000);
    let beyond = range("bytes=999999-").await.unwrap();
    assert_eq!(beyond.status(), 416);
    assert_eq!(
        beyond.headers()["content-range"],
        format!("bytes */{}", bytes.len())
    );

    let cached = app
        .client
        .get(app.url(path))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    let svg = app.get("/media/family/first-comic/p1.svg").await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(
        svg.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    let vtt = app.get("/media/family/second-video/cap.en.vtt").await;
    assert!(
        vtt.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/vtt")
    );
}

#[tokio::test]
async fn static_assets_have_hashed_names_and_a_long_cache() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = app(&db, &content).await;
    let page = app.text("/").await;
    let start = page.find("/static/app.").unwrap();
    let href = &page[start..start + page[start..].find('"').unwrap()];
    assert!(
        href.ends_with(".css") && href.len() > "/static/app..css".len() + 8,
        "{href}"
    );
    let css = app.get(href).await;
    assert_eq!(css.status(), 200);
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
}
