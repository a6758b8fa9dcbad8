//! Backups through the real server and the real `homeward` binary, on the backend the tests run
//! on: a backup taken while 20 learners keep sending progress events holds every event
//! acknowledged before it began; restored into a fresh database it serves the same pages and
//! sessions; `--verify` proves a sound file and catches damaged or different ones; restoring
//! over data is refused.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use homeward::domain::learner::POLICY_VERSION;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

const LEARNERS: usize = 20;

/// The real binary on `database_url`, in `dir` (no `.env` is read), without Redis.
async fn homeward(dir: &Path, database_url: &str, args: &[&str]) -> (i32, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_homeward"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run homeward");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code().unwrap_or(-1), text)
}

async fn join(app: &TestApp, token: &str) -> String {
    let response = app
        .client
        .post(app.url("/api/v1/enrollments"))
        .json(&json!({"token": token, "audience": "parents", "accept_policy": POLICY_VERSION}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "join");
    let joined: Value = response.json().await.unwrap();
    joined["session_token"].as_str().unwrap().to_owned()
}

fn events(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| match i % 3 {
            0 => json!({"id": Uuid::new_v4(), "series": "family", "lesson": "first-comic", "kind": "panel_viewed", "panel": i % 2}),
            1 => json!({"id": Uuid::new_v4(), "series": "family", "lesson": "second-video", "kind": "video_position", "seconds": i % 40, "duration": 42}),
            _ => json!({"id": Uuid::new_v4(), "series": "family", "lesson": "third-article", "kind": "article_read", "percent": i % 100}),
        })
        .collect()
}

/// Event ids (client ids) acknowledged as `accepted`, with when the 200 arrived.
type Acks = Arc<Mutex<Vec<(String, Instant)>>>;

async fn keep_sending(app: Arc<TestApp>, token: String, stop: Arc<AtomicBool>, acks: Acks) {
    let mut batch = 1;
    while !stop.load(Ordering::SeqCst) {
        let sent = events(batch);
        let response = app
            .client
            .post(app.url("/api/v1/progress/events"))
            .bearer_auth(&token)
            .json(&json!({"events": sent}))
            .send()
            .await
            .expect("send events");
        assert_eq!(response.status(), 200, "progress events during the backup");
        let body: Value = response.json().await.unwrap();
        let at = Instant::now();
        let results = body["results"].as_array().expect("results");
        assert_eq!(results.len(), sent.len());
        for result in results {
            assert_eq!(result["status"], "accepted", "{result}");
        }
        let mut acks = acks.lock().unwrap();
        for result in results {
            acks.push((result["id"].as_str().unwrap().to_owned(), at));
        }
        batch = batch % 5 + 1;
    }
}

async fn client_ids(app: &TestApp) -> std::collections::HashSet<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = &app.state.db;
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT client_id FROM progress_event",
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| row.try_get::<String>("", "client_id").unwrap())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_every_acknowledged_event_and_the_same_pages() {
    let content = fixture::standard();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("homeward.tar");
    let db = TestDatabase::create().await;
    let app = Arc::new(TestApp::spawn(&db, Options::new(WEEK3, content.path())).await);
    let code = app.make_code(None, None).await;
    let mut tokens = Vec::new();
    for _ in 0..LEARNERS {
        tokens.push(join(&app, &code.token).await);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let acks: Acks = Arc::default();
    let senders: Vec<_> = tokens
        .iter()
        .map(|token| {
            tokio::spawn(keep_sending(
                app.clone(),
                token.clone(),
                stop.clone(),
                acks.clone(),
            ))
        })
        .collect();
    let warm_up = Instant::now();
    while acks.lock().unwrap().len() < 200 && warm_up.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let started = Instant::now();
    let (code_backup, out) =
        homeward(work.path(), &db.url, &["backup", file.to_str().unwrap()]).await;
    let finished = Instant::now();
    assert_eq!(code_backup, 0, "homeward backup: {out}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for sender in senders {
        sender.await.expect("a learner's sender failed");
    }

    let acks = acks.lock().unwrap().clone();
    let before: Vec<&String> = acks
        .iter()
        .filter(|(_, at)| *at < started)
        .map(|(id, _)| id)
        .collect();
    let during = acks
        .iter()
        .filter(|(_, at)| *at >= started && *at < finished)
        .count();
    let after: Vec<&String> = acks
        .iter()
        .filter(|(_, at)| *at >= finished)
        .map(|(id, _)| id)
        .collect();
    println!(
        "acknowledged: {} before the backup, {during} while it ran ({:?}), {} after",
        before.len(),
        finished - started,
        after.len()
    );
    assert!(
        before.len() >= 200,
        "only {} events before the backup",
        before.len()
    );
    assert!(during > 0, "no event was acknowledged while the backup ran");

    // Restore into a fresh database with the real binary.
    let restored_db = TestDatabase::create().await;
    let (code_restore, out) = homeward(
        work.path(),
        &restored_db.url,
        &["restore", file.to_str().unwrap()],
    )
    .await;
    assert_eq!(code_restore, 0, "homeward restore: {out}");
    let restored = TestApp::spawn_empty(&restored_db, Options::new(WEEK3, content.path())).await;
    let in_copy = client_ids(&restored).await;
    let missing: Vec<_> = before.iter().filter(|id| !in_copy.contains(**id)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} events acknowledged before the backup began are not in it, e.g. {:?}",
        missing.len(),
        before.len(),
        missing.first()
    );
    assert!(
        after.iter().any(|id| !in_copy.contains(*id)),
        "every event acknowledged after the backup is in it: it is not a snapshot"
    );

    // The restored server serves the same pages, media and sessions.
    for path in [
        "/",
        "/s/family",
        "/s/family/first-comic",
        "/s/family/third-article",
        "/api/v1/series",
        "/api/v1/series/family/lessons/second-video",
        "/media/family/first-comic/p2.png",
        "/media/family/second-video/clip.mp4",
    ] {
        let (live, copy) = (app.get(path).await, restored.get(path).await);
        assert_eq!(live.status(), 200, "{path} on the live server");
        assert_eq!(copy.status(), 200, "{path} on the restored server");
        let (live, copy) = (live.bytes().await.unwrap(), copy.bytes().await.unwrap());
        assert!(live == copy, "{path} differs after the restore");
    }
    for token in tokens.iter().take(3) {
        let me = |server: &TestApp| {
            server
                .client
                .get(server.url("/api/v1/me"))
                .bearer_auth(token)
                .send()
        };
        let (live, copy) = (me(&app).await.unwrap(), me(&restored).await.unwrap());
        assert_eq!(copy.status(), 200, "a learner's session after the restore");
        let (live, copy): (Value, Value) = (live.json().await.unwrap(), copy.json().await.unwrap());
        assert_eq!(live["learner_id"], copy["learner_id"]);
    }

    // Restoring over data is refused, and changes nothing.
    let events_before = app.count("SELECT count(*) FROM progress_event").await;
    let (refused, out) = homeward(work.path(), &db.url, &["restore", file.to_str().unwrap()]).await;
    assert_eq!(refused, 2, "restore over data: {out}");
    assert!(
        out.contains("already holds data") && out.contains("--force"),
        "{out}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM progress_event").await,
        events_before
    );

    restored.stop().await;
}

#[tokio::test]
async fn verify_proves_a_sound_backup_and_catches_a_damaged_or_different_one() {
    let content = fixture::standard();
    let work = tempfile::tempdir().unwrap();
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let code = app.make_code(None, None).await;
    join(&app, &code.token).await;
    let file = work.path().join("sound.tar");
    let name = file.to_str().unwrap();
    let (status, out) = homeward(work.path(), &db.url, &["backup", name]).await;
    assert_eq!(status, 0, "{out}");
    let (status, out) = homeward(work.path(), &db.url, &["backup", name]).await;
    assert_eq!(status, 2, "a second backup to the same file: {out}");
    assert!(out.contains("already exists"), "{out}");

    let (status, out) = homeward(work.path(), &db.url, &["backup", "--verify", name]).await;
    assert_eq!(status, 0, "verify: {out}");
    assert!(
        out.contains("ok: ") && out.contains("match the backup"),
        "{out}"
    );
    assert!(out.contains("learner") && !out.contains("DIFFERS"), "{out}");

    // One byte changed in the database part: damaged.
    let mut bytes = std::fs::read(&file).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    let damaged = work.path().join("damaged.tar");
    std::fs::write(&damaged, &bytes).unwrap();
    let (status, out) = homeward(
        work.path(),
        &db.url,
        &["backup", "--verify", damaged.to_str().unwrap()],
    )
    .await;
    assert_eq!(status, 2, "{out}");
    assert!(out.contains("is damaged"), "{out}");

    // A manifest that promises another learner: the comparison says which table differs.
    let different = work.path().join("different.tar");
    rewrite_manifest(&file, &different, |manifest| {
        let tables = manifest["tables"].as_array_mut().unwrap();
        let learner = tables.iter_mut().find(|t| t["name"] == "learner").unwrap();
        learner["rows"] = json!(learner["rows"].as_u64().unwrap() + 1);
    });
    let (status, out) = homeward(
        work.path(),
        &db.url,
        &["backup", "--verify", different.to_str().unwrap()],
    )
    .await;
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("DIFFERS: 1 rows") && out.contains("FAILED: 1 table(s)"),
        "{out}"
    );

    let (status, out) = homeward(
        work.path(),
        &db.url,
        &[
            "restore",
            content.path().join("family/series.toml").to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(status, 2, "{out}");
    assert!(out.contains("is not a Homeward backup"), "{out}");
}

/// Copies a backup with its manifest changed by `change`.
fn rewrite_manifest(from: &Path, to: &Path, change: impl FnOnce(&mut Value)) {
    let mut archive = tar::Archive::new(std::fs::File::open(from).unwrap());
    let mut builder = tar::Builder::new(std::fs::File::create(to).unwrap());
    let mut change = Some(change);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if path.as_os_str() == "manifest.json" {
            let mut manifest: Value = serde_json::from_slice(&data).unwrap();
            (change.take().unwrap())(&mut manifest);
            data = serde_json::to_vec(&manifest).unwrap();
        }
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o600);
        builder
            .append_data(&mut header, &path, data.as_slice())
            .unwrap();
    }
    builder.finish().unwrap();
}

#[tokio::test]
async fn deletions_made_after_a_backup_are_applied_again_to_its_restore() {
    let content = fixture::standard();
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("before-deletion.tar");
    let db = TestDatabase::create().await;
    let app = TestApp::spawn(&db, Options::new(WEEK3, content.path())).await;
    let code = app.make_code(None, None).await;
    let (leaving, staying) = (join(&app, &code.token).await, join(&app, &code.token).await);
    let id_of = |server: &TestApp, token: &str| {
        let request = server
            .client
            .get(server.url("/api/v1/me"))
            .bearer_auth(token)
            .send();
        async move {
            let me: Value = request.await.unwrap().json().await.unwrap();
            me["learner_id"].as_i64().unwrap()
        }
    };
    let leaving_id = id_of(&app, &leaving).await;
    let (status, out) = homeward(work.path(), &db.url, &["backup", file.to_str().unwrap()]).await;
    assert_eq!(status, 0, "{out}");
    let deleted = app
        .client
        .delete(app.url("/api/v1/me"))
        .bearer_auth(&leaving)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);

    // The backup still holds them: restored, they are back...
    let restored_db = TestDatabase::create().await;
    let (status, out) = homeward(
        work.path(),
        &restored_db.url,
        &["restore", file.to_str().unwrap()],
    )
    .await;
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("delete them again"), "{out}");
    let restored = TestApp::spawn_empty(&restored_db, Options::new(WEEK3, content.path())).await;
    assert_eq!(id_of(&restored, &leaving).await, leaving_id);

    // ...until the deletion is applied again, before the servers open.
    let id = leaving_id.to_string();
    let (status, out) = homeward(
        work.path(),
        &restored_db.url,
        &["learner", "delete", &id, "999999"],
    )
    .await;
    assert_eq!(status, 0, "{out}");
    assert!(out.contains(&format!("deleted learner {id}")), "{out}");
    assert!(out.contains("no learner 999999"), "{out}");
    // The command ran in another process, which cannot reach the server's brief memory of
    // valid sessions: SESSION_MEMO_TTL is the documented bound for the server to notice.
    tokio::time::sleep(homeward::services::sessions::SESSION_MEMO_TTL + Duration::from_millis(200))
        .await;
    let me = restored
        .client
        .get(restored.url("/api/v1/me"))
        .bearer_auth(&leaving)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "the deleted learner's session");
    let left = |table: &str| format!("SELECT count(*) FROM {table} WHERE learner_id = {id}");
    for table in ["consent", "learner_session", "progress_event"] {
        assert_eq!(restored.count(&left(table)).await, 0, "{table}");
    }
    assert_eq!(
        restored
            .count(&format!(
                "SELECT count(*) FROM audit_log WHERE actor = 'cli' AND action = 'delete_learner' AND target = 'learner:{id}'"
            ))
            .await,
        1
    );
    let staying_id = id_of(&restored, &staying).await;
    assert_eq!(staying_id, id_of(&app, &staying).await);
    restored.stop().await;
}
