//! The chat through the real callback: keywords and menu clicks, the follower's language,
//! safeguarding replies (counted per week, shown to editors only as groups of 5 or more).

use sea_orm::{ConnectionTrait, Statement};

use super::{WechatApp, event_xml, spawn, text_xml};

const OPENID: &str = "oStandinChatTest00000000001";

async fn say(w: &WechatApp, text: &str, id: u64) -> serde_json::Value {
    let answer = w.send(&text_xml(OPENID, w.now(), text, id)).await;
    w.reply(&answer)
}

#[tokio::test]
async fn keywords_menu_clicks_and_languages() {
    let w = spawn(false).await;
    w.reply(&w.send(&event_xml(OPENID, w.now(), "subscribe", "")).await);

    // This week's lesson is a news card with its title, summary, cover and link.
    let news = say(&w, "本周课程", 1).await;
    assert_eq!(news["type"], "news", "{news}");
    let item = &news["articles"][0];
    assert_eq!(item["url"], "http://homeward.test/s/family/third-article");
    assert_eq!(item["title"], "第3课", "{item}");
    assert!(
        item["description"].as_str().unwrap().contains("第3周"),
        "{item}"
    );
    let clicked = w.reply(
        &w.send(&event_xml(OPENID, w.now(), "CLICK", "THIS_WEEK"))
            .await,
    );
    assert_eq!(clicked["articles"][0]["url"], item["url"]);

    // Progress needs a learner; help gives the hotlines and the help page.
    let progress = say(&w, "2", 2).await;
    assert!(
        progress["content"].as_str().unwrap().contains("还没有加入"),
        "{progress}"
    );
    let help = say(&w, "求助", 3).await;
    let help = help["content"].as_str().unwrap();
    for number in ["110", "12355", "12338", "12356"] {
        assert!(help.contains(number), "{help}");
    }
    assert!(help.contains("http://homeward.test/help?lang=zh"), "{help}");

    // Unknown text and voice messages get the short menu.
    let unknown = say(&w, "你好", 4).await;
    assert!(
        unknown["content"].as_str().unwrap().contains("“1”本周课程"),
        "{unknown}"
    );
    let voice = format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{OPENID}</FromUserName><CreateTime>{}</CreateTime>\
         <MsgType>voice</MsgType><MediaId>m</MediaId><Format>amr</Format><MsgId>5</MsgId></xml>",
        super::ACCOUNT,
        w.now()
    );
    assert!(w.reply_text(&w.send(&voice).await).contains("“1”本周课程"));

    // English from now on, then back.
    let switched = say(&w, "EN", 6).await;
    assert_eq!(
        switched["content"],
        "OK, I will answer in English from now on."
    );
    let english = say(&w, "what?", 7).await;
    assert!(
        english["content"]
            .as_str()
            .unwrap()
            .starts_with("You can reply:"),
        "{english}"
    );
    let news = say(&w, "lesson", 8).await;
    assert!(
        news["articles"][0]["description"]
            .as_str()
            .unwrap()
            .contains("Week 3")
    );
    let back = say(&w, "中文", 9).await;
    assert_eq!(back["content"], "好的，以后用中文回复您。");
}

#[tokio::test]
async fn safeguarding_words_get_hotlines_at_once_and_only_counts_are_kept() {
    let w = spawn(true).await;
    let messages = [
        ("我老公经常打孩子", "child_harm"),
        ("孩子在学校被打了", "child_harm"),
        ("Bei Da le", "child_harm"),
        ("有人想拐我家孩子", "child_harm"),
        ("XING-QIN", "child_harm"),
        ("我真的想死", "self_harm"),
        ("xiang si", "self_harm"),
    ];
    for (i, (message, _)) in messages.iter().enumerate() {
        let reply = say(&w, message, 100 + i as u64).await;
        let text = reply["content"].as_str().unwrap();
        for number in ["110", "12355", "12338", "12356"] {
            assert!(text.contains(number), "{message}: {text}");
        }
        assert!(text.contains("http://homeward.test/help?lang=zh"), "{text}");
    }
    // Nothing of what was said is stored anywhere.
    let dump = format!(
        "{:?}",
        w.app
            .state
            .db
            .query_all_raw(Statement::from_string(
                w.app.state.db.get_database_backend(),
                "SELECT * FROM safeguarding_count".to_owned()
            ))
            .await
            .unwrap()
    );
    assert!(!dump.contains("孩子") && !dump.contains(OPENID), "{dump}");
    assert_eq!(
        w.app
            .count("SELECT matches FROM safeguarding_count WHERE category = 'child_harm'")
            .await,
        5
    );
    assert_eq!(
        w.app
            .count("SELECT matches FROM safeguarding_count WHERE category = 'self_harm'")
            .await,
        2
    );

    // Editors see 5 as 5, and 2 as "fewer than 5"; learners and anonymous people see nothing.
    let editor = crate::staff::sign_in(
        &w.app,
        "editor@example.org",
        homeward::services::staff::Role::Editor,
        None,
    )
    .await;
    let page = w
        .app
        .client
        .get(w.app.url("/studio/safeguarding?lang=en"))
        .header("cookie", crate::staff::cookie(&editor))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let row = html
        .split("<tr><td>2030-01-21</td>")
        .nth(1)
        .unwrap()
        .split("</tr>")
        .next()
        .unwrap();
    assert_eq!(
        row, "<td>fewer than 5</td><td>5</td><td>fewer than 5</td>",
        "self harm, child harm, violence at home"
    );
    assert_eq!(w.app.status("/studio/safeguarding").await, 303);
}

/// In a series paced from joining, "this week" is the learner's own lesson: lesson 1 in the
/// week they joined, one more each week; a follower who has not joined gets the newest.
#[tokio::test]
async fn this_week_is_the_learners_own_lesson_when_paced_from_joining() {
    use homeward::clock::Clock;

    let db = crate::helpers::TestDatabase::create().await;
    let standin = crate::support::wechat_standin::WechatStandin::start().await;
    let content = crate::fixture::paced_from_join();
    // Week 3 of the series: lessons 1–3 are out.
    let app = super::app_for(&db, &standin, content.path(), false, None).await;
    let w = WechatApp {
        app,
        standin,
        safe_mode: false,
        _db: db,
        _content: content,
    };
    const STRANGER: &str = "oStandinChatTest00000000002";
    for openid in [OPENID, STRANGER] {
        w.reply(&w.send(&event_xml(openid, w.now(), "subscribe", "")).await);
    }
    // The follower joins now, in the series' week 3.
    let code = w.app.make_code(None, None).await;
    let learner = crate::progress::enroll(&w.app, &code.token, "10.0.0.1").await;
    w.app
        .state
        .db
        .execute_raw(Statement::from_sql_and_values(
            w.app.state.db.get_database_backend(),
            "UPDATE wechat_follower SET learner_id = $1 WHERE openid = $2",
            [learner.id.into(), OPENID.into()],
        ))
        .await
        .unwrap();
    let this_week = |openid: &'static str, id: u64| {
        let w = &w;
        async move {
            let news = w.reply(&w.send(&text_xml(openid, w.now(), "本周课程", id)).await);
            news["articles"][0]["url"]
                .as_str()
                .unwrap_or_else(|| panic!("{news}"))
                .to_owned()
        }
    };
    assert_eq!(
        this_week(OPENID, 11).await,
        "http://homeward.test/s/family/first-comic"
    );
    assert_eq!(
        this_week(STRANGER, 12).await,
        "http://homeward.test/s/family/third-article"
    );
    // A week after joining: lesson 2.
    w.app
        .clock
        .set(w.app.clock.now() + chrono::Duration::days(7));
    assert_eq!(
        this_week(OPENID, 13).await,
        "http://homeward.test/s/family/second-video"
    );
}

/// "复习" in the chat: the learner's due questions with lettered choices, answered by a reply of
/// letters through the home's review service (the same Leitner moves, stored as review
/// attempts); nothing due: when the next review comes; someone who has not joined: join first.
#[tokio::test]
async fn review_in_the_chat_shows_due_questions_and_takes_letters_as_answers() {
    use homeward::clock::Clock;

    let w = spawn(false).await;
    w.reply(&w.send(&event_xml(OPENID, w.now(), "subscribe", "")).await);
    let text = |reply: serde_json::Value| reply["content"].as_str().unwrap().to_owned();
    let stranger = text(say(&w, "复习", 1).await);
    assert!(stranger.contains("还没有加入"), "{stranger}");

    let code = w.app.make_code(None, None).await;
    let learner = crate::progress::enroll(&w.app, &code.token, "10.0.0.1").await;
    w.app
        .state
        .db
        .execute_raw(Statement::from_sql_and_values(
            w.app.state.db.get_database_backend(),
            "UPDATE wechat_follower SET learner_id = $1 WHERE openid = $2",
            [learner.id.into(), OPENID.into()],
        ))
        .await
        .unwrap();
    let nothing = text(say(&w, "复习", 2).await);
    assert!(
        nothing.contains("现在没有要复习的题") && nothing.contains("第二天"),
        "{nothing}"
    );
    // Both questions wrong: they come back tomorrow (20:00 in Shanghai on 21 January).
    let graded: serde_json::Value = w
        .app
        .client
        .post(w.app.url("/api/v1/series/family/lessons/first-comic/quiz"))
        .bearer_auth(&learner.token)
        .json(&serde_json::json!({"answers": {"q1": ["a"], "q2": ["b"]}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(graded["score"], 0, "{graded}");
    let later = text(say(&w, "review", 3).await);
    assert!(later.contains("下次复习：1月22日"), "{later}");
    // Letters from a learner with nothing due are just a message: the menu.
    assert!(text(say(&w, "B", 4).await).contains("“4”复习"));

    w.app
        .clock
        .set(w.app.clock.now() + chrono::Duration::days(1));
    let card = text(say(&w, "4", 5).await);
    for line in [
        "1. 哪个对？\nA. 甲\nB. 乙",
        "2. 哪些对？（可以选几个）\nA. 甲\nB. 乙\nC. 丙",
        "例如“A AB”",
    ] {
        assert!(card.contains(line), "{line}: {card}");
    }
    // Two groups for two questions; too few is not taken.
    let unclear = text(say(&w, "B", 6).await);
    assert!(unclear.contains("没看懂"), "{unclear}");
    let answer = text_xml(OPENID, w.now(), "b ab", 7);
    let result = w.reply_text(&w.send(&answer).await);
    for part in [
        "✔ 第1题答对了！\n这道题1月25日再来复习。",
        "✘ 第2题还不对。正确答案：A 甲、C 丙。\n甲和丙对。\n这道题1月23日再来复习。",
    ] {
        assert!(result.contains(part), "{part}: {result}");
    }
    let boxes = |question: &'static str| {
        let app = &w.app;
        async move {
            app.count(&format!(
                "SELECT CAST(box AS BIGINT) FROM review_item WHERE question = '{question}'"
            ))
            .await
        }
    };
    assert_eq!((boxes("q1").await, boxes("q2").await), (2, 1));
    assert_eq!(
        w.app.count("SELECT COUNT(*) FROM review_attempt").await,
        2,
        "stored like the home's review answers"
    );
    // WeChat retrying the same message changes nothing.
    w.reply(&w.send(&answer).await);
    assert_eq!(w.app.count("SELECT COUNT(*) FROM review_attempt").await, 2);
    assert_eq!((boxes("q1").await, boxes("q2").await), (2, 1));

    // In English, the next day: one question, answered right.
    say(&w, "EN", 8).await;
    w.app
        .clock
        .set(w.app.clock.now() + chrono::Duration::days(1));
    let card = text(say(&w, "review", 9).await);
    assert!(
        card.contains("1. Which are right? (choose all that apply)\nA. A\nB. B\nC. C"),
        "{card}"
    );
    let right = text(say(&w, "C, A", 10).await);
    assert_eq!(right, "✔ Question 1: right!\nIt comes back on 26 January.");
    let later = text(say(&w, "review", 11).await);
    assert_eq!(
        later,
        "Nothing to review right now. The next review: 25 January. Reply 4 to review then."
    );
    assert_eq!(w.app.count("SELECT COUNT(*) FROM review_attempt").await, 3);
}
