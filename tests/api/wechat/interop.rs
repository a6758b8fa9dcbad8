//! Homeward's WeChat crypto, signatures and XML against wechatpy's, both ways: what wechatpy
//! sends as WeChat, Homeward reads; what Homeward replies, wechatpy reads.

use homeward::wechat::protocol::message::Envelope;
use homeward::wechat::protocol::reply::{Article, Reply, encrypted_envelope};
use homeward::wechat::protocol::signature::{callback_signature, verify_callback, verify_message};
use homeward::wechat::protocol::{
    AesKey, CryptoError, Event, Incoming, MessageCrypto, MessageKind, OpenId,
};

use super::wechatpy;

const TOKEN: &str = "pamtest";
const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wxb11529c136998cb6";
const OPENID: &str = "oia2TjjewbmiOUlr6X-1crbLOvLw";

fn crypto() -> MessageCrypto {
    MessageCrypto::new(AesKey::from_encoding_aes_key(AES_KEY).unwrap(), APPID)
}

fn account_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["--token", TOKEN, "--aes-key", AES_KEY, "--appid", APPID];
    args.extend_from_slice(extra);
    args
}

fn scan_xml(content_or_key: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>\
         <FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>1700000000</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>\
         <EventKey><![CDATA[qrscene_{content_or_key}]]></EventKey><Ticket><![CDATA[gQT]]></Ticket></xml>"
    )
}

#[test]
fn what_wechatpy_encrypts_homeward_verifies_decrypts_and_parses() {
    let mut args = vec!["encrypt"];
    args.extend(account_args(&[
        "--nonce",
        "1320562132",
        "--timestamp",
        "1700000001",
        "--openid",
        OPENID,
    ]));
    let sent = wechatpy::call(&args, &scan_xml("hw-code-42"));
    let query = &sent["query"];
    let q = |name: &str| query[name].as_str().unwrap().to_owned();
    assert_eq!(q("encrypt_type"), "aes");
    assert!(verify_callback(
        TOKEN,
        &q("signature"),
        &q("timestamp"),
        &q("nonce")
    ));

    let envelope = Envelope::parse(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(envelope.to_user_name.as_deref(), Some("gh_7f083739789a"));
    assert!(verify_message(
        TOKEN,
        &q("msg_signature"),
        &q("timestamp"),
        &q("nonce"),
        &envelope.encrypt
    ));
    assert!(!verify_message(
        TOKEN,
        &q("msg_signature"),
        &q("timestamp"),
        "other",
        &envelope.encrypt
    ));

    let xml = crypto().decrypt(&envelope.encrypt).unwrap();
    let message = Incoming::parse(&xml).unwrap();
    assert_eq!(message.from.as_str(), OPENID);
    assert_eq!(message.create_time, 1_700_000_000);
    match message.kind {
        MessageKind::Event(Event::Subscribe {
            scene: Some(scene),
            ticket,
        }) => {
            assert_eq!(scene.as_str(), "hw-code-42");
            assert_eq!(ticket.as_deref(), Some("gQT"));
        }
        other => panic!("not a scan-to-follow: {other:?}"),
    }
}

#[test]
fn a_message_wechatpy_encrypts_for_another_account_is_refused() {
    let args = vec![
        "encrypt",
        "--token",
        TOKEN,
        "--aes-key",
        AES_KEY,
        "--appid",
        "wx0000000000000000",
        "--nonce",
        "n",
        "--timestamp",
        "1",
    ];
    let sent = wechatpy::call(&args, &scan_xml("x"));
    let envelope = Envelope::parse(sent["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        crypto().decrypt(&envelope.encrypt),
        Err(CryptoError::WrongAppId)
    );
}

#[test]
fn what_homeward_replies_in_safe_mode_wechatpy_verifies_decrypts_and_parses() {
    let follower = OpenId::parse(OPENID).unwrap();
    let text = "欢迎！这是本周的课程：<电话里的陪伴> & more ]]> end";
    let xml = Reply::Text(text.into()).to_xml(&follower, "gh_7f083739789a", 1_700_000_002);
    let envelope = encrypted_envelope(&crypto(), TOKEN, &xml, "1700000002", "nonce-7");

    let mut args = vec!["decrypt"];
    args.extend(account_args(&[
        "--nonce",
        "nonce-7",
        "--timestamp",
        "1700000002",
    ]));
    let read = wechatpy::call(&args, &envelope);
    let reply = &read["reply"];
    assert_eq!(reply["type"], "text");
    assert_eq!(reply["target"], OPENID);
    assert_eq!(reply["source"], "gh_7f083739789a");
    assert_eq!(reply["time"], 1_700_000_002);
    assert_eq!(reply["content"], text);

    let article = Article {
        title: "第 3 课：电话里的陪伴".into(),
        description: "五分钟读完".into(),
        pic_url: "https://homeward.example/media/cover.jpg".into(),
        url: "https://homeward.example/lessons/3?from=wechat&x=1".into(),
    };
    let news = Reply::News(article.clone()).to_xml(&follower, "gh_7f083739789a", 5);
    let envelope = encrypted_envelope(&crypto(), TOKEN, &news, "1700000003", "nonce-8");
    let mut news_args = vec!["decrypt"];
    news_args.extend(account_args(&[
        "--nonce",
        "nonce-8",
        "--timestamp",
        "1700000003",
    ]));
    let read = wechatpy::call(&news_args, &envelope);
    assert_eq!(read["reply"]["type"], "news");
    assert_eq!(read["reply"]["article_count"], 1);
    let item = &read["reply"]["articles"][0];
    assert_eq!(item["title"], article.title.as_str());
    assert_eq!(item["description"], article.description.as_str());
    assert_eq!(item["image"], article.pic_url.as_str());
    assert_eq!(item["url"], article.url.as_str());
}

#[test]
fn wechatpy_refuses_a_reply_whose_signature_was_tampered_with() {
    let follower = OpenId::parse(OPENID).unwrap();
    let xml = Reply::Text("hi".into()).to_xml(&follower, "gh_1", 1);
    let envelope = encrypted_envelope(&crypto(), TOKEN, &xml, "1700000002", "n");
    let start = envelope.find("<MsgSignature><![CDATA[").unwrap() + "<MsgSignature><![CDATA[".len();
    let mut tampered = envelope.clone();
    let flipped = if &envelope[start..start + 1] == "0" {
        "1"
    } else {
        "0"
    };
    tampered.replace_range(start..start + 1, flipped);
    let mut args = vec!["decrypt"];
    args.extend(account_args(&[]));
    let outcome = wechatpy::run(&args, &tampered);
    assert!(!outcome.ok);
    assert!(
        outcome.stderr.contains("InvalidSignature"),
        "{}",
        outcome.stderr
    );
    assert!(wechatpy::run(&args, &envelope).ok);
}

#[test]
fn plain_mode_replies_and_signatures_agree_with_wechatpy() {
    let follower = OpenId::parse(OPENID).unwrap();
    let long = "长".repeat(1000);
    let xml = Reply::Text(long).to_xml(&follower, "gh_1", 9);
    let read = wechatpy::call(&["reply"], &xml);
    let content = read["reply"]["content"].as_str().unwrap();
    assert!(content.len() <= 2048 && content.ends_with('…'));

    let signature = callback_signature(TOKEN, "1409304348", "xxxxxx");
    let ok = [
        "check",
        "--token",
        TOKEN,
        "--signature",
        &signature,
        "--timestamp",
        "1409304348",
        "--nonce",
        "xxxxxx",
    ];
    assert!(wechatpy::run(&ok, "").ok);
    let bad = [
        "check",
        "--token",
        TOKEN,
        "--signature",
        &signature,
        "--timestamp",
        "1409304349",
        "--nonce",
        "xxxxxx",
    ];
    assert!(!wechatpy::run(&bad, "").ok);

    let signed = wechatpy::call(
        &[
            "sign",
            "--token",
            TOKEN,
            "--timestamp",
            "1",
            "--nonce",
            "n",
            "--encrypt",
            "E==",
        ],
        "",
    );
    assert_eq!(signed["signature"], callback_signature(TOKEN, "1", "n"));
    assert!(verify_message(
        TOKEN,
        signed["msg_signature"].as_str().unwrap(),
        "1",
        "n",
        "E=="
    ));
}

#[test]
fn messages_homeward_parses_wechatpy_parses_the_same_way() {
    let text = format!(
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>\
         <CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>\
         <Content><![CDATA[本周课程 & <b>]]></Content><MsgId>6054768590064713728</MsgId></xml>"
    );
    let theirs = wechatpy::call(&["parse"], &text);
    let ours = Incoming::parse(&text).unwrap();
    assert_eq!(theirs["source"], ours.from.as_str());
    assert_eq!(
        theirs["id"].as_u64().unwrap().to_string(),
        "6054768590064713728"
    );
    match ours.kind {
        MessageKind::Text { content, msg_id } => {
            assert_eq!(theirs["content"], content.as_str());
            assert_eq!(msg_id, "6054768590064713728");
        }
        other => panic!("{other:?}"),
    }
    let theirs = wechatpy::call(&["parse"], &scan_xml("hw-9"));
    assert_eq!(theirs["event"], "subscribe_scan");
    assert_eq!(theirs["scene_id"], "hw-9");
}
