//! The catalog: every series and lesson with its release time and status, but no bodies.
//! Visibility is decided here, against the clock, on every request — never baked into a cache.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::push::paced_index;
use super::schedule::{Pacing, is_visible};
use super::{Audience, LessonKind, LessonStatus, Text};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    pub series: Vec<SeriesEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesEntry {
    pub id: i64,
    pub slug: String,
    pub audience: Audience,
    pub timezone: String,
    /// The cadence, as stored: week 1's date, the weekday and local time of releases.
    pub first_release: chrono::NaiveDate,
    pub release_weekday: String,
    pub release_time: String,
    pub order: i32,
    /// Whether learners get the week's lesson or their own, counted from when they joined.
    #[serde(default = "Pacing::stored_default")]
    pub pacing: Pacing,
    pub title: Text,
    pub summary: Text,
    /// Ordered by week.
    pub lessons: Vec<LessonEntry>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LessonEntry {
    pub id: i64,
    pub slug: String,
    pub week: u32,
    pub kind: LessonKind,
    pub status: LessonStatus,
    pub release_at: DateTime<Utc>,
    pub title: Text,
    pub summary: Text,
    pub has_quiz: bool,
    pub updated_at: DateTime<Utc>,
    pub media: Vec<MediaMeta>,
    /// The children's age bands the lesson is for ("6-11"); empty for every age.
    #[serde(default)]
    pub age_bands: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaMeta {
    pub name: String,
    pub content_type: String,
    pub sha256: String,
    pub size: u64,
    pub updated_at: DateTime<Utc>,
}

impl Catalog {
    pub fn series(&self, slug: &str) -> Option<&SeriesEntry> {
        self.series.iter().find(|s| s.slug == slug)
    }
}

impl LessonEntry {
    pub fn is_visible(&self, now: DateTime<Utc>) -> bool {
        is_visible(self.status, self.release_at, now)
    }

    pub fn media(&self, name: &str) -> Option<&MediaMeta> {
        self.media.iter().find(|m| m.name == name)
    }
}

impl SeriesEntry {
    /// Lessons a learner may see at `now`, in order of week.
    pub fn released(&self, now: DateTime<Utc>) -> Vec<&LessonEntry> {
        self.lessons.iter().filter(|l| l.is_visible(now)).collect()
    }

    /// This week's lesson: the most recently released one.
    pub fn current(&self, now: DateTime<Utc>) -> Option<&LessonEntry> {
        self.lessons
            .iter()
            .filter(|l| l.is_visible(now))
            .max_by_key(|l| (l.release_at, l.week))
    }

    /// The lesson of a learner who joined at `joined`: this week's lesson in a calendar-paced
    /// series, and in a series paced from joining the one of *their* week (lesson 1 in the week
    /// they joined, one more released lesson each week). Without a learner, this week's lesson.
    pub fn current_for(
        &self,
        joined: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<&LessonEntry> {
        match (self.pacing, joined) {
            (Pacing::FromJoin, Some(joined)) => {
                let released = self.released(now);
                paced_index(joined, now, released.len()).map(|index| released[index])
            }
            _ => self.current(now),
        }
    }

    /// When the next published lesson comes out. Says nothing about which lesson it is.
    pub fn next_release(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.lessons
            .iter()
            .filter(|l| l.status == LessonStatus::Published && l.release_at > now)
            .map(|l| l.release_at)
            .min()
    }

    pub fn visible_lesson(&self, slug: &str, now: DateTime<Utc>) -> Option<&LessonEntry> {
        self.lessons
            .iter()
            .find(|l| l.slug == slug && l.is_visible(now))
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Asia::Shanghai)
    }

    pub fn cadence(&self) -> super::schedule::Cadence {
        super::schedule::Cadence {
            timezone: self.timezone(),
            first_release: self.first_release,
            weekday: super::schedule::parse_weekday(&self.release_weekday)
                .unwrap_or(chrono::Weekday::Mon),
            time: chrono::NaiveTime::parse_from_str(&self.release_time, "%H:%M")
                .unwrap_or_default(),
        }
    }

    /// The start of each release week, from week 1 to the week after `now`.
    pub fn week_starts(&self, now: DateTime<Utc>) -> Vec<DateTime<Utc>> {
        let cadence = self.cadence();
        let current = cadence.next_week_after(now);
        (1..=current).map(|week| cadence.release_at(week)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(week: u32, status: LessonStatus, release: &str) -> LessonEntry {
        LessonEntry {
            id: i64::from(week),
            slug: format!("l{week}"),
            week,
            kind: LessonKind::Article,
            status,
            release_at: release.parse().unwrap(),
            title: Text::new("课", "lesson"),
            summary: Text::new("课", "lesson"),
            has_quiz: false,
            updated_at: release.parse().unwrap(),
            media: vec![],
            age_bands: Vec::new(),
        }
    }

    fn series() -> SeriesEntry {
        SeriesEntry {
            id: 1,
            slug: "s".into(),
            audience: Audience::Parents,
            timezone: "Asia/Shanghai".into(),
            first_release: "2026-09-07".parse().unwrap(),
            release_weekday: "mon".into(),
            release_time: "20:00".into(),
            order: 0,
            pacing: Pacing::Calendar,
            title: Text::new("系列", "series"),
            summary: Text::new("系列", "series"),
            lessons: vec![
                lesson(1, LessonStatus::Published, "2026-09-07T12:00:00Z"),
                lesson(2, LessonStatus::Draft, "2026-09-14T12:00:00Z"),
                lesson(3, LessonStatus::Published, "2026-09-21T12:00:00Z"),
            ],
        }
    }

    #[test]
    fn drafts_and_future_lessons_are_hidden() {
        let now: DateTime<Utc> = "2026-09-15T00:00:00Z".parse().unwrap();
        let s = series();
        assert_eq!(s.released(now).len(), 1);
        assert_eq!(s.current(now).unwrap().week, 1);
        assert!(s.visible_lesson("l2", now).is_none());
        assert!(s.visible_lesson("l3", now).is_none());
        assert_eq!(
            s.next_release(now),
            Some("2026-09-21T12:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn a_learner_paced_from_joining_has_their_own_lesson() {
        let now: DateTime<Utc> = "2026-09-22T00:00:00Z".parse().unwrap();
        let joined: DateTime<Utc> = "2026-09-21T13:00:00Z".parse().unwrap();
        let mut s = series();
        // By the calendar everyone is on the newest lesson.
        assert_eq!(s.current_for(Some(joined), now).unwrap().week, 3);
        s.pacing = Pacing::FromJoin;
        // Paced from joining: the first released lesson in their first week, the next after.
        assert_eq!(s.current_for(Some(joined), now).unwrap().week, 1);
        let week_later: DateTime<Utc> = "2026-09-28T13:00:00Z".parse().unwrap();
        assert_eq!(s.current_for(Some(joined), week_later).unwrap().week, 3);
        // Without a learner: the series' newest lesson.
        assert_eq!(s.current_for(None, now).unwrap().week, 3);
    }
}
