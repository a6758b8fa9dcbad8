//! The HTML side: learner pages and media, joining and accounts, QR codes and posters, and the
//! staff areas.
//! Every route is listed once in `table()`, which builds the router and which the tests read to
//! check every route for every role.

pub mod account;
pub mod admin;
pub mod family;
pub mod help;
pub mod i18n;
pub mod i18n_account;
pub mod i18n_push;
pub mod i18n_reach;
pub mod i18n_staff;
pub mod jobs;
pub mod join;
pub mod manage;
pub mod media;
pub mod narration;
pub mod pages;
pub mod progress;
pub mod qr;
pub mod review;
pub mod safeguarding;
pub mod staff;
pub mod studio;
pub mod views;

use std::collections::BTreeMap;

use poem::endpoint::BoxEndpoint;
use poem::http::Method;
use poem::{EndpointExt, Response, Route, RouteMethod};

/// Every HTML route: method, path pattern and handler.
fn table() -> Vec<(Method, &'static str, BoxEndpoint<'static, Response>)> {
    vec![
        (Method::GET, "/", pages::home_page.map_to_response().boxed()),
        (
            Method::GET,
            "/s/:series",
            pages::series_page.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/s/:series/:lesson",
            pages::lesson_page.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/s/:series/:lesson/card.png",
            family::card.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/f/:series/:lesson",
            family::page.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/s/:series/:lesson/quiz",
            pages::quiz_answer.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/s/:series/:lesson/done",
            progress::mark_done.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/review/:series/:lesson/:question",
            review::answer.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/s/:series/certificate",
            progress::certificate.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/progress/beacon",
            progress::beacon.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/lang/:code",
            pages::switch_language.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/media/:series/:lesson/:name",
            media::media.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/static/:name",
            crate::http::assets::static_file.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/join/:token",
            join::join_page.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/join/:token",
            join::join_submit.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/recover",
            join::recover_page.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/recover",
            join::recover_submit.map_to_response().boxed(),
        ),
        (Method::GET, "/me", account::me.map_to_response().boxed()),
        (
            Method::GET,
            "/help",
            help::help_page.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/me",
            account::me_update.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/me/messages",
            account::me_messages.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/me/recovery-code",
            account::new_recovery_code.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/me/sign-out",
            account::sign_out.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/me/export.json",
            account::me_export.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/me/delete",
            account::me_delete.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/qr/:file",
            qr::qr_image.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/qr/:token/poster",
            qr::poster.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/staff/login",
            staff::login_page.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/staff/login",
            staff::login_submit.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/staff/logout",
            staff::logout.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/staff/setup/:token",
            staff::setup_page.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/staff/setup/:token",
            staff::setup_submit.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/staff/tokens",
            staff::tokens_list.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/staff/tokens",
            staff::token_create.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/staff/tokens/:id/revoke",
            staff::token_revoke.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/admin",
            admin::index.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/admin/jobs",
            jobs::jobs_page.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/admin/jobs/:id/retry",
            jobs::retry_job.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/admin/factories",
            admin::add_factory.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/admin/factories/:factory/lines",
            admin::add_line.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/admin/staff",
            admin::add_staff.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/admin/learner-request",
            admin::learner_request.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/admin/learners/:id/export.json",
            admin::learner_export.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/admin/learners/:id/delete",
            admin::learner_delete.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/manage",
            manage::home.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/manage/f/:factory",
            manage::dashboard.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/manage/f/:factory/dashboard.csv",
            manage::dashboard_csv.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/manage/f/:factory/codes",
            manage::create_code.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/manage/f/:factory/codes/:code/revoke",
            manage::revoke_code.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/studio",
            studio::index.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/studio/safeguarding",
            safeguarding::page.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/studio/s/:series",
            studio::calendar.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/studio/s/:series/cadence",
            studio::cadence.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/studio/s/:series/:lesson/stats",
            studio::stats.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/studio/s/:series/:lesson/edit",
            studio::edit.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/studio/s/:series/:lesson/edit",
            studio::edit_submit.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/studio/s/:series/:lesson/media",
            studio::upload.map_to_response().boxed(),
        ),
        (
            Method::POST,
            "/studio/s/:series/:lesson/:action",
            studio::lesson_action.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/studio/preview/:series/:lesson",
            studio::preview.map_to_response().boxed(),
        ),
        (
            Method::GET,
            "/studio/media/:series/:lesson/:name",
            studio::preview_media.map_to_response().boxed(),
        ),
    ]
}

/// Method and path pattern of every HTML route, for tests and tools.
pub fn route_list() -> Vec<(Method, &'static str)> {
    table()
        .into_iter()
        .map(|(method, path, _)| (method, path))
        .collect()
}

/// Adds every HTML route to `route`.
pub fn routes(route: Route) -> Route {
    let mut by_path: BTreeMap<&'static str, RouteMethod> = BTreeMap::new();
    for (method, path, endpoint) in table() {
        let entry = by_path.remove(path).unwrap_or_default();
        by_path.insert(path, entry.method(method, endpoint));
    }
    by_path
        .into_iter()
        .fold(route, |route, (path, methods)| route.at(path, methods))
}
