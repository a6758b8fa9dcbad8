//! `homeward content check`: every kind of problem is found, all at once, as `path: field: message`.

use std::process::Command;

use crate::fixture::{self, write};

fn check(dir: &std::path::Path) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(["content", "check"])
        .arg(dir)
        .output()
        .expect("run homeward");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn valid_content_passes() {
    let dir = fixture::standard();
    let (code, out) = check(dir.path());
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 series, 4 lessons"), "{out}");
}

#[test]
fn the_sample_content_is_valid() {
    let (code, out) = check(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("content")
            .as_path(),
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let dir = fixture::standard();
    let root = dir.path();
    // A series with a bad timezone, weekday, time and a missing translation.
    write(
        root,
        "broken/series.toml",
        r#"audience = "parents"
timezone = "Mars/Olympus"
first_release = 2030-02-03
release_weekday = "someday"
release_time = "25:00"
[title]
zh = "标题"
[summary]
zh = "简介"
en = "Summary"
"#,
    );
    // A typo'd field.
    write(
        root,
        "broken/typo/lesson.toml",
        fixture::lesson_head(1, "article", "published", "Typo")
            .replace("[title]", "titel = 1\n[title]"),
    );
    // Missing media, an answer naming no choice, a single-choice with two answers, a missing
    // translation and a duplicate week.
    fixture::comic(root, "family", "bad-comic", 1, "published");
    std::fs::remove_file(root.join("family/bad-comic/p2.png")).unwrap();
    let lesson = root.join("family/bad-comic/lesson.toml");
    let text = std::fs::read_to_string(&lesson).unwrap();
    let text = text
        .replace("answer = [\"b\"]", "answer = [\"a\", \"z\"]")
        .replace("en = \"Second panel\"", "en = \"\"");
    std::fs::write(&lesson, text).unwrap();
    // An oversized image.
    fixture::comic(root, "family", "big-comic", 9, "published");
    write(root, "family/big-comic/p2.png", {
        let mut big = fixture::png();
        big.resize(400 * 1024, 0);
        big
    });
    // A file that is not what its name says.
    fixture::video(root, "family", "fake-video", 10, "published");
    write(root, "family/fake-video/clip.mp4", "not a video");
    // Bad dates.
    fixture::article(root, "family", "bad-time", 11, "published");
    let lesson = root.join("family/bad-time/lesson.toml");
    let text = std::fs::read_to_string(&lesson)
        .unwrap()
        .replace("week = 11", "week = 11\nrelease_at = 2030-01-01");
    std::fs::write(&lesson, text).unwrap();
    write(
        root,
        "baddate/series.toml",
        crate::fixture::series_toml("Asia/Shanghai", "2030-02-31", "mon", "20:00"),
    );

    let (code, out) = check(root);
    assert_eq!(code, 1, "{out}");
    let expect = [
        ("broken/series.toml", "timezone", "Mars/Olympus"),
        ("broken/series.toml", "release_weekday", "someday"),
        ("broken/series.toml", "release_time", "25:00"),
        ("broken/series.toml", "title.en", "missing"),
        ("broken/typo/lesson.toml", "titel", "unknown field"),
        ("family/bad-comic/lesson.toml", "panels[2].image", "missing"),
        (
            "family/bad-comic/lesson.toml",
            "quiz.questions[1].answer",
            "'z' names no choice",
        ),
        (
            "family/bad-comic/lesson.toml",
            "quiz.questions[1].answer",
            "exactly one answer",
        ),
        (
            "family/bad-comic/lesson.toml",
            "panels[2].caption.en",
            "missing",
        ),
        (
            "family/first-comic/lesson.toml",
            "week",
            "already used by lesson 'bad-comic'",
        ),
        ("family/big-comic/lesson.toml", "panels[2].image", "limit"),
        (
            "family/fake-video/lesson.toml",
            "video.file",
            "not a valid video/mp4",
        ),
    ];
    for (path, field, message) in expect {
        assert!(
            out.lines().any(|line| line.contains(path)
                && line.contains(&format!(": {field}: "))
                && line.contains(message)),
            "expected `{path}: {field}: …{message}…` in:\n{out}"
        );
    }
    assert!(
        out.contains(
            "family/bad-time/lesson.toml: release_at: '2030-01-01' must be a date and time"
        ),
        "{out}"
    );
    // An impossible date is refused by the TOML reader itself, with its line.
    assert!(
        out.lines()
            .any(|l| l.contains("baddate/series.toml: line 3:")),
        "{out}"
    );
}

#[test]
fn duplicate_slugs_cannot_exist_and_bad_folder_names_are_reported() {
    let dir = fixture::standard();
    fixture::article(dir.path(), "family", "Bad_Name", 7, "published");
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    assert!(
        out.contains("Bad_Name/lesson.toml: (folder name):"),
        "{out}"
    );
}

#[test]
fn unknown_fields_in_nested_tables_are_reported() {
    let dir = fixture::standard();
    let lesson = dir.path().join("family/first-comic/lesson.toml");
    let text = std::fs::read_to_string(&lesson)
        .unwrap()
        .replace("image = \"p1.svg\"", "image = \"p1.svg\"\ncolour = \"red\"");
    std::fs::write(&lesson, text).unwrap();
    let (code, out) = check(dir.path());
    assert_eq!(code, 1);
    assert!(
        out.contains("first-comic/lesson.toml: colour: unknown field"),
        "{out}"
    );
}

#[test]
fn pacing_is_calendar_or_from_join() {
    let dir = fixture::standard();
    write(
        dir.path(),
        "family/series.toml",
        fixture::series_toml_paced("Asia/Shanghai", "2030-01-07", "mon", "20:00", "weekly"),
    );
    let (code, out) = check(dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("family/series.toml: pacing: 'weekly' is not one of calendar, from-join"),
        "{out}"
    );
    for pacing in ["calendar", "from-join"] {
        write(
            dir.path(),
            "family/series.toml",
            fixture::series_toml_paced("Asia/Shanghai", "2030-01-07", "mon", "20:00", pacing),
        );
        let (code, out) = check(dir.path());
        assert_eq!(code, 0, "{pacing}: {out}");
    }
}

#[test]
fn a_prompt_that_repeats_the_pages_hint_is_flagged() {
    let dir = fixture::standard();
    let path = dir.path().join("family/third-article/lesson.toml");
    let toml = std::fs::read_to_string(&path).unwrap().replace(
        r#"prompt = { zh = "哪些对？", en = "Which are right?" }"#,
        r#"prompt = { zh = "哪些对？（可多选）", en = "Which are right? (Choose all that apply)" }"#,
    );
    std::fs::write(&path, toml).unwrap();
    let (code, out) = check(dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(
            "family/third-article/lesson.toml: quiz.questions[2].prompt: '可多选' repeats the hint"
        ),
        "{out}"
    );
    let english_only = std::fs::read_to_string(&path)
        .unwrap()
        .replace("哪些对？（可多选）", "哪些对？");
    std::fs::write(&path, english_only).unwrap();
    let (code, out) = check(dir.path());
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("'(choose' repeats the hint"), "{out}");
}
