//! A learner's push settings: their shift, an optional preferred time, and whether they have
//! stopped the messages (退订 / "stop" in the chat, or the switch in /me). Stopping cancels
//! every message still queued for them.

use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::{ConnectionTrait, Statement, Value};

use crate::domain::push::{Shift, check_preferred_time};
use crate::domain::{Lang, Text};
use crate::services::Context;

/// What a learner has chosen (the defaults when they never chose).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushPrefs {
    pub shift: Shift,
    pub preferred_time: Option<NaiveTime>,
    pub muted: bool,
}

impl PushPrefs {
    /// The preferred time as `HH:MM`, or empty.
    pub fn preferred_text(&self) -> String {
        self.preferred_time
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default()
    }
}

/// Why a choice cannot be saved, in both languages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid(pub Text);

impl Invalid {
    pub fn message(&self, lang: Lang) -> &str {
        self.0.get(lang)
    }
}

/// Reads a shift and a preferred time as a form or the API sends them (`""` = no time).
pub fn parse(
    shift: Option<&str>,
    preferred: Option<&str>,
) -> Result<(Shift, Option<NaiveTime>), Invalid> {
    let shift = match shift.map(str::trim).filter(|s| !s.is_empty()) {
        None => Shift::Day,
        Some(raw) => Shift::parse(raw).ok_or_else(|| {
            Invalid(Text::new(
                "请选择白班、夜班或倒班。",
                "shift: choose day, night or rotating.",
            ))
        })?,
    };
    let preferred = match preferred.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => {
            let time = NaiveTime::parse_from_str(raw, "%H:%M").map_err(|_| {
                Invalid(Text::new(
                    "提醒时间的格式是 时:分，例如 20:30。",
                    "preferred_time: write it as HH:MM, e.g. 20:30.",
                ))
            })?;
            check_preferred_time(shift, time).map_err(|(zh, en)| Invalid(Text::new(&zh, &en)))?;
            Some(time)
        }
    };
    Ok((shift, preferred))
}

/// The settings after a change: absent fields stay, an empty preferred time clears it, and
/// the result is checked as a whole (a kept time must suit a new shift).
pub fn resolve(
    current: &PushPrefs,
    shift: Option<&str>,
    preferred: Option<&str>,
    stopped: Option<bool>,
) -> Result<PushPrefs, Invalid> {
    let shift_text = shift.unwrap_or(current.shift.as_str());
    let kept = current.preferred_text();
    let preferred_text = preferred.unwrap_or(&kept);
    let (shift, preferred_time) = parse(Some(shift_text), Some(preferred_text))?;
    Ok(PushPrefs {
        shift,
        preferred_time,
        muted: stopped.unwrap_or(current.muted),
    })
}

async fn exec(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> anyhow::Result<u64> {
    Ok(db
        .execute_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            values,
        ))
        .await?
        .rows_affected())
}

/// The learner's settings (defaults when they never chose).
pub async fn get(ctx: &Context, learner_id: i64) -> anyhow::Result<PushPrefs> {
    let row = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            "SELECT shift, preferred_time, muted_at FROM push_preference WHERE learner_id = $1",
            [learner_id.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(PushPrefs::default());
    };
    let shift: String = row.try_get("", "shift")?;
    let preferred: Option<String> = row.try_get("", "preferred_time")?;
    let muted: Option<DateTime<Utc>> = row.try_get("", "muted_at")?;
    Ok(PushPrefs {
        shift: Shift::parse(&shift).unwrap_or_default(),
        preferred_time: preferred.and_then(|t| NaiveTime::parse_from_str(&t, "%H:%M").ok()),
        muted: muted.is_some(),
    })
}

/// Saves the learner's shift and preferred time (already checked by `parse`), and whether the
/// messages are stopped.
pub async fn set(
    db: &impl ConnectionTrait,
    learner_id: i64,
    prefs: &PushPrefs,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    exec(
        db,
        "INSERT INTO push_preference (learner_id, shift, preferred_time, muted_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (learner_id) DO UPDATE SET shift = excluded.shift, \
         preferred_time = excluded.preferred_time, updated_at = excluded.updated_at, \
         muted_at = CASE WHEN excluded.muted_at IS NULL THEN NULL \
                         ELSE COALESCE(push_preference.muted_at, excluded.muted_at) END",
        vec![
            learner_id.into(),
            prefs.shift.as_str().into(),
            prefs.preferred_time.map(|t| t.format("%H:%M").to_string()).into(),
            prefs.muted.then_some(now).into(),
            now.into(),
        ],
    )
    .await?;
    if prefs.muted {
        cancel_queued(db, learner_id, now).await?;
    }
    Ok(())
}

async fn cancel_queued(
    db: &impl ConnectionTrait,
    learner_id: i64,
    now: DateTime<Utc>,
) -> anyhow::Result<u64> {
    exec(
        db,
        "UPDATE push_message SET state = 'cancelled', last_error = 'muted', updated_at = $1 \
         WHERE learner_id = $2 AND state = 'queued'",
        vec![now.into(), learner_id.into()],
    )
    .await
}

/// Stops (or restarts) every message to the learner, keeping their shift and time.
pub async fn set_muted(ctx: &Context, learner_id: i64, muted: bool) -> anyhow::Result<()> {
    let mut prefs = get(ctx, learner_id).await?;
    prefs.muted = muted;
    set(&ctx.db, learner_id, &prefs, ctx.clock.now()).await
}

/// Whether a chat message asks to stop the messages: 退订 or "stop" (any case, alone).
pub fn is_stop_word(text: &str) -> bool {
    let word = text
        .trim()
        .trim_matches(|c: char| c.is_ascii_punctuation() || "。！".contains(c));
    word == "退订" || word.eq_ignore_ascii_case("stop") || word.eq_ignore_ascii_case("td")
}

/// What the chat answers after a stop word.
pub fn stopped_reply() -> Text {
    Text::new(
        "已为您停止课程消息。想再收到时，在“我的”页面打开即可。",
        "Lesson messages are stopped. To get them again, turn them on in the “Me” page.",
    )
}
