//! The sample content in `content/`: it imports, shows released and upcoming lessons whatever
//! today's date is, and every lesson page stays small for cheap phones.

use crate::helpers::{Options, TestApp, TestDatabase};

#[tokio::test]
async fn sample_lesson_pages_stay_under_30_kb_with_their_css() {
    let content = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let db = TestDatabase::create().await;
    let now = chrono::Utc::now().to_rfc3339();
    let app = TestApp::spawn(&db, Options::new(&now, &content)).await;
    let series = app.json("/api/v1/series").await;
    let series = series.as_array().unwrap();
    assert_eq!(series.len(), 3);
    for s in series {
        // The demo always has lessons out and lessons to come.
        assert!(s["released_count"].as_u64().unwrap() >= 1, "{s}");
        assert!(s["next_release_at"].is_string(), "{s}");
    }
    let home = app.text("/").await;
    let start = home.find("/static/app.").unwrap();
    let css_href = &home[start..start + home[start..].find('"').unwrap()];
    let css = app.get(css_href).await.bytes().await.unwrap().len();
    let mut pages = 0;
    for s in series {
        let slug = s["slug"].as_str().unwrap();
        let detail = app.json(&format!("/api/v1/series/{slug}")).await;
        for lesson in detail["lessons"].as_array().unwrap() {
            for lang in ["zh", "en"] {
                let url = format!("{}?lang={lang}", lesson["url"].as_str().unwrap());
                let html = app.get(&url).await.bytes().await.unwrap().len();
                assert!(html + css < 30 * 1024, "{url}: {html} B HTML + {css} B CSS");
                pages += 1;
            }
        }
    }
    assert!(pages >= 2 * 8, "only {pages} pages checked");
}
