//! Reviewing what a learner missed: questions answered wrongly are scheduled in Leitner boxes
//! (`domain::review`), come back two at a time on a review card when due, and each review answer
//! moves them. Review answers are stored like quiz attempts (the learner's data, in their export)
//! and never reach managers' figures.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};

use crate::domain::catalog::{LessonEntry, SeriesEntry};
use crate::domain::quiz::{Answers, Grade, GradeError, Question};
use crate::domain::review::{self, Slot};
use crate::services::{Context, lessons};

/// Puts every question a graded attempt got wrong into box 1, due tomorrow (a question already
/// in review goes back to box 1). Runs in the attempt's transaction.
pub async fn schedule_missed(
    txn: &DatabaseTransaction,
    learner_id: i64,
    lesson_id: i64,
    grade: &Grade,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut missed: Vec<&str> = grade
        .questions
        .iter()
        .filter(|q| !q.correct)
        .map(|q| q.question_id.as_str())
        .collect();
    // The same order in every transaction, so concurrent attempts cannot deadlock.
    missed.sort_unstable();
    let slot = review::missed(now);
    for question in missed {
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            "INSERT INTO review_item (learner_id, lesson_id, question, box, due_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (learner_id, lesson_id, question) DO UPDATE SET box = excluded.box, due_at = excluded.due_at, \
             updated_at = excluded.updated_at",
            [
                learner_id.into(),
                lesson_id.into(),
                question.into(),
                slot.r#box.into(),
                slot.due_at.unwrap_or(now).into(),
                now.into(),
            ],
        ))
        .await?;
    }
    Ok(())
}

/// A question due for review, with the released lesson it comes from.
#[derive(Clone, Debug)]
pub struct DueQuestion {
    pub series: SeriesEntry,
    pub lesson: LessonEntry,
    pub question: Question,
}

/// The learner's review card: up to `limit` due questions, the longest waiting first, from
/// lessons that are released now.
pub async fn due(
    state: &Context,
    learner_id: i64,
    limit: usize,
) -> anyhow::Result<Vec<DueQuestion>> {
    let now = state.clock.now();
    let rows = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            state.db.get_database_backend(),
            "SELECT lesson_id, question FROM review_item WHERE learner_id = $1 AND box < $2 AND due_at <= $3 \
             ORDER BY due_at, id",
            [learner_id.into(), review::RETIRED.into(), now.into()],
        ))
        .await?;
    let catalog = lessons::catalog(state).await?;
    let mut card = Vec::new();
    for row in rows {
        if card.len() >= limit {
            break;
        }
        let lesson_id: i64 = row
            .try_get::<i64>("", "lesson_id")
            .or_else(|_| row.try_get::<i32>("", "lesson_id").map(i64::from))?;
        let question_id: String = row.try_get("", "question")?;
        let Some((series, lesson)) = catalog.series.iter().find_map(|s| {
            s.lessons
                .iter()
                .find(|l| l.id == lesson_id && l.is_visible(now))
                .map(|l| (s, l))
        }) else {
            continue;
        };
        let content = lessons::lesson_content(state, lesson).await?;
        let Some(question) = content
            .quiz
            .and_then(|quiz| quiz.questions.into_iter().find(|q| q.id == question_id))
        else {
            continue;
        };
        card.push(DueQuestion {
            series: series.clone(),
            lesson: lesson.clone(),
            question,
        });
    }
    Ok(card)
}

/// How many questions are due for review now (for the chat).
pub async fn due_count(state: &Context, learner_id: i64) -> anyhow::Result<usize> {
    Ok(due(state, learner_id, usize::MAX).await?.len())
}

/// Why a review answer was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("there is no such question to review")]
    NotFound,
    #[error("this question is not due for review now; it was answered already")]
    NotDue,
    #[error(transparent)]
    Invalid(#[from] GradeError),
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for ReviewError {
    fn from(error: sea_orm::DbErr) -> ReviewError {
        ReviewError::Failed(error.into())
    }
}

/// A review answer, graded and stored.
#[derive(Clone, Debug)]
pub struct Reviewed {
    pub question: Question,
    pub lesson: LessonEntry,
    pub series: SeriesEntry,
    pub correct: bool,
    pub next: Slot,
}

/// Grades a review answer, stores it and moves the question: up a box when right, back to box 1
/// when wrong. Only a due question can be answered, once (a resent form changes nothing).
pub async fn answer(
    state: &Context,
    learner_id: i64,
    series_slug: &str,
    lesson_slug: &str,
    question_id: &str,
    chosen: Vec<String>,
) -> Result<Reviewed, ReviewError> {
    let now = state.clock.now();
    let catalog = lessons::catalog(state).await?;
    let series = catalog.series(series_slug).ok_or(ReviewError::NotFound)?;
    let lesson = series
        .visible_lesson(lesson_slug, now)
        .ok_or(ReviewError::NotFound)?;
    let content = lessons::lesson_content(state, lesson).await?;
    let quiz = content.quiz.ok_or(ReviewError::NotFound)?;
    let question = quiz
        .questions
        .iter()
        .find(|q| q.id == question_id)
        .cloned()
        .ok_or(ReviewError::NotFound)?;
    let mut answers = Answers::new();
    answers.insert(question_id.to_owned(), chosen);
    let grade = quiz.grade(&answers)?;
    let correct = grade
        .questions
        .iter()
        .any(|q| q.question_id == question_id && q.correct);

    let txn = state.db.begin().await?;
    let backend = txn.get_database_backend();
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT box, due_at FROM review_item WHERE learner_id = $1 AND lesson_id = $2 AND question = $3",
            [learner_id.into(), lesson.id.into(), question_id.into()],
        ))
        .await?
        .ok_or(ReviewError::NotFound)?;
    let current_box = row
        .try_get::<i64>("", "box")
        .map(|b| b as i32)
        .or_else(|_| row.try_get::<i32>("", "box"))?;
    let due_at: DateTime<Utc> = row.try_get("", "due_at")?;
    if current_box >= review::RETIRED || due_at > now {
        return Err(ReviewError::NotDue);
    }
    let next = review::after_review(current_box, correct, now);
    // Only the answer that finds the question still due moves it.
    let moved = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            "UPDATE review_item SET box = $1, due_at = $2, updated_at = $3 \
             WHERE learner_id = $4 AND lesson_id = $5 AND question = $6 AND box = $7 AND due_at <= $3",
            [
                next.r#box.into(),
                next.due_at.unwrap_or(now).into(),
                now.into(),
                learner_id.into(),
                lesson.id.into(),
                question_id.into(),
                current_box.into(),
            ],
        ))
        .await?;
    if moved.rows_affected() != 1 {
        return Err(ReviewError::NotDue);
    }
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        "INSERT INTO review_attempt (learner_id, lesson_id, question, answers, correct, box_after, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            learner_id.into(),
            lesson.id.into(),
            question_id.into(),
            serde_json::to_string(&answers)
                .map_err(anyhow::Error::from)?
                .into(),
            correct.into(),
            next.r#box.into(),
            now.into(),
        ],
    ))
    .await?;
    txn.commit().await?;
    Ok(Reviewed {
        question,
        lesson: lesson.clone(),
        series: series.clone(),
        correct,
        next,
    })
}

/// When the learner's next question comes back for review (`None`: nothing left to review).
pub async fn next_due(state: &Context, learner_id: i64) -> anyhow::Result<Option<DateTime<Utc>>> {
    let row = state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            state.db.get_database_backend(),
            "SELECT due_at FROM review_item WHERE learner_id = $1 AND box < $2 ORDER BY due_at LIMIT 1",
            [learner_id.into(), review::RETIRED.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("", "due_at")?),
        None => None,
    })
}
