//! Quizzes and their grading, which happens only on the server.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::narration::Audio;
use super::text::Text;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuestionKind {
    Single,
    Multiple,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub text: Text,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub prompt: Text,
    pub choices: Vec<Choice>,
    pub answer: Vec<String>,
    pub explanation: Text,
    /// The prompt and its choices read aloud.
    #[serde(default, skip_serializing_if = "Audio::is_empty")]
    pub audio: Audio,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quiz {
    pub pass_mark: u32,
    pub questions: Vec<Question>,
}

/// A learner's answers: question id to the ids of the chosen choices.
pub type Answers = BTreeMap<String, Vec<String>>;

/// Why a set of answers cannot be graded; each names the question it is about.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum GradeError {
    #[error("there is no question '{0}' in this quiz")]
    UnknownQuestion(String),
    #[error("question '{question}' has no choice '{choice}'")]
    UnknownChoice { question: String, choice: String },
    #[error("question '{0}' takes exactly one answer")]
    SeveralForSingle(String),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuestionResult {
    pub question_id: String,
    pub chosen: Vec<String>,
    pub correct_answer: Vec<String>,
    pub correct: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Grade {
    pub score: u32,
    pub total: u32,
    pub pass_mark: u32,
    pub passed: bool,
    pub questions: Vec<QuestionResult>,
}

impl Quiz {
    /// Grades answers. A question left unanswered counts as wrong; answers naming questions or
    /// choices that do not exist are an error, so nothing malformed is ever scored.
    pub fn grade(&self, answers: &Answers) -> Result<Grade, GradeError> {
        for (question_id, chosen) in answers {
            let question = self
                .questions
                .iter()
                .find(|q| &q.id == question_id)
                .ok_or_else(|| GradeError::UnknownQuestion(question_id.clone()))?;
            if let Some(bad) = chosen
                .iter()
                .find(|c| !question.choices.iter().any(|choice| &choice.id == *c))
            {
                return Err(GradeError::UnknownChoice {
                    question: question_id.clone(),
                    choice: bad.clone(),
                });
            }
            let distinct: BTreeSet<&String> = chosen.iter().collect();
            if question.kind == QuestionKind::Single && distinct.len() > 1 {
                return Err(GradeError::SeveralForSingle(question_id.clone()));
            }
        }
        let questions: Vec<QuestionResult> = self
            .questions
            .iter()
            .map(|question| {
                let chosen: BTreeSet<String> = answers
                    .get(&question.id)
                    .map(|c| c.iter().cloned().collect())
                    .unwrap_or_default();
                let right: BTreeSet<String> = question.answer.iter().cloned().collect();
                QuestionResult {
                    question_id: question.id.clone(),
                    correct: chosen == right,
                    chosen: chosen.into_iter().collect(),
                    correct_answer: question.answer.clone(),
                }
            })
            .collect();
        let score = questions.iter().filter(|q| q.correct).count() as u32;
        Ok(Grade {
            score,
            total: self.questions.len() as u32,
            pass_mark: self.pass_mark,
            passed: score >= self.pass_mark,
            questions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiz() -> Quiz {
        let choice = |id: &str| Choice {
            id: id.into(),
            text: Text::new(id, id),
        };
        Quiz {
            pass_mark: 2,
            questions: vec![
                Question {
                    id: "q1".into(),
                    kind: QuestionKind::Single,
                    prompt: Text::new("一", "one"),
                    choices: vec![choice("a"), choice("b")],
                    answer: vec!["b".into()],
                    explanation: Text::new("因为", "because"),
                    audio: Audio::default(),
                },
                Question {
                    id: "q2".into(),
                    kind: QuestionKind::Multiple,
                    prompt: Text::new("二", "two"),
                    choices: vec![choice("a"), choice("b"), choice("c")],
                    answer: vec!["a".into(), "c".into()],
                    explanation: Text::new("因为", "because"),
                    audio: Audio::default(),
                },
            ],
        }
    }

    fn answers(pairs: &[(&str, &[&str])]) -> Answers {
        pairs
            .iter()
            .map(|(q, c)| (q.to_string(), c.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    #[test]
    fn grades_single_and_multiple_choice() {
        let grade = quiz()
            .grade(&answers(&[("q1", &["b"]), ("q2", &["c", "a"])]))
            .unwrap();
        assert_eq!((grade.score, grade.passed), (2, true));
    }

    #[test]
    fn multiple_choice_needs_exactly_the_right_set() {
        let grade = quiz()
            .grade(&answers(&[("q1", &["b"]), ("q2", &["a"])]))
            .unwrap();
        assert_eq!((grade.score, grade.passed), (1, false));
        let grade = quiz().grade(&answers(&[("q2", &["a", "b", "c"])])).unwrap();
        assert_eq!(grade.score, 0);
    }

    #[test]
    fn unanswered_questions_count_as_wrong() {
        let grade = quiz().grade(&Answers::new()).unwrap();
        assert_eq!((grade.score, grade.total, grade.passed), (0, 2, false));
    }

    #[test]
    fn malformed_answers_are_errors() {
        assert_eq!(
            quiz().grade(&answers(&[("q9", &["a"])])),
            Err(GradeError::UnknownQuestion("q9".into()))
        );
        assert!(matches!(
            quiz().grade(&answers(&[("q1", &["z"])])),
            Err(GradeError::UnknownChoice { .. })
        ));
        assert_eq!(
            quiz().grade(&answers(&[("q1", &["a", "b"])])),
            Err(GradeError::SeveralForSingle("q1".into()))
        );
    }
}
