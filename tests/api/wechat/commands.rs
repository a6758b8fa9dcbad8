//! The commands: `homeward wechat qr` and `homeward wechat menu` against the stand-in, `code
//! create` making the WeChat QR too, start-up refusing a partial WeChat configuration, and
//! `content check` checking the chat's files.

use std::process::Output;

use crate::helpers::TestDatabase;
use crate::support::wechat_standin::WechatStandin;

async fn homeward(db: &TestDatabase, standin: Option<&WechatStandin>, args: &[&str]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_homeward"));
    command
        .args(args)
        .env("DATABASE_URL", &db.url)
        .env("HOMEWARD_PUBLIC_URL", "https://hw.example")
        .env_remove("REDIS_URL");
    for name in [
        "HOMEWARD_WECHAT_APPID",
        "HOMEWARD_WECHAT_SECRET",
        "HOMEWARD_WECHAT_TOKEN",
        "HOMEWARD_WECHAT_AES_KEY",
    ] {
        command.env_remove(name);
    }
    if let Some(standin) = standin {
        command
            .env("HOMEWARD_WECHAT_APPID", standin.appid())
            .env("HOMEWARD_WECHAT_SECRET", standin.secret())
            .env("HOMEWARD_WECHAT_TOKEN", super::TOKEN)
            .env("HOMEWARD_WECHAT_API_URL", standin.url())
            .env("HOMEWARD_WECHAT_OPEN_URL", standin.url());
    }
    command.output().await.unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn wechat_commands_create_qr_codes_and_set_the_menu() {
    let db = TestDatabase::create().await;
    let standin = WechatStandin::start().await;
    let run = |args: &'static [&'static str], wechat: bool| {
        homeward(&db, wechat.then_some(&standin), args)
    };
    let migrated = run(&["migrate", "up"], false).await;
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );
    let factory = run(&["factory", "add", "东莞电子厂"], false).await;
    assert!(
        factory.status.success(),
        "{}",
        String::from_utf8_lossy(&factory.stderr)
    );
    let old = run(
        &[
            "code",
            "create",
            "--factory",
            "1",
            "--label",
            "before WeChat",
        ],
        false,
    )
    .await;
    assert!(old.status.success());
    assert_eq!(standin.count("/cgi-bin/qrcode/create"), 0);

    // With WeChat on, a new code gets its WeChat QR at once; the join URL stays the last line.
    let new = run(
        &["code", "create", "--factory", "1", "--label", "canteen"],
        true,
    )
    .await;
    let out = stdout(&new);
    assert!(
        new.status.success(),
        "{}",
        String::from_utf8_lossy(&new.stderr)
    );
    assert!(out.contains("WeChat QR: http://weixin.qq.com/q/"), "{out}");
    assert!(
        out.trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("https://hw.example/join/")
    );

    // `wechat qr` fills in the older code, and only that one.
    let qr = run(&["wechat", "qr"], true).await;
    assert!(
        qr.status.success(),
        "{}",
        String::from_utf8_lossy(&qr.stderr)
    );
    assert!(
        stdout(&qr).contains("1 created, 1 already there, 0 failed"),
        "{}",
        stdout(&qr)
    );
    assert_eq!(standin.count("/cgi-bin/qrcode/create"), 2);
    assert_eq!(
        standin.count("/cgi-bin/stable_token"),
        1,
        "the second command used the token the first stored in the database"
    );

    let menu = run(&["wechat", "menu"], true).await;
    assert!(
        menu.status.success(),
        "{}",
        String::from_utf8_lossy(&menu.stderr)
    );
    assert!(
        stdout(&menu).contains("我的进度\topens https://hw.example/me"),
        "{}",
        stdout(&menu)
    );
    assert_eq!(standin.menu().unwrap()["button"][0]["key"], "THIS_WEEK");

    // Without WeChat the commands say what to set.
    let off = run(&["wechat", "menu"], false).await;
    assert_eq!(off.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&off.stderr).contains("HOMEWARD_WECHAT_APPID"));
}

#[tokio::test]
async fn a_partial_wechat_configuration_stops_the_program_and_names_what_is_missing() {
    let db = TestDatabase::create().await;
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(["migrate", "status"])
        .env("DATABASE_URL", &db.url)
        .env("HOMEWARD_WECHAT_APPID", "wx0123456789abcdef")
        .env_remove("HOMEWARD_WECHAT_SECRET")
        .env_remove("HOMEWARD_WECHAT_TOKEN")
        .output()
        .await
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("set HOMEWARD_WECHAT_SECRET, HOMEWARD_WECHAT_TOKEN too"),
        "{stderr}"
    );
}

#[test]
fn content_check_checks_the_chat_files() {
    let dir = crate::fixture::standard();
    let check = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
            .args(["content", "check"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let wechat = dir.path().join("wechat");
    std::fs::create_dir_all(&wechat).unwrap();
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content/wechat");
    for file in ["chat.toml", "safeguarding.toml"] {
        std::fs::copy(repo.join(file), wechat.join(file)).unwrap();
    }
    let ok = check();
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(
        stdout(&ok).contains("WeChat chat: 6 keyword groups, 3 safeguarding categories"),
        "{}",
        stdout(&ok)
    );

    let broken = std::fs::read_to_string(wechat.join("safeguarding.toml"))
        .unwrap()
        .replace("12338", "12300");
    std::fs::write(wechat.join("safeguarding.toml"), broken).unwrap();
    let bad = check();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stdout(&bad).contains("safeguarding.toml: reply.zh: must give the hotline 12338"),
        "{}",
        stdout(&bad)
    );
}
