//! Draws a family card: a 750 px wide SVG (the programme's band, a picture from the lesson, the
//! key message in very large type, the lesson's title, a QR code to the family page, the
//! hotlines), rendered to PNG by resvg with the CJK font.

use std::fmt::Write as _;
use std::sync::Arc;

use base64::Engine;
use qrcode::{Color, EcLevel, QrCode};
use resvg::{tiny_skia, usvg};

use super::fonts::{FAMILY, Measure, wrap};
use crate::domain::Lang;

pub const WIDTH: u32 = 750;
const MARGIN: f32 = 40.0;
const INNER: f32 = WIDTH as f32 - 2.0 * MARGIN;
const GREEN: &str = "#06733a";
const INK: &str = "#1f2329";
const MUTED: &str = "#5c6470";

/// A picture from the lesson: a media file's bytes and type.
pub struct Picture {
    pub bytes: Arc<Vec<u8>>,
    pub content_type: String,
    pub width: u32,
    pub height: u32,
}

/// Everything a card shows, already in its language.
pub struct Card {
    pub lang: Lang,
    pub band: String,
    pub message: String,
    pub title: String,
    pub picture: Option<Picture>,
    /// What the QR code opens: the family page.
    pub qr_url: String,
    pub scan: String,
    pub hotlines: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Lines of text in the card font, at `size` px, starting with the first baseline at `y`;
/// returns where the block ends.
fn text_block(
    svg: &mut String,
    measure: &Measure,
    text: &str,
    (x, y, width): (f32, f32, f32),
    size: f32,
    style: &str,
) -> f32 {
    let line_height = size * 1.38;
    let lines = wrap(text, measure, width / size);
    for (i, line) in lines.iter().enumerate() {
        let _ = write!(
            svg,
            r#"<text x="{x}" y="{:.1}" font-size="{size}" {style}>{}</text>"#,
            y + i as f32 * line_height,
            escape(line)
        );
    }
    y + (lines.len().max(1) as f32 - 1.0) * line_height + size * 0.4
}

/// The QR code as one path of dark modules on a white square with a quiet zone.
fn qr(svg: &mut String, url: &str, x: f32, y: f32, size: f32) -> anyhow::Result<()> {
    let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M)?;
    let modules = code.width();
    let quiet = 4;
    // Whole pixels per module keep the edges sharp for a phone's camera.
    let module = (size / (modules + 2 * quiet) as f32).floor().max(1.0);
    let side = module * (modules + 2 * quiet) as f32;
    let _ = write!(
        svg,
        r##"<rect x="{x}" y="{y}" width="{side}" height="{side}" fill="#fff"/><path fill="#000" d=""##
    );
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == Color::Dark {
            let (col, row) = (i % modules, i / modules);
            let _ = write!(
                svg,
                "M{} {}h{module}v{module}h-{module} z",
                x + (col + quiet) as f32 * module,
                y + (row + quiet) as f32 * module
            );
        }
    }
    svg.push_str("\"/>");
    Ok(())
}

/// A simple drawing of a home, for lessons without pictures (articles).
fn home_drawing(x: f32, y: f32) -> String {
    format!(
        r##"<g transform="translate({x} {y})"><rect width="{INNER}" height="260" rx="20" fill="#e7f5ec"/><path d="M235 130 L335 55 L435 130 V225 H235 Z" fill="#fff" stroke="{GREEN}" stroke-width="8" stroke-linejoin="round"/><rect x="310" y="160" width="50" height="65" fill="{GREEN}"/><circle cx="170" cy="170" r="22" fill="#f0b84a"/><rect x="152" y="195" width="36" height="45" rx="12" fill="#f0b84a"/><circle cx="510" cy="160" r="26" fill="#c9826b"/><rect x="489" y="188" width="42" height="52" rx="14" fill="#c9826b"/><path d="M335 40 c-8 -14 -28 -8 -22 8 l22 20 l22 -20 c6 -16 -14 -22 -22 -8z" fill="#e25c5c"/></g>"##
    )
}

/// The card as SVG, and its height.
pub fn svg(card: &Card, measure: &Measure) -> anyhow::Result<(String, u32)> {
    let mut body = String::new();
    let bold = format!(r#"font-family="{FAMILY}" font-weight="700""#);
    let regular = format!(r#"font-family="{FAMILY}" font-weight="400""#);
    // The programme's band.
    let _ = write!(
        body,
        r##"<rect width="{WIDTH}" height="112" fill="{GREEN}"/><text x="{MARGIN}" y="70" font-size="34" fill="#fff" {bold}>{}</text>"##,
        escape(&card.band)
    );
    let mut y = 144.0;
    // A picture from the lesson, cropped to at most 460 px high.
    match &card.picture {
        Some(picture) => {
            let height = (INNER * picture.height as f32 / picture.width.max(1) as f32)
                .clamp(200.0, 460.0)
                .round();
            let data = base64::engine::general_purpose::STANDARD.encode(picture.bytes.as_slice());
            let _ = write!(
                body,
                r#"<clipPath id="pic"><rect x="{MARGIN}" y="{y}" width="{INNER}" height="{height}" rx="20"/></clipPath><image x="{MARGIN}" y="{y}" width="{INNER}" height="{height}" preserveAspectRatio="xMidYMid slice" clip-path="url(#pic)" href="data:{};base64,{data}"/>"#,
                picture.content_type.split(';').next().unwrap_or_default()
            );
            y += height;
        }
        None => {
            body.push_str(&home_drawing(MARGIN, y));
            y += 260.0;
        }
    }
    // The key message, as large as a grandparent's eyes need.
    let size = match card.lang {
        Lang::Zh => 58.0,
        Lang::En => 46.0,
    };
    y += 40.0 + size;
    y = text_block(
        &mut body,
        measure,
        &card.message,
        (MARGIN, y, INNER),
        size,
        &format!(r#"fill="{INK}" {bold}"#),
    );
    y += 34.0 + 28.0;
    y = text_block(
        &mut body,
        measure,
        &card.title,
        (MARGIN, y, INNER),
        28.0,
        &format!(r#"fill="{MUTED}" {regular}"#),
    );
    y += 36.0;
    let _ = write!(
        body,
        r##"<rect x="{MARGIN}" y="{y}" width="{INNER}" height="3" fill="#e3e6ea"/>"##
    );
    y += 36.0;
    // The QR code to the family page, with what to do and whom to call beside it.
    let qr_size = 250.0;
    qr(&mut body, &card.qr_url, MARGIN, y, qr_size)?;
    let text_x = MARGIN + qr_size + 30.0;
    let text_width = WIDTH as f32 - MARGIN - text_x;
    let mut right = text_block(
        &mut body,
        measure,
        &card.scan,
        (text_x, y + 44.0, text_width),
        34.0,
        &format!(r#"fill="{GREEN}" {bold}"#),
    );
    right = text_block(
        &mut body,
        measure,
        &card.hotlines,
        (text_x, right + 50.0, text_width),
        28.0,
        &format!(r#"fill="{INK}" {regular}"#),
    );
    let height = (y + qr_size).max(right) + MARGIN;
    let height = height.ceil() as u32;
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}"><rect width="{WIDTH}" height="{height}" fill="#fff"/>{body}</svg>"##
    );
    Ok((svg, height))
}

/// Renders the card to PNG. CPU work: call it off the async runtime.
pub fn png(card: &Card, fonts: &Arc<fontdb::Database>) -> anyhow::Result<Vec<u8>> {
    let all_text = format!(
        "{}{}{}{}{}",
        card.band, card.message, card.title, card.scan, card.hotlines
    );
    let measure = Measure::new(fonts, &all_text)?;
    let (svg, height) = svg(card, &measure)?;
    let options = usvg::Options {
        fontdb: fonts.clone(),
        font_family: FAMILY.to_owned(),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(&svg, &options)?;
    let mut pixmap = tiny_skia::Pixmap::new(WIDTH, height)
        .ok_or_else(|| anyhow::anyhow!("a card of {WIDTH}×{height} px"))?;
    resvg::render(
        &tree,
        tiny_skia::Transform::identity(),
        &mut pixmap.as_mut(),
    );
    // The card is opaque: RGB compressed hard is much smaller than tiny-skia's RGBA.
    let rgb: Vec<u8> = pixmap
        .pixels()
        .iter()
        .flat_map(|p| [p.red(), p.green(), p.blue()])
        .collect();
    let mut png = Vec::new();
    image::ImageEncoder::write_image(
        image::codecs::png::PngEncoder::new_with_quality(
            &mut png,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::Adaptive,
        ),
        &rgb,
        WIDTH,
        height,
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(png)
}
