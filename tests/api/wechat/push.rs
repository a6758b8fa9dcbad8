//! The weekly push through WeChat: a template message to the openid bound to the learner, with
//! the shared token; WeChat's refusals become the push's outcomes.

use homeward::domain::Lang;
use homeward::services::push::{MessageChannel, MessageKind, OutgoingMessage, SendOutcome};
use homeward::services::wechat::channel::WechatChannel;
use homeward::services::wechat::followers;
use homeward::wechat::protocol::OpenId;

use super::{event_xml, spawn};
use crate::support::wechat_standin::Failure;

const PATH: &str = "/cgi-bin/message/template/send";

fn message(learner_id: i64) -> OutgoingMessage {
    OutgoingMessage {
        id: 1,
        learner_id,
        kind: MessageKind::Release,
        lang: Lang::Zh,
        series_title: "家庭课堂".into(),
        lesson_title: "第三课：电话里的陪伴，孩子听得见您的关心和牵挂".into(),
        url: "http://homeward.test/s/family/third-article".into(),
        released_at: "2030-01-21T12:00:00Z".parse().unwrap(),
        for_ages: None,
    }
}

#[tokio::test]
async fn the_push_sends_template_messages_to_bound_followers() {
    let w = spawn(false).await;
    let code = w.app.make_code(None, None).await;
    let learner = crate::progress::enroll(&w.app, &code.token, "").await;
    let stranger = crate::progress::enroll(&w.app, &code.token, "").await;
    let openid = w.standin.openid_for_phone("ana");
    let now = w.app.state.clock.now();
    let id = OpenId::parse(&openid).unwrap();
    let first = w.send(&event_xml(&openid, w.now(), "subscribe", "")).await;
    assert_eq!(first.status, 200, "{}", first.body);
    w.reply_text(&first);
    assert!(
        followers::bind(&w.app.state, &id, learner.id, now)
            .await
            .unwrap()
    );
    let channel = WechatChannel::new("TEMPLATE-weekly-lesson");

    assert_eq!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::Sent
    );
    let call = &w.standin.calls_to(PATH)[0];
    let body = call.body.as_ref().unwrap();
    assert_eq!(body["touser"], openid.as_str());
    assert_eq!(body["template_id"], "TEMPLATE-weekly-lesson");
    assert_eq!(body["url"], "http://homeward.test/s/family/third-article");
    let lesson = body["data"]["thing1"]["value"].as_str().unwrap();
    assert_eq!(lesson.chars().count(), 20, "{lesson}");
    assert_eq!(body["data"]["time3"]["value"], "2030-01-21 20:00");

    // No openid, or no longer following: not reachable, and WeChat is not even asked.
    assert_eq!(
        channel.send(&w.app.state, &message(stranger.id)).await,
        SendOutcome::NotFollowing
    );
    let gone = w
        .send(&event_xml(&openid, w.now() + 1, "unsubscribe", ""))
        .await;
    assert_eq!(gone.body, "success");
    assert_eq!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::NotFollowing
    );
    assert_eq!(w.standin.count(PATH), 1);

    // Following again; WeChat's refusals become the push's outcomes.
    w.reply_text(
        &w.send(&event_xml(&openid, w.now() + 2, "subscribe", ""))
            .await,
    );
    w.standin.fail_next(PATH, 1, Failure::ErrCode(43004));
    assert_eq!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::NotFollowing
    );
    // 43004 marks the follower as gone: nothing more is sent until they follow again.
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM wechat_follower WHERE following = false")
            .await,
        1
    );
    let calls = w.standin.count(PATH);
    assert_eq!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::NotFollowing
    );
    assert_eq!(w.standin.count(PATH), calls, "WeChat is not asked");
    w.reply_text(
        &w.send(&event_xml(&openid, w.now() + 3, "subscribe", ""))
            .await,
    );
    w.standin.fail_next(PATH, 1, Failure::ErrCode(45009));
    assert_eq!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::RateLimited
    );
    w.standin.fail_next(PATH, 1, Failure::Status(502));
    assert!(matches!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::Unavailable(_)
    ));
    w.standin
        .fail_next(PATH, 1, Failure::Delay(std::time::Duration::from_secs(5)));
    assert!(matches!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::Uncertain(_)
    ));
    w.standin.fail_next(PATH, 1, Failure::ErrCode(40001));
    assert_eq!(
        channel.send(&w.app.state, &message(learner.id)).await,
        SendOutcome::Sent,
        "refreshed and retried"
    );
}

/// The weekly push end to end through WeChat: the worker sends each bound follower's template
/// message when the lesson comes out and none before; 退订 in the chat stops a learner's
/// messages and an unfollow stops them too (WeChat is not even asked); a 5xx backs off and is
/// tried again; an expired token (40001) is refreshed; 43004 marks the follower as gone.
#[tokio::test]
async fn the_worker_pushes_through_wechat_and_stop_and_unfollow_stop_it() {
    use std::sync::Arc;

    use homeward::clock::Clock;

    let w = spawn(false).await;
    let release: chrono::DateTime<chrono::Utc> = crate::fixture::WEEK3.parse().unwrap();
    w.app.clock.set(release - chrono::Duration::hours(1));
    let code = w.app.make_code(None, None).await;
    let mut openids = Vec::new();
    for (i, phone) in ["ana", "bo", "chen", "dai"].into_iter().enumerate() {
        let learner = crate::progress::enroll(&w.app, &code.token, "").await;
        let openid = w.standin.openid_for_phone(phone);
        w.reply_text(&w.send(&event_xml(&openid, w.now(), "subscribe", "")).await);
        let id = OpenId::parse(&openid).unwrap();
        assert!(
            followers::bind(&w.app.state, &id, learner.id, w.app.clock.now())
                .await
                .unwrap(),
            "{i}"
        );
        openids.push(openid);
    }
    // Bo replies 退订; Chen unfollows.
    let stopped = w.reply_text(
        &w.send(&super::text_xml(&openids[1], w.now(), "退订", 77))
            .await,
    );
    assert!(stopped.contains("停止"), "{stopped}");
    assert_eq!(
        w.app
            .count("SELECT COUNT(*) FROM push_preference WHERE muted_at IS NOT NULL")
            .await,
        1
    );
    w.send(&event_xml(&openids[2], w.now(), "unsubscribe", ""))
        .await;
    let worker = w
        .app
        .push_worker(Arc::new(WechatChannel::new("TEMPLATE-weekly-lesson")), 1000);

    worker.run_due_jobs().await.unwrap();
    assert_eq!(w.standin.count(PATH), 0, "nothing before the release");

    // The release: WeChat answers the first call with 502 and the second with 43004.
    w.app.clock.set(release);
    w.standin.fail_next(PATH, 1, Failure::Status(502));
    w.standin.fail_next(PATH, 1, Failure::ErrCode(43004));
    worker.run_due_jobs().await.unwrap();
    assert_eq!(w.standin.count(PATH), 2, "only Ana's and Dai's are sent");
    let count = |sql: &'static str| w.app.count(sql);
    assert_eq!(
        count("SELECT COUNT(*) FROM push_message WHERE state = 'queued'").await,
        1,
        "the 502 backs off"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM push_message WHERE state = 'failed' AND last_error LIKE '43004%'"
        )
        .await,
        2,
        "Chen (unfollowed) and the one WeChat says is gone"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM wechat_follower WHERE following = false").await,
        2,
        "43004 marks the follower as gone, as an unfollow does"
    );

    // Half a minute on, the token has expired (40001): refreshed, and the message goes.
    let tokens = w.standin.count("/cgi-bin/stable_token") + w.standin.count("/cgi-bin/token");
    w.app.clock.set(release + chrono::Duration::minutes(1));
    w.standin.fail_next(PATH, 1, Failure::ErrCode(40001));
    worker.run_due_jobs().await.unwrap();
    assert_eq!(w.standin.count(PATH), 4);
    assert!(
        w.standin.count("/cgi-bin/stable_token") + w.standin.count("/cgi-bin/token") > tokens,
        "the token was fetched again"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM push_message WHERE state = 'sent'").await,
        1
    );
    // Hours later: nothing more to anyone.
    w.app.clock.set(release + chrono::Duration::hours(3));
    worker.run_due_jobs().await.unwrap();
    assert_eq!(w.standin.count(PATH), 4);
}

/// With the children's consent, when several lessons wait for a learner in one week, the one for
/// their children's ages takes the week's room first (two messages a week; the rest wait) and
/// its template message says so ("适合 6–11 岁 · …"); without that consent nothing about age is
/// used: the lessons go in their usual order, unmarked.
#[tokio::test]
async fn lessons_for_the_childrens_ages_take_the_weeks_room_first_and_are_marked() {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use homeward::clock::Clock;
    use sea_orm::ConnectionTrait;

    use crate::fixture;

    // Three series for parents, each with a lesson out at the same moment; the third's is for
    // children of 6–11.
    let content = fixture::standard();
    for series in ["family2", "family3"] {
        fixture::write(
            content.path(),
            &format!("{series}/series.toml"),
            fixture::series_toml("Asia/Shanghai", "2030-01-07", "mon", "20:00"),
        );
        fixture::comic(content.path(), series, "first-comic", 1, "published");
    }
    let path = content.path().join("family3/first-comic/lesson.toml");
    let lesson = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("age_bands = [\"6-11\"]\n{lesson}")).unwrap();
    let db = crate::helpers::TestDatabase::create().await;
    let standin = crate::support::wechat_standin::WechatStandin::start().await;
    let app = super::app_for(&db, &standin, content.path(), false, None).await;
    let w = super::WechatApp {
        app,
        standin,
        safe_mode: false,
        _db: db,
        _content: content,
    };
    let release: chrono::DateTime<chrono::Utc> = fixture::WEEK1.parse().unwrap();
    w.app.clock.set(release - chrono::Duration::hours(1));
    let children = [("child_age_bands", "6-11"), ("children_consent", "yes")];
    crate::reach::joined_phone(&w.app, "小芳", &children).await;
    crate::reach::joined_phone(&w.app, "阿强", &children).await;
    let learners = w
        .app
        .state
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            w.app.state.db.get_database_backend(),
            "SELECT id FROM learner ORDER BY id".to_owned(),
        ))
        .await
        .unwrap();
    // 阿强's bands are held, but not his children's consent (as after a withdrawal).
    let qiang: i64 = learners[1].try_get("", "id").unwrap();
    w.app
        .state
        .db
        .execute_unprepared(&format!(
            "DELETE FROM consent WHERE kind = 'children' AND learner_id = {qiang}"
        ))
        .await
        .unwrap();
    let mut openids = Vec::new();
    for (row, phone) in learners.iter().zip(["fang", "qiang"]) {
        let learner: i64 = row.try_get("", "id").unwrap();
        let openid = w.standin.openid_for_phone(phone);
        w.reply_text(&w.send(&event_xml(&openid, w.now(), "subscribe", "")).await);
        let id = OpenId::parse(&openid).unwrap();
        assert!(
            followers::bind(&w.app.state, &id, learner, w.app.clock.now())
                .await
                .unwrap()
        );
        openids.push(openid);
    }
    let worker = w
        .app
        .push_worker(Arc::new(WechatChannel::new("TEMPLATE-weekly-lesson")), 1000);
    // Each learner's messages: (series, the template's series field).
    let received = || {
        let mut by_openid: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for call in w.standin.calls_to(PATH) {
            let body = call.body.unwrap();
            let url = body["url"].as_str().unwrap();
            let series = url.split('/').rev().nth(1).unwrap().to_owned();
            by_openid
                .entry(body["touser"].as_str().unwrap().to_owned())
                .or_default()
                .push((
                    series,
                    body["data"]["thing2"]["value"].as_str().unwrap().to_owned(),
                ));
        }
        by_openid
    };

    // The three lessons are planned in the series' order, so the lesson for the children's
    // ages has the last rows: by row alone it would wait a week.
    w.app.clock.set(release);
    let lessons = w
        .app
        .state
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            w.app.state.db.get_database_backend(),
            "SELECT l.id AS id FROM lesson l JOIN series s ON s.id = l.series_id \
             WHERE l.slug = 'first-comic' ORDER BY s.slug"
                .to_owned(),
        ))
        .await
        .unwrap();
    for lesson in &lessons {
        let id: i64 = lesson.try_get("", "id").unwrap();
        homeward::services::push::plan::release(&w.app.state, id)
            .await
            .unwrap();
    }
    worker.run_due_jobs().await.unwrap();
    worker.run_due_jobs().await.unwrap();
    let week = received();
    let (consented, other) = (&week[&openids[0]], &week[&openids[1]]);
    assert_eq!(consented.len(), 2, "two messages a week: {week:?}");
    assert!(
        consented.contains(&("family3".to_owned(), "适合 6–11 岁 · 家庭课堂".to_owned())),
        "the lesson for the children's ages goes, marked: {consented:?}"
    );
    assert!(
        consented
            .iter()
            .filter(|(series, _)| series != "family3")
            .all(|(_, field)| !field.contains("适合")),
        "{consented:?}"
    );
    // Without the children's consent: the usual order (by row), nothing about age.
    let mut series: Vec<&str> = other.iter().map(|(s, _)| s.as_str()).collect();
    series.sort_unstable();
    assert_eq!(series, ["family", "family2"], "{other:?}");
    assert!(
        other.iter().all(|(_, field)| field == "家庭课堂"),
        "{other:?}"
    );
}
