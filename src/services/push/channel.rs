//! What the push hands a message to, and what it hears back. WeChat implements it; tests use
//! the WeChat stand-in. The channel owns its own addressing (a learner's follower) and token.

use chrono::{DateTime, Utc};

use crate::domain::Lang;
use crate::services::Context;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A lesson was released for this learner.
    Release,
    /// A gentle reminder of a lesson not yet opened.
    Reminder,
    /// A learner inactive for long is told their data will be deleted (`services::inactivity`).
    Notice,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Release => "release",
            MessageKind::Reminder => "reminder",
            MessageKind::Notice => "notice",
        }
    }

    pub fn parse(raw: &str) -> Option<MessageKind> {
        match raw {
            "release" => Some(MessageKind::Release),
            "reminder" => Some(MessageKind::Reminder),
            "notice" => Some(MessageKind::Notice),
            _ => None,
        }
    }
}

/// One message to one learner about one lesson.
#[derive(Clone, Debug)]
pub struct OutgoingMessage {
    /// The push row's id: the channel may use it as an idempotency key.
    pub id: i64,
    pub learner_id: i64,
    pub kind: MessageKind,
    pub lang: Lang,
    pub series_title: String,
    pub lesson_title: String,
    /// The lesson's page, absolute (`{HOMEWARD_PUBLIC_URL}/s/{series}/{lesson}`).
    pub url: String,
    pub released_at: DateTime<Utc>,
    /// "适合 6–11 岁" / "For ages 6–11" when the lesson is for the learner's children's ages
    /// (only with the children's consent).
    pub for_ages: Option<String>,
}

/// How a send went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// The learner cannot be reached: no follower, or WeChat says they do not follow (43004).
    NotFollowing,
    /// WeChat's quota is used up (45009): this and the rest wait.
    RateLimited,
    /// Refused before it could have been delivered (5xx, a token that would not refresh, a
    /// connection that failed): worth another try.
    Unavailable(String),
    /// It may or may not have arrived (a timeout after sending): never tried again, so never
    /// sent twice.
    Uncertain(String),
    /// Refused for good (a bad template or field): not tried again.
    Rejected(String),
}

#[async_trait::async_trait]
pub trait MessageChannel: Send + Sync {
    async fn send(&self, ctx: &Context, message: &OutgoingMessage) -> SendOutcome;
}
