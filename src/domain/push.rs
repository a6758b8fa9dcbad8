//! When a learner may be sent a message: their shift's quiet hours, their preferred time, the
//! weekly limit, and which lesson a learner paced from joining is on.

use chrono::{DateTime, Duration, NaiveTime, Timelike, Utc};
use chrono_tz::Tz;

use super::schedule::local_to_utc;

/// At most this many messages reach one learner in any seven days.
pub const MAX_PER_WEEK: usize = 2;
/// A reminder goes this long after an unopened lesson's message.
pub const REMIND_AFTER: Duration = Duration::days(3);

/// A learner's working hours, which decide when a message may reach them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Shift {
    #[default]
    Day,
    Night,
    Rotating,
}

impl Shift {
    pub const ALL: [Shift; 3] = [Shift::Day, Shift::Night, Shift::Rotating];

    pub fn as_str(self) -> &'static str {
        match self {
            Shift::Day => "day",
            Shift::Night => "night",
            Shift::Rotating => "rotating",
        }
    }

    pub fn parse(raw: &str) -> Option<Shift> {
        Shift::ALL.into_iter().find(|s| s.as_str() == raw.trim())
    }

    /// The local hours a message may arrive in, `[start, end)`; everything else is quiet.
    /// Day shift: 08:00–22:00 (quiet 22:00–08:00). Night shift: 16:00–20:00, between sleep
    /// and the shift. Rotating: 18:00–21:00, free on most rotations.
    pub fn allowed(self) -> (NaiveTime, NaiveTime) {
        let hm = |h, m| NaiveTime::from_hms_opt(h, m, 0).expect("a valid time");
        match self {
            Shift::Day => (hm(8, 0), hm(22, 0)),
            Shift::Night => (hm(16, 0), hm(20, 0)),
            Shift::Rotating => (hm(18, 0), hm(21, 0)),
        }
    }

    /// Whether a local time of day is outside quiet hours.
    pub fn allows(self, time: NaiveTime) -> bool {
        let (start, end) = self.allowed();
        time >= start && time < end
    }
}

/// A preferred time must fall in the shift's allowed hours; otherwise the reason, in zh and en.
pub fn check_preferred_time(shift: Shift, time: NaiveTime) -> Result<(), (String, String)> {
    if shift.allows(time) {
        return Ok(());
    }
    let (start, end) = shift.allowed();
    Err((
        format!(
            "提醒时间要在 {}–{} 之间（其余时间是休息时间）。",
            start.format("%H:%M"),
            end.format("%H:%M")
        ),
        format!(
            "preferred_time: pick a time between {} and {} (the rest is quiet hours).",
            start.format("%H:%M"),
            end.format("%H:%M")
        ),
    ))
}

/// The first moment at or after `due` a message may reach this learner, in the series'
/// timezone: at their preferred time if they chose one, otherwise at once if `due` is outside
/// quiet hours, otherwise when quiet hours end.
pub fn next_slot(
    due: DateTime<Utc>,
    timezone: Tz,
    shift: Shift,
    preferred: Option<NaiveTime>,
) -> DateTime<Utc> {
    let local = due.with_timezone(&timezone).naive_local();
    let target = match preferred.filter(|t| shift.allows(*t)) {
        Some(time) => time,
        None if shift.allows(local.time()) => return due,
        None => shift.allowed().0,
    };
    let today = local.date().and_time(target);
    let mut slot = local_to_utc(timezone, today);
    if slot < due {
        slot = local_to_utc(timezone, today + Duration::days(1));
    }
    slot.with_nanosecond(0).unwrap_or(slot)
}

/// Whether a message may go now under the weekly limit, given when this learner's messages of
/// the last seven days went; if not, when the oldest of them leaves the window.
pub fn weekly_room(sent: &[DateTime<Utc>], now: DateTime<Utc>) -> Result<(), DateTime<Utc>> {
    let mut recent: Vec<DateTime<Utc>> = sent
        .iter()
        .copied()
        .filter(|at| *at > now - Duration::days(7))
        .collect();
    if recent.len() < MAX_PER_WEEK {
        return Ok(());
    }
    recent.sort();
    Err(recent[recent.len() - MAX_PER_WEEK] + Duration::days(7))
}

/// The week of a learner paced from joining (1 in the week they joined), at `now`.
pub fn week_since_join(joined: DateTime<Utc>, now: DateTime<Utc>) -> u32 {
    if now < joined {
        return 1;
    }
    ((now - joined).num_seconds() / Duration::weeks(1).num_seconds()) as u32 + 1
}

/// Which of a series' `released` lessons (in order of week) a learner paced from joining is on
/// at `now`: the *k*-th in their week *k*, the newest once they have caught up. `None` when
/// nothing is out.
pub fn paced_index(joined: DateTime<Utc>, now: DateTime<Utc>, released: usize) -> Option<usize> {
    (week_since_join(joined, now) as usize)
        .min(released)
        .checked_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    const SHANGHAI: Tz = chrono_tz::Asia::Shanghai;

    #[test]
    fn a_day_worker_gets_a_release_in_allowed_hours_at_once() {
        // 20:00 in Shanghai is 12:00 UTC.
        let due = at("2030-01-07T12:00:00Z");
        assert_eq!(next_slot(due, SHANGHAI, Shift::Day, None), due);
    }

    #[test]
    fn quiet_hours_move_the_message_to_their_end() {
        // 23:30 Shanghai: quiet for the day shift until 08:00 the next morning.
        let due = at("2030-01-07T15:30:00Z");
        assert_eq!(
            next_slot(due, SHANGHAI, Shift::Day, None),
            at("2030-01-08T00:00:00Z")
        );
        // 20:00 Shanghai: a night worker is on the line; the next 16:00.
        let due = at("2030-01-07T12:00:00Z");
        assert_eq!(
            next_slot(due, SHANGHAI, Shift::Night, None),
            at("2030-01-08T08:00:00Z")
        );
        // 17:00 Shanghai: a rotating worker waits until 18:00 the same day.
        assert_eq!(
            next_slot(at("2030-01-07T09:00:00Z"), SHANGHAI, Shift::Rotating, None),
            at("2030-01-07T10:00:00Z")
        );
    }

    #[test]
    fn a_preferred_time_is_kept_today_or_tomorrow() {
        let nine_pm = NaiveTime::from_hms_opt(21, 0, 0).unwrap();
        // Released at 20:00: sent at 21:00 the same evening.
        assert_eq!(
            next_slot(
                at("2030-01-07T12:00:00Z"),
                SHANGHAI,
                Shift::Day,
                Some(nine_pm)
            ),
            at("2030-01-07T13:00:00Z")
        );
        // Released at 21:30: tomorrow at 21:00.
        assert_eq!(
            next_slot(
                at("2030-01-07T13:30:00Z"),
                SHANGHAI,
                Shift::Day,
                Some(nine_pm)
            ),
            at("2030-01-08T13:00:00Z")
        );
        // A preferred time inside quiet hours is never used.
        let three_am = NaiveTime::from_hms_opt(3, 0, 0).unwrap();
        assert!(check_preferred_time(Shift::Day, three_am).is_err());
        assert_eq!(
            next_slot(
                at("2030-01-07T12:00:00Z"),
                SHANGHAI,
                Shift::Day,
                Some(three_am)
            ),
            at("2030-01-07T12:00:00Z")
        );
    }

    #[test]
    fn no_slot_is_ever_in_quiet_hours() {
        let start = at("2030-01-07T00:00:00Z");
        for shift in Shift::ALL {
            for quarter in 0..(4 * 24 * 2) {
                let due = start + Duration::minutes(15 * quarter);
                let slot = next_slot(due, SHANGHAI, shift, None);
                assert!(slot >= due);
                assert!(slot - due < Duration::days(1));
                assert!(
                    shift.allows(slot.with_timezone(&SHANGHAI).time()),
                    "{shift:?} {due}"
                );
            }
        }
    }

    #[test]
    fn at_most_two_messages_in_any_seven_days() {
        let now = at("2030-01-10T12:00:00Z");
        assert!(weekly_room(&[], now).is_ok());
        assert!(weekly_room(&[at("2030-01-07T12:00:00Z")], now).is_ok());
        let two = [at("2030-01-07T12:00:00Z"), at("2030-01-09T12:00:00Z")];
        assert_eq!(weekly_room(&two, now), Err(at("2030-01-14T12:00:00Z")));
        let old = [at("2030-01-01T12:00:00Z"), at("2030-01-09T12:00:00Z")];
        assert!(weekly_room(&old, now).is_ok());
    }

    #[test]
    fn weeks_since_joining_count_from_one() {
        let joined = at("2030-01-09T08:00:00Z");
        assert_eq!(week_since_join(joined, joined), 1);
        assert_eq!(week_since_join(joined, at("2030-01-16T07:59:59Z")), 1);
        assert_eq!(week_since_join(joined, at("2030-01-16T08:00:00Z")), 2);
        assert_eq!(week_since_join(joined, at("2030-02-06T08:00:00Z")), 5);
    }

    #[test]
    fn a_learner_paced_from_joining_starts_at_lesson_one() {
        let joined = at("2030-03-01T08:00:00Z");
        // Joined in the series' week 8: lesson 1 first, then one more each week.
        assert_eq!(paced_index(joined, joined, 8), Some(0));
        assert_eq!(paced_index(joined, at("2030-03-08T08:00:00Z"), 8), Some(1));
        assert_eq!(paced_index(joined, at("2030-04-26T08:00:00Z"), 8), Some(7));
        // Caught up: the newest lesson; nothing out: nothing.
        assert_eq!(paced_index(joined, at("2030-06-01T08:00:00Z"), 8), Some(7));
        assert_eq!(paced_index(joined, joined, 0), None);
    }
}
