//! Lessons for the children's ages: the bands a learner's children are in (only with the
//! children's own consent; without it nothing about age is used), and per-band figures for
//! editors, suppressed under 5.

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::domain::learner::AGE_BANDS;
use crate::domain::suppress::{Figures, Shown};

/// The age bands of a learner's children, or none without the children's consent.
pub async fn consented_bands(
    db: &DatabaseConnection,
    learner_id: i64,
) -> anyhow::Result<Vec<String>> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT l.child_age_bands AS bands FROM learner l WHERE l.id = $1 \
             AND EXISTS (SELECT 1 FROM consent c WHERE c.learner_id = l.id AND c.kind = 'children')",
            [learner_id.into()],
        ))
        .await?;
    let stored: Option<String> = match row {
        Some(row) => row.try_get("", "bands")?,
        None => None,
    };
    Ok(stored
        .map(|s| crate::domain::ages::split_bands(&s))
        .unwrap_or_default())
}

/// One age band's figures for a lesson: learners whose children are in the band (with consent)
/// who opened it, and who completed it.
#[derive(Clone, Debug, PartialEq)]
pub struct BandFigures {
    pub band: &'static str,
    pub opened: Shown,
    pub completed: Shown,
}

/// Per-band figures for a lesson. A learner with children in two bands counts in both. Any
/// figure about fewer than 5 learners is hidden, and so is a completed count whose difference
/// from the opened count would be such a figure.
pub async fn lesson_band_figures(
    db: &DatabaseConnection,
    lesson_id: i64,
) -> anyhow::Result<Vec<BandFigures>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            "SELECT l.child_age_bands AS bands, \
                    CASE WHEN p.completed_at IS NULL THEN 0 ELSE 1 END AS completed \
             FROM lesson_progress p JOIN learner l ON l.id = p.learner_id \
             WHERE p.lesson_id = $1 AND p.first_opened_at IS NOT NULL AND l.child_age_bands IS NOT NULL \
               AND EXISTS (SELECT 1 FROM consent c WHERE c.learner_id = l.id AND c.kind = 'children')",
            [lesson_id.into()],
        ))
        .await?;
    let mut counts = [(0u64, 0u64); AGE_BANDS.len()];
    for row in rows {
        let bands: String = row.try_get("", "bands")?;
        let completed = row
            .try_get::<i64>("", "completed")
            .or_else(|_| row.try_get::<i32>("", "completed").map(i64::from))?
            == 1;
        for band in crate::domain::ages::split_bands(&bands) {
            if let Some(i) = AGE_BANDS.iter().position(|b| *b == band) {
                counts[i].0 += 1;
                counts[i].1 += u64::from(completed);
            }
        }
    }
    Ok(AGE_BANDS
        .iter()
        .zip(counts)
        .map(|(band, (opened, completed))| {
            // Opened and completed are shown together: the difference is a group too.
            let mut figures = Figures::new();
            let whole = figures.figure(opened);
            let part = figures.figure(completed);
            figures.within(whole, part);
            let shown = figures.solve();
            BandFigures {
                band,
                opened: shown.get(whole),
                completed: shown.get(part),
            }
        })
        .collect())
}
