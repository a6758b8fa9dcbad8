//! askama view structs: what each learner page shows, already in the request's language.

use askama::Template;

use super::i18n::Ui;
use super::i18n_push::{MessagesUi, PushView};
use super::narration::{ListenView, NarrationView, SectionView};
use crate::domain::Lang;

/// The frame around every page.
pub struct Chrome {
    pub lang: Lang,
    pub t: &'static Ui,
    pub title: String,
    pub css: String,
    pub js: String,
    pub icon: String,
    pub switch_href: String,
}

pub struct LessonLink {
    pub href: String,
    pub title: String,
    pub summary: String,
    pub week_label: String,
    pub kind_label: &'static str,
    /// "适合 6–11 岁": only on lessons for the learner's children, with the children's consent.
    pub age_label: Option<String>,
}

pub struct SeriesCard {
    pub href: String,
    pub title: String,
    pub summary: String,
    pub audience: &'static str,
    pub current: Option<LessonLink>,
    pub released: usize,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub page: Chrome,
    pub series: Vec<SeriesCard>,
}

#[derive(Template)]
#[template(path = "series.html")]
pub struct SeriesPage {
    pub page: Chrome,
    pub title: String,
    pub summary: String,
    pub lessons: Vec<LessonLink>,
    pub next: Option<String>,
}

pub struct PanelView {
    pub src: String,
    pub width: u32,
    pub height: u32,
    pub caption: String,
    pub alt: String,
    pub eager: bool,
    pub audio: Option<NarrationView>,
}

pub struct VideoView {
    pub src: String,
    pub poster: String,
    pub captions_zh: String,
    pub captions_en: String,
    pub transcript: String,
    pub minutes: String,
}

pub enum BodyView {
    Comic(Vec<PanelView>),
    Video(VideoView),
    /// Sanitised at import (pulldown-cmark + ammonia); never raw editor HTML.
    Article(Vec<SectionView>),
}

pub struct ChoiceView {
    pub id: String,
    pub text: String,
}

pub struct QuestionView {
    pub field: String,
    pub prompt: String,
    pub multiple: bool,
    pub choices: Vec<ChoiceView>,
    pub audio: Option<NarrationView>,
}

#[derive(Template)]
#[template(path = "lesson.html")]
pub struct LessonPage {
    pub page: Chrome,
    pub series_slug: String,
    pub lesson_slug: String,
    pub kind: &'static str,
    pub series_href: String,
    pub series_title: String,
    pub week_label: String,
    pub kind_label: &'static str,
    pub released: String,
    pub summary: String,
    pub body: BodyView,
    pub quiz: Option<Vec<QuestionView>>,
    pub quiz_action: String,
    /// The button that plays the lesson part by part, when it has audio.
    pub listen: Option<ListenView>,
    pub r: &'static super::i18n_reach::ReachUi,
    /// The family card, to save and forward.
    pub card_href: String,
}

pub struct ResultView {
    pub prompt: String,
    pub correct: bool,
    pub chosen: String,
    pub right: String,
    pub explanation: String,
}

#[derive(Template)]
#[template(path = "quiz_result.html")]
pub struct QuizResultPage {
    pub page: Chrome,
    pub lesson_href: String,
    pub series_href: String,
    pub score: u32,
    pub total: u32,
    pub passed: bool,
    pub note: &'static str,
    pub results: Vec<ResultView>,
}

use super::i18n_account::AccountUi;

#[derive(Template)]
#[template(path = "join.html")]
pub struct JoinPage {
    pub page: Chrome,
    pub a: &'static AccountUi,
    pub action: String,
    pub csrf: String,
    pub factory: String,
    pub line: Option<String>,
    pub policy: Vec<String>,
    pub policy_version: &'static str,
    pub bands: [&'static str; 4],
    pub children_consent_text: String,
    pub error: Option<String>,
    pub m: &'static MessagesUi,
    pub push: PushView,
    /// What the form holds: the defaults, or what was sent when it is shown again.
    pub filled: JoinFilled,
}

/// The join form's choices, kept when a refused form comes back.
pub struct JoinFilled {
    pub nickname: String,
    /// `parents`, `line-managers` or `young-workers`.
    pub audience: String,
    pub bands: Vec<String>,
    pub children_consent: bool,
    /// `zh` or `en`.
    pub lang: String,
}

impl JoinFilled {
    /// A fresh form: the parents' lessons, in the page's language.
    pub fn fresh(lang: crate::domain::Lang) -> JoinFilled {
        JoinFilled {
            nickname: String::new(),
            audience: "parents".into(),
            bands: Vec::new(),
            children_consent: false,
            lang: lang.code().into(),
        }
    }

    pub fn has_band(&self, band: &str) -> bool {
        self.bands.iter().any(|b| b == band)
    }
}

#[derive(Template)]
#[template(path = "notice.html")]
pub struct NoticePage {
    pub page: Chrome,
    pub paragraphs: Vec<String>,
    pub link: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "recover.html")]
pub struct RecoverPage {
    pub page: Chrome,
    pub a: &'static AccountUi,
    pub csrf: String,
    pub failed: bool,
}

#[derive(Template)]
#[template(path = "me.html")]
pub struct MePage {
    pub page: Chrome,
    pub a: &'static AccountUi,
    pub csrf: String,
    pub saved: bool,
    pub error: Option<String>,
    pub nickname: Option<String>,
    pub audience: String,
    pub audience_label: &'static str,
    pub lang: String,
    pub bands: Vec<String>,
    pub band_choices: Vec<(&'static str, bool)>,
    pub factory: Option<String>,
    pub line: Option<String>,
    pub joined_at: String,
    pub sign_out_hint: String,
    /// The WeChat openid bound to the learner, if any.
    pub wechat_openid: Option<String>,
    pub consents: Vec<(String, String)>,
    pub m: &'static MessagesUi,
    pub push: PushView,
    pub messages_saved: bool,
}

#[derive(Template)]
#[template(path = "poster.html")]
pub struct PosterPage {
    pub css: String,
    pub zh: &'static AccountUi,
    pub en: &'static AccountUi,
    pub factory_zh: String,
    pub factory_en: String,
    pub line: Option<String>,
    pub qr_src: String,
    pub short_url: String,
}

/// A recovery code, shown once.
#[derive(Template)]
#[template(
    source = "{% extends \"base.html\" %}{% block content %}<section class=\"card\"><h1>{{ page.title }}</h1><p>{{ explain }}</p><p><code class=\"code\">{{ code }}</code></p><p><a class=\"button\" href=\"{{ back.0 }}\">{{ back.1 }}</a></p></section>{% endblock %}",
    ext = "html"
)]
pub struct RecoveryCodePage {
    pub page: Chrome,
    pub explain: &'static str,
    pub code: String,
    pub back: (String, String),
}

/// The once-only welcome on the first lesson after joining.
#[derive(Template)]
#[template(
    source = "<section class=\"banner\" role=\"status\"><strong>{{ welcome }}</strong><p>{{ explain }}</p><p><code class=\"code\">{{ code }}</code></p></section>",
    ext = "html"
)]
pub struct WelcomeBanner {
    pub welcome: &'static str,
    pub explain: &'static str,
    pub code: String,
}

pub struct SeriesProgressView {
    pub title: String,
    pub href: String,
    pub current: Option<LessonLink>,
    pub continue_with: Option<LessonLink>,
    pub released: usize,
    pub completed: usize,
    pub progress_label: String,
    pub streak_label: String,
    /// The best streak, shown when the current one is shorter (it broke).
    pub best_streak_label: Option<String>,
    pub certificate: Option<String>,
}

#[derive(Template)]
#[template(path = "home_learner.html")]
pub struct LearnerHomePage {
    pub page: Chrome,
    pub p: &'static super::i18n_account::ProgressUi,
    pub nickname: Option<String>,
    pub mine: Vec<SeriesProgressView>,
    pub others: Vec<SeriesProgressView>,
    pub badges: Vec<&'static str>,
    /// Released lessons for the learner's children's ages not yet completed, newest first
    /// (empty without the children's consent).
    pub for_children: Vec<LessonLink>,
    /// Up to two missed questions due for review.
    pub review: Vec<super::review::ReviewQuestion>,
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "certificate.html")]
pub struct CertificatePage {
    pub css: String,
    pub zh: &'static super::i18n_account::ProgressUi,
    pub en: &'static super::i18n_account::ProgressUi,
    pub name: String,
    pub series_zh: String,
    pub series_en: String,
    pub lessons: usize,
    pub date_zh: String,
    pub date_en: String,
}
