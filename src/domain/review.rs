//! Reviewing missed quiz questions in Leitner boxes: a question answered wrongly goes into box 1
//! and comes back after 1 day; each right review answer moves it up a box (back after 3, 7, then
//! 21 days) and a right answer in the last box retires it; a wrong one sends it back to box 1.

use chrono::{DateTime, Duration, Utc};

/// Days until a question in box `n` (1-based) comes back.
pub const INTERVAL_DAYS: [i64; 4] = [1, 3, 7, 21];

/// The box of a question that never comes back.
pub const RETIRED: i32 = INTERVAL_DAYS.len() as i32 + 1;

/// How many due questions a review card holds.
pub const CARD_SIZE: usize = 2;

/// Where a question stands in review: its box and when it comes back (`None`: retired).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub r#box: i32,
    pub due_at: Option<DateTime<Utc>>,
}

fn in_box(r#box: i32, now: DateTime<Utc>) -> Slot {
    let due_at = usize::try_from(r#box - 1)
        .ok()
        .and_then(|i| INTERVAL_DAYS.get(i))
        .map(|days| now + Duration::days(*days));
    Slot {
        r#box: if due_at.is_some() { r#box } else { RETIRED },
        due_at,
    }
}

/// A question just answered wrongly in a quiz (or a review): box 1, back tomorrow.
pub fn missed(now: DateTime<Utc>) -> Slot {
    in_box(1, now)
}

/// After a review answer: up one box when right, back to box 1 when wrong.
pub fn after_review(current_box: i32, correct: bool, now: DateTime<Utc>) -> Slot {
    if correct {
        in_box(current_box.clamp(1, RETIRED) + 1, now)
    } else {
        missed(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(raw: &str) -> DateTime<Utc> {
        raw.parse().unwrap()
    }

    #[test]
    fn right_answers_climb_the_boxes_one_three_seven_twenty_one_days_then_retire() {
        let now = t("2030-01-01T08:00:00Z");
        let slot = missed(now);
        assert_eq!(
            slot,
            Slot {
                r#box: 1,
                due_at: Some(t("2030-01-02T08:00:00Z"))
            }
        );
        let slot = after_review(1, true, now);
        assert_eq!(
            slot,
            Slot {
                r#box: 2,
                due_at: Some(t("2030-01-04T08:00:00Z"))
            }
        );
        let slot = after_review(2, true, now);
        assert_eq!(
            slot,
            Slot {
                r#box: 3,
                due_at: Some(t("2030-01-08T08:00:00Z"))
            }
        );
        let slot = after_review(3, true, now);
        assert_eq!(
            slot,
            Slot {
                r#box: 4,
                due_at: Some(t("2030-01-22T08:00:00Z"))
            }
        );
        assert_eq!(
            after_review(4, true, now),
            Slot {
                r#box: RETIRED,
                due_at: None
            }
        );
    }

    #[test]
    fn a_wrong_answer_goes_back_to_the_first_box() {
        let now = t("2030-01-01T08:00:00Z");
        for r#box in 1..=4 {
            assert_eq!(after_review(r#box, false, now), missed(now));
        }
    }
}
