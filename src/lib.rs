//! Homeward: weekly parenting lessons for migrant workers.

pub mod api;
pub mod cache;
pub mod cli;
pub mod clock;
pub mod content;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod ops;
pub mod services;
pub mod settings;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod wechat;
