//! Editors' changes to the release plan, each audited and shown to learners at once on every
//! instance; and the statistics editors read to improve lessons.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc, Weekday};
use sea_orm::{ConnectionTrait, Statement, Value};
use serde_json::json;

use crate::domain::catalog::{LessonEntry, SeriesEntry};
use crate::domain::lesson::FamilyMessage;
use crate::domain::lesson::LessonContent;
use crate::domain::narration::{LESSON_AUDIO_BUDGET, audio_files};
use crate::domain::schedule::{Cadence, local_to_utc, weekday_str};
use crate::domain::{Lang, LessonBody, LessonStatus, Text};
use crate::services::Context;
use crate::services::lessons;
use crate::services::staff::{Staff, audit};

async fn exec(state: &Context, sql: &str, values: Vec<Value>) -> anyhow::Result<()> {
    state
        .db
        .execute_raw(Statement::from_sql_and_values(
            state.db.get_database_backend(),
            sql,
            values,
        ))
        .await?;
    Ok(())
}

fn lesson_json(lesson: &LessonEntry) -> serde_json::Value {
    json!({"slug": lesson.slug, "status": lesson.status.as_str(), "release_at": lesson.release_at})
}

/// Moves a lesson to a local date and time in its series' timezone.
pub async fn reschedule(
    state: &Context,
    who: &Staff,
    series: &SeriesEntry,
    lesson: &LessonEntry,
    date: NaiveDate,
    time: NaiveTime,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let at = local_to_utc(series.timezone(), date.and_time(time));
    exec(
        state,
        "UPDATE lesson SET release_override = $1, release_at = $1, studio_edited_at = $2, updated_at = $2 WHERE id = $3",
        vec![at.into(), now.into(), lesson.id.into()],
    )
    .await?;
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "reschedule",
        &format!("lesson:{}/{}", series.slug, lesson.slug),
        Some(lesson_json(lesson)),
        Some(json!({"release_at": at})),
        now,
    )
    .await?;
    lessons::content_changed(state).await;
    Ok(())
}

/// Publishes a lesson now: learners see it at once (its release time moves to now if later).
pub async fn publish_now(
    state: &Context,
    who: &Staff,
    series: &SeriesEntry,
    lesson: &LessonEntry,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let at: DateTime<Utc> = lesson.release_at.min(now);
    exec(
        state,
        "UPDATE lesson SET status = 'published', release_override = $1, release_at = $1, studio_edited_at = $2, updated_at = $2 WHERE id = $3",
        vec![at.into(), now.into(), lesson.id.into()],
    )
    .await?;
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "publish",
        &format!("lesson:{}/{}", series.slug, lesson.slug),
        Some(lesson_json(lesson)),
        Some(json!({"status": "published", "release_at": at})),
        now,
    )
    .await?;
    lessons::content_changed(state).await;
    Ok(())
}

/// Takes a lesson back: learners stop seeing it at once; their progress is kept.
pub async fn unpublish(
    state: &Context,
    who: &Staff,
    series: &SeriesEntry,
    lesson: &LessonEntry,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    exec(
        state,
        "UPDATE lesson SET status = 'draft', studio_edited_at = $1, updated_at = $1 WHERE id = $2",
        vec![now.into(), lesson.id.into()],
    )
    .await?;
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "unpublish",
        &format!("lesson:{}/{}", series.slug, lesson.slug),
        Some(lesson_json(lesson)),
        Some(json!({"status": LessonStatus::Draft.as_str()})),
        now,
    )
    .await?;
    lessons::content_changed(state).await;
    Ok(())
}

/// Changes a series' cadence; lessons without their own release time follow it.
pub async fn set_cadence(
    state: &Context,
    who: &Staff,
    series: &SeriesEntry,
    first_release: NaiveDate,
    weekday: Weekday,
    time: NaiveTime,
) -> anyhow::Result<()> {
    let now = state.clock.now();
    let cadence = Cadence {
        timezone: series.timezone(),
        first_release,
        weekday,
        time,
    };
    exec(
        state,
        "UPDATE series SET first_release = $1, release_weekday = $2, release_time = $3, updated_at = $4 WHERE id = $5",
        vec![first_release.to_string().into(), weekday_str(weekday).into(), time.format("%H:%M").to_string().into(), now.into(), series.id.into()],
    )
    .await?;
    let overridden: Vec<i64> = state
        .db
        .query_all_raw(Statement::from_sql_and_values(
            state.db.get_database_backend(),
            "SELECT id FROM lesson WHERE series_id = $1 AND release_override IS NOT NULL",
            [series.id.into()],
        ))
        .await?
        .iter()
        .filter_map(|r| r.try_get("", "id").ok())
        .collect();
    for lesson in series
        .lessons
        .iter()
        .filter(|l| !overridden.contains(&l.id))
    {
        exec(
            state,
            "UPDATE lesson SET release_at = $1, studio_edited_at = $2, updated_at = $2 WHERE id = $3",
            vec![cadence.release_at(lesson.week).into(), now.into(), lesson.id.into()],
        )
        .await?;
    }
    audit(
        &state.db,
        Some(who.id),
        &who.email,
        "set_cadence",
        &format!("series:{}", series.slug),
        Some(json!({"first_release": series.first_release, "weekday": series.release_weekday, "time": series.release_time})),
        Some(json!({"first_release": first_release, "weekday": weekday_str(weekday), "time": time.format("%H:%M").to_string()})),
        now,
    )
    .await?;
    lessons::content_changed(state).await;
    Ok(())
}

/// Per-question figures, from each learner's first attempt (the one that shows confusion).
#[derive(Clone, Debug, Default)]
pub struct QuestionStats {
    pub id: String,
    pub answered: u64,
    pub correct: u64,
    /// The wrong choice picked most often, and how often.
    pub top_wrong: Option<(String, u64)>,
}

#[derive(Clone, Debug, Default)]
pub struct LessonStats {
    pub opened: u64,
    pub completed: u64,
    pub median_video_seconds: Option<f64>,
    pub quiz_takers: u64,
    pub quiz_passed: u64,
    pub questions: Vec<QuestionStats>,
}

pub async fn lesson_stats(
    state: &Context,
    lesson: &LessonEntry,
    content: &LessonContent,
) -> anyhow::Result<LessonStats> {
    let backend = state.db.get_database_backend();
    let row = state
        .db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            "SELECT COUNT(first_opened_at) AS opened, COUNT(completed_at) AS completed, \
                    COUNT(CASE WHEN quiz_attempts > 0 THEN 1 END) AS takers, COUNT(quiz_passed_at) AS passed \
             FROM lesson_progress WHERE lesson_id = $1",
            [lesson.id.into()],
        ))
        .await?;
    let get = |name: &str| {
        row.as_ref()
            .and_then(|r| r.try_get::<i64>("", name).ok())
            .unwrap_or(0)
            .max(0) as u64
    };
    let mut stats = LessonStats {
        opened: get("opened"),
        completed: get("completed"),
        quiz_takers: get("takers"),
        quiz_passed: get("passed"),
        ..Default::default()
    };
    if let LessonBody::Video(_) = content.body {
        let mut seconds: Vec<f64> = state
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT video_seconds FROM lesson_progress WHERE lesson_id = $1",
                [lesson.id.into()],
            ))
            .await?
            .iter()
            .filter_map(|r| r.try_get::<f64>("", "video_seconds").ok())
            .collect();
        seconds.sort_by(|a, b| a.total_cmp(b));
        stats.median_video_seconds = (!seconds.is_empty()).then(|| seconds[seconds.len() / 2]);
    }
    if let Some(quiz) = &content.quiz {
        let attempts = state
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT learner_id, answers FROM quiz_attempt WHERE lesson_id = $1 ORDER BY id",
                [lesson.id.into()],
            ))
            .await?;
        let mut first: HashMap<i64, crate::domain::quiz::Answers> = HashMap::new();
        for row in attempts {
            let learner: i64 = row.try_get("", "learner_id")?;
            let answers: String = row.try_get("", "answers")?;
            if let Ok(parsed) = serde_json::from_str(&answers) {
                first.entry(learner).or_insert(parsed);
            }
        }
        for question in &quiz.questions {
            let mut q = QuestionStats {
                id: question.id.clone(),
                ..Default::default()
            };
            let mut wrong: HashMap<String, u64> = HashMap::new();
            for answers in first.values() {
                let Some(chosen) = answers.get(&question.id) else {
                    continue;
                };
                q.answered += 1;
                let mut sorted = chosen.clone();
                sorted.sort();
                let mut right = question.answer.clone();
                right.sort();
                if sorted == right {
                    q.correct += 1;
                }
                for choice in chosen.iter().filter(|c| !question.answer.contains(c)) {
                    *wrong.entry(choice.clone()).or_default() += 1;
                }
            }
            q.top_wrong = wrong
                .into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
            stats.questions.push(q);
        }
    }
    Ok(stats)
}

/// Every editable text of a lesson as (form field, label, value): title, summary, captions and
/// alt texts, transcript, quiz prompts, choices and explanations, in both languages.
pub fn text_fields(lesson: &LessonEntry, content: &LessonContent) -> Vec<(String, String, String)> {
    let mut fields = Vec::new();
    let mut both = |name: &str, label: &str, text: &crate::domain::Text| {
        fields.push((
            format!("{name}.zh"),
            format!("{label} (zh)"),
            text.zh.clone(),
        ));
        fields.push((
            format!("{name}.en"),
            format!("{label} (en)"),
            text.en.clone(),
        ));
    };
    both("title", "title", &lesson.title);
    both("summary", "summary", &lesson.summary);
    both(
        "family_message",
        "family message",
        &Text::new(
            content.family.or_summary(&lesson.summary, Lang::Zh),
            content.family.or_summary(&lesson.summary, Lang::En),
        ),
    );
    match &content.body {
        LessonBody::Comic { panels } => {
            for (i, panel) in panels.iter().enumerate() {
                both(
                    &format!("panel.{i}.caption"),
                    &format!("panel {} caption", i + 1),
                    &panel.caption,
                );
                both(
                    &format!("panel.{i}.alt"),
                    &format!("panel {} alt text", i + 1),
                    &panel.alt,
                );
            }
        }
        LessonBody::Video(video) => both("transcript", "transcript", &video.transcript),
        LessonBody::Article { .. } => {}
    }
    if let Some(quiz) = &content.quiz {
        for q in &quiz.questions {
            both(
                &format!("q.{}.prompt", q.id),
                &format!("{} prompt", q.id),
                &q.prompt,
            );
            for c in &q.choices {
                both(
                    &format!("q.{}.choice.{}", q.id, c.id),
                    &format!("{} choice {}", q.id, c.id),
                    &c.text,
                );
            }
            both(
                &format!("q.{}.explanation", q.id),
                &format!("{} explanation", q.id),
                &q.explanation,
            );
        }
    }
    fields
}

/// Applies edited texts; every text must stay filled in both languages, or nothing changes.
pub async fn update_texts(
    state: &Context,
    who: &Staff,
    series: &SeriesEntry,
    lesson: &LessonEntry,
    mut content: LessonContent,
    form: &HashMap<String, String>,
) -> Result<(), String> {
    let set = |text: &mut crate::domain::Text, name: &str| -> Result<(), String> {
        for (lang, slot) in [("zh", &mut text.zh), ("en", &mut text.en)] {
            if let Some(value) = form.get(&format!("{name}.{lang}")) {
                let value = value.trim();
                if value.is_empty() {
                    return Err(format!("{name}.{lang}: every text needs both languages"));
                }
                if value.chars().count() > 4000 {
                    return Err(format!("{name}.{lang}: at most 4000 characters"));
                }
                *slot = value.to_owned();
            }
        }
        Ok(())
    };
    let (mut title, mut summary) = (lesson.title.clone(), lesson.summary.clone());
    let age_bands = match form.get("age_bands") {
        Some(raw) => crate::domain::ages::parse_bands(raw.split([',', ' ', '，', '、']))
            .map_err(|message| format!("age_bands: {message}"))?,
        None => lesson.age_bands.clone(),
    };
    set(&mut title, "title")?;
    set(&mut summary, "summary")?;
    if content.family.text.missing().len() == 2 {
        content.family.text = Text::new(
            content.family.or_summary(&lesson.summary, Lang::Zh),
            content.family.or_summary(&lesson.summary, Lang::En),
        );
    }
    set(&mut content.family.text, "family_message")?;
    for lang in Lang::ALL {
        let max = FamilyMessage::max_chars(lang);
        if content.family.text.get(lang).chars().count() > max {
            return Err(format!(
                "family_message.{}: at most {max} characters, so that it fits the family card",
                lang.code()
            ));
        }
    }
    match &mut content.body {
        LessonBody::Comic { panels } => {
            for (i, panel) in panels.iter_mut().enumerate() {
                set(&mut panel.caption, &format!("panel.{i}.caption"))?;
                set(&mut panel.alt, &format!("panel.{i}.alt"))?;
            }
        }
        LessonBody::Video(video) => set(&mut video.transcript, "transcript")?,
        LessonBody::Article { .. } => {}
    }
    if let Some(quiz) = &mut content.quiz {
        for q in &mut quiz.questions {
            set(&mut q.prompt, &format!("q.{}.prompt", q.id))?;
            for c in &mut q.choices {
                set(&mut c.text, &format!("q.{}.choice.{}", q.id, c.id))?;
            }
            set(&mut q.explanation, &format!("q.{}.explanation", q.id))?;
        }
    }
    let now = state.clock.now();
    let write = async {
        let body = serde_json::to_string(&content.body)?;
        let quiz = content
            .quiz
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        let family = serde_json::to_string(&content.family)?;
        exec(
            state,
            "UPDATE lesson SET title_zh = $1, title_en = $2, summary_zh = $3, summary_en = $4, body_json = $5, quiz_json = $6, \
             family_json = $9, age_bands = $10, studio_edited_at = $7, updated_at = $7 WHERE id = $8",
            vec![title.zh.clone().into(), title.en.clone().into(), summary.zh.clone().into(), summary.en.clone().into(), body.into(), quiz.into(), now.into(), lesson.id.into(), family.into(), crate::domain::ages::join_bands(&age_bands).into()],
        )
        .await?;
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "edit_texts",
            &format!("lesson:{}/{}", series.slug, lesson.slug),
            Some(json!({"title": lesson.title, "age_bands": lesson.age_bands})),
            Some(json!({"title": title, "age_bands": age_bands})),
            now,
        )
        .await?;
        anyhow::Ok(())
    };
    write.await.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "lesson edit failed");
        "the change could not be saved; please try again".to_owned()
    })?;
    lessons::content_changed(state).await;
    Ok(())
}

/// Replaces one of a lesson's media files (a panel image, the poster, the video or captions)
/// with an uploaded file of the same kind.
pub async fn replace_media(
    state: &Context,
    who: &Staff,
    series: &SeriesEntry,
    lesson: &LessonEntry,
    content: &LessonContent,
    name: &str,
    bytes: Vec<u8>,
) -> Result<(), String> {
    use crate::content::files::{MediaRole, check_media};
    let is_audio = audio_files(content).contains(&name);
    let role = match &content.body {
        _ if is_audio => MediaRole::Audio,
        LessonBody::Comic { panels } if panels.iter().any(|p| p.image == name) => MediaRole::Image,
        LessonBody::Video(v) if v.poster == name => MediaRole::Image,
        LessonBody::Video(v) if v.file == name => MediaRole::Video,
        LessonBody::Video(v) if v.captions.zh == name || v.captions.en == name => {
            MediaRole::Captions
        }
        _ => return Err(format!("'{name}' is not a media file of this lesson")),
    };
    let file = check_media(name, bytes, role)?;
    if is_audio {
        let others: u64 = lesson
            .media
            .iter()
            .filter(|m| m.name != name && m.content_type.starts_with("audio/"))
            .map(|m| m.size)
            .sum();
        let total = others as usize + file.bytes.len();
        if total > LESSON_AUDIO_BUDGET {
            return Err(format!(
                "the lesson's audio would add up to {} KB; the limit is {} KB",
                total / 1024,
                LESSON_AUDIO_BUDGET / 1024
            ));
        }
    }
    let now = state.clock.now();
    let old = lesson.media(name).map(|m| m.sha256.clone());
    let write = async {
        exec(
            state,
            "UPDATE media SET bytes = $1, sha256 = $2, size = $3, content_type = $4, updated_at = $5 WHERE lesson_id = $6 AND name = $7",
            vec![file.bytes.clone().into(), file.sha256.clone().into(), (file.bytes.len() as i64).into(), file.content_type.into(), now.into(), lesson.id.into(), name.into()],
        )
        .await?;
        exec(
            state,
            "UPDATE lesson SET studio_edited_at = $1, updated_at = $1 WHERE id = $2",
            vec![now.into(), lesson.id.into()],
        )
        .await?;
        audit(
            &state.db,
            Some(who.id),
            &who.email,
            "replace_media",
            &format!("lesson:{}/{}/{name}", series.slug, lesson.slug),
            Some(json!({"sha256": old})),
            Some(json!({"sha256": file.sha256, "size": file.bytes.len()})),
            now,
        )
        .await?;
        anyhow::Ok(())
    };
    write.await.map_err(|e| {
        tracing::error!(error = format!("{e:#}"), "media upload failed");
        "the file could not be saved; please try again".to_owned()
    })?;
    lessons::content_changed(state).await;
    Ok(())
}
