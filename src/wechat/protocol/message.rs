//! What WeChat posts to the callback: the safe-mode envelope, and the messages and events
//! inside it (text, follow and unfollow, QR scans, menu clicks, and everything else by type).

use sha1::{Digest, Sha1};

use super::ids::{OpenId, SceneStr};
use super::xml::{Fields, XmlError, parse_fields};

/// The prefix WeChat puts before a QR code's scene in the `EventKey` of a scan-to-follow.
const QRSCENE_PREFIX: &str = "qrscene_";

/// A safe-mode body: `<xml><ToUserName/><Encrypt/></xml>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    pub to_user_name: Option<String>,
    pub encrypt: String,
}

impl Envelope {
    pub fn parse(body: &str) -> Result<Envelope, XmlError> {
        let fields = parse_fields(body)?;
        Ok(Envelope {
            to_user_name: fields.get("ToUserName").map(str::to_owned),
            encrypt: fields.required("Encrypt")?.trim().to_owned(),
        })
    }
}

/// One message or event from a follower.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// Our account's id (`gh_…`), which replies put in `FromUserName`.
    pub to_user_name: String,
    /// The follower.
    pub from: OpenId,
    /// Unix seconds, as WeChat stamped it.
    pub create_time: i64,
    pub kind: MessageKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    Text {
        content: String,
        msg_id: String,
    },
    Event(Event),
    /// Images, voice, video, location, links…: their `MsgType` and `MsgId`.
    Other {
        msg_type: String,
        msg_id: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A follow; `scene` is set when it came from scanning a parametric QR code.
    Subscribe {
        scene: Option<SceneStr>,
        ticket: Option<String>,
    },
    Unsubscribe,
    /// A follower scanned a parametric QR code.
    Scan {
        scene: SceneStr,
        ticket: Option<String>,
    },
    /// A `click` menu button.
    Click {
        key: String,
    },
    /// A `view` menu button (its URL).
    View {
        url: String,
    },
    /// Any other event, by name (location reports, template delivery receipts…).
    Other {
        name: String,
    },
}

impl Incoming {
    /// Parses a decrypted (or plain-mode) message.
    pub fn parse(body: &str) -> Result<Incoming, XmlError> {
        let fields = parse_fields(body)?;
        Self::from_fields(&fields)
    }

    fn from_fields(fields: &Fields) -> Result<Incoming, XmlError> {
        let to_user_name = fields.required("ToUserName")?.trim().to_owned();
        let from = OpenId::parse(fields.required("FromUserName")?.trim())
            .ok_or(XmlError::Invalid("FromUserName"))?;
        let create_time = fields
            .required("CreateTime")?
            .trim()
            .parse::<i64>()
            .map_err(|_| XmlError::Invalid("CreateTime"))?;
        let msg_type = fields.required("MsgType")?.trim();
        let msg_id = fields
            .get("MsgId")
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned);
        if let Some(id) = &msg_id
            && (id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(XmlError::Invalid("MsgId"));
        }
        let kind = match msg_type {
            "text" => MessageKind::Text {
                content: fields.get("Content").unwrap_or_default().to_owned(),
                msg_id: msg_id.ok_or(XmlError::Missing("MsgId"))?,
            },
            "event" => MessageKind::Event(parse_event(fields)?),
            other => MessageKind::Other {
                msg_type: other.chars().take(32).collect(),
                msg_id,
            },
        };
        Ok(Incoming {
            to_user_name,
            from,
            create_time,
            kind,
        })
    }

    /// The key that is the same for WeChat's retries of this message and different for any
    /// other: `MsgId` for messages, follower + `CreateTime` (+ the event) for events. Hashed, so
    /// storing it stores no openid.
    pub fn retry_key(&self) -> String {
        let raw = match &self.kind {
            MessageKind::Text { msg_id, .. } => format!("msg:{msg_id}"),
            MessageKind::Other {
                msg_id: Some(msg_id),
                ..
            } => format!("msg:{msg_id}"),
            MessageKind::Other { msg_type, .. } => format!(
                "other:{}:{}:{msg_type}",
                self.from.as_str(),
                self.create_time
            ),
            MessageKind::Event(event) => format!(
                "event:{}:{}:{}",
                self.from.as_str(),
                self.create_time,
                event.name()
            ),
        };
        hex::encode(Sha1::digest(raw.as_bytes()))
    }
}

impl Event {
    /// WeChat's name for the event.
    pub fn name(&self) -> &str {
        match self {
            Event::Subscribe { .. } => "subscribe",
            Event::Unsubscribe => "unsubscribe",
            Event::Scan { .. } => "SCAN",
            Event::Click { .. } => "CLICK",
            Event::View { .. } => "VIEW",
            Event::Other { name } => name,
        }
    }
}

fn parse_event(fields: &Fields) -> Result<Event, XmlError> {
    let name = fields.required("Event")?.trim();
    let key = fields.get("EventKey").map(str::trim).unwrap_or_default();
    let ticket = fields
        .get("Ticket")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned);
    // WeChat documents the names in one case each but is not consistent across accounts.
    let event = match name.to_ascii_lowercase().as_str() {
        "subscribe" => {
            let scene = match key.strip_prefix(QRSCENE_PREFIX) {
                Some(scene) => Some(SceneStr::parse(scene).ok_or(XmlError::Invalid("EventKey"))?),
                // A plain follow has no key; anything else there is not a QR scene.
                None => None,
            };
            Event::Subscribe { scene, ticket }
        }
        "unsubscribe" => Event::Unsubscribe,
        "scan" => Event::Scan {
            scene: SceneStr::parse(key).ok_or(XmlError::Invalid("EventKey"))?,
            ticket,
        },
        "click" => Event::Click {
            key: key.to_owned(),
        },
        "view" => Event::View {
            url: key.to_owned(),
        },
        _ => Event::Other {
            name: name.chars().take(32).collect(),
        },
    };
    Ok(event)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENID: &str = "oia2TjjewbmiOUlr6X-1crbLOvLw";

    fn event_xml(event: &str, key: &str, ticket: &str) -> String {
        format!(
            "<xml><ToUserName><![CDATA[gh_7f083739789a]]></ToUserName>\
             <FromUserName><![CDATA[{OPENID}]]></FromUserName><CreateTime>1407743423</CreateTime>\
             <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>\
             <EventKey><![CDATA[{key}]]></EventKey><Ticket><![CDATA[{ticket}]]></Ticket></xml>"
        )
    }

    #[test]
    fn parses_the_documented_text_message() {
        let message = Incoming::parse(
            "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[oFromUser]]></FromUserName>\
             <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>\
             <Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>",
        )
        .unwrap();
        assert_eq!(message.to_user_name, "toUser");
        assert_eq!(message.from.as_str(), "oFromUser");
        assert_eq!(message.create_time, 1_348_831_860);
        assert_eq!(
            message.kind,
            MessageKind::Text {
                content: "this is a test".into(),
                msg_id: "1234567890123456".into()
            }
        );
    }

    #[test]
    fn scan_to_follow_and_scan_carry_the_scene() {
        let follow =
            Incoming::parse(&event_xml("subscribe", "qrscene_hw-abc123", "TICKET")).unwrap();
        assert_eq!(
            follow.kind,
            MessageKind::Event(Event::Subscribe {
                scene: SceneStr::parse("hw-abc123"),
                ticket: Some("TICKET".into())
            })
        );
        let scan = Incoming::parse(&event_xml("SCAN", "hw-abc123", "TICKET")).unwrap();
        assert_eq!(
            scan.kind,
            MessageKind::Event(Event::Scan {
                scene: SceneStr::parse("hw-abc123").unwrap(),
                ticket: Some("TICKET".into())
            })
        );
        let plain = Incoming::parse(&event_xml("subscribe", "", "")).unwrap();
        assert_eq!(
            plain.kind,
            MessageKind::Event(Event::Subscribe {
                scene: None,
                ticket: None
            })
        );
    }

    #[test]
    fn menu_and_other_events() {
        let parse =
            |event: &str, key: &str| Incoming::parse(&event_xml(event, key, "")).unwrap().kind;
        assert_eq!(
            parse("unsubscribe", ""),
            MessageKind::Event(Event::Unsubscribe)
        );
        assert_eq!(
            parse("CLICK", "PROGRESS"),
            MessageKind::Event(Event::Click {
                key: "PROGRESS".into()
            })
        );
        assert_eq!(
            parse("VIEW", "https://example.org/"),
            MessageKind::Event(Event::View {
                url: "https://example.org/".into()
            })
        );
        assert_eq!(
            parse("LOCATION", ""),
            MessageKind::Event(Event::Other {
                name: "LOCATION".into()
            })
        );
    }

    #[test]
    fn other_message_types_keep_their_type_and_id() {
        let image = Incoming::parse(&format!(
            "<xml><ToUserName>gh_1</ToUserName><FromUserName>{OPENID}</FromUserName>\
             <CreateTime>1</CreateTime><MsgType>image</MsgType><PicUrl>http://x/</PicUrl>\
             <MsgId>42</MsgId></xml>"
        ))
        .unwrap();
        assert_eq!(
            image.kind,
            MessageKind::Other {
                msg_type: "image".into(),
                msg_id: Some("42".into())
            }
        );
    }

    #[test]
    fn invalid_fields_are_refused() {
        let base = |from: &str, time: &str, rest: &str| {
            format!(
                "<xml><ToUserName>gh_1</ToUserName><FromUserName>{from}</FromUserName>\
                 <CreateTime>{time}</CreateTime>{rest}</xml>"
            )
        };
        let text = "<MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>";
        assert_eq!(
            Incoming::parse(&base("bad id", "1", text)),
            Err(XmlError::Invalid("FromUserName"))
        );
        assert_eq!(
            Incoming::parse(&base(OPENID, "soon", text)),
            Err(XmlError::Invalid("CreateTime"))
        );
        assert_eq!(
            Incoming::parse(&base(
                OPENID,
                "1",
                "<MsgType>text</MsgType><Content>hi</Content>"
            )),
            Err(XmlError::Missing("MsgId"))
        );
        assert_eq!(
            Incoming::parse(&base(
                OPENID,
                "1",
                "<MsgType>text</MsgType><MsgId>1; drop</MsgId>"
            )),
            Err(XmlError::Invalid("MsgId"))
        );
        assert_eq!(
            Incoming::parse(&base(OPENID, "1", "")),
            Err(XmlError::Missing("MsgType"))
        );
        assert_eq!(
            Incoming::parse(&event_xml("SCAN", "", "")),
            Err(XmlError::Invalid("EventKey"))
        );
        assert_eq!(
            Incoming::parse(&event_xml("subscribe", "qrscene_", "")),
            Err(XmlError::Invalid("EventKey"))
        );
    }

    #[test]
    fn retries_share_a_key_that_holds_no_openid() {
        let a = Incoming::parse(&event_xml("subscribe", "qrscene_x", "T")).unwrap();
        let again = Incoming::parse(&event_xml("subscribe", "qrscene_x", "T")).unwrap();
        let scan = Incoming::parse(&event_xml("SCAN", "x", "T")).unwrap();
        assert_eq!(a.retry_key(), again.retry_key());
        assert_ne!(a.retry_key(), scan.retry_key());
        assert!(!a.retry_key().contains(OPENID));
        assert_eq!(a.retry_key().len(), 40);
    }

    #[test]
    fn the_envelope_yields_the_ciphertext() {
        let envelope = Envelope::parse(
            "<xml><ToUserName><![CDATA[toUser]]></ToUserName><Encrypt><![CDATA[abc==]]></Encrypt></xml>",
        )
        .unwrap();
        assert_eq!(envelope.encrypt, "abc==");
        assert_eq!(
            Envelope::parse("<xml><ToUserName>t</ToUserName></xml>"),
            Err(XmlError::Missing("Encrypt"))
        );
    }
}
