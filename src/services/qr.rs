//! QR codes for join URLs, rendered off the async runtime and kept once rendered.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::{Arc, Mutex};

use qrcode::{EcLevel, QrCode};

use crate::settings::Settings;

/// What a code is rendered as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QrFormat {
    Png(u32),
    Svg,
}

pub const MIN_PNG_SIZE: u32 = 128;
pub const MAX_PNG_SIZE: u32 = 2048;
pub const DEFAULT_PNG_SIZE: u32 = 512;

/// Rendered codes by (text, format). Bounded: emptied when it holds too many.
#[derive(Default)]
pub struct QrMemo(Mutex<HashMap<QrKey, Arc<Vec<u8>>>>);

type QrKey = (String, QrFormat);

const MEMO_ENTRIES: usize = 2000;

/// The web join link of an enrollment code: what its QR code and poster point at.
pub fn join_url(settings: &Settings, token: &str) -> String {
    format!("{}/join/{}", settings.public_url(), token)
}

/// Renders `text` (a join URL) with error correction M and a 4-module quiet zone.
pub fn render(text: &str, format: QrFormat) -> anyhow::Result<Vec<u8>> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    match format {
        QrFormat::Png(size) => {
            let image = code
                .render::<image::Luma<u8>>()
                .quiet_zone(true)
                .min_dimensions(size, size)
                .build();
            let mut png = Vec::new();
            image::DynamicImage::ImageLuma8(image)
                .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)?;
            Ok(png)
        }
        QrFormat::Svg => Ok(code
            .render::<qrcode::render::svg::Color<'_>>()
            .quiet_zone(true)
            .min_dimensions(256, 256)
            .build()
            .into_bytes()),
    }
}

/// The rendered code, from memory or rendered on a blocking thread.
pub async fn cached(memo: &QrMemo, text: &str, format: QrFormat) -> anyhow::Result<Arc<Vec<u8>>> {
    let key = (text.to_owned(), format);
    if let Some(bytes) = memo.0.lock().expect("qr memo lock").get(&key) {
        return Ok(bytes.clone());
    }
    let owned = text.to_owned();
    let bytes = Arc::new(tokio::task::spawn_blocking(move || render(&owned, format)).await??);
    let mut map = memo.0.lock().expect("qr memo lock");
    if map.len() >= MEMO_ENTRIES {
        map.clear();
    }
    map.insert(key, bytes.clone());
    Ok(bytes)
}
