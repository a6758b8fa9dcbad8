//! sea-orm entities, one per table, mirroring the migrations.

pub mod lesson;
pub mod media;
pub mod series;
