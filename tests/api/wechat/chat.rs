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
