//! `homeward content narrate`: makes the missing audio of every lesson offline (espeak-ng, then
//! lame to a small mono MP3), never touching a recording already in place, keeps each lesson
//! under its audio budget, and names the new files in `lesson.toml`. (Which parts can be heard
//! is `parts`; the speech itself is `speech`.)

mod parts;
mod speech;

pub use parts::{Part, Slot, missing_audio, parts};
pub use speech::check_tools;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use toml_edit::{Array, DocumentMut, InlineTable, Item, TableLike, value};

use super::files::{MediaRole, check_media};
use super::{LoadOptions, LoadedLesson, Problem, load_dir_with};
use crate::domain::Lang;
use crate::domain::narration::LESSON_AUDIO_BUDGET;
use speech::{Encoding, LADDER, Pcm};

/// What happened to one lesson.
#[derive(Clone, Debug)]
pub struct LessonReport {
    /// `series/lesson`.
    pub name: String,
    /// New recordings made.
    pub made: usize,
    /// Recordings found in place and named in `lesson.toml`, untouched.
    pub adopted: usize,
    /// The setting the new recordings were made with.
    pub encoding: Option<Encoding>,
    /// All the lesson's audio afterwards, in bytes.
    pub audio_bytes: usize,
}

/// What `content narrate` did.
#[derive(Debug, Default)]
pub struct Summary {
    pub lessons: Vec<LessonReport>,
    /// Problems that stopped a lesson (or the whole folder) from being narrated.
    pub problems: Vec<Problem>,
}

/// A recording to make or to adopt: which part, which language, which file.
struct Take {
    slot: Slot,
    lang: Lang,
    name: String,
}

/// Narrates every lesson under `dir`: Mandarin always, English too when `english` is set.
pub fn narrate_dir(
    dir: &Path,
    english: bool,
    mut progress: impl FnMut(&LessonReport),
) -> anyhow::Result<Summary> {
    check_tools()?;
    let series = match load_dir_with(
        dir,
        LoadOptions {
            audio_may_be_missing: true,
        },
    ) {
        Ok(series) => series,
        Err(problems) => {
            return Ok(Summary {
                lessons: Vec::new(),
                problems,
            });
        }
    };
    let langs: &[Lang] = if english { &Lang::ALL } else { &[Lang::Zh] };
    let mut summary = Summary::default();
    for s in &series {
        for lesson in &s.lessons {
            let lesson_dir = dir.join(s.slug.as_str()).join(lesson.slug.as_str());
            let name = format!("{}/{}", s.slug, lesson.slug);
            match narrate_lesson(&lesson_dir, &name, lesson, langs)? {
                Ok(report) => {
                    progress(&report);
                    summary.lessons.push(report);
                }
                Err(problem) => summary.problems.push(problem),
            }
        }
    }
    Ok(summary)
}

/// Narrates one lesson. A problem with its content is returned as `Ok(Err(…))` and leaves the
/// lesson as it was; a failing tool or disk is an error.
fn narrate_lesson(
    lesson_dir: &Path,
    name: &str,
    lesson: &LoadedLesson,
    langs: &[Lang],
) -> anyhow::Result<Result<LessonReport, Problem>> {
    let toml_path = lesson_dir.join("lesson.toml");
    let problem = |field: String, message: String| Problem {
        path: toml_path.clone(),
        field,
        message,
    };
    let present: HashMap<&str, usize> = lesson
        .media
        .iter()
        .filter(|m| m.content_type.starts_with("audio/"))
        .map(|m| (m.name.as_str(), m.bytes.len()))
        .collect();
    let mut used: usize = present.values().sum();
    let (mut to_make, mut adopted) = (Vec::new(), Vec::new());
    for part in parts(&lesson.content) {
        // English only beside Mandarin: a part with audio must have it in Mandarin.
        let mut has_zh = part.audio.zh.is_some();
        for &lang in langs {
            if part.script.get(lang).trim().is_empty() || (lang == Lang::En && !has_zh) {
                continue;
            }
            has_zh = true;
            let file = match part.audio.get(lang) {
                Some(file) if present.contains_key(file) => continue,
                Some(file) => file.to_owned(),
                None => part.slot.file_name(lang),
            };
            let take = Take {
                slot: part.slot.clone(),
                lang,
                name: file,
            };
            let path = lesson_dir.join(&take.name);
            if path.exists() {
                // Someone put a recording in its place: it wins, as it is.
                let bytes = std::fs::read(&path)?;
                let size = bytes.len();
                if let Err(message) = check_media(&take.name, bytes, MediaRole::Audio) {
                    return Ok(Err(problem(
                        format!("{}.{}", part.slot.field(), lang.code()),
                        message,
                    )));
                }
                used += size;
                adopted.push(take);
            } else {
                to_make.push((take, part.script.get(lang).to_owned()));
            }
        }
    }
    let mut report = LessonReport {
        name: name.to_owned(),
        made: 0,
        adopted: adopted.len(),
        encoding: None,
        audio_bytes: used,
    };
    if to_make.is_empty() && adopted.is_empty() {
        return Ok(Ok(report));
    }
    let mut speech: Vec<Pcm> = Vec::with_capacity(to_make.len());
    for (take, script) in &to_make {
        speech.push(speech::speak(script, take.lang).with_context(|| {
            format!(
                "{}: {}.{}",
                toml_path.display(),
                take.slot.field(),
                take.lang.code()
            )
        })?);
    }
    let room = LESSON_AUDIO_BUDGET.saturating_sub(used);
    let Some((encoding, files)) = encode_within(&speech, room)? else {
        let seconds: f64 = speech.iter().map(Pcm::seconds).sum();
        return Ok(Err(problem(
            "audio".into(),
            format!(
                "{seconds:.0} s of new audio do not fit in the {} KB left of the lesson's {} KB, even at the smallest setting; shorten the texts or the recordings",
                room / 1024,
                LESSON_AUDIO_BUDGET / 1024
            ),
        )));
    };
    for ((take, _), bytes) in to_make.iter().zip(&files) {
        // `create_new`: never write over a file, whoever made it.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(lesson_dir.join(&take.name))
            .with_context(|| format!("creating {}", lesson_dir.join(&take.name).display()))?;
        file.write_all(bytes)?;
        used += bytes.len();
    }
    let takes: Vec<&Take> = to_make.iter().map(|(t, _)| t).chain(&adopted).collect();
    name_in_lesson_toml(&toml_path, &takes)?;
    report.made = files.len();
    report.encoding = (!files.is_empty()).then_some(encoding);
    report.audio_bytes = used;
    Ok(Ok(report))
}

/// Encodes every recording with the best setting whose files fit in `room` bytes together.
fn encode_within(speech: &[Pcm], room: usize) -> anyhow::Result<Option<(Encoding, Vec<Vec<u8>>)>> {
    for encoding in LADDER {
        let estimate: usize = speech.iter().map(|p| encoding.estimate(p.seconds())).sum();
        if estimate > room {
            continue;
        }
        let files = speech
            .iter()
            .map(|pcm| speech::encode_mp3(pcm, encoding))
            .collect::<anyhow::Result<Vec<_>>>()?;
        if files.iter().map(Vec::len).sum::<usize>() <= room {
            return Ok(Some((encoding, files)));
        }
    }
    Ok(None)
}

/// Names each recording in `lesson.toml`, keeping the rest of the file as it was written.
fn name_in_lesson_toml(path: &Path, takes: &[&Take]) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("reading {}", path.display()))?;
    for take in takes {
        set_audio(&mut doc, take)
            .with_context(|| format!("{}: {}", path.display(), take.slot.field()))?;
    }
    std::fs::write(path, doc.to_string())?;
    Ok(())
}

fn set_audio(doc: &mut DocumentMut, take: &Take) -> anyhow::Result<()> {
    let code = take.lang.code();
    let table = match &take.slot {
        Slot::Family => doc
            .get_mut("family_message")
            .and_then(Item::as_table_like_mut)
            .context("no [family_message] table")?,
        Slot::Panel(i) => nth_table(doc.get_mut("panels"), *i)?,
        Slot::Question(i, _) => nth_table(
            doc.get_mut("quiz")
                .and_then(|quiz| quiz.as_table_like_mut())
                .and_then(|quiz| quiz.get_mut("questions")),
            *i,
        )?,
        Slot::Section(i) => {
            let article = doc
                .get_mut("article")
                .and_then(Item::as_table_like_mut)
                .context("no [article] table")?;
            let audio = audio_table(article)?;
            let list = audio
                .entry(code)
                .or_insert(value(Array::new()))
                .as_array_mut()
                .context("article audio must be a list of files")?;
            while list.len() <= *i {
                list.push("");
            }
            list.replace(*i, take.name.as_str());
            return Ok(());
        }
    };
    audio_table(table)?.insert(code, value(take.name.as_str()));
    Ok(())
}

/// The `audio` table of a part, made (inline) when missing.
fn audio_table(table: &mut dyn TableLike) -> anyhow::Result<&mut dyn TableLike> {
    table
        .entry("audio")
        .or_insert(value(InlineTable::new()))
        .as_table_like_mut()
        .context("audio must be a table such as { zh = \"file.mp3\" }")
}

/// Entry `i` of an array of tables (`[[panels]]`) or of an inline array of tables.
fn nth_table(item: Option<&mut Item>, i: usize) -> anyhow::Result<&mut dyn TableLike> {
    let item = item.context("the list is missing")?;
    if item.is_array_of_tables() {
        return item
            .as_array_of_tables_mut()
            .and_then(|tables| tables.get_mut(i))
            .map(|t| t as &mut dyn TableLike)
            .context("no such entry");
    }
    item.as_array_mut()
        .and_then(|array| array.get_mut(i))
        .and_then(|entry| entry.as_inline_table_mut())
        .map(|t| t as &mut dyn TableLike)
        .context("no such entry")
}
