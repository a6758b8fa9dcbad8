//! Use cases, between the HTTP layers and the store.

pub mod lessons;
