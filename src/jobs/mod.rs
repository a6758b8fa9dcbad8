//! Background work: the handlers of each job kind, periodic work scheduled once across
//! instances, and the worker that claims due jobs from the database and runs them (beside
//! `serve`, or alone as `homeward worker`). Jobs are enqueued through `services::jobs`.

mod periodic;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use futures::future::BoxFuture;
use serde_json::Value as Json;

pub use periodic::{PERIODIC, Periodic};
pub use worker::{RunReport, Worker, WorkerOptions, run_until_stopped};

use crate::services::Context;

/// Why a try of a job did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Worth another try later (the database or a remote service was unavailable).
    #[error("{0:#}")]
    Retry(anyhow::Error),
    /// Trying again cannot help (the payload is unusable): dead at once.
    #[error("{0:#}")]
    Permanent(anyhow::Error),
}

impl From<anyhow::Error> for JobError {
    fn from(error: anyhow::Error) -> JobError {
        JobError::Retry(error)
    }
}

impl From<sea_orm::DbErr> for JobError {
    fn from(error: sea_orm::DbErr) -> JobError {
        JobError::Retry(error.into())
    }
}

/// What runs a job of one kind. It must be idempotent: a job may run again after a crash.
pub type Handler =
    Arc<dyn Fn(Context, Json) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

/// The handler of every job kind this build knows.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl Registry {
    /// Every kind Homeward runs.
    pub fn standard() -> Registry {
        let mut registry = Registry::default();
        periodic::register(&mut registry);
        registry
    }

    /// Adds (or replaces) the handler of `kind`.
    pub fn register<F, Fut>(&mut self, kind: &str, handler: F)
    where
        F: Fn(Context, Json) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.handlers.insert(
            kind.to_owned(),
            Arc::new(move |ctx, payload| Box::pin(handler(ctx, payload))),
        );
    }

    pub fn get(&self, kind: &str) -> Option<&Handler> {
        self.handlers.get(kind)
    }
}
