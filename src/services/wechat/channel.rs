//! The weekly push's WeChat channel: a learner's message becomes a template message
//! (`HOMEWARD_WECHAT_TEMPLATE_ID`) to the openid bound to them, with the shared access token;
//! WeChat's answers become the push's outcomes. The template's fields are `thing1` (the
//! lesson), `thing2` (the series, after the age mark "适合 6–11 岁 · " when the lesson is for
//! the learner's children's ages) and `time3` (when it came out), each cut to WeChat's 20
//! characters; the message links to the lesson.

use std::collections::BTreeMap;

use chrono_tz::Asia::Shanghai;

use super::followers;
use super::token::with_token;
use super::{Wechat, WechatError};
use crate::services::Context;
use crate::services::push::{MessageChannel, OutgoingMessage, SendOutcome};
use crate::wechat::protocol::client::TemplateMessage;
use crate::wechat::protocol::{ApiError, OpenId};

/// WeChat's limit on a template value, in characters.
const MAX_VALUE_CHARS: usize = 20;

fn short(text: &str) -> String {
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_VALUE_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The push's messages, sent as WeChat template messages.
pub struct WechatChannel {
    template_id: String,
}

impl WechatChannel {
    pub fn new(template_id: impl Into<String>) -> WechatChannel {
        WechatChannel {
            template_id: template_id.into(),
        }
    }

    /// The channel for this deployment: WeChat configured and a template chosen.
    pub fn for_context(ctx: &Context) -> Option<WechatChannel> {
        ctx.wechat.as_ref()?;
        ctx.settings.wechat_template_id().map(WechatChannel::new)
    }

    fn message(&self, to: OpenId, message: &OutgoingMessage) -> TemplateMessage {
        let released = message
            .released_at
            .with_timezone(&Shanghai)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        let series = match &message.for_ages {
            Some(ages) => format!("{ages} · {}", message.series_title),
            None => message.series_title.clone(),
        };
        TemplateMessage {
            to,
            template_id: self.template_id.clone(),
            url: Some(message.url.clone()),
            data: BTreeMap::from([
                ("thing1".to_owned(), short(&message.lesson_title)),
                ("thing2".to_owned(), short(&series)),
                ("time3".to_owned(), released),
            ]),
        }
    }
}

/// What a failed send means for the push.
fn outcome(error: WechatError) -> SendOutcome {
    match error {
        WechatError::Api(ApiError::NotFollowing) => SendOutcome::NotFollowing,
        WechatError::Api(ApiError::RateLimited) => SendOutcome::RateLimited,
        // The request may have reached WeChat: never sent again, so never sent twice.
        WechatError::Api(ApiError::Timeout(_) | ApiError::Unexpected(_)) => {
            SendOutcome::Uncertain(error.to_string())
        }
        WechatError::Api(ref api) if api.is_transient() || api.is_token_invalid() => {
            SendOutcome::Unavailable(error.to_string())
        }
        WechatError::Api(_) => SendOutcome::Rejected(error.to_string()),
        WechatError::Busy | WechatError::Failed(_) | WechatError::Off => {
            SendOutcome::Unavailable(error.to_string())
        }
    }
}

async fn send(
    ctx: &Context,
    wechat: &Wechat,
    channel: &WechatChannel,
    message: &OutgoingMessage,
) -> Result<(), WechatError> {
    let follower = followers::of_learner(ctx, message.learner_id).await?;
    let Some(openid) = follower
        .filter(|f| f.following)
        .and_then(|f| OpenId::parse(&f.openid))
    else {
        return Err(WechatError::Api(ApiError::NotFollowing));
    };
    let template = channel.message(openid.clone(), message);
    let sent = with_token(ctx, wechat, |token| {
        let template = template.clone();
        async move { wechat.api.send_template(&token, &template).await }
    })
    .await;
    if let Err(WechatError::Api(ApiError::NotFollowing)) = &sent {
        // An unfollow we never heard of: nothing more is sent until they follow again.
        followers::unfollowed(ctx, &openid, ctx.clock.now()).await?;
    }
    sent?;
    Ok(())
}

#[async_trait::async_trait]
impl MessageChannel for WechatChannel {
    async fn send(&self, ctx: &Context, message: &OutgoingMessage) -> SendOutcome {
        let Some(wechat) = ctx.wechat.as_deref() else {
            return SendOutcome::Unavailable("WeChat is not configured".into());
        };
        match send(ctx, wechat, self, message).await {
            Ok(()) => SendOutcome::Sent,
            Err(error) => outcome(error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_cut_to_twenty_characters() {
        assert_eq!(short("电话里的陪伴"), "电话里的陪伴");
        let long = "一".repeat(25);
        let cut = short(&long);
        assert_eq!(cut.chars().count(), 20);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn wechats_answers_become_the_pushs_outcomes() {
        use std::time::Duration;
        let api = |e: ApiError| outcome(WechatError::Api(e));
        assert_eq!(api(ApiError::NotFollowing), SendOutcome::NotFollowing);
        assert_eq!(api(ApiError::RateLimited), SendOutcome::RateLimited);
        assert!(matches!(
            api(ApiError::Timeout(Duration::from_secs(4))),
            SendOutcome::Uncertain(_)
        ));
        assert!(matches!(
            api(ApiError::Http { status: 502 }),
            SendOutcome::Unavailable(_)
        ));
        assert!(matches!(
            api(ApiError::TokenInvalid { errcode: 40001 }),
            SendOutcome::Unavailable(_)
        ));
        assert!(matches!(
            api(ApiError::WeChat {
                errcode: 40037,
                errmsg: "invalid template_id".into()
            }),
            SendOutcome::Rejected(_)
        ));
        assert!(matches!(
            outcome(WechatError::Busy),
            SendOutcome::Unavailable(_)
        ));
    }
}
