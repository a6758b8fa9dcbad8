//! WeChat's protocol proven from outside: against wechatpy (an independent implementation, run
//! as a subprocess) and against the stand-in for WeChat's API and sign-in page.

#[path = "../support/wechat_standin.rs"]
mod wechat_standin;

mod client;
mod interop;
mod standin;
mod wechatpy;
