//! The identifiers and secrets WeChat hands us, as types that are checked when parsed and that
//! never print themselves: an openid is personal data, a secret or token is a credential.

use std::fmt;

/// A follower's openid: their identity within one Official Account. Personal data: `Debug`
/// and `Display` hide it; use [`OpenId::as_str`] only to store or send it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpenId(String);

impl OpenId {
    /// WeChat's openids are 28 URL-safe characters; anything of letters, digits, `-` and `_` up
    /// to 64 characters is accepted, so a change of length on WeChat's side does not lock
    /// people out.
    pub fn parse(raw: &str) -> Option<OpenId> {
        let ok = !raw.is_empty()
            && raw.len() <= 64
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| OpenId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for OpenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OpenId(…)")
    }
}

impl fmt::Display for OpenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("openid(…)")
    }
}

/// The `scene_str` of a permanent parametric QR code: 1–64 characters. Homeward puts
/// printable ASCII without spaces in it, and only accepts that back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SceneStr(String);

impl SceneStr {
    pub const MAX_LEN: usize = 64;

    pub fn parse(raw: &str) -> Option<SceneStr> {
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| SceneStr(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A secret string (the AppSecret, an access token): shown as `…` everywhere.
macro_rules! secret_string {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }

            /// The secret itself, to put on the wire or into storage.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(…)"))
            }
        }
    };
}

secret_string!(
    /// The account's AppSecret.
    AppSecret
);
secret_string!(
    /// A server API access token (valid about two hours, shared by all instances).
    AccessToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openids_are_url_safe_and_hidden_when_printed() {
        let id = OpenId::parse("oia2TjjewbmiOUlr6X-1crbLOvLw").unwrap();
        assert_eq!(id.as_str(), "oia2TjjewbmiOUlr6X-1crbLOvLw");
        assert_eq!(format!("{id:?} {id}"), "OpenId(…) openid(…)");
        for bad in ["", "a b", "o<script>", "ö", &"o".repeat(65)] {
            assert!(OpenId::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn scenes_are_1_to_64_printable_characters() {
        assert!(SceneStr::parse("code:AbC-12_x").is_some());
        assert!(SceneStr::parse(&"s".repeat(64)).is_some());
        for bad in ["", "a b", "码", &"s".repeat(65)] {
            assert!(SceneStr::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn secrets_never_print() {
        let secret = AppSecret::new("s3cret");
        let token = AccessToken::new("tok");
        assert_eq!(
            format!("{secret:?} {token:?}"),
            "AppSecret(…) AccessToken(…)"
        );
        assert_eq!(secret.expose(), "s3cret");
    }
}
