//! Integration tests: the real app over HTTP on a real database (SQLite by default;
//! PostgreSQL and Redis when HOMEWARD_TEST_DATABASE_URL / HOMEWARD_TEST_REDIS_URL are set).

mod account;
mod api;
mod cache;
mod content_check;
mod enrollment;
mod fixture;
mod helpers;
mod import;
mod migrations;
mod openapi;
mod ops;
mod pages;
mod progress;
mod sample_content;
mod staff;
mod visibility;
