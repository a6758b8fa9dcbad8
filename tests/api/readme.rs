//! The README tells the truth: what this version does, and a setup block that works as written.

use crate::helpers::{TestDatabase, test_database_server};

const README: &str = include_str!("../../README.md");

/// The shell block under a heading of the README.
fn shell_block(heading: &str) -> &'static str {
    let after = README
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("the README has {heading:?}"));
    let start = after.find("```sh\n").expect("a shell block") + "```sh\n".len();
    &after[start..start + after[start..].find("```").unwrap()]
}

#[test]
fn the_readme_says_what_is_built_and_how_ci_checks_it() {
    let intro = README.split("## Quick start").next().unwrap();
    assert!(
        !intro.contains("planned"),
        "the introduction still calls built parts planned:\n{intro}"
    );
    for part in ["enrollment", "progress", "staff areas"] {
        assert!(intro.contains(part), "the introduction omits {part}");
    }
    let ci = README.split("CI runs **`.ci/run`**").nth(1).unwrap();
    let ci = &ci[..ci.find("\n\n").unwrap()];
    assert!(
        ci.contains("cargo test --test browser -- --ignored"),
        "the CI paragraph omits the browser tests: {ci}"
    );
    let script = include_str!("../../.ci/run");
    assert!(script.contains("cargo test --test browser -- --ignored"));
}

/// Runs the README's "Running on PostgreSQL and Redis" block as written, with the test's own
/// database (its `createdb` made by the test) and the built binary for `cargo run`, and checks
/// that the server it ends with answers. On SQLite there is no PostgreSQL to run it on.
#[tokio::test]
async fn the_postgres_block_of_the_readme_works_as_written() {
    if test_database_server().is_none() {
        return;
    }
    let block = shell_block("## Running on PostgreSQL and Redis");
    let db = TestDatabase::create().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let binary = env!("CARGO_BIN_EXE_homeward");
    let mut script = format!("set -e\nexport HOMEWARD_BIND=127.0.0.1:{port}\n");
    for line in block.lines() {
        let line = line.split("  #").next().unwrap().trim_end();
        let line = if line.starts_with("createdb ") {
            continue; // the test made the database
        } else if line == "cargo run" {
            format!("exec {binary}")
        } else {
            line.replace("cargo run --", binary)
                .replace("postgres://postgres@127.0.0.1:5432/homeward", &db.url)
                // Redis only caches; keep the shared one out of a test without a prefix.
                .replace(" REDIS_URL=redis://127.0.0.1:6379/0", "")
        };
        script.push_str(&line);
        script.push('\n');
    }
    assert!(
        script.contains("exec "),
        "the block ends by serving:\n{block}"
    );
    let mut server = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("REDIS_URL")
        .env_remove("HOMEWARD_SECRET_KEY")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("run bash");
    let url = format!("http://127.0.0.1:{port}/readyz");
    let mut tries = 0;
    loop {
        if let Ok(response) = reqwest::get(&url).await {
            assert_eq!(response.status(), 200);
            break;
        }
        if let Ok(Some(status)) = server.try_wait() {
            let mut error = String::new();
            use tokio::io::AsyncReadExt;
            server
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut error)
                .await
                .unwrap();
            panic!("the README's block failed ({status}):\n{script}\n{error}");
        }
        tries += 1;
        assert!(tries < 1200, "the server never answered:\n{script}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.kill().await.ok();
}
