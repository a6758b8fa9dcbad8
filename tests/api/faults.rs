//! Faults: what a learner's phone and an operator see when clocks disagree, batches race,
//! PostgreSQL or Redis fail, or clients are slow. Each test drives the fault itself (a proxy it
//! controls, a clock it moves) through the real server.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::enrollment::{make_code, spawn};
use crate::fixture;
use crate::helpers::TestDatabase;
use crate::progress::{enroll, send};

fn panel_event(id: Uuid, panel: u32, client_time: &str) -> Value {
    json!({"id": id, "series": "family", "lesson": "first-comic", "kind": "panel_viewed",
           "panel": panel, "client_time": client_time})
}

#[tokio::test]
async fn an_identical_resend_from_a_phone_whose_clock_is_ahead_is_a_duplicate() {
    let content = fixture::standard();
    let db = TestDatabase::create().await;
    let app = spawn(&db, &content).await;
    let code = make_code(&app, None, None).await;
    let learner = enroll(&app, &code.token, "10.0.0.1").await;
    // The server's clock says 12:00; the phone's says 13:00.
    let sent = panel_event(Uuid::new_v4(), 0, "2030-01-21T13:00:00Z");
    let (status, body) = send(&app, &learner, std::slice::from_ref(&sent)).await;
    assert_eq!(
        (status, body["results"][0]["status"].as_str()),
        (200, Some("accepted")),
        "{body}"
    );
    app.clock.advance(chrono::Duration::minutes(1));
    let (status, body) = send(&app, &learner, std::slice::from_ref(&sent)).await;
    assert_eq!(
        (
            status,
            body["results"][0]["status"].as_str(),
            body["results"][0]["code"].as_u64()
        ),
        (200, Some("duplicate"), Some(200)),
        "the same event sent again is a duplicate, whatever the phone's clock says: {body}"
    );
}
