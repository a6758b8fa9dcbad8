//! HTML for learners: pages, media, static assets and the language switch.

pub mod account;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod i18n;
pub mod i18n_account;
pub mod i18n_staff;
pub mod join;
pub mod manage;
pub mod media;
pub mod pages;
pub mod progress;
pub mod qr;
pub mod staff;
pub mod studio;
pub mod views;

use poem::{Route, get, post};

/// Adds the learner routes to `route`.
pub fn routes(route: Route) -> Route {
    route
        .at("/", get(pages::home_page))
        .at("/s/:series", get(pages::series_page))
        .at("/s/:series/:lesson", get(pages::lesson_page))
        .at("/s/:series/:lesson/quiz", post(pages::quiz_answer))
        .at("/s/:series/:lesson/done", post(progress::mark_done))
        .at("/s/:series/certificate", get(progress::certificate))
        .at("/progress/beacon", post(progress::beacon))
        .at("/lang/:code", get(pages::switch_language))
        .at("/media/:series/:lesson/:name", get(media::media))
        .at("/static/:name", get(assets::static_file))
        .at("/join/:token", get(join::join_page).post(join::join_submit))
        .at(
            "/recover",
            get(join::recover_page).post(join::recover_submit),
        )
        .at("/me", get(account::me).post(account::me_update))
        .at("/me/export.json", get(account::me_export))
        .at("/me/delete", post(account::me_delete))
        .at("/qr/:file", get(qr::qr_image))
        .at("/qr/:token/poster", get(qr::poster))
        .at(
            "/staff/login",
            get(staff::login_page).post(staff::login_submit),
        )
        .at("/staff/logout", post(staff::logout))
        .at(
            "/staff/setup/:token",
            get(staff::setup_page).post(staff::setup_submit),
        )
        .at(
            "/staff/tokens",
            get(staff::tokens_list).post(staff::token_create),
        )
        .at("/staff/tokens/:id/revoke", post(staff::token_revoke))
        .at("/admin", get(admin::index))
        .at("/admin/factories", post(admin::add_factory))
        .at("/admin/factories/:factory/lines", post(admin::add_line))
        .at("/admin/staff", post(admin::add_staff))
        .at("/admin/learner-request", post(admin::learner_request))
        .at(
            "/admin/learners/:id/export.json",
            get(admin::learner_export),
        )
        .at("/admin/learners/:id/delete", post(admin::learner_delete))
        .at("/manage", get(manage::home))
        .at("/manage/f/:factory", get(manage::dashboard))
        .at(
            "/manage/f/:factory/dashboard.csv",
            get(manage::dashboard_csv),
        )
        .at("/manage/f/:factory/codes", post(manage::create_code))
        .at(
            "/manage/f/:factory/codes/:code/revoke",
            post(manage::revoke_code),
        )
        .at("/studio", get(studio::index))
        .at("/studio/s/:series", get(studio::calendar))
        .at("/studio/s/:series/cadence", post(studio::cadence))
        .at("/studio/s/:series/:lesson/stats", get(studio::stats))
        .at(
            "/studio/s/:series/:lesson/:action",
            post(studio::lesson_action),
        )
        .at("/studio/preview/:series/:lesson", get(studio::preview))
        .at(
            "/studio/media/:series/:lesson/:name",
            get(studio::preview_media),
        )
}
