//! Reads `content/` into domain types and validates it, reporting every problem at once; and
//! makes missing narration (`narrate`). (Importing it into the database and exporting it back are `services::import` and
//! `services::export`.)

pub mod files;
pub mod markdown;
pub mod narrate;
mod raw;
pub mod wechat;

use std::fmt;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Weekday};
use chrono_tz::Tz;

use crate::domain::lesson::LessonContent;
use crate::domain::{Audience, LessonStatus, Slug, Text};

pub use files::MediaFile;

/// One thing wrong with the content files, printed as `path: field: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}: {}",
            self.path.display(),
            self.field,
            self.message
        )
    }
}

/// When week 1 of a series comes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FirstRelease {
    Date(NaiveDate),
    /// Counted back from the week of the import; for demo content.
    WeeksAgo(u32),
}

#[derive(Clone, Debug)]
pub struct LoadedSeries {
    pub slug: Slug,
    pub audience: Audience,
    pub timezone: Tz,
    pub first_release: FirstRelease,
    pub weekday: Weekday,
    pub time: NaiveTime,
    pub order: i32,
    pub pacing: crate::domain::schedule::Pacing,
    pub title: Text,
    pub summary: Text,
    /// Hash of `series.toml`, to skip unchanged series on import.
    pub source_hash: String,
    pub lessons: Vec<LoadedLesson>,
}

/// A lesson's explicit release time: wall-clock in the series' timezone, or an exact instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReleaseOverride {
    Local(NaiveDateTime),
    Exact(chrono::DateTime<chrono::Utc>),
}

#[derive(Clone, Debug)]
pub struct LoadedLesson {
    pub slug: Slug,
    pub week: u32,
    pub status: LessonStatus,
    pub release_override: Option<ReleaseOverride>,
    pub title: Text,
    pub summary: Text,
    /// The children's age bands the lesson is for; empty for every age.
    pub age_bands: Vec<String>,
    pub content: LessonContent,
    pub media: Vec<MediaFile>,
    /// Hash of `lesson.toml` and every file it uses.
    pub source_hash: String,
}

/// How strictly to load.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Audio files named in `lesson.toml` may be absent (they are what `content narrate` makes).
    pub audio_may_be_missing: bool,
}

/// Loads and validates every series under `dir`. Any problem anywhere fails the whole load, and
/// all problems found are returned together.
pub fn load_dir(dir: &Path) -> Result<Vec<LoadedSeries>, Vec<Problem>> {
    load_dir_with(dir, LoadOptions::default())
}

/// `load_dir` with options.
pub fn load_dir_with(dir: &Path, options: LoadOptions) -> Result<Vec<LoadedSeries>, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut series = Vec::new();
    let entries = match files::sorted_subdirs(dir) {
        Ok(entries) => entries,
        Err(message) => {
            return Err(vec![Problem {
                path: dir.to_path_buf(),
                field: "(folder)".into(),
                message,
            }]);
        }
    };
    // `wechat/` holds the chat's texts, not a series (see `content::wechat`).
    for series_dir in entries.into_iter().filter(|d| !d.ends_with(wechat::FOLDER)) {
        if let Some(loaded) = raw::load_series(&series_dir, options, &mut problems) {
            series.push(loaded);
        }
    }
    if series.is_empty() && problems.is_empty() {
        problems.push(Problem {
            path: dir.to_path_buf(),
            field: "(folder)".into(),
            message: "no series found: expected folders with a series.toml".into(),
        });
    }
    if problems.is_empty() {
        Ok(series)
    } else {
        Err(problems)
    }
}
