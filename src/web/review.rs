//! The learner's review card in HTML: up to two due questions on their home, each a plain form
//! (no JavaScript needed), and the answer's result.

use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};

use super::i18n_account::progress_ui;
use super::pages::{chrome, html, learner_for_form, render};
use super::views::NoticePage;
use crate::domain::Lang;
use crate::domain::quiz::QuestionKind;
use crate::domain::review::CARD_SIZE;
use crate::http::AppState;
use crate::http::error::{AppError, from_db};
use crate::services::review::{self, ReviewError};

/// One due question as the home page shows it.
pub struct ReviewQuestion {
    pub action: String,
    pub prompt: String,
    /// "radio" or "checkbox".
    pub input: &'static str,
    pub choices: Vec<(String, String)>,
    /// The lesson it comes from.
    pub from: String,
}

/// The learner's due questions, at most two.
pub async fn card(
    state: &AppState,
    learner_id: i64,
    lang: Lang,
) -> Result<Vec<ReviewQuestion>, AppError> {
    let due = review::due(state, learner_id, CARD_SIZE)
        .await
        .map_err(from_db)?;
    Ok(due
        .into_iter()
        .map(|d| ReviewQuestion {
            action: format!(
                "/review/{}/{}/{}",
                d.series.slug, d.lesson.slug, d.question.id
            ),
            prompt: d.question.prompt.get(lang).to_owned(),
            input: match d.question.kind {
                QuestionKind::Single => "radio",
                QuestionKind::Multiple => "checkbox",
            },
            choices: d
                .question
                .choices
                .iter()
                .map(|c| (c.id.clone(), c.text.get(lang).to_owned()))
                .collect(),
            from: d.lesson.title.get(lang).to_owned(),
        })
        .collect())
}

/// A review answer sent as a form (fields `csrf` and `a`, once per chosen answer).
#[handler]
pub async fn answer(
    state: Data<&AppState>,
    lang: Lang,
    Path((series, lesson, question)): Path<(String, String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
    req: &Request,
) -> Result<Response, AppError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.as_str());
    let learner_id = learner_for_form(&state, req, csrf)
        .await?
        .ok_or(AppError::NotFound)?;
    let chosen: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "a")
        .map(|(_, v)| v.clone())
        .collect();
    let p = progress_ui(lang);
    let reviewed = match review::answer(&state, learner_id, &series, &lesson, &question, chosen)
        .await
    {
        Ok(reviewed) => reviewed,
        Err(ReviewError::NotFound) => return Err(AppError::NotFound),
        Err(ReviewError::NotDue) => {
            let page = NoticePage {
                page: chrome(&state, lang, p.review, "/"),
                paragraphs: vec![p.review_not_due.to_owned()],
                link: Some(("/".into(), p.review_home.to_owned())),
            };
            return Ok(html(render(&page)?));
        }
        Err(ReviewError::Invalid(error)) => return Err(AppError::BadRequest(error.to_string())),
        Err(ReviewError::Failed(error)) => return Err(from_db(error)),
    };
    let answer: Vec<String> = reviewed
        .question
        .choices
        .iter()
        .filter(|c| reviewed.question.answer.contains(&c.id))
        .map(|c| c.text.get(lang).to_owned())
        .collect();
    let verdict = if reviewed.correct {
        p.review_right
    } else {
        p.review_wrong
    };
    let next = match reviewed.next.due_at {
        Some(at) => {
            let days = (at - state.clock.now()).num_days();
            p.review_next.replace("{days}", &days.to_string())
        }
        None => p.review_retired.to_owned(),
    };
    let page = NoticePage {
        page: chrome(&state, lang, p.review, "/"),
        paragraphs: vec![
            format!("{verdict}{}", reviewed.question.prompt.get(lang)),
            format!("{}{}", p.review_answer, answer.join(p.review_and)),
            reviewed.question.explanation.get(lang).to_owned(),
            next,
        ],
        link: Some(("/#review".into(), p.review_home.to_owned())),
    };
    Ok(html(render(&page)?))
}
