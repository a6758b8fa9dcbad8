//! Lessons for the children's ages: content files, import and export, the content check and the
//! studio carry them; with the children's consent the home puts and marks lessons for their ages
//! first, without it nothing about age is used; editors see per-band figures, suppressed under 5.

use homeward::domain::learner::POLICY_VERSION;
use homeward::services::staff::Role;
use serde_json::json;

use super::{joined_phone, page, pass_quiz, press_done};
use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::staff::{cookie, csrf, sign_in};

/// Puts `age_bands = [...]` at the top of a lesson's file.
fn set_bands(root: &std::path::Path, slug: &str, bands: &str) {
    let path = root.join(format!("family/{slug}/lesson.toml"));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("age_bands = {bands}\n{text}")).unwrap();
}

/// The standard fixture with the comic for 6–11 and the video for 0–2 (the article for all).
fn content() -> tempfile::TempDir {
    let dir = fixture::standard();
    set_bands(dir.path(), "first-comic", r#"["6-11"]"#);
    set_bands(dir.path(), "second-video", r#"["0-2"]"#);
    dir
}

#[tokio::test]
async fn with_consent_lessons_for_the_childrens_ages_come_first_and_are_marked() {
    let content = content();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let school_age = joined_phone(
        &app,
        "小芳",
        &[("child_age_bands", "6-11"), ("children_consent", "yes")],
    )
    .await;
    let home = page(&app, &school_age, "/").await;
    let first = home
        .find("适合您孩子年龄的课")
        .expect("a section for the children");
    let this_week = home.find("本周课程").expect("this week's lesson");
    assert!(
        first < this_week,
        "the children's lessons come first: {home}"
    );
    let section = &home[first..first + home[first..].find("</section>").unwrap()];
    assert!(
        section.contains("/s/family/first-comic") && section.contains("适合 6–11 岁"),
        "{section}"
    );
    assert!(!section.contains("second-video") && !section.contains("third-article"));
    let english = page(&app, &school_age, "/?lang=en").await;
    assert!(english.contains("Lessons for your children") && english.contains("For ages 6–11"));
    // Done with it: it no longer waits at the top.
    press_done(&app, &school_age, "first-comic").await;
    pass_quiz(&app, &school_age, "first-comic").await;
    assert!(
        !page(&app, &school_age, "/")
            .await
            .contains("适合您孩子年龄的课")
    );

    let toddler = joined_phone(
        &app,
        "阿强",
        &[("child_age_bands", "0-2"), ("children_consent", "yes")],
    )
    .await;
    let home = page(&app, &toddler, "/").await;
    assert!(
        home.contains("适合 0–2 岁") && !home.contains("适合 6–11 岁"),
        "{home}"
    );
}

#[tokio::test]
async fn without_consent_nothing_about_age_is_used() {
    let content = content();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let phone = joined_phone(&app, "小芳", &[]).await;
    let home = page(&app, &phone, "/").await;
    assert!(
        !home.contains("适合您孩子年龄的课") && !home.contains("适合 "),
        "{home}"
    );
    // Bands without their consent are refused at joining, so none are ever kept.
    let code = app.make_code(None, None).await;
    let refused = app
        .client
        .post(app.url("/api/v1/enrollments"))
        .json(&json!({"token": code.token, "audience": "parents", "accept_policy": POLICY_VERSION, "child_age_bands": ["6-11"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    // A learner whose children's consent row is gone is treated as having none.
    let consenting = joined_phone(
        &app,
        "阿明",
        &[("child_age_bands", "6-11"), ("children_consent", "yes")],
    )
    .await;
    assert!(page(&app, &consenting, "/").await.contains("适合 6–11 岁"));
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.state.db,
        "DELETE FROM consent WHERE kind = 'children'",
    )
    .await
    .unwrap();
    assert!(!page(&app, &consenting, "/").await.contains("适合 6–11 岁"));
}

#[tokio::test]
async fn age_bands_round_trip_through_import_export_and_the_studio() {
    let content = content();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let out = tempfile::tempdir().unwrap();
    homeward::services::export::export_all(&app.state.db, out.path())
        .await
        .unwrap();
    let exported =
        std::fs::read_to_string(out.path().join("family/first-comic/lesson.toml")).unwrap();
    assert!(exported.contains(r#"age_bands = ["6-11"]"#), "{exported}");
    let series = homeward::content::load_dir(out.path()).unwrap_or_else(|p| panic!("{p:#?}"));
    let lessons = &series[0].lessons;
    let bands = |slug: &str| {
        lessons
            .iter()
            .find(|l| l.slug.as_str() == slug)
            .unwrap()
            .age_bands
            .clone()
    };
    assert_eq!(bands("first-comic"), ["6-11"]);
    assert_eq!(bands("second-video"), ["0-2"]);
    assert!(bands("third-article").is_empty());

    // The studio changes them; a band that does not exist is refused and changes nothing.
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    let edit_page = "/studio/s/family/third-article/edit";
    let token = csrf(&app, &editor, edit_page).await;
    let save = |bands: &'static str| {
        let (app, editor, token) = (&app, editor.clone(), token.clone());
        async move {
            app.client
                .post(app.url("/studio/s/family/third-article/edit"))
                .header("cookie", cookie(&editor))
                .form(&[("csrf", token.as_str()), ("age_bands", bands)])
                .send()
                .await
                .unwrap()
        }
    };
    let refused = save("6-11, 18-25").await;
    assert_eq!(refused.status(), 400);
    assert!(refused.text().await.unwrap().contains("18-25"));
    assert_eq!(save("12-17，6-11").await.status(), 200);
    let catalog = homeward::services::lessons::catalog(&app.state)
        .await
        .unwrap();
    let lesson = catalog.series[0]
        .lessons
        .iter()
        .find(|l| l.slug == "third-article")
        .unwrap();
    assert_eq!(lesson.age_bands, ["6-11", "12-17"]);
    let form = app
        .client
        .get(app.url(edit_page))
        .header("cookie", cookie(&editor))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains(r#"value="6-11, 12-17""#), "{form}");
}

#[test]
fn the_content_check_names_an_unknown_age_band() {
    let dir = fixture::standard();
    set_bands(dir.path(), "first-comic", r#"["6-11", "7-9"]"#);
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(["content", "check"])
        .arg(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert_ne!(output.status.code(), Some(0));
    assert!(
        out.contains("first-comic/lesson.toml: age_bands: '7-9' is not an age band"),
        "{out}"
    );
}

#[tokio::test]
async fn editors_see_figures_per_age_band_suppressed_under_five() {
    let content = content();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    // Six parents of school-age children open the comic, five finish it; two of toddlers open it.
    for (i, band) in ["6-11", "6-11", "6-11", "6-11", "6-11", "6-11", "0-2", "0-2"]
        .into_iter()
        .enumerate()
    {
        let phone = joined_phone(
            &app,
            "家长",
            &[("child_age_bands", band), ("children_consent", "yes")],
        )
        .await;
        if i < 5 {
            press_done(&app, &phone, "first-comic").await;
            pass_quiz(&app, &phone, "first-comic").await;
        } else {
            page(&app, &phone, "/s/family/first-comic").await;
        }
    }
    let editor = sign_in(&app, "ed@example.org", Role::Editor, None).await;
    let stats = app
        .client
        .get(app.url("/studio/s/family/first-comic/stats"))
        .header("cookie", cookie(&editor))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let table = &stats[stats.find("按孩子的年龄段").expect("per-band figures")..];
    let row = |band: &str| {
        let start = table.find(&format!("<td>{band}</td>")).unwrap();
        table[start..start + table[start..].find("</tr>").unwrap()].to_owned()
    };
    // 6 opened, 5 completed: the 1 who did not would show by subtraction, so completed is hidden.
    assert_eq!(
        row("6-11"),
        "<td>6-11</td><td>6</td><td>少于5人</td>",
        "{table}"
    );
    assert_eq!(row("0-2"), "<td>0-2</td><td>少于5人</td><td>少于5人</td>");
}
