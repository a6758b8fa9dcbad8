//! Content folders written by tests, with release dates the tests control. Shared by the API
//! and browser test binaries.
//!
//! The standard fixture: series `family` (Asia/Shanghai, Mondays 20:00 from 2030-01-07), so
//! week 1 is out at 2030-01-07T12:00Z, week 2 at 2030-01-14T12:00Z, week 3 at 2030-01-21T12:00Z;
//! week 4 is a draft.

use std::path::Path;

pub const WEEK1: &str = "2030-01-07T12:00:00Z";
pub const WEEK2: &str = "2030-01-14T12:00:00Z";
pub const WEEK3: &str = "2030-01-21T12:00:00Z";

pub fn write(root: &Path, relative: &str, bytes: impl AsRef<[u8]>) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A calendar-paced series (everyone on the week's lesson), which most tests assume.
pub fn series_toml(timezone: &str, first_release: &str, weekday: &str, time: &str) -> String {
    series_toml_paced(timezone, first_release, weekday, time, "calendar")
}

/// A series with the given `pacing` ("calendar" or "from-join").
pub fn series_toml_paced(
    timezone: &str,
    first_release: &str,
    weekday: &str,
    time: &str,
    pacing: &str,
) -> String {
    format!(
        r#"audience = "parents"
timezone = "{timezone}"
first_release = {first_release}
release_weekday = "{weekday}"
release_time = "{time}"
pacing = "{pacing}"

[title]
zh = "家庭课堂"
en = "Family lessons"

[summary]
zh = "每周一课。"
en = "A lesson a week."
"#
    )
}

pub const QUIZ: &str = r#"
[quiz]
pass_mark = 2

[[quiz.questions]]
id = "q1"
kind = "single"
prompt = { zh = "哪个对？", en = "Which is right?" }
answer = ["b"]
explanation = { zh = "因为乙对。", en = "Because B is right." }
choices = [
  { id = "a", zh = "甲", en = "A" },
  { id = "b", zh = "乙", en = "B" },
]

[[quiz.questions]]
id = "q2"
kind = "multiple"
prompt = { zh = "哪些对？", en = "Which are right?" }
answer = ["a", "c"]
explanation = { zh = "甲和丙对。", en = "A and C are right." }
choices = [
  { id = "a", zh = "甲", en = "A" },
  { id = "b", zh = "乙", en = "B" },
  { id = "c", zh = "丙", en = "C" },
]
"#;

pub fn lesson_head(week: u32, kind: &str, status: &str, title_en: &str) -> String {
    format!(
        r#"week = {week}
kind = "{kind}"
status = "{status}"

[title]
zh = "第{week}课"
en = "{title_en}"

[summary]
zh = "简介"
en = "Summary of {title_en}"

[family_message]
zh = "第{week}课要告诉家里人的话。"
en = "What lesson {week} tells the family at home."
"#
    )
}

pub const SVG: &str = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>"#;

/// A real 750×500 PNG (a sky over green hills), so that a browser can decode and draw it.
pub fn png() -> Vec<u8> {
    let picture = image::RgbImage::from_fn(750, 500, |x, y| {
        let hill = 330.0 + 40.0 * ((x as f32) / 90.0).sin();
        if (y as f32) > hill {
            image::Rgb([6, 115, 58])
        } else {
            image::Rgb([200, 225, 245])
        }
    });
    let mut bytes = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("encode PNG");
    bytes.into_inner()
}

/// Not a playable film, but an MP4 by its header, and long enough for range requests.
pub fn mp4() -> Vec<u8> {
    let mut bytes = vec![0, 0, 0, 0x18];
    bytes.extend_from_slice(b"ftypmp42");
    bytes.extend((0..5000u32).map(|i| (i % 251) as u8));
    bytes
}

pub fn comic(root: &Path, series: &str, slug: &str, week: u32, status: &str) {
    let dir = format!("{series}/{slug}");
    let mut toml = lesson_head(week, "comic", status, &format!("Comic {slug}"));
    toml.push_str(
        r#"
[[panels]]
image = "p1.svg"
caption = { zh = "第一格", en = "First panel" }
alt = { zh = "一个圆", en = "A circle" }

[[panels]]
image = "p2.png"
width = 750
height = 500
caption = { zh = "第二格", en = "Second panel" }
alt = { zh = "一张图", en = "A picture" }
"#,
    );
    toml.push_str(QUIZ);
    write(root, &format!("{dir}/lesson.toml"), toml);
    write(root, &format!("{dir}/p1.svg"), SVG);
    write(root, &format!("{dir}/p2.png"), png());
}

pub fn video(root: &Path, series: &str, slug: &str, week: u32, status: &str) {
    let dir = format!("{series}/{slug}");
    let mut toml = lesson_head(week, "video", status, &format!("Video {slug}"));
    toml.push_str(
        r#"
[video]
file = "clip.mp4"
poster = "poster.svg"
duration_seconds = 42
captions = { zh = "cap.zh.vtt", en = "cap.en.vtt" }
transcript = { zh = "文字稿", en = "The transcript" }
"#,
    );
    toml.push_str(QUIZ);
    write(root, &format!("{dir}/lesson.toml"), toml);
    write(root, &format!("{dir}/clip.mp4"), mp4());
    write(root, &format!("{dir}/poster.svg"), SVG);
    write(
        root,
        &format!("{dir}/cap.zh.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:02.000\n你好\n",
    );
    write(
        root,
        &format!("{dir}/cap.en.vtt"),
        "WEBVTT\n\n00:00.000 --> 00:02.000\nHello\n",
    );
}

pub fn article(root: &Path, series: &str, slug: &str, week: u32, status: &str) {
    let dir = format!("{series}/{slug}");
    let mut toml = lesson_head(week, "article", status, &format!("Article {slug}"));
    toml.push_str("\n[article]\nzh = \"a.zh.md\"\nen = \"a.en.md\"\n");
    toml.push_str(QUIZ);
    write(root, &format!("{dir}/lesson.toml"), toml);
    write(
        root,
        &format!("{dir}/a.zh.md"),
        "# 标题\n\n要多听孩子说话。\n",
    );
    write(
        root,
        &format!("{dir}/a.en.md"),
        "# Heading\n\nListen to your child.\n\n<script>alert('x')</script>\n",
    );
}

/// The standard fixture described at the top of this file.
pub fn standard() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "family/series.toml",
        series_toml("Asia/Shanghai", "2030-01-07", "mon", "20:00"),
    );
    comic(root, "family", "first-comic", 1, "published");
    video(root, "family", "second-video", 2, "published");
    article(root, "family", "third-article", 3, "published");
    article(root, "family", "fourth-draft", 4, "draft");
    dir
}

/// The standard fixture with its series paced from joining instead of by the calendar.
pub fn paced_from_join() -> tempfile::TempDir {
    let dir = standard();
    write(
        dir.path(),
        "family/series.toml",
        series_toml_paced("Asia/Shanghai", "2030-01-07", "mon", "20:00", "from-join"),
    );
    dir
}

/// A real MP3 (a panel of the sample content read aloud), so that a browser can play it.
pub fn mp3() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("content/parents/video-calls/panel-1.zh.mp3"),
    )
    .expect("the sample content's narration")
}

/// A comic like `comic`, with every part read aloud: Mandarin for the family message, the
/// panels and the questions, English for the first panel too.
pub fn narrated_comic(root: &Path, series: &str, slug: &str, week: u32, status: &str) {
    comic(root, series, slug, week, status);
    let dir = format!("{series}/{slug}");
    let path = root.join(&dir).join("lesson.toml");
    let toml = std::fs::read_to_string(&path).unwrap();
    let toml = toml
        .replace(
            &format!("What lesson {week} tells the family at home.\"\n"),
            &format!(
                "What lesson {week} tells the family at home.\"\naudio = {{ zh = \"family.zh.mp3\" }}\n"
            ),
        )
        .replace(
            "alt = { zh = \"一个圆\", en = \"A circle\" }\n",
            "alt = { zh = \"一个圆\", en = \"A circle\" }\naudio = { zh = \"p1.zh.mp3\", en = \"p1.en.mp3\" }\n",
        )
        .replace(
            "alt = { zh = \"一张图\", en = \"A picture\" }\n",
            "alt = { zh = \"一张图\", en = \"A picture\" }\naudio = { zh = \"p2.zh.mp3\" }\n",
        )
        .replace(
            "  { id = \"b\", zh = \"乙\", en = \"B\" },\n]\n",
            "  { id = \"b\", zh = \"乙\", en = \"B\" },\n]\naudio = { zh = \"q1.zh.mp3\" }\n",
        )
        .replace(
            "  { id = \"c\", zh = \"丙\", en = \"C\" },\n]\n",
            "  { id = \"c\", zh = \"丙\", en = \"C\" },\n]\naudio = { zh = \"q2.zh.mp3\" }\n",
        );
    std::fs::write(&path, toml).unwrap();
    for name in ["family", "p1", "p2", "q1", "q2"] {
        write(root, &format!("{dir}/{name}.zh.mp3"), mp3());
    }
    write(root, &format!("{dir}/p1.en.mp3"), mp3());
}

/// The standard fixture plus a series `heard` (the same cadence) whose first lesson is the
/// same comic as `family/first-comic`, read aloud.
pub fn with_narrated_series() -> tempfile::TempDir {
    let dir = standard();
    write(
        dir.path(),
        "heard/series.toml",
        series_toml("Asia/Shanghai", "2030-01-07", "mon", "20:00"),
    );
    narrated_comic(dir.path(), "heard", "first-comic", 1, "published");
    dir
}
