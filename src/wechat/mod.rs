//! WeChat: the Official Account's HTTP side — the callback WeChat calls, web sign-in, and
//! sending WeChat's browser through sign-in — beside `web` and `api`. Its wire protocol is
//! `protocol`, at the bottom layer; its use cases are `services::wechat`.

pub mod auto_sign_in;
pub mod callback;
pub mod oauth;
pub mod protocol;

use poem::{Route, get};

/// The WeChat routes. They answer 404 while WeChat is not configured.
pub fn routes(route: Route) -> Route {
    route
        .at(
            "/wechat/callback",
            get(callback::verify).post(callback::receive),
        )
        .at("/wechat/oauth", get(oauth::start))
        .at("/wechat/oauth/callback", get(oauth::finish))
}
