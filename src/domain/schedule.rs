//! The weekly release schedule and the one visibility rule every path obeys.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use super::lesson::LessonStatus;

/// When a series releases its lessons: week 1 on `first_release` (moved forward to `weekday`),
/// then every seven days, at `time` local to `timezone`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cadence {
    pub timezone: Tz,
    pub first_release: NaiveDate,
    pub weekday: Weekday,
    pub time: NaiveTime,
}

impl Cadence {
    /// The release moment of lesson `week` (1-based), in UTC.
    pub fn release_at(&self, week: u32) -> DateTime<Utc> {
        let shift = (7 + self.weekday.num_days_from_monday()
            - self.first_release.weekday().num_days_from_monday())
            % 7;
        let date =
            self.first_release + Duration::days(i64::from(shift) + 7 * i64::from(week.max(1) - 1));
        local_to_utc(self.timezone, date.and_time(self.time))
    }

    /// The first lesson week not yet released at `now`, by the cadence alone.
    pub fn next_week_after(&self, now: DateTime<Utc>) -> u32 {
        (1..=10_000)
            .find(|week| self.release_at(*week) > now)
            .unwrap_or(10_000)
    }
}

/// How a series hands out its lessons to each learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pacing {
    /// Everyone gets the week's lesson when it comes out.
    Calendar,
    /// A learner starts at lesson 1 in the week they join and gets one released lesson a week.
    FromJoin,
}

impl Pacing {
    pub const ALL: [Pacing; 2] = [Pacing::Calendar, Pacing::FromJoin];
    /// What a series file that does not say gets (new series are paced from joining).
    pub const FOR_NEW_SERIES: Pacing = Pacing::FromJoin;

    pub fn as_str(self) -> &'static str {
        match self {
            Pacing::Calendar => "calendar",
            Pacing::FromJoin => "from-join",
        }
    }

    pub fn parse(raw: &str) -> Option<Pacing> {
        Pacing::ALL.into_iter().find(|p| p.as_str() == raw)
    }

    /// Rows written before pacing was stored say nothing; they were paced by the calendar.
    pub fn stored_default() -> Pacing {
        Pacing::Calendar
    }
}

/// Converts a local wall-clock time to UTC. A time skipped by a daylight-saving jump is moved
/// forward by the jump; an ambiguous one takes the earlier instant.
pub fn local_to_utc(timezone: Tz, local: chrono::NaiveDateTime) -> DateTime<Utc> {
    let mut candidate = local;
    for _ in 0..4 {
        if let Some(moment) = timezone.from_local_datetime(&candidate).earliest() {
            return moment.with_timezone(&Utc);
        }
        candidate += Duration::minutes(30);
    }
    Utc.from_utc_datetime(&local)
}

/// The date of `weekday` in the week `weeks_ago` weeks before the week containing `now`
/// (weeks start on Monday, in `timezone`). Used by demo content to stay current.
pub fn weeks_ago(timezone: Tz, now: DateTime<Utc>, weeks_ago: u32, weekday: Weekday) -> NaiveDate {
    let today = now.with_timezone(&timezone).date_naive();
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    monday - Duration::weeks(i64::from(weeks_ago))
        + Duration::days(i64::from(weekday.num_days_from_monday()))
}

/// DESIGN.md rule 1: a lesson is visible to learners only when published and released.
pub fn is_visible(status: LessonStatus, release_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status == LessonStatus::Published && release_at <= now
}

pub fn parse_weekday(raw: &str) -> Option<Weekday> {
    match raw {
        "mon" => Some(Weekday::Mon),
        "tue" => Some(Weekday::Tue),
        "wed" => Some(Weekday::Wed),
        "thu" => Some(Weekday::Thu),
        "fri" => Some(Weekday::Fri),
        "sat" => Some(Weekday::Sat),
        "sun" => Some(Weekday::Sun),
        _ => None,
    }
}

pub fn weekday_str(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "mon",
        Weekday::Tue => "tue",
        Weekday::Wed => "wed",
        Weekday::Thu => "thu",
        Weekday::Fri => "fri",
        Weekday::Sat => "sat",
        Weekday::Sun => "sun",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cadence(tz: &str, first: &str, weekday: Weekday, time: &str) -> Cadence {
        Cadence {
            timezone: tz.parse().unwrap(),
            first_release: first.parse().unwrap(),
            weekday,
            time: NaiveTime::parse_from_str(time, "%H:%M").unwrap(),
        }
    }

    fn utc(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    #[test]
    fn lesson_n_comes_n_minus_one_weeks_after_the_first() {
        let c = cadence("Asia/Shanghai", "2026-09-07", Weekday::Mon, "20:00");
        assert_eq!(c.release_at(1), utc("2026-09-07T12:00:00Z"));
        assert_eq!(c.release_at(3), utc("2026-09-21T12:00:00Z"));
    }

    #[test]
    fn first_release_moves_forward_to_the_weekday() {
        // 2026-09-07 is a Monday; a Wednesday cadence starts on the 9th.
        let c = cadence("Asia/Shanghai", "2026-09-07", Weekday::Wed, "08:30");
        assert_eq!(c.release_at(1), utc("2026-09-09T00:30:00Z"));
    }

    #[test]
    fn local_time_follows_daylight_saving() {
        // New York: 2026-11-01 DST ends; 9:00 local is 13:00Z before and 14:00Z after.
        let c = cadence("America/New_York", "2026-10-25", Weekday::Sun, "09:00");
        assert_eq!(c.release_at(1), utc("2026-10-25T13:00:00Z"));
        assert_eq!(c.release_at(2), utc("2026-11-01T14:00:00Z"));
    }

    #[test]
    fn a_skipped_local_time_moves_forward() {
        // 2027-03-14 02:30 does not exist in New York.
        let c = cadence("America/New_York", "2027-03-14", Weekday::Sun, "02:30");
        assert_eq!(c.release_at(1), utc("2027-03-14T07:00:00Z"));
    }

    #[test]
    fn release_date_is_local_not_utc() {
        // Monday 07:00 in Shanghai is still Sunday in UTC.
        let c = cadence("Asia/Shanghai", "2026-09-07", Weekday::Mon, "07:00");
        assert_eq!(c.release_at(1), utc("2026-09-06T23:00:00Z"));
    }

    #[test]
    fn weeks_ago_counts_back_from_this_week_in_local_time() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        // Sunday 20:00 UTC is already Monday 04:00 in Shanghai.
        let now = utc("2026-11-22T20:00:00Z");
        assert_eq!(
            weeks_ago(tz, now, 0, Weekday::Mon),
            "2026-11-23".parse().unwrap()
        );
        assert_eq!(
            weeks_ago(tz, now, 2, Weekday::Wed),
            "2026-11-11".parse().unwrap()
        );
    }

    #[test]
    fn visibility_needs_publication_and_release() {
        let release = utc("2026-09-07T12:00:00Z");
        let before = release - Duration::seconds(1);
        assert!(!is_visible(LessonStatus::Published, release, before));
        assert!(is_visible(LessonStatus::Published, release, release));
        assert!(!is_visible(
            LessonStatus::Draft,
            release,
            release + Duration::days(9)
        ));
    }

    #[test]
    fn next_week_after_finds_the_first_unreleased() {
        let c = cadence("Asia/Shanghai", "2026-09-07", Weekday::Mon, "20:00");
        assert_eq!(c.next_week_after(utc("2026-09-01T00:00:00Z")), 1);
        assert_eq!(c.next_week_after(utc("2026-09-14T12:00:00Z")), 3);
    }
}
