//! Slow clients (issue 11, item 7): a client that trickles a request's head, or sends part of a
//! body and holds the connection, is disconnected after `HOMEWARD_HEADER_TIMEOUT` /
//! `HOMEWARD_BODY_TIMEOUT` — through the real server, with raw sockets.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::fixture::{self, WEEK3};
use crate::helpers::{Options, TestApp, TestDatabase};

/// An app whose clients have 1 s for a head and 1 s for a body, while a request may take 60 s
/// (so it is not the request deadline that ends them).
async fn impatient_app(db: &TestDatabase, content: &std::path::Path) -> TestApp {
    TestApp::spawn(
        db,
        Options::new(WEEK3, content).with_settings(|s| {
            s.header_timeout = 1;
            s.body_timeout = 1;
            s.request_timeout = 60;
        }),
    )
    .await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection (or resets it); `None` if it is still open
/// after `within`. Returns what was read and when the connection ended.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> Option<(String, Duration)> {
    let started = Instant::now();
    let mut read = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = within.checked_sub(started.elapsed())?;
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => {
                return Some((
                    String::from_utf8_lossy(&read).into_owned(),
                    started.elapsed(),
                ));
            }
            Ok(Ok(n)) => read.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn a_client_trickling_its_head_is_disconnected_after_the_header_timeout() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = impatient_app(&db, content.path()).await;

    // A head sent in two parts within the second is answered.
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /livez HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream
        .write_all(b"Connection: close\r\n\r\n")
        .await
        .unwrap();
    let (answer, _) = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered and closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A head that never ends, one header line every 300 ms: cut off after about 1 s.
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /livez HTTP/1.1\r\nHost: a\r\n")
        .await
        .unwrap();
    let trickle = async {
        for i in 0..30 {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let line = format!("X-Slow-{i}: 1\r\n");
            if stream.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(4), trickle)
        .await
        .ok();
    let ended = closed_within(&mut stream, Duration::from_secs(3)).await;
    let (answer, _) = ended.expect("a head still coming after 1 s ends the connection");
    assert!(!answer.contains("200"), "{answer}");

    // Connected and silent, or idle after an answer (keep-alive): the same limit.
    let mut stream = connect(&app).await;
    assert!(
        closed_within(&mut stream, Duration::from_secs(4))
            .await
            .is_some(),
        "a silent connection is closed"
    );
    let mut stream = connect(&app).await;
    stream
        .write_all(b"GET /livez HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let (answer, took) = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("an idle keep-alive connection is closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        took >= Duration::from_millis(900),
        "kept open a while: {took:?}"
    );
}

#[tokio::test]
async fn a_client_holding_a_short_body_is_disconnected_after_the_body_timeout() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = impatient_app(&db, content.path()).await;

    // The whole body in time: answered (422 for a bad code, but answered).
    let body = br#"{"code":"nope"}"#;
    let mut stream = connect(&app).await;
    let head = format!(
        "POST /api/v1/enrollments HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stream.write_all(body).await.unwrap();
    let (answer, _) = closed_within(&mut stream, Duration::from_secs(5))
        .await
        .expect("answered");
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");

    // 15 bytes of the 100 announced, and then nothing: cut off after about 1 s, not at the
    // request's 60 s.
    let mut stream = connect(&app).await;
    stream
        .write_all(
            b"POST /api/v1/enrollments HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"code\":\"nope\"",
        )
        .await
        .unwrap();
    let ended = closed_within(&mut stream, Duration::from_secs(5)).await;
    assert!(
        ended.is_some(),
        "a body still incomplete after 1 s ends the connection"
    );
}
