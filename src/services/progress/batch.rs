//! Event batches as phones send them — the API and the pages' beacon take the same JSON: each
//! event parsed on its own, the valid ones recorded together, and an outcome for every event in
//! the order it was sent.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use super::{Incoming, MAX_BATCH, Outcome, record_events};
use crate::domain::progress::Event;
use crate::services::Context;

/// One event as a phone sends it.
#[derive(Clone, Debug, Deserialize)]
pub struct EventInput {
    pub id: Uuid,
    pub series: String,
    pub lesson: String,
    pub kind: String,
    pub panel: Option<u32>,
    pub seconds: Option<f64>,
    pub duration: Option<f64>,
    pub percent: Option<u32>,
    pub client_time: Option<DateTime<Utc>>,
}

/// What became of one event, as the phone is told.
#[derive(Clone, Debug, PartialEq)]
pub struct EventResult {
    pub id: Uuid,
    /// `accepted`, `duplicate`, `conflict`, `not_found` or `invalid`.
    pub status: &'static str,
    /// The HTTP status this event would have alone: 200, 409, 404 or 422.
    pub code: u16,
    pub detail: Option<String>,
}

/// Why a whole batch was refused.
#[derive(Debug)]
pub enum BatchError {
    /// More than `MAX_BATCH` events.
    TooMany,
    /// The database failed; nothing was recorded.
    Failed(anyhow::Error),
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchError::TooMany => write!(f, "send at most {MAX_BATCH} events at once"),
            BatchError::Failed(error) => write!(f, "{error:#}"),
        }
    }
}

/// The event an input describes, or what is missing from it.
pub fn parse_event(input: &EventInput) -> Result<Event, String> {
    let need = |value: Option<f64>, name: &str| {
        value.ok_or_else(|| format!("{} needs `{name}`", input.kind))
    };
    Ok(match input.kind.as_str() {
        "opened" => Event::Opened,
        "panel_viewed" => Event::PanelViewed {
            panel: input.panel.ok_or("panel_viewed needs `panel`")?,
        },
        "video_position" => Event::VideoPosition {
            seconds: need(input.seconds, "seconds")?,
            duration: need(input.duration, "duration")?,
        },
        "article_read" => Event::ArticleRead {
            percent: input.percent.ok_or("article_read needs `percent`")?,
        },
        "completed" => Event::Completed,
        other => return Err(format!("unknown kind '{other}'")),
    })
}

/// Records a batch for a signed-in learner: the valid events in one transaction, then an
/// outcome for every event in the order sent. `Ok` means every accepted event is committed.
pub async fn record_batch(
    ctx: &Context,
    learner_id: i64,
    events: &[EventInput],
) -> Result<Vec<EventResult>, BatchError> {
    if events.len() > MAX_BATCH {
        return Err(BatchError::TooMany);
    }
    let mut results: Vec<Option<EventResult>> = vec![None; events.len()];
    let mut incoming = Vec::new();
    let mut positions = Vec::new();
    for (i, input) in events.iter().enumerate() {
        match parse_event(input) {
            Ok(event) => {
                positions.push(i);
                incoming.push(Incoming {
                    client_id: input.id,
                    series: input.series.clone(),
                    lesson: input.lesson.clone(),
                    event,
                    client_time: input.client_time,
                });
            }
            Err(detail) => {
                results[i] = Some(EventResult {
                    id: input.id,
                    status: "invalid",
                    code: 422,
                    detail: Some(detail),
                })
            }
        }
    }
    let outcomes = record_events(ctx, learner_id, incoming)
        .await
        .map_err(BatchError::Failed)?;
    for (position, outcome) in positions.into_iter().zip(outcomes) {
        let (status, code, detail) = match outcome {
            Outcome::Accepted => ("accepted", 200, None),
            Outcome::Duplicate => ("duplicate", 200, None),
            Outcome::Conflict => (
                "conflict",
                409,
                Some("this id was sent before with different content".to_owned()),
            ),
            Outcome::NotFound => ("not_found", 404, Some("no such released lesson".to_owned())),
            Outcome::Invalid(message) => ("invalid", 422, Some(message)),
        };
        results[position] = Some(EventResult {
            id: events[position].id,
            status,
            code,
            detail,
        });
    }
    Ok(results.into_iter().flatten().collect())
}
