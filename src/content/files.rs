//! File access for the loader: listing folders, reading media with type and size checks.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// A media file of a lesson, read and checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MediaFile {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

/// What a media field may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MediaRole {
    Image,
    Video,
    Captions,
    Markdown,
    /// Narration: MP3, or AAC in an MP4 (.m4a), as a phone records it.
    Audio,
}

impl MediaRole {
    fn max_bytes(self) -> usize {
        match self {
            MediaRole::Image => 300 * 1024,
            MediaRole::Video => 20 * 1024 * 1024,
            MediaRole::Captions => 100 * 1024,
            MediaRole::Markdown => 64 * 1024,
            MediaRole::Audio => crate::domain::narration::LESSON_AUDIO_BUDGET,
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Subfolders of `dir` in name order, skipping ones starting with `.` or `_`.
pub fn sorted_subdirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let read = std::fs::read_dir(dir).map_err(|e| format!("cannot read folder: {e}"))?;
    let mut dirs: Vec<PathBuf> = read
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            !name.starts_with('.') && !name.starts_with('_')
        })
        .map(|entry| entry.path())
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// Reads a media file named in a lesson and checks its name, type and size.
pub fn read_media(lesson_dir: &Path, name: &str, role: MediaRole) -> Result<MediaFile, String> {
    check_name(name)?;
    let bytes =
        std::fs::read(lesson_dir.join(name)).map_err(|_| format!("file '{name}' is missing"))?;
    check_media(name, bytes, role)
}

pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let plain_name = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if plain_name {
        Ok(())
    } else {
        Err(format!(
            "'{name}' must be a plain file name in the lesson folder (letters, digits, . - _)"
        ))
    }
}

/// Checks a media file's name, type (by its name and its first bytes) and size.
pub fn check_media(name: &str, bytes: Vec<u8>, role: MediaRole) -> Result<MediaFile, String> {
    check_name(name)?;
    let extension = name
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let content_type = match (role, extension.as_str()) {
        (MediaRole::Image, "svg") => "image/svg+xml",
        (MediaRole::Image, "png") => "image/png",
        (MediaRole::Image, "jpg" | "jpeg") => "image/jpeg",
        (MediaRole::Image, "webp") => "image/webp",
        (MediaRole::Video, "mp4") => "video/mp4",
        (MediaRole::Captions, "vtt") => "text/vtt; charset=utf-8",
        (MediaRole::Markdown, "md") => "text/markdown; charset=utf-8",
        (MediaRole::Audio, "mp3") => "audio/mpeg",
        (MediaRole::Audio, "m4a") => "audio/mp4",
        _ => {
            return Err(format!(
                "'{name}' has a file type not allowed here ({role:?})"
            ));
        }
    };
    if bytes.len() > role.max_bytes() {
        return Err(format!(
            "'{name}' is {} KB; the limit is {} KB",
            bytes.len() / 1024,
            role.max_bytes() / 1024
        ));
    }
    if !looks_like(content_type, &bytes) {
        return Err(format!("'{name}' is not a valid {content_type} file"));
    }
    Ok(MediaFile {
        name: name.to_owned(),
        content_type,
        sha256: sha256_hex(&bytes),
        bytes,
    })
}

fn looks_like(content_type: &str, bytes: &[u8]) -> bool {
    let text_start = || {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]);
        text.trim_start_matches('\u{feff}').trim_start().to_owned()
    };
    match content_type {
        "image/png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "image/jpeg" => bytes.starts_with(&[0xff, 0xd8, 0xff]),
        "image/webp" => bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP",
        "image/svg+xml" => std::str::from_utf8(bytes).is_ok_and(|s| s.contains("<svg")),
        "video/mp4" | "audio/mp4" => bytes.len() > 12 && &bytes[4..8] == b"ftyp",
        // An ID3 tag, or straight into an MPEG audio frame (11 sync bits).
        "audio/mpeg" => {
            bytes.starts_with(b"ID3")
                || (bytes.len() > 4 && bytes[0] == 0xff && bytes[1] & 0xe0 == 0xe0)
        }
        "text/vtt; charset=utf-8" => {
            std::str::from_utf8(bytes).is_ok() && text_start().starts_with("WEBVTT")
        }
        _ => std::str::from_utf8(bytes).is_ok(),
    }
}
