//! Reading lessons as learners see them: the catalog, visibility at the current time, lesson
//! bodies and media, all through the cache; and what must happen after content changes.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::domain::catalog::{Catalog, LessonEntry, SeriesEntry};
use crate::domain::lesson::LessonContent;
use crate::services::Context;
use crate::store;

const CONTENT_TTL: Duration = Duration::from_secs(3600);

/// Media bytes by content hash, with their total size.
#[derive(Default)]
struct MediaMemo {
    bytes: usize,
    files: HashMap<String, Arc<Vec<u8>>>,
}

/// Per-instance memory: the catalog of the current generation, and media bytes by hash.
#[derive(Default)]
pub struct Memo {
    catalog: Mutex<Option<(i64, Arc<Catalog>)>>,
    media: Mutex<MediaMemo>,
}

const MEDIA_MEMO_BYTES: usize = 64 * 1024 * 1024;

/// The catalog for this request. With the cache up, it is re-read only when the generation
/// changed (on any instance); with the cache down, it comes straight from the database.
pub async fn catalog(state: &Context) -> anyhow::Result<Arc<Catalog>> {
    Ok(catalog_of_generation(state).await?.1)
}

/// The catalog with the generation it belongs to (`None` with the cache down), so a request
/// can key what it caches on the same generation without asking the cache again.
async fn catalog_of_generation(state: &Context) -> anyhow::Result<(Option<i64>, Arc<Catalog>)> {
    let Some(generation) = state.cache.generation().await else {
        return Ok((None, Arc::new(store::content::catalog(&state.db).await?)));
    };
    if let Some((_, catalog)) = state
        .memo
        .catalog
        .lock()
        .expect("memo lock")
        .as_ref()
        .filter(|(memo_gen, _)| *memo_gen == generation)
    {
        return Ok((Some(generation), catalog.clone()));
    }
    let catalog: Catalog = state
        .cache
        .get_or_compute(&format!("catalog:{generation}"), CONTENT_TTL, || {
            store::content::catalog(&state.db)
        })
        .await?;
    let catalog = Arc::new(catalog);
    *state.memo.catalog.lock().expect("memo lock") = Some((generation, catalog.clone()));
    Ok((Some(generation), catalog))
}

/// A lesson a learner may see right now, with its series; `None` for anything unknown, draft or
/// not yet released — the caller answers 404 either way.
pub struct Visible {
    /// The cache generation the catalog was read at; `None` means "do not cache".
    pub generation: Option<i64>,
    pub catalog: Arc<Catalog>,
    pub series_index: usize,
    pub lesson_index: usize,
}

impl Visible {
    pub fn series(&self) -> &SeriesEntry {
        &self.catalog.series[self.series_index]
    }

    pub fn lesson(&self) -> &LessonEntry {
        &self.series().lessons[self.lesson_index]
    }
}

pub async fn visible_lesson(
    state: &Context,
    series_slug: &str,
    lesson_slug: &str,
) -> anyhow::Result<Option<Visible>> {
    let (generation, catalog) = catalog_of_generation(state).await?;
    let now = state.clock.now();
    let found = catalog
        .series
        .iter()
        .enumerate()
        .find(|(_, s)| s.slug == series_slug)
        .and_then(|(si, s)| {
            s.lessons
                .iter()
                .position(|l| l.slug == lesson_slug && l.is_visible(now))
                .map(|li| (si, li))
        });
    Ok(found.map(|(series_index, lesson_index)| Visible {
        generation,
        catalog,
        series_index,
        lesson_index,
    }))
}

/// A lesson's body and quiz. Only call this for a lesson already found visible.
pub async fn lesson_content(
    state: &Context,
    lesson: &LessonEntry,
) -> anyhow::Result<LessonContent> {
    let load = || async {
        store::content::lesson_content(&state.db, lesson.id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("lesson {} vanished", lesson.id))
    };
    match state.cache.generation().await {
        Some(generation) => {
            state
                .cache
                .get_or_compute(
                    &format!("lesson:{generation}:{}", lesson.id),
                    CONTENT_TTL,
                    load,
                )
                .await
        }
        None => load().await,
    }
}

/// A rendered learner page for a visible lesson, cached under the generation its catalog was
/// read at (one cache round trip fewer per request).
pub async fn cached_page<F, Fut>(
    state: &Context,
    visible: &Visible,
    key: &str,
    render: F,
) -> anyhow::Result<String>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = anyhow::Result<String>>,
{
    match visible.generation {
        Some(generation) => {
            state
                .cache
                .get_or_compute(&format!("page:{generation}:{key}"), CONTENT_TTL, render)
                .await
        }
        None => render().await,
    }
}

/// The bytes of a media file of a visible lesson, kept in memory by content hash.
pub async fn media_bytes(
    state: &Context,
    lesson: &LessonEntry,
    name: &str,
    sha256: &str,
) -> anyhow::Result<Option<Arc<Vec<u8>>>> {
    if let Some(bytes) = state
        .memo
        .media
        .lock()
        .expect("memo lock")
        .files
        .get(sha256)
    {
        return Ok(Some(bytes.clone()));
    }
    let Some(bytes) = store::content::media_bytes(&state.db, lesson.id, name).await? else {
        return Ok(None);
    };
    let bytes = Arc::new(bytes);
    let mut memo = state.memo.media.lock().expect("memo lock");
    if memo.bytes + bytes.len() > MEDIA_MEMO_BYTES {
        memo.files.clear();
        memo.bytes = 0;
    }
    memo.bytes += bytes.len();
    memo.files.insert(sha256.to_owned(), bytes.clone());
    Ok(Some(bytes))
}

/// Call after a committed content change: every instance sharing the cache sees it at once.
pub async fn content_changed(state: &Context) {
    state.cache.bump_generation().await;
    *state.memo.catalog.lock().expect("memo lock") = None;
}
