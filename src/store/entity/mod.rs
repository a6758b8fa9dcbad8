//! sea-orm entities, one per table, mirroring the migrations.

pub mod code_scan;
pub mod consent;
pub mod enrollment_code;
pub mod factory;
pub mod learner;
pub mod learner_session;
pub mod lesson;
pub mod line;
pub mod media;
pub mod series;
pub mod wechat_follower;
pub mod wechat_qr;
