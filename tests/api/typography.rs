//! Every word right in each language: the English pages a learner (or anyone) can see carry no
//! Chinese characters and no full-width punctuation outside what people typed themselves; and
//! the small things that read wrongly (plurals, repeated hints and titles, dates, bare numbers).

use std::sync::Arc;

use homeward::domain::learner::POLICY_VERSION;

use crate::helpers::{Options, TestApp, TestDatabase, phone_with};
use homeward::clock::Clock;

/// Chinese characters, and the full-width and CJK punctuation English text must not use.
fn is_chinese_typography(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303f}'   // CJK symbols and punctuation: 、。「」《》【】
        | '\u{3400}'..='\u{4dbf}' // CJK extension A
        | '\u{4e00}'..='\u{9fff}' // CJK unified ideographs
        | '\u{f900}'..='\u{faff}' // CJK compatibility ideographs
        | '\u{ff00}'..='\u{ffef}' // full-width forms: ，！？：；（）
    )
}

/// The elements of `html` marked `lang="{lang}…"`, each as (start, end) of its text.
fn marked(html: &str, lang: &str) -> Vec<(usize, usize)> {
    let needle = format!(" lang=\"{lang}");
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(i) = html[from..].find(&needle) {
        let at = from + i;
        let open = html[..at].rfind('<').expect("an element");
        let name: String = html[open + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        let tag_end = at + html[at..].find('>').expect("the end of the tag") + 1;
        let end = if ["track", "input", "img", "meta", "link"].contains(&name.as_str()) {
            tag_end
        } else {
            let close = format!("</{name}>");
            html[at..]
                .find(&close)
                .map_or(html.len(), |i| at + i + close.len())
        };
        found.push((open, end));
        from = end;
    }
    found
}

/// The page without the parts meant to be Chinese: elements marked `lang="zh…"` (the language
/// switch, the language choice, the Chinese captions' name).
fn without_chinese_parts(html: &str) -> String {
    let mut rest = html.to_owned();
    for (start, end) in marked(html, "zh").into_iter().rev() {
        rest.replace_range(start..end, "");
    }
    rest
}

/// The parts of a page in both languages that are marked English.
fn english_parts(html: &str) -> String {
    marked(html, "en")
        .into_iter()
        .map(|(start, end)| &html[start..end])
        .collect::<Vec<_>>()
        .join("\n")
}

/// What on `page` is not English typography, outside `user_content`.
fn problems(what: &str, page: &str, user_content: &[&str]) -> Vec<String> {
    let mut page = without_chinese_parts(page);
    for text in user_content {
        page = page.replace(text, "");
    }
    let chars: Vec<char> = page.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if is_chinese_typography(chars[i]) {
            // One report for a run of such characters.
            let mut end = i;
            while end < chars.len() && is_chinese_typography(chars[end]) {
                end += 1;
            }
            let from = i.saturating_sub(30);
            let to = (end + 10).min(chars.len());
            let run: String = chars[i..end].iter().collect();
            let context: String = chars[from..to].iter().collect();
            found.push(format!(
                "{what}: {run:?} in …{}…",
                context.replace('\n', " ")
            ));
            i = end;
        } else {
            i += 1;
        }
    }
    found
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no hidden {name}"))
        + marker.len();
    page[start..start + page[start..].find('"').unwrap()].to_owned()
}

/// A worker's phone in English: cookies kept, redirects not followed.
struct Phone<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    found: Vec<String>,
    pages: usize,
    user_content: Vec<&'static str>,
}

impl Phone<'_> {
    async fn check(&mut self, what: &str, response: reqwest::Response) -> String {
        let status = response.status();
        let is_html = response
            .headers()
            .get("content-type")
            .is_some_and(|t| t.to_str().unwrap_or_default().starts_with("text/html"));
        let page = response.text().await.unwrap();
        assert!(is_html, "{what} ({status}) is not a page: {page}");
        assert!(
            page.contains("<html lang=\"en\""),
            "{what} ({status}) is not in English"
        );
        self.found.extend(problems(what, &page, &self.user_content));
        self.pages += 1;
        page
    }

    /// A page shown in both languages at once (errors): its English parts.
    async fn get_bilingual(&mut self, path: &str) -> String {
        let response = self.client.get(self.app.url(path)).send().await.unwrap();
        let page = response.text().await.unwrap();
        let english = english_parts(&page);
        assert!(!english.is_empty(), "GET {path} has no English: {page}");
        self.found.extend(problems(
            &format!("GET {path} (English parts)"),
            &english,
            &self.user_content,
        ));
        self.pages += 1;
        page
    }

    async fn get(&mut self, path: &str) -> String {
        let response = self.client.get(self.app.url(path)).send().await.unwrap();
        self.check(&format!("GET {path}"), response).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (u16, String) {
        let response = self
            .client
            .post(self.app.url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        if response.status().is_redirection() {
            let location = response.headers()["location"].to_str().unwrap().to_owned();
            return (status, self.get(&location).await);
        }
        (status, self.check(&format!("POST {path}"), response).await)
    }
}

#[tokio::test]
async fn english_pages_have_no_chinese_characters_or_full_width_punctuation() {
    let content = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let db = TestDatabase::create().await;
    let now = chrono::Utc::now().to_rfc3339();
    let app = TestApp::spawn(&db, Options::new(&now, &content)).await;
    let code = app.make_code(None, None).await;
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let mut phone = Phone {
        app: &app,
        client: phone_with(jar),
        found: Vec::new(),
        pages: 0,
        // Typed by people: the factory's line (its name has one language).
        user_content: vec!["A3线"],
    };
    let switched = phone
        .client
        .get(app.url("/lang/en?next=/"))
        .send()
        .await
        .unwrap();
    assert_eq!(switched.status(), 303);

    // Anyone: the home page, every series, every lesson out, the family pages, help, errors.
    phone.get("/").await;
    let series = app.json("/api/v1/series").await;
    let mut lessons = Vec::new();
    for s in series.as_array().unwrap() {
        let slug = s["slug"].as_str().unwrap().to_owned();
        phone.get(&format!("/s/{slug}")).await;
        let detail = app.json(&format!("/api/v1/series/{slug}")).await;
        for lesson in detail["lessons"].as_array().unwrap() {
            let url = lesson["url"].as_str().unwrap();
            let path = &url[url.find("/s/").unwrap()..];
            lessons.push(path.to_owned());
        }
    }
    assert!(lessons.len() >= 8, "{lessons:?}");
    for lesson in &lessons {
        phone.get(lesson).await;
        phone.get(&lesson.replacen("/s/", "/f/", 1)).await;
    }
    phone.get("/help").await;
    phone.get("/recover").await;
    // Error pages speak both languages at once, the English marked as such.
    phone.get_bilingual("/s/no-such-series").await;

    // Joining: the form, a refused form, then the learner's own pages.
    let join = phone.get(&format!("/join/{}", code.token)).await;
    let csrf = hidden(&join, "csrf");
    let join_path = format!("/join/{}", code.token);
    let (status, _) = phone
        .post(&join_path, &[("csrf", &csrf), ("audience", "parents")])
        .await;
    assert_eq!(status, 400);
    let (status, _) = phone
        .post(
            &join_path,
            &[
                ("csrf", &csrf),
                ("accept_policy", POLICY_VERSION),
                ("audience", "parents"),
                ("nickname", "Wang"),
                ("lang", "en"),
            ],
        )
        .await;
    assert_eq!(status, 303, "joined");
    phone.get("/").await;
    let me = phone.get("/me").await;
    let csrf = hidden(&me, "csrf");
    for lesson in &lessons {
        let page = phone.get(lesson).await;
        if page.contains("id=\"quiz\"") {
            // A quiz answered with nothing picked: every right answer is shown.
            phone
                .post(&format!("{lesson}/quiz"), &[("csrf", &csrf)])
                .await;
        }
    }
    phone.post("/me/recovery-code", &[("csrf", &csrf)]).await;
    phone.post("/me/sign-out", &[("csrf", &csrf)]).await;

    // A code that no longer works.
    homeward::services::enrollment::revoke_code(&app.state.db, &code.token, app.clock.now())
        .await
        .unwrap();
    phone.get(&join_path).await;

    assert!(phone.pages >= 40, "only {} pages walked", phone.pages);
    assert!(
        phone.found.is_empty(),
        "Chinese typography on English pages:\n{}",
        phone.found.join("\n")
    );
}

#[test]
fn the_check_finds_chinese_outside_marked_parts() {
    let page = r#"<a class="lang" href="/lang/zh" lang="zh-CN">中文</a><track srclang="zh" label="中文" lang="zh-CN"><p>Hello，Wang</p><p>（Pick one）</p>"#;
    let found = problems("page", page, &[]);
    let runs: Vec<&str> = found.iter().map(|f| f.split('"').nth(1).unwrap()).collect();
    assert_eq!(runs, ["，", "（", "）"], "{found:?}");
    assert!(problems("page", "<p>Line A3线</p>", &["A3线"]).is_empty());
    let bilingual = r#"<h1>找不到</h1><h2 lang="en">Not found</h2><p lang="en">Gone。</p>"#;
    assert_eq!(problems("page", &english_parts(bilingual), &[]).len(), 1);
}
