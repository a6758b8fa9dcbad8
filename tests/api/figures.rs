//! Managers see groups, not people (issue 11, items 18 and 19): the codes table counts only
//! learners still enrolled and hides small groups, and every set of figures shown together —
//! a line's learners and active learners, lines and their total, weeks, codes, opened and
//! completed — is suppressed as a whole, so that no group of 1 to 4 learners can be worked out
//! by subtraction. Checked as a system: every sum the screen shows is tested with the true
//! figures behind it.

use homeward::clock::Clock;
use homeward::services::enrollment::{self, NewCode};
use homeward::services::staff::Role;
use serde_json::{Value, json};

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::progress::{Learner, send};
use crate::staff::{cookie, sign_in};
use homeward::domain::learner::POLICY_VERSION;

/// A figure as shown (`None`: hidden or never shown) beside its true value.
type Seen = (Option<u64>, u64);

/// `total = Σ parts` as the manager sees it: no hidden group can be worked out to be 1 to 4
/// learners, and no hidden figure can be worked out exactly.
fn check_sum(what: &str, total: Seen, parts: &[Seen]) {
    check_parts(what, total, parts, true);
}

/// `check_sum` where the parts need not add up to the total (`exact` false: some of the
/// total is in no shown part, as those who opened and did not complete).
fn check_parts(what: &str, total: Seen, parts: &[Seen], exact: bool) {
    for (shown, truth) in std::iter::once(&total).chain(parts) {
        if let Some(shown) = shown {
            assert_eq!(shown, truth, "{what}: a figure shown wrong");
            assert!(*shown >= 5, "{what}: {shown} is shown");
        }
    }
    let hidden: Vec<u64> = parts
        .iter()
        .filter(|(s, _)| s.is_none())
        .map(|(_, t)| *t)
        .collect();
    match total.0 {
        Some(total) => {
            let shown_sum: u64 = parts.iter().filter_map(|(s, _)| *s).sum();
            let worked_out = total - shown_sum;
            assert!(
                !(1..5).contains(&worked_out),
                "{what}: {total} minus the shown {shown_sum} reveals {worked_out}"
            );
            assert!(
                !exact || hidden.len() != 1 || worked_out == 0,
                "{what}: the one hidden figure is {total} minus the others"
            );
        }
        None => assert!(
            !exact || parts.is_empty() || !hidden.is_empty() || total.1 == 0,
            "{what}: the hidden total is the sum of its shown parts"
        ),
    }
}

/// `part` is some of `whole`.
fn check_within(what: &str, whole: Seen, part: Seen) {
    check_parts(what, whole, &[part], false);
    if let (Some(whole), Some(part)) = (whole.0, part.0) {
        assert!(
            !(1..5).contains(&(whole - part)),
            "{what}: {whole} − {part}"
        );
    }
}

fn figure(value: &Value) -> Option<u64> {
    assert_eq!(
        value["suppressed"].as_bool(),
        Some(value["value"].is_null())
    );
    value["value"].as_u64()
}

fn read(event: &str, lesson: &str, extra: Value) -> Value {
    let mut e =
        json!({"id": uuid::Uuid::new_v4(), "series": "family", "lesson": lesson, "kind": event});
    e.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    e
}

struct World {
    app: TestApp,
    factory: i64,
    manager: String,
    _content: tempfile::TempDir,
}

/// Joins with `code` from address `ip` (the joins-per-address limit counts each phone).
async fn enroll(app: &TestApp, code: &str, ip: &str) -> Learner {
    let joined: Value = app
        .client
        .post(app.url("/api/v1/enrollments"))
        .header("x-forwarded-for", ip)
        .json(&json!({"token": code, "audience": "parents", "accept_policy": POLICY_VERSION}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Learner {
        id: joined["learner_id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{joined}")),
        token: joined["session_token"].as_str().unwrap().to_owned(),
    }
}

async fn code(app: &TestApp, factory: i64, line: i64, label: &str) -> String {
    enrollment::create_code(
        &app.state.db,
        NewCode {
            factory_id: factory,
            line_id: Some(line),
            label: label.into(),
            expires_at: None,
            max_joins: None,
        },
        app.clock.now(),
    )
    .await
    .unwrap()
    .1
}

/// Line A3线: code "a" with 8 learners and code "c" with 6, one of whom then deletes their
/// account; line B线: code "b" with 10 learners and code "d" with 1. 12 open the third lesson
/// (the 8 of "a" and 4 of "b") and 9 complete it (the 8 and 1).
async fn world(db: &TestDatabase) -> World {
    let content = fixture::standard();
    let options = Options::new(WEEK3, content.path()).with_settings(|s| s.trust_proxy = true);
    let app = TestApp::spawn(db, options).await;
    let now = app.clock.now();
    let (factory, line_a) = app.make_factory().await;
    let line_b = enrollment::add_line(&app.state.db, factory, "B线", now)
        .await
        .unwrap();
    let (a, c, b, d) = (
        code(&app, factory, line_a, "code-a").await,
        code(&app, factory, line_a, "code-c").await,
        code(&app, factory, line_b, "code-b").await,
        code(&app, factory, line_b, "code-d").await,
    );
    let mut joined: Vec<(&str, Learner)> = Vec::new();
    for (label, token, n) in [("a", &a, 8), ("c", &c, 6), ("b", &b, 10), ("d", &d, 1)] {
        for _ in 0..n {
            let ip = format!("10.0.0.{}", joined.len() + 1);
            joined.push((label, enroll(&app, token, &ip).await));
        }
    }
    let readers: Vec<&Learner> = joined
        .iter()
        .filter(|(l, _)| *l == "a")
        .chain(joined.iter().filter(|(l, _)| *l == "b").take(4))
        .map(|(_, learner)| learner)
        .collect();
    for (i, learner) in readers.iter().enumerate() {
        let mut events = vec![read("opened", "third-article", json!({}))];
        if i < 9 {
            events.push(read(
                "article_read",
                "third-article",
                json!({"percent": 100}),
            ));
        }
        let (status, body) = send(&app, learner, &events).await;
        assert_eq!(status, 200, "{body}");
    }
    let leaving = &joined.iter().find(|(l, _)| *l == "c").unwrap().1;
    let deleted = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&leaving.token)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let manager = sign_in(&app, "boss@example.org", Role::Manager, Some(factory)).await;
    World {
        app,
        factory,
        manager,
        _content: content,
    }
}

/// The codes table of the manager's page: label → joins as shown (`None`: fewer than 5).
async fn codes_table(world: &World) -> Vec<(String, Option<u64>)> {
    let html = world
        .app
        .client
        .get(
            world
                .app
                .url(&format!("/manage/f/{}?lang=en", world.factory)),
        )
        .header("cookie", cookie(&world.manager))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut codes = Vec::new();
    for label in ["code-a", "code-b", "code-c", "code-d"] {
        let row = html
            .split("<tr>")
            .find(|row| row.contains(&format!(" {label}</td>")))
            .unwrap_or_else(|| panic!("no {label} in {html}"));
        let joins = row
            .split("<td>")
            .nth(3)
            .unwrap()
            .split("</td>")
            .next()
            .unwrap();
        let joins = match joins {
            "fewer than 5" => None,
            n => Some(n.parse().unwrap_or_else(|_| panic!("{label}: {joins}"))),
        };
        codes.push((label.to_owned(), joins));
    }
    codes
}

#[tokio::test]
async fn the_codes_table_counts_enrolled_learners_and_hides_small_groups() {
    let db = TestDatabase::create().await;
    let world = world(&db).await;
    let codes = codes_table(&world).await;
    let joins = |label: &str| codes.iter().find(|(l, _)| l == label).unwrap().1;
    assert_eq!(joins("code-d"), None, "one learner's code: {codes:?}");
    assert_ne!(
        joins("code-c"),
        Some(6),
        "a deleted learner still counted: {codes:?}"
    );
    assert_eq!(joins("code-a"), Some(8), "{codes:?}");
    assert_eq!(joins("code-c"), Some(5), "{codes:?}");
}

#[tokio::test]
async fn no_figure_under_5_can_be_worked_out_from_the_others_shown_with_it() {
    let db = TestDatabase::create().await;
    let world = world(&db).await;
    let app = &world.app;
    let board: Value = app
        .client
        .get(app.url(&format!(
            "/api/v1/manage/factories/{}/dashboard",
            world.factory
        )))
        .header("cookie", cookie(&world.manager))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The truth behind the screen: line A3线 13 learners (8 active), B线 11 (4 active).
    let truth = [("A3线", 13, 8), ("B线", 11, 4), ("—", 0, 0)];
    let lines = board["lines"].as_array().unwrap();
    let total = &board["whole_factory"];
    let mut columns: [Vec<Seen>; 3] = Default::default();
    for (name, learners, active) in truth {
        let line = lines
            .iter()
            .find(|l| l["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {board}"));
        let seen: [Seen; 3] = [
            (figure(&line["learners"]), learners),
            (figure(&line["active_30_days"]), active),
            (figure(&line["active_7_days"]), active),
        ];
        check_within(&format!("{name}: learners ⊇ active 30"), seen[0], seen[1]);
        check_within(&format!("{name}: active 30 ⊇ active 7"), seen[1], seen[2]);
        for (k, s) in seen.into_iter().enumerate() {
            columns[k].push(s);
        }
    }
    let totals: [Seen; 3] = [
        (figure(&total["learners"]), 24),
        (figure(&total["active_30_days"]), 12),
        (figure(&total["active_7_days"]), 12),
    ];
    for (k, name) in ["learners", "active 30", "active 7"].iter().enumerate() {
        check_sum(&format!("lines → total {name}"), totals[k], &columns[k]);
    }
    check_within("total learners ⊇ active 30", totals[0], totals[1]);
    check_within("total active 30 ⊇ active 7", totals[1], totals[2]);
    assert_eq!(totals[0].0, Some(24), "the factory total is shown: {board}");

    // Weeks: everyone joined this week.
    let mut weeks: Vec<Seen> = board["joins_per_week"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, w)| (figure(&w["joins"]), if i == 11 { 24 } else { 0 }))
        .collect();
    weeks.push((None, 0));
    check_sum("weeks → total learners", totals[0], &weeks);

    // 12 opened the third lesson and 9 completed it: the 3 who did not must stay hidden.
    let lesson = board["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["title"]["en"] == "Article third-article")
        .unwrap_or_else(|| panic!("{board}"));
    let opened = (figure(&lesson["opened"]), 12);
    let completed = (figure(&lesson["completed"]), 9);
    check_within("opened ⊇ completed", opened, completed);
    assert_eq!(opened.0, Some(12), "{lesson}");
    assert!(
        lesson["completion_rate"].is_null(),
        "a rate of 12 shown reveals the completed: {lesson}"
    );

    // Codes → their line's learners.
    let codes = codes_table(&world).await;
    let joins = |label: &str| codes.iter().find(|(l, _)| l == label).unwrap().1;
    let line = |name: &str| {
        lines
            .iter()
            .find(|l| l["name"] == name)
            .map(|l| figure(&l["learners"]))
            .unwrap()
    };
    check_sum(
        "codes → A3线",
        (line("A3线"), 13),
        &[(joins("code-a"), 8), (joins("code-c"), 5)],
    );
    check_sum(
        "codes → B线",
        (line("B线"), 11),
        &[(joins("code-b"), 10), (joins("code-d"), 1)],
    );

    // The CSV is the same screen: the same figures hidden.
    let csv = app
        .client
        .get(app.url(&format!("/manage/f/{}/dashboard.csv", world.factory)))
        .header("cookie", cookie(&world.manager))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = csv
        .lines()
        .find(|l| l.starts_with("lesson,family,") && l.contains(",12,"))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(row.contains(",12,<5,<5,"), "{row}");
    let a3 = csv
        .lines()
        .find(|l| l.starts_with("line,\"A3线\""))
        .unwrap();
    assert!(a3.starts_with("line,\"A3线\",13,"), "{csv}");
}
