//! The weekly push under the test's clock: one message per learner and release across two
//! instances and restarts, never before the release, around shifts and quiet hours, paced from
//! joining, at most one reminder and two messages a week, nothing once stopped or for a lesson
//! that is no longer released, and WeChat's refusals handled.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use homeward::clock::Clock;
use homeward::jobs::Worker;
use homeward::services::push::{SendOutcome, prefs};
use sea_orm::ConnectionTrait;

use crate::fixture;
use crate::helpers::push::RecordingChannel;
use crate::helpers::{Options, TestApp, TestDatabase};
use crate::progress::{Learner, enroll, send};

/// Monday 2030-01-07 20:00 in Shanghai: lesson 1 of the fixture's series comes out.
const RELEASE_1: &str = "2030-01-07T12:00:00Z";

fn at(raw: &str) -> DateTime<Utc> {
    raw.parse().unwrap()
}

async fn spawn(db: &TestDatabase, content: &tempfile::TempDir, now: &str) -> TestApp {
    TestApp::spawn(db, Options::new(now, content.path())).await
}

async fn learners(app: &TestApp, n: usize) -> Vec<Learner> {
    let code = app.make_code(None, None).await;
    let mut all = Vec::new();
    for i in 0..n {
        all.push(enroll(app, &code.token, &format!("10.0.0.{i}")).await);
    }
    all
}

async fn run(worker: &Worker) {
    worker.run_due_jobs().await.expect("run due jobs");
}

async fn sql(app: &TestApp, statement: &str) {
    app.state.db.execute_unprepared(statement).await.unwrap();
}

/// Moves a lesson's release as the studio does (the time bound as the app stores times).
async fn move_release(app: &TestApp, slug: &str, to: &str) {
    app.state
        .db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            app.state.db.get_database_backend(),
            "UPDATE lesson SET release_at = $1, release_override = $1 WHERE slug = $2",
            [at(to).into(), slug.into()],
        ))
        .await
        .unwrap();
}

async fn set_clock(apps: &[&TestApp], now: &str) {
    for app in apps {
        app.clock.set(at(now));
    }
}

#[tokio::test]
async fn a_release_sends_one_message_per_learner_across_two_instances_and_none_before() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let first = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    let second = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    let people = learners(&first, 12).await;
    let channel = RecordingChannel::new();
    let a = first.push_worker(channel.clone(), 1000);
    let b = second.push_worker(channel.clone(), 1000);

    set_clock(&[&first, &second], "2030-01-07T11:59:59Z").await;
    tokio::join!(run(&a), run(&b));
    assert!(channel.sent().is_empty(), "nothing before the release");

    set_clock(&[&first, &second], RELEASE_1).await;
    tokio::join!(run(&a), run(&b));
    tokio::join!(run(&a), run(&b));
    let mut expected: Vec<i64> = people.iter().map(|l| l.id).collect();
    expected.sort_unstable();
    assert_eq!(channel.recipients(), expected, "one message each");
    let message = &channel.sent()[0];
    assert_eq!(message.url, "http://homeward.test/s/family/first-comic");
    assert_eq!(message.series_title, "家庭课堂");

    // Later runs on both instances send nothing more.
    set_clock(&[&first, &second], "2030-01-08T12:00:00Z").await;
    tokio::join!(run(&a), run(&b));
    assert_eq!(channel.sent().len(), 12);
    assert_eq!(
        first
            .count("SELECT COUNT(*) FROM push_message WHERE state = 'sent'")
            .await,
        12
    );
}

#[tokio::test]
async fn a_restart_in_the_middle_of_sending_sends_no_duplicates() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let first = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    learners(&first, 12).await;
    let channel = RecordingChannel::new();
    // The rate lets 5 out per second: the first run stops part way.
    let worker = first.push_worker(channel.clone(), 5);
    first.clock.set(at(RELEASE_1));
    run(&worker).await;
    assert_eq!(channel.sent().len(), 5);
    // The instance dies while two more are being sent: they are marked, not yet answered.
    sql(
        &first,
        "UPDATE push_message SET state = 'sending', locked_by = 'dead', attempts = 1 \
         WHERE id IN (SELECT id FROM push_message WHERE state = 'queued' ORDER BY id LIMIT 2)",
    )
    .await;
    first.stop().await;

    let restarted = spawn(&db, &content, "2030-01-07T12:00:01Z").await;
    sql(
        &restarted,
        "UPDATE push_message SET locked_until = send_at WHERE locked_by = 'dead'",
    )
    .await;
    let worker = restarted.push_worker(channel.clone(), 5);
    for second in 1..10 {
        restarted
            .clock
            .set(at(RELEASE_1) + Duration::seconds(second));
        run(&worker).await;
    }
    let recipients = channel.recipients();
    let mut unique = recipients.clone();
    unique.dedup();
    assert_eq!(recipients, unique, "no learner got the lesson twice");
    assert_eq!(recipients.len(), 10, "all but the two of unknown outcome");
    assert_eq!(
        restarted
            .count("SELECT COUNT(*) FROM push_message WHERE state = 'failed' AND last_error LIKE 'outcome unknown%'")
            .await,
        2
    );
}

#[tokio::test]
async fn shifts_quiet_hours_and_preferred_times_move_the_send_time() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let app = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    let people = learners(&app, 3).await;
    let (day, night, evening) = (people[0].id, people[1].id, people[2].id);
    let choose = |shift: &str, time: &str| prefs::parse(Some(shift), Some(time)).unwrap();
    for (learner, (shift, preferred)) in [
        (night, choose("night", "")),
        (evening, choose("day", "21:30")),
    ] {
        let wanted = prefs::PushPrefs {
            shift,
            preferred_time: preferred,
            muted: false,
        };
        prefs::set(&app.state.db, learner, &wanted, app.clock.now())
            .await
            .unwrap();
    }
    let channel = RecordingChannel::new();
    let worker = app.push_worker(channel.clone(), 1000);

    // 20:00 Monday: the day worker at once; the night worker is on the line.
    app.clock.set(at(RELEASE_1));
    run(&worker).await;
    assert_eq!(channel.recipients(), vec![day]);
    // 21:29: still not the evening learner's time.
    app.clock.set(at("2030-01-07T13:29:00Z"));
    run(&worker).await;
    assert_eq!(channel.recipients(), vec![day]);
    app.clock.set(at("2030-01-07T13:30:00Z"));
    run(&worker).await;
    assert_eq!(channel.recipients(), vec![day, evening]);
    // The night worker: Tuesday 16:00, when they are up and not yet at work.
    app.clock.set(at("2030-01-08T07:59:00Z"));
    run(&worker).await;
    assert_eq!(channel.sent().len(), 2);
    app.clock.set(at("2030-01-08T08:00:00Z"));
    run(&worker).await;
    assert_eq!(channel.recipients(), vec![day, night, evening]);

    // A preferred time in quiet hours is refused, in both languages.
    let refused = prefs::parse(Some("day"), Some("23:00")).unwrap_err();
    assert!(
        refused
            .message(homeward::domain::Lang::Zh)
            .contains("08:00–22:00")
    );
    assert!(
        refused
            .message(homeward::domain::Lang::En)
            .contains("quiet hours")
    );
}

#[tokio::test]
async fn learners_paced_from_joining_get_the_lesson_of_their_own_week() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    // Wednesday of week 3: lessons 1–3 are out (4 is a draft).
    let app = spawn(&db, &content, "2030-01-23T04:00:00Z").await;
    sql(&app, "UPDATE series SET pacing = 'from-join'").await;
    let learner = learners(&app, 1).await[0].id;
    let channel = RecordingChannel::new();
    let worker = app.push_worker(channel.clone(), 1000);
    let slugs = |channel: &RecordingChannel| -> Vec<String> {
        channel
            .sent()
            .iter()
            .map(|m| m.url.rsplit('/').next().unwrap().to_owned())
            .collect()
    };

    run(&worker).await;
    assert!(
        channel.sent().is_empty(),
        "week 1's lesson is shown on joining"
    );
    // Their week 2 begins a week after joining: lesson 2, not the calendar's lesson 3.
    app.clock.set(at("2030-01-30T03:59:00Z"));
    run(&worker).await;
    assert!(channel.sent().is_empty());
    app.clock.set(at("2030-01-30T04:00:00Z"));
    run(&worker).await;
    assert_eq!(slugs(&channel), vec!["second-video"]);
    assert_eq!(channel.sent()[0].learner_id, learner);
    app.clock.set(at("2030-02-06T04:00:00Z"));
    run(&worker).await;
    assert_eq!(slugs(&channel), vec!["second-video", "third-article"]);
    // Week 4: lesson 4 is a draft, so nothing; once published it comes.
    app.clock.set(at("2030-02-13T04:00:00Z"));
    run(&worker).await;
    assert_eq!(channel.sent().len(), 2, "nothing for a draft");
    sql(
        &app,
        "UPDATE lesson SET status = 'published' WHERE slug = 'fourth-draft'",
    )
    .await;
    app.clock.set(at("2030-02-13T05:00:00Z"));
    run(&worker).await;
    assert_eq!(
        slugs(&channel),
        vec!["second-video", "third-article", "fourth-draft"]
    );
    // Hours later, nothing is sent twice.
    app.clock.set(at("2030-02-14T05:00:00Z"));
    run(&worker).await;
    assert_eq!(channel.sent().len(), 3);
}

/// Two more series for the same learners, released at the same moment as the first.
fn three_series() -> tempfile::TempDir {
    let content = fixture::standard();
    for series in ["family2", "family3"] {
        fixture::write(
            content.path(),
            &format!("{series}/series.toml"),
            fixture::series_toml("Asia/Shanghai", "2030-01-07", "mon", "20:00"),
        );
        fixture::comic(content.path(), series, "first-comic", 1, "published");
    }
    content
}

#[tokio::test]
async fn at_most_two_messages_a_week_and_one_reminder() {
    let db = TestDatabase::create().await;
    let content = three_series();
    let app = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    let people = learners(&app, 2).await;
    let (reader, idler) = (&people[0], &people[1]);
    let channel = RecordingChannel::new();
    let worker = app.push_worker(channel.clone(), 1000);

    app.clock.set(at(RELEASE_1));
    run(&worker).await;
    let count_for = |id: i64| channel.sent().iter().filter(|m| m.learner_id == id).count();
    assert_eq!(
        count_for(reader.id),
        2,
        "three releases, at most two messages"
    );
    assert_eq!(count_for(idler.id), 2);
    // The reader opens every lesson out; the other opens nothing.
    let opened: Vec<serde_json::Value> = ["family", "family2", "family3"]
        .iter()
        .map(|series| {
            serde_json::json!({"id": uuid::Uuid::new_v4(), "series": series, "lesson": "first-comic", "kind": "opened"})
        })
        .collect();
    assert_eq!(send(&app, reader, &opened).await.0, 200);

    // Three days on, reminders are due, but both learners had two messages this week.
    for day in 3..7 {
        app.clock.set(at(RELEASE_1) + Duration::days(day));
        run(&worker).await;
    }
    assert_eq!(
        channel.sent().len(),
        4,
        "the weekly limit holds reminders too"
    );

    // A week after the first messages, the third release goes out; three days later the
    // idle learner gets one reminder, and only one, however long it waits.
    let mut seen_by_reader = 0;
    for step in 0..(8 * 14) {
        app.clock
            .set(at(RELEASE_1) + Duration::days(7) + Duration::hours(3 * step));
        run(&worker).await;
        // The reader opens each lesson as its message arrives.
        let theirs: Vec<_> = channel
            .sent()
            .into_iter()
            .filter(|m| m.learner_id == reader.id)
            .collect();
        for message in &theirs[seen_by_reader..] {
            let mut parts = message.url.rsplit('/');
            let (lesson, series) = (parts.next().unwrap(), parts.next().unwrap());
            let event = serde_json::json!({"id": uuid::Uuid::new_v4(), "series": series, "lesson": lesson, "kind": "opened"});
            assert_eq!(send(&app, reader, &[event]).await.0, 200);
        }
        seen_by_reader = theirs.len();
    }
    let reminders = app
        .count(&format!(
            "SELECT COUNT(*) FROM push_message WHERE kind = 'reminder' AND state = 'sent' AND learner_id = {}",
            idler.id
        ))
        .await;
    assert_eq!(reminders, 1, "one reminder");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM push_message WHERE kind = 'reminder' AND state = 'sent' AND learner_id = {}",
            reader.id
        ))
        .await,
        0,
        "no reminder for what was opened"
    );
    // In any seven days, at most two messages per learner.
    for learner in [reader.id, idler.id] {
        let mut times: Vec<DateTime<Utc>> = Vec::new();
        let rows = app
            .state
            .db
            .query_all_raw(sea_orm::Statement::from_string(
                app.state.db.get_database_backend(),
                format!("SELECT sent_at FROM push_message WHERE state = 'sent' AND learner_id = {learner}"),
            ))
            .await
            .unwrap();
        for row in rows {
            times.push(row.try_get("", "sent_at").unwrap());
        }
        times.sort();
        for window in times.windows(3) {
            assert!(window[2] - window[0] >= Duration::days(7), "{times:?}");
        }
    }
}

#[tokio::test]
async fn stopping_stops_everything_and_nothing_goes_for_a_lesson_no_longer_released() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let app = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    let people = learners(&app, 3).await;
    let (stopper, waiter, other) = (people[0].id, people[1].id, people[2].id);
    // The waiter wants messages at 21:30, so theirs is still queued when the lesson is pulled.
    let evening = prefs::parse(Some("day"), Some("21:30")).unwrap();
    prefs::set(
        &app.state.db,
        waiter,
        &prefs::PushPrefs {
            shift: evening.0,
            preferred_time: evening.1,
            muted: false,
        },
        app.clock.now(),
    )
    .await
    .unwrap();
    assert!(
        prefs::is_stop_word("退订")
            && prefs::is_stop_word(" STOP ")
            && !prefs::is_stop_word("stop it")
    );
    prefs::set_muted(&app.state, stopper, true).await.unwrap();
    let channel = RecordingChannel::new();
    let worker = app.push_worker(channel.clone(), 1000);

    app.clock.set(at(RELEASE_1));
    run(&worker).await;
    assert_eq!(
        channel.recipients(),
        vec![other],
        "nothing for the one who stopped"
    );
    // The editor unpublishes lesson 1 before the waiter's time: nothing goes.
    sql(
        &app,
        "UPDATE lesson SET status = 'draft' WHERE slug = 'first-comic'",
    )
    .await;
    app.clock.set(at("2030-01-07T13:30:00Z"));
    run(&worker).await;
    assert_eq!(channel.recipients(), vec![other]);

    // Lesson 2 is planned, then moved a day later before the waiter's time: nothing now, one
    // message after the new release, and moving it back and forth never sends twice.
    app.clock.set(at("2030-01-14T12:00:00Z"));
    run(&worker).await;
    move_release(&app, "second-video", "2030-01-15T12:00:00Z").await;
    app.clock.set(at("2030-01-14T13:30:00Z"));
    run(&worker).await;
    let for_waiter =
        |c: &RecordingChannel| c.sent().iter().filter(|m| m.learner_id == waiter).count();
    assert_eq!(for_waiter(&channel), 0, "not before the new release");
    for half_hour in 0..96 {
        app.clock
            .set(at("2030-01-15T00:00:00Z") + Duration::minutes(30 * half_hour));
        run(&worker).await;
    }
    assert_eq!(for_waiter(&channel), 1, "once, after the new release");
    assert_eq!(
        channel
            .sent()
            .iter()
            .filter(|m| m.learner_id == other)
            .count(),
        2
    );
    assert!(channel.sent().iter().all(|m| m.learner_id != stopper));
}

#[tokio::test]
async fn wechat_refusals_are_handled_each_as_it_should_be() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let app = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    let people = learners(&app, 4).await;
    let (gone, busy, broken, refused) = (people[0].id, people[1].id, people[2].id, people[3].id);
    let channel = RecordingChannel::new();
    channel.answer(gone, vec![SendOutcome::NotFollowing]);
    channel.answer(busy, vec![SendOutcome::RateLimited]);
    channel.answer(broken, vec![SendOutcome::Unavailable("HTTP 503".into()); 5]);
    channel.answer(
        refused,
        vec![SendOutcome::Rejected("40037: invalid template_id".into())],
    );
    let worker = app.push_worker(channel.clone(), 1000);

    app.clock.set(at(RELEASE_1));
    run(&worker).await;
    assert!(channel.sent().is_empty());
    let state = |learner: i64| {
        let app = &app;
        async move {
            app.count(&format!(
                "SELECT COUNT(*) FROM push_message WHERE learner_id = {learner} AND state = 'queued'"
            ))
            .await
        }
    };
    assert_eq!(state(busy).await, 1, "45009 waits and tries again");
    assert_eq!(state(broken).await, 1, "5xx waits and tries again");
    assert_eq!(state(gone).await, 0, "43004 is not tried again");
    assert_eq!(state(refused).await, 0);
    // Backing off: 30 s, 1 min, 2 min, …; the busy one goes through on its second try.
    for minute in 1..60 {
        app.clock.set(at(RELEASE_1) + Duration::minutes(minute));
        run(&worker).await;
    }
    assert_eq!(channel.recipients(), vec![busy]);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM push_message WHERE learner_id = {broken} AND state = 'failed' AND attempts = 5"
        ))
        .await,
        1,
        "5xx five times: failed"
    );
    assert_eq!(channel.calls(), 1 + 2 + 5 + 1);
}

#[tokio::test]
async fn nothing_is_planned_without_a_wechat_template() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let app = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    learners(&app, 2).await;
    let worker = homeward::jobs::Worker::new(
        app.state.ctx.clone(),
        homeward::jobs::Registry::standard(),
        homeward::jobs::WorkerOptions::default(),
    )
    .with_channel(RecordingChannel::new() as Arc<_>);
    app.clock.set(at(RELEASE_1));
    run(&worker).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM push_message").await, 0);
}

#[tokio::test]
async fn editors_see_each_releases_messages_with_small_groups_hidden() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let app = spawn(&db, &content, "2030-01-07T10:00:00Z").await;
    let people = learners(&app, 7).await;
    let channel = RecordingChannel::new();
    channel.answer(people[6].id, vec![SendOutcome::NotFollowing]);
    let worker = app.push_worker(channel.clone(), 1000);
    app.clock.set(at(RELEASE_1));
    run(&worker).await;
    // Five open it within the week; one opens it on the eighth day.
    app.clock.set(at("2030-01-09T12:00:00Z"));
    for learner in &people[..5] {
        let event = serde_json::json!({"id": uuid::Uuid::new_v4(), "series": "family", "lesson": "first-comic", "kind": "opened"});
        assert_eq!(send(&app, learner, &[event]).await.0, 200);
    }
    app.clock.set(at("2030-01-15T13:00:00Z"));
    let event = serde_json::json!({"id": uuid::Uuid::new_v4(), "series": "family", "lesson": "first-comic", "kind": "opened"});
    assert_eq!(send(&app, &people[5], &[event]).await.0, 200);

    let editor = crate::staff::sign_in(
        &app,
        "editor@example.org",
        homeward::services::staff::Role::Editor,
        None,
    )
    .await;
    let page = |lang: &'static str| {
        let app = &app;
        let editor = editor.clone();
        async move {
            app.client
                .get(app.url(&format!("/studio/s/family/first-comic/stats?lang={lang}")))
                .header("cookie", crate::staff::cookie(&editor))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let zh = page("zh").await;
    let row = |html: &str, label: &str| -> String {
        let start = html
            .find(&format!("<th>{label}</th><td>"))
            .unwrap_or_else(|| panic!("{label} missing: {html}"));
        let rest = &html[start + label.len() + 13..];
        rest[..rest.find("</td>").unwrap()].to_owned()
    };
    assert_eq!(row(&zh, "已发送"), "6");
    assert_eq!(row(&zh, "排队中"), "少于5人");
    assert_eq!(row(&zh, "发送失败"), "少于5人", "one failure is hidden");
    // 5 of the 6 messaged opened it in time: showing both would reveal the 1 who did not (had the
    // eighth day counted, it would read 6).
    assert_eq!(
        row(&zh, "收到后 7 天内打开"),
        "少于5人",
        "5 opened of 6 sent gives away the one who did not open"
    );
    // The figures as a system: nothing shown under 5, and no difference of 1 to 4 between a
    // shown part and its shown whole.
    let figures: Vec<Option<u64>> = ["排队中", "已发送", "发送失败", "收到后 7 天内打开"]
        .iter()
        .map(|label| row(&zh, label).parse().ok())
        .collect();
    assert!(figures.iter().flatten().all(|n| *n >= 5), "{figures:?}");
    if let (Some(sent), Some(opened)) = (figures[1], figures[3]) {
        assert!(sent == opened || sent - opened >= 5, "{figures:?}");
    }
    let en = page("en").await;
    assert_eq!(row(&en, "Sent"), "6");
    assert_eq!(row(&en, "Failed"), "fewer than 5");
    assert_eq!(
        row(&en, "Opened within 7 days of the message"),
        "fewer than 5"
    );
}

/// Paced from joining, a learner who gave the children's consent gets the lessons for their
/// children's ages in their first weeks (then the others, in order), marked as such; without
/// that consent, lesson *k* in week *k*, unmarked.
#[tokio::test]
async fn paced_learners_get_the_lessons_for_their_childrens_ages_first() {
    let db = TestDatabase::create().await;
    let content = fixture::standard();
    let path = content.path().join("family/third-article/lesson.toml");
    let lesson = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("age_bands = [\"6-11\"]\n{lesson}")).unwrap();
    // Wednesday of week 3: lessons 1–3 are out.
    let app = spawn(&db, &content, "2030-01-23T04:00:00Z").await;
    sql(&app, "UPDATE series SET pacing = 'from-join'").await;
    let children = [("child_age_bands", "6-11"), ("children_consent", "yes")];
    crate::reach::joined_phone(&app, "小芳", &children).await;
    crate::reach::joined_phone(&app, "阿强", &children).await;
    let ids: Vec<i64> = app
        .state
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            app.state.db.get_database_backend(),
            "SELECT id FROM learner ORDER BY id".to_owned(),
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "id").unwrap())
        .collect();
    // 阿强's bands are held, but not his children's consent (as after a withdrawal).
    sql(
        &app,
        &format!(
            "DELETE FROM consent WHERE kind = 'children' AND learner_id = {}",
            ids[1]
        ),
    )
    .await;
    let channel = RecordingChannel::new();
    let worker = app.push_worker(channel.clone(), 1000);
    let received = |learner: i64| -> Vec<(String, Option<String>)> {
        channel
            .sent()
            .iter()
            .filter(|m| m.learner_id == learner)
            .map(|m| {
                let slug = m.url.rsplit('/').next().unwrap().to_owned();
                (slug, m.for_ages.clone())
            })
            .collect()
    };
    let marked = Some("适合 6–11 岁".to_owned());

    app.clock.set(at("2030-01-30T04:00:00Z"));
    run(&worker).await;
    assert_eq!(
        received(ids[0]),
        [("third-article".to_owned(), marked.clone())]
    );
    assert_eq!(received(ids[1]), [("second-video".to_owned(), None)]);
    app.clock.set(at("2030-02-06T04:00:00Z"));
    run(&worker).await;
    assert_eq!(
        received(ids[0]),
        [
            ("third-article".to_owned(), marked),
            ("second-video".to_owned(), None)
        ]
    );
    assert_eq!(
        received(ids[1]),
        [
            ("second-video".to_owned(), None),
            ("third-article".to_owned(), None)
        ]
    );
}
