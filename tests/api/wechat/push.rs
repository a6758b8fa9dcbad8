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
