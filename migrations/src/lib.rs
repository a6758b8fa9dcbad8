//! Database schema for Homeward, shared by SQLite and PostgreSQL.
//!
//! Migrations are plain SQL written once with a few per-backend type names, so that one set of
//! files serves both databases. They never import the application's entities.

// sea-orm-migration's trait signatures elide the SchemaManager lifetime.
#![allow(elided_lifetimes_in_paths)]

pub use sea_orm_migration::prelude::*;

mod m0001_content;
mod m0002_enrollment;
mod m0003_progress;
mod m0004_staff;
mod m0005_report_indexes;
mod m0006_wechat;
mod m0007_jobs_push;
mod m0008_learner_secrets;
mod m0009_reach;
mod m0010_inactivity;
mod m0012_reach;
mod m0013_push_claim_index;
mod sql;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m0001_content::Migration),
            Box::new(m0002_enrollment::Migration),
            Box::new(m0003_progress::Migration),
            Box::new(m0004_staff::Migration),
            Box::new(m0005_report_indexes::Migration),
            Box::new(m0006_wechat::Migration),
            Box::new(m0007_jobs_push::Migration),
            Box::new(m0008_learner_secrets::Migration),
            Box::new(m0009_reach::Migration),
            Box::new(m0010_inactivity::Migration),
            Box::new(m0012_reach::Migration),
            Box::new(m0013_push_claim_index::Migration),
        ]
    }
}
