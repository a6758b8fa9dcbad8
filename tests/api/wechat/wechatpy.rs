//! Runs `tests/wechat/wechatpy_client.py` with the virtualenv's python. A missing python or
//! wechatpy fails the test (run `scripts/wechat-venv.sh`); it is never a skip.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

pub fn python() -> PathBuf {
    match std::env::var("HOMEWARD_TEST_PYTHON") {
        Ok(path) if !path.trim().is_empty() => PathBuf::from(path),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv-wechat/bin/python"),
    }
}

/// What the script printed, and whether it exited with 0.
pub struct Outcome {
    pub ok: bool,
    pub json: Option<Value>,
    pub stderr: String,
}

pub fn run(args: &[&str], stdin: &str) -> Outcome {
    let python = python();
    assert!(
        python.exists(),
        "no python with wechatpy at {} — run scripts/wechat-venv.sh or set HOMEWARD_TEST_PYTHON",
        python.display()
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/wechat/wechatpy_client.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write to wechatpy");
    let output = child.wait_with_output().expect("wechatpy finished");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "wechatpy is not installed for {}: {stderr}",
        python.display()
    );
    Outcome {
        ok: output.status.success(),
        json: serde_json::from_slice(&output.stdout).ok(),
        stderr,
    }
}

/// Runs a command that must succeed, returning its JSON.
pub fn call(args: &[&str], stdin: &str) -> Value {
    let outcome = run(args, stdin);
    assert!(outcome.ok, "wechatpy {args:?} failed: {}", outcome.stderr);
    outcome.json.expect("wechatpy printed JSON")
}
