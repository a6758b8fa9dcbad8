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

/// The letter a choice is shown with in the chat: A for the first, B for the second…
pub fn choice_letter(index: usize) -> char {
    u8::try_from(index)
        .ok()
        .filter(|i| *i < 26)
        .map_or('?', |i| char::from(b'A' + i))
}

/// A question on the chat's review card, as a reply can answer it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardShape {
    pub choices: usize,
    pub multiple: bool,
}

/// How a chat message stands as an answer to the review card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatAnswer {
    /// Not letters at all: some other message.
    NotAnAnswer,
    /// Letters, but not an answer the card can take (too few or too many groups, a letter with
    /// no choice, several for a one-answer question).
    Unclear,
    /// For each question of the card, the indexes of the chosen choices.
    Chosen(Vec<Vec<usize>>),
}

/// Reads a reply to the chat's review card: one group of choice letters per question, in the
/// card's order, separated by spaces or punctuation ("B AC", "b，ac"). When every question takes
/// one answer the groups may run together ("BA"); with one question, every letter is for it.
/// Full-width letters count as letters.
pub fn read_chat_answer(message: &str, card: &[CardShape]) -> ChatAnswer {
    let widest = card.iter().map(|q| q.choices).max().unwrap_or(0);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for c in message.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        if c.is_ascii_alphabetic() {
            let index = usize::from(c.to_ascii_uppercase() as u8 - b'A');
            if index >= widest {
                return ChatAnswer::NotAnAnswer;
            }
            current.push(index);
        } else if c.is_alphanumeric() {
            return ChatAnswer::NotAnAnswer;
        } else if !current.is_empty() {
            groups.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        groups.push(current);
    }
    if groups.is_empty() {
        return ChatAnswer::NotAnAnswer;
    }
    // One question: every letter is for it ("C, A").
    if card.len() == 1 {
        groups = vec![groups.concat()];
    }
    let all_single = card.iter().all(|q| !q.multiple);
    if groups.len() == 1 && card.len() > 1 && all_single && groups[0].len() == card.len() {
        groups = groups[0].iter().map(|i| vec![*i]).collect();
    }
    if groups.len() != card.len() {
        return ChatAnswer::Unclear;
    }
    for (group, question) in groups.iter_mut().zip(card) {
        group.sort_unstable();
        group.dedup();
        if group.iter().any(|i| *i >= question.choices) || (!question.multiple && group.len() > 1) {
            return ChatAnswer::Unclear;
        }
    }
    ChatAnswer::Chosen(groups)
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

    #[test]
    fn chat_replies_are_read_as_one_group_of_letters_per_question() {
        let single = CardShape {
            choices: 2,
            multiple: false,
        };
        let multiple = CardShape {
            choices: 3,
            multiple: true,
        };
        let card = [single, multiple];
        let chosen =
            |groups: &[&[usize]]| ChatAnswer::Chosen(groups.iter().map(|g| g.to_vec()).collect());
        assert_eq!(read_chat_answer("B AC", &card), chosen(&[&[1], &[0, 2]]));
        assert_eq!(
            read_chat_answer("ｂ，ｃａ", &card),
            chosen(&[&[1], &[0, 2]])
        );
        assert_eq!(read_chat_answer("a c", &card), chosen(&[&[0], &[2]]));
        // Groups run together only when each question takes one answer.
        assert_eq!(read_chat_answer("BAC", &card), ChatAnswer::Unclear);
        assert_eq!(
            read_chat_answer("BA", &[single, single]),
            chosen(&[&[1], &[0]])
        );
        assert_eq!(read_chat_answer("B", &card), ChatAnswer::Unclear);
        assert_eq!(read_chat_answer("AB C", &card), ChatAnswer::Unclear);
        assert_eq!(read_chat_answer("C A", &card), ChatAnswer::Unclear);
        assert_eq!(read_chat_answer("C, A", &[multiple]), chosen(&[&[0, 2]]));
        assert_eq!(read_chat_answer("A B", &[single]), ChatAnswer::Unclear);
        // Anything else is some other message.
        for other in ["what", "1", "你好", "B 2", "  "] {
            assert_eq!(
                read_chat_answer(other, &card),
                ChatAnswer::NotAnAnswer,
                "{other}"
            );
        }
        assert_eq!(choice_letter(0), 'A');
        assert_eq!(choice_letter(2), 'C');
    }
}
