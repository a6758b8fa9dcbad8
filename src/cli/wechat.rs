//! `homeward wechat qr` and `homeward wechat menu`: the WeChat account's QR codes for every
//! enrollment code, and its custom menu.

use std::sync::Arc;

use super::WechatAction;
use crate::clock::SystemClock;
use crate::services::Context;
use crate::services::wechat::{menu, qr};
use crate::settings::Settings;
use crate::store;
use crate::wechat::protocol::client::MenuButton;

/// A context for a command that talks to WeChat; an error when WeChat is not configured.
pub async fn context(settings: Settings) -> anyhow::Result<Context> {
    let ctx = Context::connect(settings, Arc::new(SystemClock), "hw:").await?;
    if store::is_sqlite(&ctx.db) {
        store::migrate_up(&ctx.db).await?;
    } else if !store::pending_migrations(&ctx.db).await?.is_empty() {
        anyhow::bail!("the database has pending migrations; run `homeward migrate up` first");
    }
    anyhow::ensure!(
        ctx.wechat.is_some(),
        "WeChat is not configured: set HOMEWARD_WECHAT_APPID, HOMEWARD_WECHAT_SECRET and HOMEWARD_WECHAT_TOKEN"
    );
    Ok(ctx)
}

pub async fn run(settings: Settings, action: WechatAction) -> anyhow::Result<i32> {
    let ctx = context(settings).await?;
    match action {
        WechatAction::Qr => {
            let summary = qr::ensure_all(&ctx).await?;
            for (code_id, error) in &summary.failed {
                println!("code {code_id}: {error}");
            }
            println!(
                "WeChat QR codes: {} created, {} already there, {} failed",
                summary.created,
                summary.existing,
                summary.failed.len()
            );
            Ok(if summary.failed.is_empty() { 0 } else { 2 })
        }
        WechatAction::Menu => {
            let menu = menu::set_menu(&ctx).await?;
            for button in &menu.buttons {
                match button {
                    MenuButton::View { name, url } => println!("{name}\topens {url}"),
                    MenuButton::Click { name, key } => {
                        println!("{name}\tanswers {key} in the chat")
                    }
                }
            }
            println!("menu set: {} buttons", menu.buttons.len());
            Ok(0)
        }
    }
}

/// After `code create`: the code's WeChat QR, when WeChat is configured. Prints its URL.
pub async fn after_code_created(
    settings: &Settings,
    code_id: i64,
    token: &str,
) -> anyhow::Result<()> {
    if settings.wechat.config()?.is_none() {
        return Ok(());
    }
    let ctx = context(settings.clone()).await?;
    qr::after_code_created(&ctx, code_id, token).await;
    match qr::stored(&ctx, code_id).await? {
        Some(stored) => println!("WeChat QR: {}", stored.url),
        None => println!("WeChat QR: not created (see the log); run `homeward wechat qr` later"),
    }
    Ok(())
}
