//! A lesson's quiz: questions, choices, the right answers and the pass mark.

use super::media::LessonMedia;
use super::*;

/// Words that tell how many choices to pick: the lesson page says it after every prompt.
const HINTS_ZH: [&str; 7] = [
    "可多选",
    "（多选）",
    "(多选)",
    "（单选）",
    "(单选)",
    "（选一个）",
    "（可以选多个）",
];
const HINTS_EN: [&str; 4] = ["(pick", "(choose", "(select", "all that apply"];

/// The hint a prompt repeats, if any.
fn repeated_hint(prompt: &Text) -> Option<&'static str> {
    let en = prompt.en.to_lowercase();
    HINTS_ZH
        .into_iter()
        .find(|hint| prompt.zh.contains(hint))
        .or_else(|| HINTS_EN.into_iter().find(|hint| en.contains(hint)))
}

pub(super) fn check_quiz(
    raw: RawQuiz,
    report: &mut Report<'_>,
    media: &mut LessonMedia<'_>,
) -> Option<Quiz> {
    let before = report.count();
    if raw.questions.is_empty() {
        report.add("quiz.questions", "a quiz needs at least one question");
    }
    if raw.pass_mark == 0 || raw.pass_mark as usize > raw.questions.len().max(1) {
        report.add(
            "quiz.pass_mark",
            format!(
                "{} must be between 1 and the number of questions ({})",
                raw.pass_mark,
                raw.questions.len()
            ),
        );
    }
    let mut ids = BTreeSet::new();
    let mut questions = Vec::new();
    for (i, question) in raw.questions.into_iter().enumerate() {
        let field = format!("quiz.questions[{}]", i + 1);
        if Slug::parse(&question.id).is_err() {
            report.add(
                format!("{field}.id"),
                format!("'{}' must be a slug such as q1", question.id),
            );
        }
        if !ids.insert(question.id.clone()) {
            report.add(
                format!("{field}.id"),
                format!("'{}' is used by another question", question.id),
            );
        }
        let kind = match question.kind.as_str() {
            "single" => QuestionKind::Single,
            "multiple" => QuestionKind::Multiple,
            other => {
                report.add(
                    format!("{field}.kind"),
                    format!("'{other}' is not one of single, multiple"),
                );
                QuestionKind::Multiple
            }
        };
        report.text(&format!("{field}.prompt"), &question.prompt);
        if let Some(hint) = repeated_hint(&question.prompt) {
            report.add(
                format!("{field}.prompt"),
                format!(
                    "'{hint}' repeats the hint the page adds after every question \
                     (（选一个）/（可以选多个）, (Pick one)/(Pick all that apply)); remove it"
                ),
            );
        }
        report.text(&format!("{field}.explanation"), &question.explanation);
        if question.choices.len() < 2 {
            report.add(format!("{field}.choices"), "needs at least two choices");
        }
        let mut choice_ids = BTreeSet::new();
        let mut choices = Vec::new();
        for (j, choice) in question.choices.into_iter().enumerate() {
            let choice_field = format!("{field}.choices[{}]", j + 1);
            if choice.id.trim().is_empty() || !choice_ids.insert(choice.id.clone()) {
                report.add(
                    format!("{choice_field}.id"),
                    format!("'{}' is empty or used twice", choice.id),
                );
            }
            let text = Text::new(choice.zh, choice.en);
            report.text(&choice_field, &text);
            choices.push(Choice {
                id: choice.id,
                text,
            });
        }
        if question.answer.is_empty() {
            report.add(format!("{field}.answer"), "names no correct choice");
        }
        for answer in &question.answer {
            if !choice_ids.contains(answer) {
                report.add(
                    format!("{field}.answer"),
                    format!("'{answer}' names no choice of this question"),
                );
            }
        }
        if kind == QuestionKind::Single && question.answer.len() > 1 {
            report.add(
                format!("{field}.answer"),
                "a single-choice question has exactly one answer",
            );
        }
        let audio = media.audio(report, &format!("{field}.audio"), question.audio);
        questions.push(Question {
            audio,
            id: question.id,
            kind,
            prompt: question.prompt,
            choices,
            answer: question.answer,
            explanation: question.explanation,
        });
    }
    (report.count() == before).then_some(Quiz {
        pass_mark: raw.pass_mark,
        questions,
    })
}
