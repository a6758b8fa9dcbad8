//! Integration tests: the real app over HTTP on a real database (SQLite by default;
//! PostgreSQL and Redis when HOMEWARD_TEST_DATABASE_URL / HOMEWARD_TEST_REDIS_URL are set).

mod account;
mod api;
mod attacks;
mod backup;
mod cache;
mod commands;
mod content_check;
mod enrollment;
mod family;
mod faults;
mod figures;
mod import;
mod jobs;
mod layering;
mod migrations;
mod narration;
mod openapi;
mod ops;
mod pacing;
mod pages;
mod perf;
mod progress;
mod push;
mod push_settings;
mod reach;
mod readme;
mod retention;
mod sample_content;
mod sessions;
mod slow_clients;
mod staff;
mod typography;
mod visibility;
mod wechat;

#[path = "../support/mod.rs"]
mod support;

use support as helpers;
use support::fixture;
