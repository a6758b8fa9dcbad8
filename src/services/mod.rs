//! Use cases, between the edges (HTML, API, WeChat, jobs, CLI) and the store. Each takes a
//! `Context` (or just the database), never the web app's state.

pub mod accounts;
pub mod context;
pub mod enrollment;
pub mod export;
pub mod import;
pub mod lessons;
pub mod progress;
pub mod qr;
pub mod reports;
pub mod staff;
pub mod studio;

pub use context::Context;
