//! The card's font: Noto Sans CJK SC from a font folder (Debian `fonts-noto-cjk`), memory-mapped
//! once per process; and text measured with its glyph widths and wrapped into lines the way
//! Chinese and English each break.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};

/// The family every text on the card is set in: it has Chinese and Latin letters.
pub const FAMILY: &str = "Noto Sans CJK SC";

/// Loads the fonts in `dir` (memory-mapped, so they cost address space, not memory) and checks
/// that the card's font is among them.
pub fn load(dir: &Path) -> anyhow::Result<Arc<fontdb::Database>> {
    if !dir.is_dir() {
        bail!(
            "the card font folder {} does not exist: install fonts-noto-cjk or set HOMEWARD_CARD_FONTS",
            dir.display()
        );
    }
    let mut db = fontdb::Database::new();
    db.load_fonts_dir(dir);
    if bold_face(&db).is_none() {
        bail!(
            "no {FAMILY} font in {}: install fonts-noto-cjk or set HOMEWARD_CARD_FONTS",
            dir.display()
        );
    }
    Ok(Arc::new(db))
}

fn bold_face(db: &fontdb::Database) -> Option<fontdb::ID> {
    db.query(&fontdb::Query {
        families: &[fontdb::Family::Name(FAMILY)],
        weight: fontdb::Weight::BOLD,
        ..Default::default()
    })
}

/// Measures text in the bold card font: advance widths in ems, per character.
pub struct Measure {
    /// Width in ems of each character seen, looked up once.
    widths: std::collections::HashMap<char, f32>,
}

impl Measure {
    pub fn new(db: &fontdb::Database, text: &str) -> anyhow::Result<Measure> {
        let id = bold_face(db).context("the card font went away")?;
        let widths = db
            .with_face_data(id, |data, index| {
                let face = ttf_parser::Face::parse(data, index).ok()?;
                let em = f32::from(face.units_per_em());
                Some(
                    text.chars()
                        .map(|c| {
                            let advance = face
                                .glyph_index(c)
                                .and_then(|g| face.glyph_hor_advance(g))
                                .map(|a| f32::from(a) / em)
                                .unwrap_or(1.0);
                            (c, advance)
                        })
                        .collect(),
                )
            })
            .flatten()
            .context("reading the card font")?;
        Ok(Measure { widths })
    }

    /// Width of `text` in ems.
    pub fn width(&self, text: &str) -> f32 {
        text.chars()
            .map(|c| self.widths.get(&c).copied().unwrap_or(1.0))
            .sum()
    }
}

/// Punctuation that may not begin a line (it stays with the text before it).
const NO_LINE_START: &str = "，。、；：？！）」』”’》〉…·,.;:?!)]}%";
/// Punctuation that may not end a line (it goes with the text after it).
const NO_LINE_END: &str = "（「『“‘《〈([{";

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{2e80}'..='\u{9fff}' | '\u{f900}'..='\u{faff}' | '\u{ff00}'..='\u{ffef}')
}

/// The pieces a line may break between: each Chinese character on its own, runs of Latin
/// letters and digits whole (with the space before them), punctuation kept with its neighbour.
fn pieces(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut glue_next = false;
    for c in text.chars() {
        let joins_previous = NO_LINE_START.contains(c)
            || (!is_cjk(c)
                && !c.is_whitespace()
                && pieces
                    .last()
                    .and_then(|p| p.chars().last())
                    .is_some_and(|last| !is_cjk(last) && !last.is_whitespace()));
        match pieces.last_mut() {
            Some(last) if joins_previous || glue_next => last.push(c),
            _ => pieces.push(c.to_string()),
        }
        glue_next = NO_LINE_END.contains(c) || c.is_whitespace();
    }
    pieces
}

/// Breaks `text` into lines at most `max_em` ems wide (a single piece wider than that gets a
/// line of its own).
pub fn wrap(text: &str, measure: &Measure, max_em: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces(text.trim()) {
        let candidate = format!("{line}{piece}");
        if !line.is_empty() && measure.width(candidate.trim_end()) > max_em {
            lines.push(line.trim_end().to_owned());
            line = piece.trim_start().to_owned();
        } else {
            line = candidate;
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_owned());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed() -> Measure {
        // Chinese one em, everything else half.
        let text = "爸妈每周固定时间打视频。到候请把手机给孩子，让说今天的事“”abcdefghijklmnopqrstuvwxyz 0123456789,.";
        Measure {
            widths: text
                .chars()
                .map(|c| (c, if is_cjk(c) { 1.0 } else { 0.5 }))
                .collect(),
        }
    }

    #[test]
    fn chinese_breaks_between_characters_but_never_before_a_comma() {
        let lines = wrap(
            "爸爸妈妈每周固定时间打视频。到时候请把手机给孩子",
            &fixed(),
            7.0,
        );
        assert_eq!(lines[0], "爸爸妈妈每周固");
        assert_eq!(lines[1], "定时间打视频。", "the stop stays on its line");
        for line in &lines {
            assert!(!line.starts_with('。') && !line.starts_with('，'));
        }
        let lines = wrap("请把手机给孩子，让孩子说", &fixed(), 7.0);
        assert_eq!(lines, ["请把手机给孩", "子，让孩子说"]);
    }

    #[test]
    fn english_breaks_between_words_and_numbers_stay_whole() {
        let lines = wrap("call 110 or 12355 to get help today", &fixed(), 8.0);
        assert_eq!(lines, ["call 110 or", "12355 to get", "help today"]);
        assert_eq!(wrap("打 110 求助", &fixed(), 3.0), ["打 110", "求助"]);
    }
}
