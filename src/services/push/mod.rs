//! The weekly push: a release becomes one message per learner, at a time they can read it,
//! exactly once across instances and restarts. Planning (`plan`) writes one `push_message` row
//! per learner, lesson and kind (unique, so nothing is planned twice); delivery (`deliver`)
//! claims due rows and hands them to a `MessageChannel` (WeChat, or a test stand-in).

pub mod channel;
pub mod deliver;
pub mod figures;
pub mod plan;
pub mod prefs;
pub mod quota;

pub use channel::{MessageChannel, MessageKind, OutgoingMessage, SendOutcome};
pub use deliver::{Delivery, deliver_due};

use super::Context;

/// Job kinds of the push.
pub const RELEASE_JOB: &str = "push.release";
pub const PACE_JOB: &str = "push.pace";
pub const REMIND_JOB: &str = "push.reminders";

/// Whether this deployment sends messages at all (a WeChat template is configured).
pub fn enabled(ctx: &Context) -> bool {
    ctx.settings.wechat_template_id().is_some()
}
