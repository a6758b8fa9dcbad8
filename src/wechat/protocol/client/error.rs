//! How a call to WeChat's API failed: WeChat's own `{errcode, errmsg}` (with the codes
//! Homeward acts on named), an HTTP error status, a timeout, or no connection.

use std::time::Duration;

/// `errcode`s Homeward reacts to.
pub mod errcode {
    /// The access token is invalid (another one was issued, or it is not this account's).
    pub const INVALID_CREDENTIAL: i64 = 40001;
    /// The access token has expired.
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    /// The person does not follow the account.
    pub const NOT_FOLLOWING: i64 = 43004;
    /// The account reached a rate limit for this call.
    pub const RATE_LIMITED: i64 = 45009;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("WeChat refused the access token (errcode {errcode})")]
    TokenInvalid { errcode: i64 },
    #[error("the person does not follow the account (errcode 43004)")]
    NotFollowing,
    #[error("WeChat's rate limit for this call was reached (errcode 45009)")]
    RateLimited,
    #[error("WeChat answered errcode {errcode}: {errmsg}")]
    WeChat { errcode: i64, errmsg: String },
    #[error("WeChat answered HTTP {status}")]
    Http { status: u16 },
    #[error("WeChat did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach WeChat: {0}")]
    Network(String),
    #[error("WeChat's answer was not what its documentation describes: {0}")]
    Unexpected(String),
}

impl ApiError {
    pub(super) fn from_errcode(errcode: i64, errmsg: &str) -> ApiError {
        match errcode {
            errcode::INVALID_CREDENTIAL | errcode::ACCESS_TOKEN_EXPIRED => {
                ApiError::TokenInvalid { errcode }
            }
            errcode::NOT_FOLLOWING => ApiError::NotFollowing,
            errcode::RATE_LIMITED => ApiError::RateLimited,
            _ => ApiError::WeChat {
                errcode,
                // WeChat's messages are short English; a long one is cut, not logged whole.
                errmsg: errmsg.chars().take(200).collect(),
            },
        }
    }

    /// A transport failure, without the request's URL (its query holds tokens and secrets).
    pub(super) fn from_transport(error: reqwest::Error, timeout: Duration) -> ApiError {
        if error.is_timeout() {
            return ApiError::Timeout(timeout);
        }
        let error = error.without_url();
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        ApiError::Network(message)
    }

    /// WeChat's `errcode`, when it answered with one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            ApiError::TokenInvalid { errcode } | ApiError::WeChat { errcode, .. } => Some(*errcode),
            ApiError::NotFollowing => Some(errcode::NOT_FOLLOWING),
            ApiError::RateLimited => Some(errcode::RATE_LIMITED),
            _ => None,
        }
    }

    /// The access token must be refreshed (and the call retried once).
    pub fn is_token_invalid(&self) -> bool {
        matches!(self, ApiError::TokenInvalid { .. })
    }

    /// Trying again later may work: WeChat or the network had trouble, or a limit was hit.
    pub fn is_transient(&self) -> bool {
        match self {
            ApiError::Http { status } => *status >= 500 || *status == 429,
            ApiError::Timeout(_) | ApiError::Network(_) | ApiError::RateLimited => true,
            // -1: 系统繁忙 (system busy).
            ApiError::WeChat { errcode, .. } => *errcode == -1,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_homeward_acts_on_are_named() {
        assert_eq!(
            ApiError::from_errcode(40001, "invalid credential"),
            ApiError::TokenInvalid { errcode: 40001 }
        );
        assert!(ApiError::from_errcode(42001, "expired").is_token_invalid());
        assert_eq!(
            ApiError::from_errcode(43004, "require subscribe"),
            ApiError::NotFollowing
        );
        assert_eq!(
            ApiError::from_errcode(45009, "reach max api daily quota limit"),
            ApiError::RateLimited
        );
        let other = ApiError::from_errcode(40013, "invalid appid");
        assert_eq!(other.errcode(), Some(40013));
        assert!(!other.is_transient());
        assert!(ApiError::from_errcode(-1, "system error").is_transient());
        assert!(ApiError::Http { status: 502 }.is_transient());
        assert!(!ApiError::Http { status: 404 }.is_transient());
        let long = ApiError::from_errcode(1, &"x".repeat(1000));
        assert!(long.to_string().len() < 300);
    }
}
