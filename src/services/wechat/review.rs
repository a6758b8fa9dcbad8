//! The review card in the chat: "复习" (or "review", or 4) answers with the learner's due
//! questions, their choices lettered; a reply of letters answers them through the same review
//! service as the home's card (same Leitner moves, stored as review attempts); with nothing due,
//! the day of the next review. The card is the due questions at the time of the reply, read
//! again, as the home reads them.

use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;

use super::{Wechat, WechatError};
use crate::domain::Lang;
use crate::domain::chat::{fill, text_in};
use crate::domain::quiz::QuestionKind;
use crate::domain::review::{CARD_SIZE, CardShape, ChatAnswer, choice_letter, read_chat_answer};
use crate::services::Context;
use crate::services::review::{self, DueQuestion, ReviewError};

/// A day as the chat writes it: "12月4日" / "4 December".
fn day(at: DateTime<Utc>, lang: Lang) -> String {
    let local = at.with_timezone(&Shanghai);
    match lang {
        Lang::Zh => local.format("%-m月%-d日").to_string(),
        Lang::En => local.format("%-d %B").to_string(),
    }
}

fn shapes(card: &[DueQuestion]) -> Vec<CardShape> {
    card.iter()
        .map(|d| CardShape {
            choices: d.question.choices.len(),
            multiple: d.question.kind == QuestionKind::Multiple,
        })
        .collect()
}

/// A reply that would answer the card: the right letters would give it away, so the first
/// choice of a one-answer question and the first two of the others.
fn example(card: &[DueQuestion]) -> String {
    card.iter()
        .map(|d| match d.question.kind {
            QuestionKind::Single => choice_letter(0).to_string(),
            QuestionKind::Multiple => format!("{}{}", choice_letter(0), choice_letter(1)),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn card_text(wechat: &Wechat, card: &[DueQuestion], lang: Lang) -> String {
    let texts = &wechat.chat.texts;
    let questions = card
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut lines = vec![format!(
                "{}. {}{}",
                i + 1,
                text_in(&d.question.prompt, lang),
                if d.question.kind == QuestionKind::Multiple {
                    text_in(&texts.review_multiple, lang)
                } else {
                    ""
                }
            )];
            for (j, choice) in d.question.choices.iter().enumerate() {
                lines.push(format!(
                    "{}. {}",
                    choice_letter(j),
                    text_in(&choice.text, lang)
                ));
            }
            lines.join("\n")
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    fill(
        text_in(&texts.review_card, lang),
        &[("questions", &questions), ("example", &example(card))],
    )
}

/// The answer to "复习": the card, or when the next review comes.
pub async fn card(
    ctx: &Context,
    wechat: &Wechat,
    learner_id: i64,
    lang: Lang,
) -> Result<String, WechatError> {
    let due = review::due(ctx, learner_id, CARD_SIZE).await?;
    if !due.is_empty() {
        return Ok(card_text(wechat, &due, lang));
    }
    nothing_due(ctx, wechat, learner_id, lang).await
}

async fn nothing_due(
    ctx: &Context,
    wechat: &Wechat,
    learner_id: i64,
    lang: Lang,
) -> Result<String, WechatError> {
    let texts = &wechat.chat.texts;
    Ok(match review::next_due(ctx, learner_id).await? {
        Some(at) => fill(
            text_in(&texts.review_later, lang),
            &[("date", &day(at.max(ctx.clock.now()), lang))],
        ),
        None => text_in(&texts.review_none, lang).to_owned(),
    })
}

/// A message of choice letters from a learner with questions due: the answers, stored and
/// graded one question at a time, then what each means. `None` when the message is not an
/// answer (or nothing is due), so the chat answers it as any other. A retry of a message
/// already handled (`first` false) changes nothing: it gets the card as it now stands.
pub async fn answer(
    ctx: &Context,
    wechat: &Wechat,
    learner_id: i64,
    message: &str,
    first: bool,
    lang: Lang,
) -> Result<Option<String>, WechatError> {
    let texts = &wechat.chat.texts;
    let due = review::due(ctx, learner_id, CARD_SIZE).await?;
    if due.is_empty() {
        return Ok(None);
    }
    let chosen = match read_chat_answer(message, &shapes(&due)) {
        ChatAnswer::NotAnAnswer => return Ok(None),
        ChatAnswer::Unclear => {
            return Ok(Some(fill(
                text_in(&texts.review_unclear, lang),
                &[("example", &example(&due))],
            )));
        }
        ChatAnswer::Chosen(chosen) => chosen,
    };
    if !first {
        return Ok(Some(card(ctx, wechat, learner_id, lang).await?));
    }
    let mut paragraphs = Vec::new();
    for (i, (question, picks)) in due.iter().zip(chosen).enumerate() {
        let number = (i + 1).to_string();
        let ids: Vec<String> = picks
            .iter()
            .filter_map(|p| question.question.choices.get(*p))
            .map(|c| c.id.clone())
            .collect();
        let reviewed = match review::answer(
            ctx,
            learner_id,
            &question.series.slug,
            &question.lesson.slug,
            &question.question.id,
            ids,
        )
        .await
        {
            Ok(reviewed) => reviewed,
            Err(ReviewError::NotDue | ReviewError::NotFound) => {
                paragraphs.push(fill(
                    text_in(&texts.review_answered, lang),
                    &[("number", &number)],
                ));
                continue;
            }
            // The letters were checked against the card: a choice the grader refuses is the
            // content changing under the learner, answered as unclear.
            Err(ReviewError::Invalid(_)) => {
                return Ok(Some(fill(
                    text_in(&texts.review_unclear, lang),
                    &[("example", &example(&due))],
                )));
            }
            Err(ReviewError::Failed(error)) => return Err(error.into()),
        };
        let mut lines = Vec::new();
        if reviewed.correct {
            lines.push(fill(
                text_in(&texts.review_right, lang),
                &[("number", &number)],
            ));
        } else {
            let answer: Vec<String> = reviewed
                .question
                .choices
                .iter()
                .enumerate()
                .filter(|(_, c)| reviewed.question.answer.contains(&c.id))
                .map(|(j, c)| format!("{} {}", choice_letter(j), text_in(&c.text, lang)))
                .collect();
            let separator = if lang == Lang::Zh { "、" } else { ", " };
            lines.push(fill(
                text_in(&texts.review_wrong, lang),
                &[("number", &number), ("answer", &answer.join(separator))],
            ));
            let explanation = text_in(&reviewed.question.explanation, lang);
            if !explanation.trim().is_empty() {
                lines.push(explanation.to_owned());
            }
        }
        lines.push(match reviewed.next.due_at {
            Some(at) => fill(
                text_in(&texts.review_next, lang),
                &[("date", &day(at, lang))],
            ),
            None => text_in(&texts.review_retired, lang).to_owned(),
        });
        paragraphs.push(lines.join("\n"));
    }
    Ok(Some(paragraphs.join("\n\n")))
}
