//! Reaching the learners who need it most: a video finished without JavaScript, what a learner
//! earned kept once earned, lessons for their children's ages, and the review of missed questions.

mod ages;
mod earned;
mod review;
mod video;

use homeward::domain::learner::POLICY_VERSION;

use crate::enrollment::{hidden, join_by_form, make_code};
use crate::helpers::TestApp;

/// A phone (cookie jar, no JavaScript) that joined by the form as a parent.
pub async fn joined_phone(
    app: &TestApp,
    nickname: &str,
    extra: &[(&str, &str)],
) -> reqwest::Client {
    let code = make_code(app, None, None).await;
    let phone = crate::enrollment::phone();
    let mut fields = vec![
        ("accept_policy", POLICY_VERSION),
        ("audience", "parents"),
        ("nickname", nickname),
    ];
    fields.extend_from_slice(extra);
    let joined = join_by_form(app, &phone, &code.token, &fields).await;
    assert_eq!(joined.status(), 303);
    phone
}

pub async fn page(app: &TestApp, phone: &reqwest::Client, path: &str) -> String {
    phone
        .get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Opens a lesson page and presses "done" as a form, without JavaScript.
pub async fn press_done(app: &TestApp, phone: &reqwest::Client, slug: &str) -> String {
    let lesson = page(app, phone, &format!("/s/family/{slug}")).await;
    let csrf = hidden(&lesson, "csrf");
    let done = phone
        .post(app.url(&format!("/s/family/{slug}/done")))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    lesson
}

/// Passes a standard fixture quiz as a form.
pub async fn pass_quiz(app: &TestApp, phone: &reqwest::Client, slug: &str) {
    let lesson = page(app, phone, &format!("/s/family/{slug}")).await;
    let csrf = hidden(&lesson, "csrf");
    let result = phone
        .post(app.url(&format!("/s/family/{slug}/quiz")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("q.q1", "b"),
            ("q.q2", "a"),
            ("q.q2", "c"),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(result.contains("您的成绩已保存"), "{result}");
}
