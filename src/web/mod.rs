//! HTML for learners: pages, media, static assets and the language switch.

pub mod assets;
pub mod i18n;
pub mod media;
pub mod pages;
pub mod views;

use poem::{Route, get, post};

/// Adds the learner routes to `route`.
pub fn routes(route: Route) -> Route {
    route
        .at("/", get(pages::home_page))
        .at("/s/:series", get(pages::series_page))
        .at("/s/:series/:lesson", get(pages::lesson_page))
        .at("/s/:series/:lesson/quiz", post(pages::quiz_answer))
        .at("/lang/:code", get(pages::switch_language))
        .at("/media/:series/:lesson/:name", get(media::media))
        .at("/static/:name", get(assets::static_file))
}
