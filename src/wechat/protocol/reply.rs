//! Passive replies (被动回复): the XML answered to a callback, as text or a one-article news
//! card, and the safe-mode envelope that wraps it. Built with an XML writer, never by pasting
//! strings, so a follower's or an editor's text cannot break out of its element.

use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesEnd, BytesStart, BytesText, Event};

use super::crypto::MessageCrypto;
use super::ids::OpenId;
use super::signature::message_signature;

/// WeChat drops a text reply whose `Content` is longer than this many bytes.
pub const MAX_TEXT_REPLY_BYTES: usize = 2048;
const ELLIPSIS: &str = "…";

/// One item of a news reply: a card with a title, a summary, a cover image and a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    pub title: String,
    pub description: String,
    pub pic_url: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Text(String),
    News(Article),
}

/// `text` cut to at most `max` bytes on a character boundary, ending in `…` when it was cut.
pub fn truncate_utf8(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(ELLIPSIS.len());
    let mut end = budget.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &text[..end])
}

/// Drops the characters XML 1.0 cannot carry at all (control characters other than tab and
/// newlines), which would make WeChat refuse the whole reply.
fn xml_safe(text: &str) -> String {
    text.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r') || !(c.is_control() && (c as u32) < 0x20))
        .filter(|&c| !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .collect()
}

struct XmlOut(Writer<Cursor<Vec<u8>>>);

impl XmlOut {
    fn new() -> Self {
        XmlOut(Writer::new(Cursor::new(Vec::new())))
    }

    fn write(&mut self, event: Event<'_>) {
        self.0
            .write_event(event)
            .expect("writing XML to memory cannot fail");
    }

    fn open(&mut self, name: &str) {
        self.write(Event::Start(BytesStart::new(name)));
    }

    fn close(&mut self, name: &str) {
        self.write(Event::End(BytesEnd::new(name)));
    }

    /// `<name><![CDATA[text]]></name>`, splitting any `]]>` in the text across sections.
    fn cdata(&mut self, name: &str, text: &str) {
        self.open(name);
        let text = xml_safe(text);
        for section in BytesCData::escaped(&text) {
            self.write(Event::CData(section));
        }
        self.close(name);
    }

    /// `<name>number-or-plain</name>`, escaped.
    fn plain(&mut self, name: &str, text: &str) {
        self.open(name);
        self.write(Event::Text(BytesText::new(&xml_safe(text))));
        self.close(name);
    }

    fn finish(self) -> String {
        String::from_utf8(self.0.into_inner().into_inner()).expect("the writer only wrote UTF-8")
    }
}

impl Reply {
    /// The reply's XML to `follower`, sent from our account `account` (the `ToUserName` of the
    /// message being answered). A text longer than WeChat allows is cut to fit.
    pub fn to_xml(&self, follower: &OpenId, account: &str, create_time: i64) -> String {
        let mut out = XmlOut::new();
        out.open("xml");
        out.cdata("ToUserName", follower.as_str());
        out.cdata("FromUserName", account);
        out.plain("CreateTime", &create_time.to_string());
        match self {
            Reply::Text(content) => {
                out.cdata("MsgType", "text");
                let content = truncate_utf8(&xml_safe(content), MAX_TEXT_REPLY_BYTES);
                out.cdata("Content", &content);
            }
            Reply::News(article) => {
                out.cdata("MsgType", "news");
                out.plain("ArticleCount", "1");
                out.open("Articles");
                out.open("item");
                out.cdata("Title", &article.title);
                out.cdata("Description", &article.description);
                out.cdata("PicUrl", &article.pic_url);
                out.cdata("Url", &article.url);
                out.close("item");
                out.close("Articles");
            }
        }
        out.close("xml");
        out.finish()
    }
}

/// Wraps a reply's XML for safe mode: `<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>`.
pub fn encrypted_envelope(
    crypto: &MessageCrypto,
    token: &str,
    reply_xml: &str,
    timestamp: &str,
    nonce: &str,
) -> String {
    let encrypt = crypto.encrypt(reply_xml);
    envelope_for(token, &encrypt, timestamp, nonce)
}

/// The envelope around an already encrypted text (tests reproduce known vectors with it).
pub fn envelope_for(token: &str, encrypt: &str, timestamp: &str, nonce: &str) -> String {
    let signature = message_signature(token, timestamp, nonce, encrypt);
    let mut out = XmlOut::new();
    out.open("xml");
    out.cdata("Encrypt", encrypt);
    out.cdata("MsgSignature", &signature);
    out.plain("TimeStamp", timestamp);
    out.cdata("Nonce", nonce);
    out.close("xml");
    out.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wechat::protocol::crypto::AesKey;
    use crate::wechat::protocol::xml::parse_fields;

    fn follower() -> OpenId {
        OpenId::parse("oia2TjjewbmiOUlr6X-1crbLOvLw").unwrap()
    }

    #[test]
    fn a_text_reply_swaps_the_parties_and_survives_markup_in_the_text() {
        let xml =
            Reply::Text("a]]>b <c> & \u{7}d".into()).to_xml(&follower(), "gh_1", 1_700_000_000);
        let fields = parse_fields(&xml).unwrap();
        assert_eq!(
            fields.get("ToUserName"),
            Some("oia2TjjewbmiOUlr6X-1crbLOvLw")
        );
        assert_eq!(fields.get("FromUserName"), Some("gh_1"));
        assert_eq!(fields.get("CreateTime"), Some("1700000000"));
        assert_eq!(fields.get("MsgType"), Some("text"));
        assert_eq!(fields.get("Content"), Some("a]]>b <c> & d"));
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_within_2048_bytes() {
        let long = "课".repeat(1000); // 3000 bytes
        let xml = Reply::Text(long).to_xml(&follower(), "gh_1", 1);
        let content = parse_fields(&xml)
            .unwrap()
            .get("Content")
            .unwrap()
            .to_owned();
        assert!(content.len() <= MAX_TEXT_REPLY_BYTES, "{}", content.len());
        assert!(content.len() > MAX_TEXT_REPLY_BYTES - 6);
        assert!(content.ends_with('…'));
        assert_eq!(truncate_utf8("short", 2048), "short");
        assert_eq!(truncate_utf8(&"x".repeat(2048), 2048).len(), 2048);
        assert_eq!(truncate_utf8("aé", 4), "aé");
        assert_eq!(truncate_utf8("aéé", 4), "a…");
        assert_eq!(truncate_utf8("éé", 3), "…");
    }

    #[test]
    fn a_news_reply_has_one_article() {
        let article = Article {
            title: "第 3 课：电话里的陪伴".into(),
            description: "五分钟读完".into(),
            pic_url: "https://homeward.example/media/c.jpg".into(),
            url: "https://homeward.example/lessons/3?a=1&b=2".into(),
        };
        let xml = Reply::News(article).to_xml(&follower(), "gh_1", 1);
        assert!(xml.contains("<ArticleCount>1</ArticleCount>"));
        assert!(xml.contains("<Articles><item><Title><![CDATA[第 3 课：电话里的陪伴]]></Title>"));
        assert!(xml.contains("<Url><![CDATA[https://homeward.example/lessons/3?a=1&b=2]]></Url>"));
        assert_eq!(parse_fields(&xml).unwrap().get("MsgType"), Some("news"));
    }

    #[test]
    fn the_encrypted_envelope_reproduces_wechat_works_documented_reply() {
        // wechatpy's vector for WeChat Work (same scheme), with its fixed random bytes.
        let crypto = MessageCrypto::new(
            AesKey::from_encoding_aes_key("kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR").unwrap(),
            "wx49f0ab532d5d035a",
        );
        let reply = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n\
<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n\
<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
        let encrypt = crypto.encrypt_with_random(reply, b"1234567890123456");
        assert_eq!(
            encrypt,
            "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
        );
        let envelope = envelope_for("123456", &encrypt, "1411525903", "461056294");
        let fields = parse_fields(&envelope).unwrap();
        assert_eq!(
            fields.get("MsgSignature"),
            Some("407518b7649e86ef23978113f92d27afa9296533")
        );
        assert_eq!(fields.get("TimeStamp"), Some("1411525903"));
        assert_eq!(fields.get("Nonce"), Some("461056294"));
    }

    #[test]
    fn an_encrypted_reply_opens_to_the_same_xml() {
        let crypto = MessageCrypto::new(
            AesKey::from_encoding_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap(),
            "wxb11529c136998cb6",
        );
        let xml = Reply::Text("你好".into()).to_xml(&follower(), "gh_1", 5);
        let envelope = encrypted_envelope(&crypto, "pamtest", &xml, "1409304348", "xxxxxx");
        let fields = parse_fields(&envelope).unwrap();
        let encrypt = fields.get("Encrypt").unwrap();
        assert!(crate::wechat::protocol::signature::verify_message(
            "pamtest",
            fields.get("MsgSignature").unwrap(),
            "1409304348",
            "xxxxxx",
            encrypt
        ));
        assert_eq!(crypto.decrypt(encrypt).unwrap(), xml);
    }
}
