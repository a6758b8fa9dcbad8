//! What a learner earned stays earned: badges, certificates and best streaks are stored the first
//! time they are reached, with their date, and later changes (a missed week, one more lesson
//! published) never take them away.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, Statement};

use crate::domain::progress::Badge;

/// What a learner has reached by the rules today.
#[derive(Debug, Default)]
pub struct Reached {
    pub badges: Vec<Badge>,
    /// Series slug, its number of lessons and when it was finished.
    pub certificates: Vec<(String, u32, DateTime<Utc>)>,
    /// Series slug and its current streak.
    pub streaks: Vec<(String, u32)>,
}

/// A certificate as it was earned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub lessons: u32,
    pub earned_at: DateTime<Utc>,
}

/// What a learner has earned, ever.
#[derive(Debug, Default)]
pub struct Earned {
    /// In the order of [`Badge::ALL`].
    pub badges: Vec<(Badge, DateTime<Utc>)>,
    pub certificates: HashMap<String, Certificate>,
    pub best_streaks: HashMap<String, u32>,
}

const BADGE: &str = "badge";
const CERTIFICATE: &str = "certificate";
const BEST_STREAK: &str = "best_streak";

/// Reads what a learner has earned.
pub async fn earned(db: &impl ConnectionTrait, learner_id: i64) -> anyhow::Result<Earned> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT kind, subject, amount, earned_at FROM learner_award WHERE learner_id = $1",
            [learner_id.into()],
        ))
        .await?;
    let mut earned = Earned::default();
    for row in rows {
        let kind: String = row.try_get("", "kind")?;
        let subject: String = row.try_get("", "subject")?;
        let amount = row
            .try_get::<i64>("", "amount")
            .or_else(|_| row.try_get::<i32>("", "amount").map(i64::from))?
            .max(0) as u32;
        let earned_at: DateTime<Utc> = row.try_get("", "earned_at")?;
        match kind.as_str() {
            BADGE => {
                if let Some(badge) = Badge::from_key(&subject) {
                    earned.badges.push((badge, earned_at));
                }
            }
            CERTIFICATE => {
                earned.certificates.insert(
                    subject,
                    Certificate {
                        lessons: amount,
                        earned_at,
                    },
                );
            }
            BEST_STREAK => {
                earned.best_streaks.insert(subject, amount);
            }
            _ => {}
        }
    }
    earned
        .badges
        .sort_by_key(|(badge, _)| Badge::ALL.iter().position(|b| b == badge));
    Ok(earned)
}

/// Stores whatever in `reached` is new (a badge or certificate not held yet, a streak longer than
/// the best so far) and returns everything earned. Nothing stored is ever removed or lowered.
pub async fn keep(
    db: &impl ConnectionTrait,
    learner_id: i64,
    reached: &Reached,
    now: DateTime<Utc>,
) -> anyhow::Result<Earned> {
    let held = earned(db, learner_id).await?;
    let mut new: Vec<(&str, String, u32, DateTime<Utc>)> = Vec::new();
    for badge in &reached.badges {
        if !held.badges.iter().any(|(b, _)| b == badge) {
            new.push((BADGE, badge.key().to_owned(), 0, now));
        }
    }
    for (series, lessons, at) in &reached.certificates {
        if !held.certificates.contains_key(series) {
            new.push((CERTIFICATE, series.clone(), *lessons, *at));
        }
    }
    for (series, streak) in &reached.streaks {
        if *streak > held.best_streaks.get(series).copied().unwrap_or(0) {
            new.push((BEST_STREAK, series.clone(), *streak, now));
        }
    }
    if new.is_empty() {
        return Ok(held);
    }
    let backend = db.get_database_backend();
    for (kind, subject, amount, at) in new {
        // A best streak only ever grows; badges and certificates are written once.
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            "INSERT INTO learner_award (learner_id, kind, subject, amount, earned_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (learner_id, kind, subject) DO UPDATE SET amount = excluded.amount, earned_at = excluded.earned_at \
             WHERE learner_award.kind = 'best_streak' AND learner_award.amount < excluded.amount",
            [
                learner_id.into(),
                kind.into(),
                subject.into(),
                (amount as i32).into(),
                at.into(),
            ],
        ))
        .await?;
    }
    earned(db, learner_id).await
}
