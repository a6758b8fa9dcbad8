//! Progress rules: events merge monotonically, completion per kind of lesson, weekly streaks
//! and milestone badges.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::LessonKind;

/// What a phone reports about a lesson.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    Opened,
    PanelViewed { panel: u32 },
    VideoPosition { seconds: f64, duration: f64 },
    ArticleRead { percent: u32 },
    Completed,
}

/// A learner's progress through one lesson. Every field only ever moves forward.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub opened: bool,
    /// Index of the furthest comic panel seen; -1 for none.
    pub max_panel: i64,
    pub video_seconds: f64,
    pub article_percent: u32,
    pub done_pressed: bool,
    pub quiz_passed: bool,
    /// The learner said they watched a video the player could not confirm ("done" pressed on a
    /// page without JavaScript). Counts for the video, and is kept and shown as self-reported.
    pub self_reported: bool,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            opened: false,
            max_panel: -1,
            video_seconds: 0.0,
            article_percent: 0,
            done_pressed: false,
            quiz_passed: false,
            self_reported: false,
        }
    }
}

impl Progress {
    pub fn new() -> Progress {
        Progress::default()
    }

    /// Folds one event in; the order of events never changes the result.
    pub fn merge(&mut self, event: &Event) {
        self.opened = true;
        match event {
            Event::Opened => {}
            Event::PanelViewed { panel } => self.max_panel = self.max_panel.max(i64::from(*panel)),
            Event::VideoPosition { seconds, .. } => {
                self.video_seconds = self.video_seconds.max(*seconds)
            }
            Event::ArticleRead { percent } => {
                self.article_percent = self.article_percent.max(*percent)
            }
            Event::Completed => self.done_pressed = true,
        }
    }
}

/// What a lesson needs for completion.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LessonShape {
    pub kind: LessonKind,
    pub panels: u32,
    pub video_seconds: f64,
    pub has_quiz: bool,
}

/// Share of a video that counts as watched.
pub const VIDEO_DONE_SHARE: f64 = 0.9;

impl LessonShape {
    /// The lesson's body is done: a comic when every panel was seen (or "done" pressed at its
    /// end), a video at 90% watched or reported watched by the learner, an article read to the end
    /// (or "done" pressed at its end).
    pub fn body_done(&self, progress: &Progress) -> bool {
        match self.kind {
            LessonKind::Comic => {
                progress.done_pressed || progress.max_panel + 1 >= i64::from(self.panels.max(1))
            }
            LessonKind::Video => {
                progress.self_reported
                    || (self.video_seconds > 0.0
                        && progress.video_seconds >= VIDEO_DONE_SHARE * self.video_seconds)
            }
            LessonKind::Article => progress.done_pressed || progress.article_percent >= 100,
        }
    }

    /// Complete: the body done and, for a lesson with a quiz, the quiz passed.
    pub fn is_complete(&self, progress: &Progress) -> bool {
        self.body_done(progress) && (!self.has_quiz || progress.quiz_passed)
    }

    /// Checks an event's numbers against the lesson, so nonsense is refused, not stored.
    pub fn check(&self, event: &Event) -> Result<(), String> {
        match event {
            Event::PanelViewed { panel }
                if self.kind != LessonKind::Comic || *panel >= self.panels =>
            {
                Err(format!("panel {panel} does not exist in this lesson"))
            }
            Event::VideoPosition { .. } if self.kind != LessonKind::Video => {
                Err("this lesson has no video".into())
            }
            Event::VideoPosition { seconds, duration }
                if !seconds.is_finite()
                    || !duration.is_finite()
                    || *seconds < 0.0
                    || *duration < 0.0
                    || *seconds > 36_000.0 =>
            {
                Err("seconds and duration must be positive numbers".into())
            }
            Event::ArticleRead { .. } if self.kind != LessonKind::Article => {
                Err("this lesson is not an article".into())
            }
            Event::ArticleRead { percent } if *percent > 100 => {
                Err("percent must be 0 to 100".into())
            }
            _ => Ok(()),
        }
    }
}

/// Consecutive release weeks, ending with the current one, in which the learner completed a
/// lesson. Week `n` runs from `week_starts[n]` to `week_starts[n + 1]` (the series' release
/// moments, so the boundaries follow its timezone). A current week without a completion yet
/// does not break the streak; a missed earlier week does.
pub fn streak(
    week_starts: &[DateTime<Utc>],
    completions: &[DateTime<Utc>],
    now: DateTime<Utc>,
) -> u32 {
    let Some(current) = week_starts.iter().rposition(|start| *start <= now) else {
        return 0;
    };
    let done_in = |week: usize| {
        let start = week_starts[week];
        let end = week_starts.get(week + 1).copied();
        completions
            .iter()
            .any(|at| *at >= start && end.is_none_or(|end| *at < end))
    };
    let mut count = 0;
    let mut week = current as i64;
    if !done_in(current) {
        week -= 1;
    }
    while week >= 0 && done_in(week as usize) {
        count += 1;
        week -= 1;
    }
    count
}

/// Milestones worth celebrating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Badge {
    FirstLesson,
    ThreeLessons,
    TenLessons,
    FirstQuizPassed,
    ThreeWeekStreak,
    SeriesComplete,
}

impl Badge {
    /// Every badge, in the order they are shown.
    pub const ALL: [Badge; 6] = [
        Badge::FirstLesson,
        Badge::ThreeLessons,
        Badge::TenLessons,
        Badge::FirstQuizPassed,
        Badge::ThreeWeekStreak,
        Badge::SeriesComplete,
    ];

    /// The badge's stored name (as in the API).
    pub fn key(self) -> &'static str {
        match self {
            Badge::FirstLesson => "first_lesson",
            Badge::ThreeLessons => "three_lessons",
            Badge::TenLessons => "ten_lessons",
            Badge::FirstQuizPassed => "first_quiz_passed",
            Badge::ThreeWeekStreak => "three_week_streak",
            Badge::SeriesComplete => "series_complete",
        }
    }

    pub fn from_key(key: &str) -> Option<Badge> {
        Badge::ALL.into_iter().find(|b| b.key() == key)
    }
}

pub fn badges(
    completed: u32,
    quizzes_passed: u32,
    best_streak: u32,
    series_complete: bool,
) -> Vec<Badge> {
    let mut earned = Vec::new();
    if completed >= 1 {
        earned.push(Badge::FirstLesson);
    }
    if completed >= 3 {
        earned.push(Badge::ThreeLessons);
    }
    if completed >= 10 {
        earned.push(Badge::TenLessons);
    }
    if quizzes_passed >= 1 {
        earned.push(Badge::FirstQuizPassed);
    }
    if best_streak >= 3 {
        earned.push(Badge::ThreeWeekStreak);
    }
    if series_complete {
        earned.push(Badge::SeriesComplete);
    }
    earned
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    fn comic(panels: u32, has_quiz: bool) -> LessonShape {
        LessonShape {
            kind: LessonKind::Comic,
            panels,
            video_seconds: 0.0,
            has_quiz,
        }
    }

    #[test]
    fn a_comic_is_done_when_every_panel_was_seen_or_done_was_pressed() {
        let shape = comic(4, false);
        let mut p = Progress::new();
        p.merge(&Event::PanelViewed { panel: 2 });
        assert!(!shape.is_complete(&p));
        p.merge(&Event::PanelViewed { panel: 3 });
        assert!(shape.is_complete(&p));
        let mut q = Progress::new();
        q.merge(&Event::Completed);
        assert!(shape.is_complete(&q));
    }

    #[test]
    fn a_video_is_done_at_ninety_percent() {
        let shape = LessonShape {
            kind: LessonKind::Video,
            panels: 0,
            video_seconds: 100.0,
            has_quiz: false,
        };
        let mut p = Progress::new();
        p.merge(&Event::VideoPosition {
            seconds: 89.0,
            duration: 100.0,
        });
        p.merge(&Event::Completed);
        assert!(
            !shape.is_complete(&p),
            "pressing done does not replace watching"
        );
        p.merge(&Event::VideoPosition {
            seconds: 90.0,
            duration: 100.0,
        });
        assert!(shape.is_complete(&p));
    }

    #[test]
    fn a_video_the_learner_reports_watched_counts_as_self_reported() {
        let shape = LessonShape {
            kind: LessonKind::Video,
            panels: 0,
            video_seconds: 100.0,
            has_quiz: false,
        };
        let mut p = Progress::new();
        p.merge(&Event::Opened);
        assert!(!shape.is_complete(&p));
        p.self_reported = true;
        assert!(shape.is_complete(&p));
    }

    #[test]
    fn badge_keys_round_trip_and_match_the_api_names() {
        for badge in Badge::ALL {
            assert_eq!(Badge::from_key(badge.key()), Some(badge));
            assert_eq!(
                serde_json::to_value(badge).unwrap(),
                serde_json::json!(badge.key())
            );
        }
        assert_eq!(Badge::from_key("gold_star"), None);
    }

    #[test]
    fn an_article_is_done_when_read_to_the_end() {
        let shape = LessonShape {
            kind: LessonKind::Article,
            panels: 0,
            video_seconds: 0.0,
            has_quiz: false,
        };
        let mut p = Progress::new();
        p.merge(&Event::ArticleRead { percent: 99 });
        assert!(!shape.is_complete(&p));
        p.merge(&Event::ArticleRead { percent: 100 });
        assert!(shape.is_complete(&p));
    }

    #[test]
    fn a_quiz_must_be_passed_too() {
        let shape = comic(1, true);
        let mut p = Progress::new();
        p.merge(&Event::PanelViewed { panel: 0 });
        assert!(shape.body_done(&p) && !shape.is_complete(&p));
        p.quiz_passed = true;
        assert!(shape.is_complete(&p));
    }

    #[test]
    fn nonsense_events_are_refused() {
        assert!(
            comic(3, false)
                .check(&Event::PanelViewed { panel: 3 })
                .is_err()
        );
        assert!(
            comic(3, false)
                .check(&Event::ArticleRead { percent: 10 })
                .is_err()
        );
        let video = LessonShape {
            kind: LessonKind::Video,
            panels: 0,
            video_seconds: 60.0,
            has_quiz: false,
        };
        assert!(
            video
                .check(&Event::VideoPosition {
                    seconds: f64::NAN,
                    duration: 60.0
                })
                .is_err()
        );
        assert!(
            video
                .check(&Event::VideoPosition {
                    seconds: -1.0,
                    duration: 60.0
                })
                .is_err()
        );
        assert!(
            video
                .check(&Event::VideoPosition {
                    seconds: 30.0,
                    duration: 60.0
                })
                .is_ok()
        );
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::Opened),
            (0u32..8).prop_map(|panel| Event::PanelViewed { panel }),
            (0u32..600).prop_map(|s| Event::VideoPosition {
                seconds: f64::from(s),
                duration: 600.0
            }),
            (0u32..=100).prop_map(|percent| Event::ArticleRead { percent }),
            Just(Event::Completed),
        ]
    }

    proptest! {
        #[test]
        fn merging_ignores_order(events in proptest::collection::vec(event(), 0..40), seed in any::<u64>()) {
            let mut forward = Progress::new();
            events.iter().for_each(|e| forward.merge(e));
            let mut shuffled = events.clone();
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            let mut other = Progress::new();
            shuffled.iter().for_each(|e| other.merge(e));
            prop_assert_eq!(forward, other);
        }
    }

    #[test]
    fn streaks_count_consecutive_release_weeks() {
        // Mondays 20:00 Shanghai = 12:00 UTC.
        let weeks: Vec<_> = [
            "2030-01-07T12:00:00Z",
            "2030-01-14T12:00:00Z",
            "2030-01-21T12:00:00Z",
            "2030-01-28T12:00:00Z",
        ]
        .iter()
        .map(|w| t(w))
        .collect();
        let now = t("2030-01-29T00:00:00Z");
        let all = [
            t("2030-01-08T00:00:00Z"),
            t("2030-01-15T00:00:00Z"),
            t("2030-01-22T00:00:00Z"),
            t("2030-01-28T13:00:00Z"),
        ];
        assert_eq!(streak(&weeks, &all, now), 4);
        // Not yet this week: the streak still stands.
        assert_eq!(streak(&weeks, &all[..3], now), 3);
        // A missed week breaks it.
        let missed = [
            t("2030-01-08T00:00:00Z"),
            t("2030-01-22T00:00:00Z"),
            t("2030-01-28T13:00:00Z"),
        ];
        assert_eq!(streak(&weeks, &missed, now), 2);
        assert_eq!(streak(&weeks, &[], now), 0);
    }

    #[test]
    fn streak_week_edges_follow_the_release_moment() {
        let weeks = vec![t("2030-01-07T12:00:00Z"), t("2030-01-14T12:00:00Z")];
        let now = t("2030-01-15T00:00:00Z");
        // Monday 19:59 Shanghai is still week 1; 20:00 is week 2.
        assert_eq!(streak(&weeks, &[t("2030-01-14T11:59:00Z")], now), 1);
        assert_eq!(
            streak(
                &weeks,
                &[t("2030-01-14T11:59:00Z"), t("2030-01-14T12:00:00Z")],
                now
            ),
            2
        );
        assert_eq!(
            streak(&weeks, &[t("2030-01-07T11:00:00Z")], now),
            0,
            "before week 1 counts for nothing"
        );
    }
}
