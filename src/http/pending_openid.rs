//! The openid of someone who signed in through WeChat but has not joined yet: kept in their
//! browser, signed with the server's secret and short-lived, until the join page (after their
//! consent) binds it to the new learner. Nothing about them is stored before they agree.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use poem::Request;
use sha2::Sha256;

use super::AppState;
use super::cookies::{cookie, set_cookie};
use crate::wechat::protocol::OpenId;

pub const PENDING_COOKIE: &str = "hw_wx_pending";
/// How long the join page has to use it.
pub const LIFETIME_SECONDS: i64 = 30 * 60;

fn mac(secret: &[u8], payload: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"wechat-pending-openid:");
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The cookie value: `openid.expiry.signature`.
pub fn seal(secret: &[u8], openid: &OpenId, now: DateTime<Utc>) -> String {
    let payload = format!("{}.{}", openid.as_str(), now.timestamp() + LIFETIME_SECONDS);
    let signature = mac(secret, &payload);
    format!("{payload}.{signature}")
}

/// The openid in a cookie value, if it is ours, intact and not expired.
pub fn open(secret: &[u8], value: &str, now: DateTime<Utc>) -> Option<OpenId> {
    let (payload, signature) = value.rsplit_once('.')?;
    let expected = mac(secret, payload);
    let genuine: bool =
        subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), signature.as_bytes()).into();
    if !genuine {
        return None;
    }
    let (openid, expiry) = payload.rsplit_once('.')?;
    (expiry.parse::<i64>().ok()? > now.timestamp()).then_some(())?;
    OpenId::parse(openid)
}

/// The pending openid this browser carries.
pub fn pending(state: &AppState, req: &Request) -> Option<OpenId> {
    cookie(req, PENDING_COOKIE).and_then(|v| open(&state.secret, v, state.clock.now()))
}

/// `Set-Cookie` for a pending openid.
pub fn set_pending(state: &AppState, openid: &OpenId) -> String {
    set_cookie(
        state,
        PENDING_COOKIE,
        &seal(&state.secret, openid, state.clock.now()),
        LIFETIME_SECONDS,
    )
}

/// `Set-Cookie` that removes it.
pub fn clear_pending(state: &AppState) -> String {
    set_cookie(state, PENDING_COOKIE, "", 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_intact_unexpired_cookie_gives_the_openid() {
        let now: DateTime<Utc> = "2030-01-07T00:00:00Z".parse().unwrap();
        let openid = OpenId::parse("oabc_DEF-123").unwrap();
        let value = seal(b"k1", &openid, now);
        assert_eq!(open(b"k1", &value, now), Some(openid.clone()));
        assert_eq!(open(b"k2", &value, now), None);
        let later = now + chrono::Duration::seconds(LIFETIME_SECONDS + 1);
        assert_eq!(open(b"k1", &value, later), None);
        let forged = value.replacen("oabc", "oxyz", 1);
        assert_eq!(open(b"k1", &forged, now), None);
        assert_eq!(open(b"k1", "junk", now), None);
    }
}
