//! Queries for series, lessons and media: the catalog learners browse, lesson bodies, media
//! bytes, and the writes an import makes.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};

use super::entity::{lesson, media, series};
use crate::content::{LoadedLesson, LoadedSeries};
use crate::domain::catalog::{Catalog, LessonEntry, MediaMeta, SeriesEntry};
use crate::domain::lesson::LessonContent;
use crate::domain::schedule::{Pacing, weekday_str};
use crate::domain::{Audience, LessonKind, LessonStatus, Text};

#[derive(FromQueryResult)]
struct MediaRow {
    lesson_id: i64,
    name: String,
    content_type: String,
    sha256: String,
    size: i64,
    updated_at: DateTime<Utc>,
}

/// How many lessons the database holds (any state).
pub async fn lesson_count(db: &DatabaseConnection) -> anyhow::Result<u64> {
    use sea_orm::PaginatorTrait;
    Ok(lesson::Entity::find().count(db).await?)
}

/// Every series and lesson, without bodies or media bytes.
pub async fn catalog(db: &DatabaseConnection) -> anyhow::Result<Catalog> {
    let series_rows = series::Entity::find()
        .order_by_asc(series::Column::SortOrder)
        .order_by_asc(series::Column::Slug)
        .all(db)
        .await?;
    let lesson_rows = lesson::Entity::find()
        .order_by_asc(lesson::Column::Week)
        .order_by_asc(lesson::Column::Id)
        .all(db)
        .await?;
    let media_rows = media::Entity::find()
        .select_only()
        .columns([
            media::Column::LessonId,
            media::Column::Name,
            media::Column::ContentType,
            media::Column::Sha256,
            media::Column::Size,
            media::Column::UpdatedAt,
        ])
        .order_by_asc(media::Column::Name)
        .into_model::<MediaRow>()
        .all(db)
        .await?;
    let series = series_rows
        .into_iter()
        .map(|s| SeriesEntry {
            id: s.id,
            audience: Audience::parse(&s.audience).unwrap_or(Audience::Parents),
            timezone: s.timezone,
            first_release: s.first_release.parse().unwrap_or_default(),
            release_weekday: s.release_weekday,
            release_time: s.release_time,
            order: s.sort_order,
            pacing: Pacing::parse(&s.pacing).unwrap_or_else(Pacing::stored_default),
            title: Text::new(s.title_zh, s.title_en),
            summary: Text::new(s.summary_zh, s.summary_en),
            lessons: lesson_rows
                .iter()
                .filter(|l| l.series_id == s.id)
                .map(|l| LessonEntry {
                    id: l.id,
                    slug: l.slug.clone(),
                    week: l.week.max(0) as u32,
                    kind: LessonKind::parse(&l.kind).unwrap_or(LessonKind::Article),
                    status: LessonStatus::parse(&l.status).unwrap_or(LessonStatus::Draft),
                    release_at: l.release_at,
                    title: Text::new(l.title_zh.clone(), l.title_en.clone()),
                    summary: Text::new(l.summary_zh.clone(), l.summary_en.clone()),
                    has_quiz: l.quiz_json.is_some(),
                    updated_at: l.updated_at,
                    age_bands: crate::domain::ages::split_bands(&l.age_bands),
                    media: media_rows
                        .iter()
                        .filter(|m| m.lesson_id == l.id)
                        .map(|m| MediaMeta {
                            name: m.name.clone(),
                            content_type: m.content_type.clone(),
                            sha256: m.sha256.clone(),
                            size: m.size.max(0) as u64,
                            updated_at: m.updated_at,
                        })
                        .collect(),
                })
                .collect(),
            slug: s.slug,
        })
        .collect();
    Ok(Catalog { series })
}

/// A lesson's body and quiz.
pub async fn lesson_content(
    db: &DatabaseConnection,
    lesson_id: i64,
) -> anyhow::Result<Option<LessonContent>> {
    let Some(row) = lesson::Entity::find_by_id(lesson_id).one(db).await? else {
        return Ok(None);
    };
    let body = serde_json::from_str(&row.body_json)?;
    let quiz = row
        .quiz_json
        .as_deref()
        .map(serde_json::from_str)
        .transpose()?;
    let family = serde_json::from_str(&row.family_json)?;
    Ok(Some(LessonContent { body, quiz, family }))
}

pub async fn media_bytes(
    db: &DatabaseConnection,
    lesson_id: i64,
    name: &str,
) -> anyhow::Result<Option<Vec<u8>>> {
    let row = media::Entity::find()
        .filter(media::Column::LessonId.eq(lesson_id))
        .filter(media::Column::Name.eq(name))
        .one(db)
        .await?;
    Ok(row.map(|m| m.bytes))
}

/// What an import changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub series_written: u32,
    pub lessons_created: u32,
    pub lessons_updated: u32,
    pub lessons_unchanged: u32,
    pub lessons_unpublished: u32,
    /// Changed in the files but edited in the studio since: the studio's version was kept.
    pub lessons_kept_studio_edits: u32,
}

impl ImportCounts {
    pub fn changed_anything(&self) -> bool {
        self.series_written + self.lessons_created + self.lessons_updated + self.lessons_unpublished
            > 0
    }
}

/// A lesson to import with its resolved release time.
pub struct LessonPlan<'a> {
    pub lesson: &'a LoadedLesson,
    pub release_override: Option<DateTime<Utc>>,
    pub release_at: DateTime<Utc>,
}

impl LessonPlan<'_> {
    /// What an import compares to skip unchanged lessons: the files and the release time.
    pub fn hash(&self) -> String {
        format!(
            "{}:{}",
            self.lesson.source_hash,
            self.release_at.timestamp()
        )
    }
}

/// After `content export`: the files now hold what the database holds, so record their hashes
/// and forget the studio edits (a later import of unchanged files writes nothing).
pub async fn mark_in_sync(
    db: &DatabaseConnection,
    loaded: &LoadedSeries,
    first_release: chrono::NaiveDate,
    lessons: &[LessonPlan<'_>],
) -> anyhow::Result<()> {
    let txn = db.begin().await?;
    let Some(series_row) = series::Entity::find()
        .filter(series::Column::Slug.eq(loaded.slug.as_str()))
        .one(&txn)
        .await?
    else {
        return Ok(());
    };
    series::ActiveModel {
        id: Set(series_row.id),
        content_hash: Set(format!("{}:{first_release}", loaded.source_hash)),
        ..Default::default()
    }
    .update(&txn)
    .await?;
    for plan in lessons {
        lesson::Entity::update_many()
            .col_expr(
                lesson::Column::ContentHash,
                sea_orm::sea_query::Expr::value(plan.hash()),
            )
            .col_expr(
                lesson::Column::StudioEditedAt,
                sea_orm::sea_query::Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(lesson::Column::SeriesId.eq(series_row.id))
            .filter(lesson::Column::Slug.eq(plan.lesson.slug.as_str()))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Writes one series and its lessons in one transaction, skipping whatever is unchanged.
/// Lessons in the database but no longer in the files are unpublished, never deleted.
pub async fn import_series(
    db: &DatabaseConnection,
    loaded: &LoadedSeries,
    first_release: chrono::NaiveDate,
    lessons: &[LessonPlan<'_>],
    now: DateTime<Utc>,
) -> anyhow::Result<ImportCounts> {
    let mut counts = ImportCounts::default();
    let txn = db.begin().await?;
    // The resolved first release is part of the hash, so a demo series moves with the weeks.
    let series_hash = format!("{}:{first_release}", loaded.source_hash);
    let existing = series::Entity::find()
        .filter(series::Column::Slug.eq(loaded.slug.as_str()))
        .one(&txn)
        .await?;
    let series_id = match existing {
        Some(row) if row.content_hash == series_hash => row.id,
        existing => {
            counts.series_written += 1;
            let mut model = series::ActiveModel {
                slug: Set(loaded.slug.to_string()),
                audience: Set(loaded.audience.as_str().to_owned()),
                timezone: Set(loaded.timezone.name().to_owned()),
                first_release: Set(first_release.to_string()),
                release_weekday: Set(weekday_str(loaded.weekday).to_owned()),
                release_time: Set(loaded.time.format("%H:%M").to_string()),
                sort_order: Set(loaded.order),
                pacing: Set(loaded.pacing.as_str().to_owned()),
                title_zh: Set(loaded.title.zh.clone()),
                title_en: Set(loaded.title.en.clone()),
                summary_zh: Set(loaded.summary.zh.clone()),
                summary_en: Set(loaded.summary.en.clone()),
                content_hash: Set(series_hash),
                updated_at: Set(now),
                ..Default::default()
            };
            match existing {
                Some(row) => {
                    model.id = Set(row.id);
                    model.update(&txn).await?.id
                }
                None => model.insert(&txn).await?.id,
            }
        }
    };

    let stored = lesson::Entity::find()
        .filter(lesson::Column::SeriesId.eq(series_id))
        .all(&txn)
        .await?;
    for plan in lessons {
        let lesson = plan.lesson;
        let hash = plan.hash();
        let current = stored.iter().find(|row| row.slug == lesson.slug.as_str());
        if current.is_some_and(|row| row.content_hash == hash) {
            counts.lessons_unchanged += 1;
            continue;
        }
        // The studio's edits win until `homeward content export` writes them back to the files.
        if current.is_some_and(|row| row.studio_edited_at.is_some()) {
            counts.lessons_kept_studio_edits += 1;
            continue;
        }
        let mut model = lesson::ActiveModel {
            series_id: Set(series_id),
            slug: Set(lesson.slug.to_string()),
            week: Set(lesson.week as i32),
            kind: Set(lesson.content.body.kind().as_str().to_owned()),
            status: Set(lesson.status.as_str().to_owned()),
            release_override: Set(plan.release_override),
            release_at: Set(plan.release_at),
            title_zh: Set(lesson.title.zh.clone()),
            title_en: Set(lesson.title.en.clone()),
            summary_zh: Set(lesson.summary.zh.clone()),
            summary_en: Set(lesson.summary.en.clone()),
            body_json: Set(serde_json::to_string(&lesson.content.body)?),
            quiz_json: Set(lesson
                .content
                .quiz
                .as_ref()
                .map(serde_json::to_string)
                .transpose()?),
            family_json: Set(serde_json::to_string(&lesson.content.family)?),
            age_bands: Set(crate::domain::ages::join_bands(&lesson.age_bands)),
            content_hash: Set(hash),
            updated_at: Set(now),
            ..Default::default()
        };
        let lesson_id = match current {
            Some(row) => {
                counts.lessons_updated += 1;
                model.id = Set(row.id);
                model.update(&txn).await?.id
            }
            None => {
                counts.lessons_created += 1;
                model.insert(&txn).await?.id
            }
        };
        replace_media(&txn, lesson_id, lesson, now).await?;
    }

    for row in &stored {
        let still_in_files = lessons.iter().any(|p| p.lesson.slug.as_str() == row.slug);
        if !still_in_files && row.status != LessonStatus::Draft.as_str() {
            counts.lessons_unpublished += 1;
            lesson::ActiveModel {
                id: Set(row.id),
                status: Set(LessonStatus::Draft.as_str().to_owned()),
                content_hash: Set(String::new()),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&txn)
            .await?;
        }
    }
    txn.commit().await?;
    Ok(counts)
}

/// Makes a lesson's stored media match its files, rewriting only files whose bytes changed.
async fn replace_media(
    txn: &sea_orm::DatabaseTransaction,
    lesson_id: i64,
    lesson: &LoadedLesson,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    #[derive(FromQueryResult)]
    struct Stored {
        id: i64,
        name: String,
        sha256: String,
    }
    let stored = media::Entity::find()
        .select_only()
        .columns([
            media::Column::Id,
            media::Column::Name,
            media::Column::Sha256,
        ])
        .filter(media::Column::LessonId.eq(lesson_id))
        .into_model::<Stored>()
        .all(txn)
        .await?;
    for old in &stored {
        if !lesson.media.iter().any(|m| m.name == old.name) {
            media::Entity::delete_by_id(old.id).exec(txn).await?;
        }
    }
    for file in &lesson.media {
        let current = stored.iter().find(|s| s.name == file.name);
        if current.is_some_and(|s| s.sha256 == file.sha256) {
            continue;
        }
        let mut model = media::ActiveModel {
            lesson_id: Set(lesson_id),
            name: Set(file.name.clone()),
            content_type: Set(file.content_type.to_owned()),
            sha256: Set(file.sha256.clone()),
            size: Set(file.bytes.len() as i64),
            bytes: Set(file.bytes.clone()),
            updated_at: Set(now),
            ..Default::default()
        };
        match current {
            Some(row) => {
                model.id = Set(row.id);
                model.update(txn).await?;
            }
            None => {
                model.insert(txn).await?;
            }
        }
    }
    Ok(())
}

/// Unpublishes every lesson of series whose folders are gone from the files.
pub async fn unpublish_series_not_in(
    db: &DatabaseConnection,
    kept_slugs: &[String],
    now: DateTime<Utc>,
) -> anyhow::Result<u32> {
    let gone: Vec<i64> = series::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .filter(|s| !kept_slugs.contains(&s.slug))
        .map(|s| s.id)
        .collect();
    if gone.is_empty() {
        return Ok(0);
    }
    let result = lesson::Entity::update_many()
        .col_expr(
            lesson::Column::Status,
            sea_orm::sea_query::Expr::value(LessonStatus::Draft.as_str()),
        )
        .col_expr(
            lesson::Column::ContentHash,
            sea_orm::sea_query::Expr::value(""),
        )
        .col_expr(
            lesson::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(lesson::Column::SeriesId.is_in(gone))
        .filter(lesson::Column::Status.ne(LessonStatus::Draft.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected as u32)
}
