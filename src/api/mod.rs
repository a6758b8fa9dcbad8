//! The JSON API under `/api/v1`, described by an OpenAPI document at `/api/openapi.json`
//! with a docs page at `/docs`.

pub mod admin;
pub mod contract;
pub mod enrollment;
pub mod jobs;
pub mod learner;
pub mod lessons;
pub mod manage;
pub mod problem;
pub mod progress;
pub mod staff;
pub mod strict_string;
pub mod studio;
pub mod tokens;

use poem::{EndpointExt, Route};
use poem_openapi::OpenApiService;

use crate::settings::Settings;

pub type Service = OpenApiService<
    (
        lessons::LessonsApi,
        enrollment::EnrollmentApi,
        progress::ProgressApi,
        studio::StudioApi,
        manage::ManageApi,
        admin::AdminApi,
        jobs::JobsApi,
        tokens::TokensApi,
    ),
    (),
>;

pub fn service(settings: &Settings) -> Service {
    OpenApiService::new(
        (
            lessons::LessonsApi,
            enrollment::EnrollmentApi,
            progress::ProgressApi,
            studio::StudioApi,
            manage::ManageApi,
            admin::AdminApi,
            jobs::JobsApi,
            tokens::TokensApi,
        ),
        "Homeward API",
        env!("CARGO_PKG_VERSION"),
    )
    .description(
        "Weekly parenting lessons for migrant workers. Every text comes in Simplified Chinese \
             (`zh`) and English (`en`). Errors are `application/problem+json`.",
    )
    .server(format!("{}/api/v1", settings.public_url()))
}

/// `/api/v1/*`, `/api/openapi.json` and `/docs`.
pub fn routes(route: Route, settings: &Settings) -> Route {
    let service = service(settings);
    let document = contract::complete(&service.spec());
    let methods = std::sync::Arc::new(contract::Methods::from_spec(&document));
    // The document never changes while the server runs: compressed once, here.
    let spec = std::sync::Arc::new(crate::http::encoded::Encoded::compress(
        "application/json; charset=utf-8",
        document.into_bytes(),
    ));
    let docs = service.swagger_ui();
    route
        .nest(
            "/api/v1",
            service.around(move |next, req| {
                let methods = methods.clone();
                async move { contract::allow_on_405(next, req, &methods).await }
            }),
        )
        .at(
            "/api/openapi.json",
            poem::get(poem::endpoint::make_sync(move |req| spec.respond(&req))),
        )
        .nest("/docs", docs)
}

/// The OpenAPI document as JSON, for the snapshot test and `homeward` tooling.
pub fn spec_json(settings: &Settings) -> String {
    contract::complete(&service(settings).spec())
}
