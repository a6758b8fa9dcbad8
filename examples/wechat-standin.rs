//! The WeChat stand-in on a fixed port, to try Homeward's WeChat side on a laptop without a
//! WeChat account: `cargo run --example wechat-standin [ADDR]` (default 127.0.0.1:8091), then
//! start Homeward with the settings it prints.

#[path = "../tests/support/wechat_standin.rs"]
mod wechat_standin;

use wechat_standin::{StandinConfig, WechatStandin};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8091".to_owned());
    let standin = WechatStandin::start_on(&addr, StandinConfig::default()).await?;
    println!("WeChat stand-in listening on {}", standin.url());
    println!("Start Homeward with:");
    println!("  HOMEWARD_WECHAT_APPID={}", standin.appid());
    println!("  HOMEWARD_WECHAT_SECRET={}", standin.secret());
    println!("  HOMEWARD_WECHAT_API_URL={}", standin.url());
    println!("  HOMEWARD_WECHAT_OPEN_URL={}", standin.url());
    println!(
        "Sign-in picks the phone from a 'StandinPhone/<name>' token in the user agent \
         (or the X-Standin-Phone header); phone 'phone' otherwise."
    );
    tokio::signal::ctrl_c().await?;
    println!("{} calls answered; stopping.", standin.calls().len());
    Ok(())
}
