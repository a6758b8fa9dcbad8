//! Safeguarding counts: how many chat messages matched each category in each week (weeks start
//! on Monday, Beijing time). No message, sender or time is stored; editors see the counts with
//! every figure under 5 hidden.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, Statement};

use super::WechatError;
use crate::domain::suppress::{Shown, count};
use crate::services::Context;

/// The Monday (Asia/Shanghai) of the week `at` falls in.
pub fn week_of(at: DateTime<Utc>) -> NaiveDate {
    let local = at.with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    local - Duration::days(i64::from(local.weekday().num_days_from_monday()))
}

/// Counts one match of `category`.
pub async fn count_match(
    ctx: &Context,
    category: &str,
    at: DateTime<Utc>,
) -> Result<(), WechatError> {
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            "INSERT INTO safeguarding_count (week, category, matches) VALUES ($1, $2, 1) \
             ON CONFLICT (week, category) DO UPDATE SET matches = safeguarding_count.matches + 1",
            [week_of(at).to_string().into(), category.into()],
        ))
        .await?;
    Ok(())
}

/// One week's counts by category, as editors may see them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeekCounts {
    pub week: NaiveDate,
    /// In the order of `categories` given to [`weekly`].
    pub counts: Vec<Shown>,
}

/// The last `weeks` weeks up to `now`'s, newest first, for these categories.
pub async fn weekly(
    ctx: &Context,
    categories: &[String],
    weeks: u32,
    now: DateTime<Utc>,
) -> Result<Vec<WeekCounts>, WechatError> {
    let newest = week_of(now);
    let oldest = newest - Duration::weeks(i64::from(weeks.saturating_sub(1)));
    let rows = ctx
        .db
        .query_all_raw(Statement::from_sql_and_values(
            ctx.db.get_database_backend(),
            "SELECT week, category, matches FROM safeguarding_count WHERE week >= $1",
            [oldest.to_string().into()],
        ))
        .await?;
    let mut found: Vec<(String, String, i64)> = Vec::new();
    for row in rows {
        found.push((
            row.try_get("", "week")?,
            row.try_get("", "category")?,
            row.try_get("", "matches")?,
        ));
    }
    Ok((0..weeks)
        .map(|back| {
            let week = newest - Duration::weeks(i64::from(back));
            let key = week.to_string();
            let counts = categories
                .iter()
                .map(|category| {
                    let n = found
                        .iter()
                        .find(|(w, c, _)| *w == key && c == category)
                        .map_or(0, |(_, _, n)| *n);
                    count(u64::try_from(n).unwrap_or(0))
                })
                .collect();
            WeekCounts { week, counts }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_in_beijing() {
        // Sunday 2030-01-13 23:30 in Beijing is still the week of Monday the 7th…
        let sunday_night: DateTime<Utc> = "2030-01-13T15:30:00Z".parse().unwrap();
        assert_eq!(week_of(sunday_night).to_string(), "2030-01-07");
        // …and half an hour later it is the next week, though UTC is still on Sunday.
        let monday: DateTime<Utc> = "2030-01-13T16:00:00Z".parse().unwrap();
        assert_eq!(week_of(monday).to_string(), "2030-01-14");
    }
}
