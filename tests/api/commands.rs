//! Settings and commands that used to accept nonsense (issue 11, item 21): a public URL without
//! a host, a `RUST_LOG` that is not a filter, a missing content folder on SQLite, operators'
//! commands naming factories and lines that do not fit, and `migrate down` miscounting.

use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::fixture;
use crate::helpers::TestDatabase;

/// `homeward ARGS` on `database_url`, with none of the caller's settings leaking in.
fn command(database_url: &str, args: &[&str]) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_homeward"));
    command
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("HOMEWARD_PUBLIC_URL", "https://hw.example")
        .env("HOMEWARD_BIND", "127.0.0.1:0")
        .env("HOMEWARD_WORKER", "false")
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "text")
        .env_remove("REDIS_URL")
        .env_remove("HOMEWARD_CONTENT_DIR")
        .kill_on_drop(true);
    command
}

async fn homeward(database_url: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = command(database_url, args);
    command.envs(env.iter().copied());
    // A command that should stop at once but serves instead fails the test instead of hanging it.
    tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .unwrap_or_else(|_| panic!("homeward {args:?} did not finish"))
        .unwrap()
}

fn out(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn err(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn succeeded(output: &Output, what: &str) -> String {
    assert!(output.status.success(), "{what}: {}", err(output));
    out(output)
}

#[tokio::test]
async fn a_public_url_without_a_host_is_refused_at_start() {
    let db = TestDatabase::create().await;
    succeeded(&homeward(&db.url, &["migrate", "up"], &[]).await, "migrate");
    let factory = succeeded(
        &homeward(&db.url, &["factory", "add", "东莞电子厂"], &[]).await,
        "factory",
    );
    let factory = factory.lines().last().unwrap().trim().to_owned();
    for bad in ["http://", "https://", "http:/hw.example", "hw.example"] {
        for args in [
            vec!["serve"],
            vec!["code", "create", "--factory", factory.as_str()],
        ] {
            let output = homeward(&db.url, &args, &[("HOMEWARD_PUBLIC_URL", bad)]).await;
            assert_eq!(
                output.status.code(),
                Some(2),
                "{bad} {args:?}: {}",
                out(&output)
            );
            assert!(
                err(&output).contains("HOMEWARD_PUBLIC_URL"),
                "{bad} {args:?}: {}",
                err(&output)
            );
            assert!(!out(&output).contains("/join/"), "{}", out(&output));
        }
    }
    let created = succeeded(
        &homeward(&db.url, &["code", "create", "--factory", &factory], &[]).await,
        "code create",
    );
    assert!(
        created
            .lines()
            .last()
            .unwrap()
            .starts_with("https://hw.example/join/"),
        "{created}"
    );
}

#[tokio::test]
async fn a_rust_log_that_is_not_a_filter_is_an_error() {
    let db = TestDatabase::create().await;
    for bad in ["homeward=loud", "info,sqlx=[", "=debug"] {
        let output = homeward(&db.url, &["migrate", "status"], &[("RUST_LOG", bad)]).await;
        assert_eq!(output.status.code(), Some(2), "{bad}: {}", out(&output));
        assert!(err(&output).contains("RUST_LOG"), "{bad}: {}", err(&output));
    }
    for good in ["warn", "", "info,homeward=debug,sqlx=warn"] {
        let output = homeward(&db.url, &["migrate", "status"], &[("RUST_LOG", good)]).await;
        succeeded(&output, good);
    }
}

/// Starts `homeward serve` on `database_url` with `content_dir`, and returns what it logged
/// up to "homeward is listening", then stops it; or its output when it stopped by itself.
async fn serve_until_listening(database_url: &str, content_dir: &str) -> Result<String, Output> {
    let mut child = command(database_url, &["serve"])
        .env("HOMEWARD_CONTENT_DIR", content_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut logged = String::new();
    let listening = tokio::time::timeout(Duration::from_secs(120), async {
        while let Ok(Some(line)) = lines.next_line().await {
            logged.push_str(&line);
            logged.push('\n');
            if line.contains("homeward is listening") {
                return true;
            }
        }
        false
    })
    .await
    .expect("serve neither listened nor stopped");
    if listening {
        child.kill().await.unwrap();
        return Ok(logged);
    }
    let mut output = child.wait_with_output().await.unwrap();
    output.stdout = logged.into_bytes();
    Err(output)
}

#[tokio::test]
async fn a_missing_content_folder_on_sqlite_is_refused_on_an_empty_database_and_warned_about_otherwise()
 {
    // Only the embedded SQLite setup imports content at start.
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("hw.db").display());
    let missing = dir.path().join("no-such-content");
    let missing = missing.to_str().unwrap();

    let refused = serve_until_listening(&url, missing)
        .await
        .expect_err("an empty site must not start");
    assert_ne!(refused.status.code(), Some(0));
    let message = err(&refused);
    assert!(
        message.contains("no-such-content") && message.contains("HOMEWARD_CONTENT_DIR"),
        "{message}"
    );

    let content = fixture::standard();
    succeeded(
        &homeward(
            &url,
            &["content", "import", content.path().to_str().unwrap()],
            &[],
        )
        .await,
        "import",
    );
    let logged = serve_until_listening(&url, missing)
        .await
        .unwrap_or_else(|output| panic!("serve stopped: {}", err(&output)));
    assert!(
        logged.contains("WARN") && logged.contains("the content folder does not exist"),
        "{logged}"
    );
    assert!(logged.contains("no-such-content"), "{logged}");
}

#[tokio::test]
async fn operators_commands_name_the_factory_or_line_that_does_not_fit() {
    let db = TestDatabase::create().await;
    succeeded(&homeward(&db.url, &["migrate", "up"], &[]).await, "migrate");
    let mut ids = Vec::new();
    for name in ["东莞电子厂", "深圳玩具厂"] {
        let factory = succeeded(
            &homeward(&db.url, &["factory", "add", name], &[]).await,
            "factory",
        );
        let factory = factory.lines().last().unwrap().trim().to_owned();
        let line = succeeded(
            &homeward(
                &db.url,
                &["line", "add", "--factory", &factory, "A3线"],
                &[],
            )
            .await,
            "line",
        );
        ids.push((factory, line.lines().last().unwrap().trim().to_owned()));
    }
    let [(first, first_line), (_, second_line)] = [ids[0].clone(), ids[1].clone()];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "staff",
                "add",
                "--role",
                "manager",
                "--email",
                "m@example.org",
                "--factory",
                "999",
            ],
            "no factory 999",
        ),
        (
            vec![
                "staff",
                "add",
                "--role",
                "manager",
                "--email",
                "m@example.org",
                "--factory",
                &first,
                "--lines",
                &second_line,
            ],
            "is not a line of factory",
        ),
        (
            vec!["line", "add", "--factory", "999", "B1线"],
            "no factory 999",
        ),
        (vec!["code", "create", "--factory", "999"], "no factory 999"),
        (
            vec![
                "code",
                "create",
                "--factory",
                &first,
                "--line",
                &second_line,
            ],
            "does not belong to factory",
        ),
    ];
    for (args, says) in cases {
        let output = homeward(&db.url, &args, &[]).await;
        assert!(!output.status.success(), "{args:?} was accepted");
        let message = err(&output);
        assert!(message.contains(says), "{args:?}: {message}");
        for raw in ["FOREIGN KEY", "foreign key", "violates", "constraint"] {
            assert!(!message.contains(raw), "{args:?}: {message}");
        }
    }
    // The same commands with fitting ids work.
    succeeded(
        &homeward(
            &db.url,
            &[
                "staff",
                "add",
                "--role",
                "manager",
                "--email",
                "m@example.org",
                "--factory",
                &first,
                "--lines",
                &first_line,
            ],
            &[],
        )
        .await,
        "staff add",
    );
}

#[tokio::test]
async fn migrate_down_says_how_many_it_really_rolled_back() {
    let db = TestDatabase::create().await;
    let up = succeeded(&homeward(&db.url, &["migrate", "up"], &[]).await, "up");
    let applied: usize = up
        .lines()
        .find_map(|line| line.strip_prefix("applied "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{up}"));
    assert!(applied > 2, "{up}");
    let one = succeeded(
        &homeward(&db.url, &["migrate", "down"], &[]).await,
        "down 1",
    );
    assert!(one.contains("rolled back 1 migration(s)"), "{one}");
    let all = succeeded(
        &homeward(&db.url, &["migrate", "down", "--steps", "99"], &[]).await,
        "down 99",
    );
    assert!(
        all.contains(&format!("rolled back {} migration(s)", applied - 1)),
        "{all}"
    );
    assert!(!all.contains("rolled back 99"), "{all}");
    let status = succeeded(
        &homeward(&db.url, &["migrate", "status"], &[]).await,
        "status",
    );
    assert!(
        !status.lines().any(|line| line.starts_with("applied ")),
        "{status}"
    );
    succeeded(
        &homeward(&db.url, &["migrate", "up"], &[]).await,
        "up again",
    );
}
