//! Narration: audio per panel, article section, quiz question and family message in the content
//! format; `content check` and `content narrate`; players on the page that download nothing
//! before play; audio through the visibility-checked media route and the studio.

use std::path::Path;
use std::process::Command;

use homeward::services::staff::Role;

use crate::fixture::{self, WEEK3, write};
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::staff::{cookie, csrf, sign_in};

fn homeward(args: &[&str], dir: &Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(args)
        .arg(dir)
        .output()
        .expect("run homeward");
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn problems_of(dir: &Path) -> Vec<String> {
    match homeward::content::load_dir(dir) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

fn edit(dir: &Path, relative: &str, from: &str, to: &str) {
    let path = dir.join(relative);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{relative} has no {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn audio_fields_load_and_every_mistake_is_reported() {
    let dir = fixture::with_narrated_series();
    assert!(problems_of(dir.path()).is_empty());
    let series = homeward::content::load_dir(dir.path()).unwrap();
    let heard = series.iter().find(|s| s.slug.as_str() == "heard").unwrap();
    let lesson = &heard.lessons[0];
    let homeward::domain::LessonBody::Comic { panels } = &lesson.content.body else {
        panic!("a comic");
    };
    assert_eq!(panels[0].audio.zh.as_deref(), Some("p1.zh.mp3"));
    assert_eq!(panels[0].audio.en.as_deref(), Some("p1.en.mp3"));
    assert_eq!(panels[1].audio.en, None);
    let quiz = lesson.content.quiz.as_ref().unwrap();
    assert_eq!(quiz.questions[1].audio.zh.as_deref(), Some("q2.zh.mp3"));
    assert_eq!(
        lesson.content.family.audio.zh.as_deref(),
        Some("family.zh.mp3")
    );
    assert_eq!(
        lesson.content.family.text.en,
        "What lesson 1 tells the family at home."
    );
    assert!(
        lesson
            .media
            .iter()
            .any(|m| m.name == "q1.zh.mp3" && m.content_type == "audio/mpeg")
    );

    let root = dir.path();
    let toml = "heard/first-comic/lesson.toml";
    // English without Mandarin.
    edit(
        root,
        toml,
        "audio = { zh = \"p2.zh.mp3\" }",
        "audio = { en = \"p1.en.mp3\" }",
    );
    // A named file that is not there, and one that is not audio.
    edit(root, toml, "q1.zh.mp3", "q9.zh.mp3");
    edit(root, toml, "q2.zh.mp3", "p1.svg");
    // A family message that does not fit the card, and a lesson without one.
    edit(
        root,
        toml,
        "What lesson 1 tells",
        &format!("{} What lesson 1 tells", "Very long. ".repeat(20)),
    );
    edit(
        root,
        "family/second-video/lesson.toml",
        "[family_message]\nzh = \"第2课要告诉家里人的话。\"\nen = \"What lesson 2 tells the family at home.\"\n",
        "",
    );
    // An article whose audio does not match its sections.
    edit(
        root,
        "family/third-article/lesson.toml",
        "en = \"a.en.md\"\n",
        "en = \"a.en.md\"\naudio = { zh = [\"s1.zh.mp3\", \"s2.zh.mp3\"] }\n",
    );
    write(root, "family/third-article/s1.zh.mp3", fixture::mp3());
    write(root, "family/third-article/s2.zh.mp3", fixture::mp3());
    let problems = problems_of(root).join("\n");
    for (file, field, words) in [
        (toml, "panels[2].audio.zh", "Mandarin"),
        (toml, "quiz.questions[1].audio.zh", "missing"),
        (toml, "quiz.questions[2].audio.zh", "not allowed"),
        (toml, "family_message.en", "at most 180"),
        (
            "family/second-video/lesson.toml",
            "family_message",
            "is required",
        ),
        (
            "family/third-article/lesson.toml",
            "article.audio.zh",
            "2 file(s) for 1 section(s)",
        ),
    ] {
        assert!(
            problems.lines().any(|l| l.contains(file)
                && l.contains(&format!(": {field}:"))
                && l.contains(words)),
            "expected {file}: {field}: …{words}… in\n{problems}\n"
        );
    }
}

#[test]
fn a_lesson_s_audio_stays_under_300_kb() {
    let dir = fixture::with_narrated_series();
    let root = dir.path();
    // One file over the limit on its own…
    let mut big = fixture::mp3();
    big.resize(310 * 1024, 0);
    write(root, "heard/first-comic/q1.zh.mp3", &big);
    // …and files that are each small but too much together.
    let mut half = fixture::mp3();
    half.resize(160 * 1024, 0);
    fixture::narrated_comic(root, "heard", "second-comic", 2, "published");
    write(root, "heard/second-comic/p1.zh.mp3", &half);
    write(root, "heard/second-comic/p2.zh.mp3", &half);
    let problems = problems_of(root).join("\n");
    assert!(
        problems.contains("heard/first-comic/lesson.toml: quiz.questions[1].audio.zh: 'q1.zh.mp3' is 310 KB; the limit is 300 KB"),
        "{problems}"
    );
    assert!(
        problems
            .contains("heard/second-comic/lesson.toml: audio: the lesson's audio files add up to"),
        "{problems}"
    );
}

#[test]
fn content_check_reports_missing_audio_and_can_require_it() {
    let dir = fixture::with_narrated_series();
    let (code, out) = homeward(&["content", "check"], dir.path());
    assert_eq!(code, 0, "{out}");
    // The family series has no audio at all: every part is listed.
    for line in [
        "family/first-comic/lesson.toml: family_message.audio.zh: MISSING audio",
        "family/first-comic/lesson.toml: panels[2].audio.zh: MISSING audio",
        "family/second-video/lesson.toml: quiz.questions[1].audio.zh: MISSING audio",
        "family/third-article/lesson.toml: article.audio[1].zh: MISSING audio",
    ] {
        assert!(out.contains(line), "{line} in\n{out}");
    }
    assert!(
        !out.contains("heard/first-comic"),
        "the narrated lesson is complete:\n{out}"
    );
    assert!(out.contains("part(s) without audio"), "{out}");
    let (code, out) = homeward(&["content", "check", "--require-audio"], dir.path());
    assert_eq!(code, 1, "{out}");
}

#[test]
fn narrate_makes_the_missing_audio_and_never_replaces_a_recording() {
    let dir = fixture::standard();
    let root = dir.path();
    // Someone recorded the second panel themselves and put it where narrate would write.
    let recording = fixture::mp3();
    write(root, "family/first-comic/panel-2.zh.mp3", &recording);
    let (code, out) = homeward(&["content", "narrate"], root);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("family/first-comic: 4 made at")
            && out.contains("1 recording(s) in place named"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(root.join("family/first-comic/panel-2.zh.mp3")).unwrap(),
        recording,
        "the recording in place wins"
    );
    let toml = std::fs::read_to_string(root.join("family/first-comic/lesson.toml")).unwrap();
    for named in [
        "audio = { zh = \"family.zh.mp3\" }",
        "audio = { zh = \"panel-1.zh.mp3\" }",
        "audio = { zh = \"panel-2.zh.mp3\" }",
        "audio = { zh = \"quiz-q1.zh.mp3\" }",
    ] {
        assert!(toml.contains(named), "{named} in\n{toml}");
    }
    assert!(
        toml.contains("caption = { zh = \"第一格\", en = \"First panel\" }\n"),
        "the rest of the file is kept as it was written:\n{toml}"
    );
    let article = std::fs::read_to_string(root.join("family/third-article/lesson.toml")).unwrap();
    assert!(
        article.contains("audio = { zh = [\"article-1.zh.mp3\"] }"),
        "{article}"
    );
    // What was made is MP3, small, and everything now has audio.
    let made = std::fs::read(root.join("family/first-comic/panel-1.zh.mp3")).unwrap();
    assert!(
        made.starts_with(b"ID3") || (made[0] == 0xff && made[1] & 0xe0 == 0xe0),
        "an MP3"
    );
    for lesson in [
        "first-comic",
        "second-video",
        "third-article",
        "fourth-draft",
    ] {
        let total: u64 = std::fs::read_dir(root.join("family").join(lesson))
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".mp3"))
            .map(|e| e.metadata().unwrap().len())
            .sum();
        assert!(total > 0 && total < 300 * 1024, "{lesson}: {total} bytes");
    }
    let (code, out) = homeward(&["content", "check", "--require-audio"], root);
    assert_eq!(code, 0, "{out}");
    // A second run has nothing to do and changes nothing.
    let (code, out) = homeward(&["content", "narrate"], root);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 recording(s) made"), "{out}");
    assert_eq!(
        std::fs::read(root.join("family/first-comic/panel-1.zh.mp3")).unwrap(),
        made
    );
}

/// Every URL a browser fetches for `html` before anyone presses anything: stylesheets, icons,
/// scripts, images, posters, preloads, and media that may preload.
fn fetched_before_play(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        let name = tag.split_whitespace().next().unwrap_or_default();
        let attr = |key: &str| {
            let marker = format!(" {key}=\"");
            tag.find(&marker).map(|at| {
                let rest = &tag[at + marker.len()..];
                rest[..rest.find('"').unwrap()].to_owned()
            })
        };
        match name {
            "link" => urls.extend(attr("href")),
            "script" | "img" | "iframe" => urls.extend(attr("src")),
            "video" => urls.extend(attr("poster")),
            "audio" | "source" if attr("preload").as_deref() != Some("none") => {
                urls.extend(attr("src"))
            }
            _ => {}
        }
    }
    urls
}

#[tokio::test]
async fn every_panel_has_its_audio_and_nothing_downloads_before_play() {
    let content = fixture::with_narrated_series();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let page = app.text("/s/heard/first-comic").await;
    let figures: Vec<&str> = page.split("<figure class=\"panel\"").skip(1).collect();
    assert_eq!(figures.len(), 2);
    for (i, figure) in figures.iter().enumerate() {
        let figure = &figure[..figure.find("</figure>").unwrap()];
        assert!(
            figure.contains(&format!(
                "<audio controls preload=\"none\" src=\"/media/heard/first-comic/p{}.zh.mp3\" lang=\"zh-CN\">",
                i + 1
            )),
            "panel {} plays its own recording: {figure}",
            i + 1
        );
        assert!(figure.contains("听这一格"), "{figure}");
    }
    assert!(page.contains("id=\"listen-all\"") && page.contains("▶ 听一听"));
    assert!(page.contains("/media/heard/first-comic/q2.zh.mp3"));
    assert_eq!(
        page.matches("<audio ").count(),
        page.matches("preload=\"none\"").count()
    );
    assert!(!page.contains("rel=\"preload\""));
    // In English: the English recording where there is one, else the Mandarin, said so.
    let english = app.text("/s/heard/first-comic?lang=en").await;
    assert!(english.contains("src=\"/media/heard/first-comic/p1.en.mp3\" lang=\"en\""));
    assert!(english.contains("src=\"/media/heard/first-comic/p2.zh.mp3\" lang=\"zh-CN\""));
    assert!(english.contains("▶ Play this panel (in Mandarin)"));
    // The same lesson without audio, and with: before play, the same bytes are fetched.
    let plain = app.text("/s/family/first-comic").await;
    assert!(!plain.contains("<audio") && !plain.contains("listen-all"));
    let (mut weight_heard, mut weight_plain) = (0, 0);
    for (html, weight) in [(&page, &mut weight_heard), (&plain, &mut weight_plain)] {
        for url in fetched_before_play(html) {
            assert!(!url.ends_with(".mp3"), "{url} is fetched before play");
            let response = app.get(&url).await;
            assert_eq!(response.status(), 200, "{url}");
            *weight += response.bytes().await.unwrap().len();
        }
    }
    assert!(weight_plain > 0);
    assert_eq!(
        weight_heard, weight_plain,
        "the page weight before play does not change with audio"
    );
    assert!(
        page.len() < plain.len() + 2500,
        "the players' markup is small: {} vs {} bytes",
        page.len(),
        plain.len()
    );
}

#[tokio::test]
async fn audio_goes_through_the_media_route_with_ranges_and_only_once_released() {
    let content = fixture::with_narrated_series();
    fixture::narrated_comic(content.path(), "heard", "later", 9, "published");
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let whole = app.get("/media/heard/first-comic/p1.zh.mp3").await;
    assert_eq!(whole.status(), 200);
    assert_eq!(whole.headers()["content-type"], "audio/mpeg");
    assert_eq!(whole.bytes().await.unwrap().len(), fixture::mp3().len());
    let part = app
        .client
        .get(app.url("/media/heard/first-comic/p1.zh.mp3"))
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(
        part.bytes().await.unwrap().as_ref(),
        &fixture::mp3()[100..200]
    );
    assert_eq!(app.status("/media/heard/later/p1.zh.mp3").await, 404);
    let api = app.json("/api/v1/series/heard/lessons/first-comic").await;
    assert_eq!(
        api["panels"][0]["audio"]["en_url"],
        "/media/heard/first-comic/p1.en.mp3"
    );
    assert_eq!(
        api["quiz"]["questions"][0]["audio"]["zh_url"],
        "/media/heard/first-comic/q1.zh.mp3"
    );
    assert_eq!(
        api["family_audio"]["zh_url"],
        "/media/heard/first-comic/family.zh.mp3"
    );
}

#[tokio::test]
async fn an_article_is_heard_section_by_section() {
    let content = fixture::standard();
    let root = content.path();
    write(
        root,
        "family/third-article/a.zh.md",
        "# 标题\n\n开头。\n\n## 第二节\n\n第二节的话。\n",
    );
    edit(
        root,
        "family/third-article/lesson.toml",
        "en = \"a.en.md\"\n",
        "en = \"a.en.md\"\naudio = { zh = [\"s1.zh.mp3\", \"s2.zh.mp3\"] }\n",
    );
    write(root, "family/third-article/s1.zh.mp3", fixture::mp3());
    write(root, "family/third-article/s2.zh.mp3", fixture::mp3());
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, root)).await;
    let page = app.text("/s/family/third-article").await;
    let sections: Vec<&str> = page.split("<section class=\"part\">").skip(1).collect();
    assert_eq!(sections.len(), 2, "{page}");
    assert!(sections[0].contains("s1.zh.mp3") && sections[0].contains("<p>开头。</p>"));
    assert!(
        !sections[0].contains("<h1>标题</h1>"),
        "the title is shown once"
    );
    assert!(sections[1].contains("s2.zh.mp3") && sections[1].contains("<h2>第二节</h2>"));
    assert!(sections[1].contains("听这一段"));
    // The English text has one section, the Mandarin two: no Mandarin player is put beside it.
    let english = app.text("/s/family/third-article?lang=en").await;
    assert!(!english.contains("<audio"), "{english}");
}

#[tokio::test]
async fn editors_replace_audio_by_upload_within_the_budget() {
    let content = fixture::with_narrated_series();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    let edit_page = "/studio/s/heard/first-comic/edit";
    let csrf = csrf(&app, &editor, edit_page).await;
    let upload = |name: &'static str, bytes: Vec<u8>| {
        let (app, editor, csrf) = (&app, editor.clone(), csrf.clone());
        async move {
            let form = reqwest::multipart::Form::new()
                .text("csrf", csrf)
                .text("name", name)
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name("x.mp3"),
                );
            app.client
                .post(app.url("/studio/s/heard/first-comic/media"))
                .header("cookie", cookie(&editor))
                .multipart(form)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let mut recording = fixture::mp3();
    recording.extend_from_slice(&fixture::mp3()[..1000]);
    assert_eq!(upload("p2.zh.mp3", recording.clone()).await, 200);
    assert_eq!(
        app.get("/media/heard/first-comic/p2.zh.mp3")
            .await
            .bytes()
            .await
            .unwrap()
            .as_ref(),
        recording.as_slice()
    );
    // Not audio, or too much for the lesson: refused, nothing changes.
    assert_eq!(upload("p2.zh.mp3", b"not audio at all".to_vec()).await, 400);
    let mut big = fixture::mp3();
    big.resize(200 * 1024, 0);
    assert_eq!(upload("q1.zh.mp3", big).await, 400);
    assert_eq!(
        app.get("/media/heard/first-comic/q1.zh.mp3")
            .await
            .bytes()
            .await
            .unwrap()
            .len(),
        fixture::mp3().len()
    );
}

#[tokio::test]
async fn exported_content_keeps_its_audio() {
    let content = fixture::with_narrated_series();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let out = tempfile::tempdir().unwrap();
    homeward::services::export::export_all(&app.state.db, out.path())
        .await
        .unwrap();
    let series = homeward::content::load_dir(out.path()).unwrap_or_else(|p| panic!("{p:#?}"));
    let heard = series.iter().find(|s| s.slug.as_str() == "heard").unwrap();
    let original = homeward::content::load_dir(content.path()).unwrap();
    let original = original
        .iter()
        .find(|s| s.slug.as_str() == "heard")
        .unwrap();
    assert_eq!(heard.lessons[0].content, original.lessons[0].content);
    assert_eq!(heard.lessons[0].media, original.lessons[0].media);
}

#[test]
fn every_sample_lesson_can_be_heard_within_300_kb() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let (code, out) = homeward(&["content", "check", "--require-audio"], &dir);
    assert_eq!(code, 0, "{out}");
    let series = homeward::content::load_dir(&dir).unwrap();
    for s in &series {
        for lesson in &s.lessons {
            let audio: usize = lesson
                .media
                .iter()
                .filter(|m| m.content_type.starts_with("audio/"))
                .map(|m| m.bytes.len())
                .sum();
            assert!(
                audio > 0 && audio < 300 * 1024,
                "{}/{}: {audio} bytes",
                s.slug,
                lesson.slug
            );
        }
    }
}
