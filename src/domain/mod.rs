//! Pure rules and types: languages, slugs, lessons, the release schedule, quiz grading.
//! Nothing here knows about HTTP or the database.

pub mod ages;
pub mod catalog;
pub mod chat;
pub mod email;
pub mod learner;
pub mod lesson;
pub mod narration;
pub mod progress;
pub mod push;
pub mod quiz;
pub mod review;
pub mod schedule;
pub mod slug;
pub mod suppress;
pub mod text;
pub mod token;

pub use lesson::{Audience, LessonBody, LessonKind, LessonStatus};
pub use slug::Slug;
pub use text::{Lang, Text};
