//! The account's custom menu (本周课程 · 我的进度 · 求助), set by `homeward wechat menu`:
//! this week's lesson and help answer in the chat (click buttons), progress opens `/me`.

use super::WechatError;
use super::token::with_token;
use crate::domain::chat::Intent;
use crate::services::Context;
use crate::wechat::protocol::client::{Menu, MenuButton};

/// The menu, with links on `public_url`.
pub fn menu(public_url: &str) -> Menu {
    Menu {
        buttons: vec![
            MenuButton::Click {
                name: "本周课程".into(),
                key: Intent::ThisWeek.name().to_uppercase(),
            },
            MenuButton::View {
                name: "我的进度".into(),
                url: format!("{public_url}/me"),
            },
            MenuButton::Click {
                name: "求助".into(),
                key: Intent::Help.name().to_uppercase(),
            },
        ],
    }
}

/// Replaces the account's menu with [`menu`].
pub async fn set_menu(ctx: &Context) -> Result<Menu, WechatError> {
    let wechat = ctx.wechat.as_deref().ok_or(WechatError::Off)?;
    let menu = menu(&ctx.settings.public_url());
    with_token(ctx, wechat, |token| {
        let menu = menu.clone();
        async move { wechat.api.create_menu(&token, &menu).await }
    })
    .await?;
    Ok(menu)
}
