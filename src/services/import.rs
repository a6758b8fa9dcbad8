//! Imports loaded content into the store: resolves release times, writes only what changed.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::content::{FirstRelease, LoadedSeries, ReleaseOverride};
use crate::domain::schedule::{Cadence, local_to_utc, weeks_ago};
use crate::store::content::{self as store, ImportCounts, LessonPlan};

/// The cadence of a loaded series, with `first_release_weeks_ago` resolved against `now`.
pub fn cadence(series: &LoadedSeries, now: DateTime<Utc>) -> Cadence {
    let first_release = match series.first_release {
        FirstRelease::Date(date) => date,
        FirstRelease::WeeksAgo(weeks) => weeks_ago(series.timezone, now, weeks, series.weekday),
    };
    Cadence {
        timezone: series.timezone,
        first_release,
        weekday: series.weekday,
        time: series.time,
    }
}

/// The cadence of a series and each lesson's resolved release time.
pub fn plan(series: &LoadedSeries, now: DateTime<Utc>) -> (Cadence, Vec<LessonPlan<'_>>) {
    let cadence = cadence(series, now);
    let plans = series
        .lessons
        .iter()
        .map(|lesson| {
            let release_override = lesson.release_override.map(|o| match o {
                ReleaseOverride::Local(local) => local_to_utc(series.timezone, local),
                ReleaseOverride::Exact(moment) => moment,
            });
            LessonPlan {
                lesson,
                release_override,
                release_at: release_override.unwrap_or_else(|| cadence.release_at(lesson.week)),
            }
        })
        .collect();
    (cadence, plans)
}

/// Imports every series; `on_lesson` is called once per lesson processed (for a progress bar).
pub async fn import_all(
    db: &DatabaseConnection,
    all: &[LoadedSeries],
    now: DateTime<Utc>,
    mut on_lesson: impl FnMut(&str),
) -> anyhow::Result<ImportCounts> {
    let mut total = ImportCounts::default();
    for series in all {
        let (cadence, plans) = plan(series, now);
        let counts = store::import_series(db, series, cadence.first_release, &plans, now).await?;
        for lesson in &series.lessons {
            on_lesson(&format!("{}/{}", series.slug, lesson.slug));
        }
        total.series_written += counts.series_written;
        total.lessons_created += counts.lessons_created;
        total.lessons_updated += counts.lessons_updated;
        total.lessons_unchanged += counts.lessons_unchanged;
        total.lessons_unpublished += counts.lessons_unpublished;
        total.lessons_kept_studio_edits += counts.lessons_kept_studio_edits;
    }
    let kept: Vec<String> = all.iter().map(|s| s.slug.to_string()).collect();
    total.lessons_unpublished += store::unpublish_series_not_in(db, &kept, now).await?;
    Ok(total)
}
