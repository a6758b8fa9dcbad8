//! Use cases, between the HTTP layers and the store.

pub mod accounts;
pub mod enrollment;
pub mod lessons;
pub mod progress;
pub mod qr;
pub mod reports;
pub mod staff;
pub mod studio;
