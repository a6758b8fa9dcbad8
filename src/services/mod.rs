//! Use cases, between the edges (HTML, API, WeChat, jobs, CLI) and the store. Each takes a
//! `Context` (or just the database), never the web app's state.

pub mod accounts;
pub mod admin;
pub mod ages;
pub mod codes;
pub mod context;
pub mod enrollment;
pub mod export;
pub mod family;
pub mod import;
pub mod inactivity;
pub mod jobs;
pub mod lessons;
pub mod progress;
pub mod push;
pub mod qr;
pub mod reports;
pub mod retention;
pub mod review;
pub mod sessions;
pub mod staff;
pub mod studio;
pub mod wechat;

pub use context::Context;

/// Why a staff member's action did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// Something in the request cannot be used; the message starts with the field's name.
    #[error("{0}")]
    Invalid(String),
    /// No such thing, or not one this staff member may touch.
    #[error("not found")]
    NotFound,
    /// The database failed; nothing changed.
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}
