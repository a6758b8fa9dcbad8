//! Static files (CSS, icons) embedded in the binary and served under content-hashed names with
//! a year-long cache, so WeChat's aggressive cache never shows an old stylesheet.

use std::collections::HashMap;

use poem::http::{StatusCode, header};
use poem::web::Path;
use poem::{Response, handler, web::Data};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::AppState;

#[derive(RustEmbed)]
#[folder = "templates/static/"]
struct Embedded;

/// Embedded files by their hashed name, and the hashed URL of each original name.
pub struct Assets {
    by_hashed_name: HashMap<String, (&'static str, Vec<u8>)>,
    urls: HashMap<String, String>,
}

impl Assets {
    pub fn load() -> Assets {
        let mut by_hashed_name = HashMap::new();
        let mut urls = HashMap::new();
        for name in Embedded::iter() {
            let Some(file) = Embedded::get(&name) else {
                continue;
            };
            let bytes = file.data.into_owned();
            let hash = &hex::encode(Sha256::digest(&bytes))[..10];
            let (stem, ext) = name.rsplit_once('.').unwrap_or((&name, ""));
            let hashed = format!("{stem}.{hash}.{ext}");
            let content_type = match ext {
                "css" => "text/css; charset=utf-8",
                "js" => "text/javascript; charset=utf-8",
                "svg" => "image/svg+xml",
                "png" => "image/png",
                _ => "application/octet-stream",
            };
            urls.insert(name.to_string(), format!("/static/{hashed}"));
            by_hashed_name.insert(hashed, (content_type, bytes));
        }
        Assets {
            by_hashed_name,
            urls,
        }
    }

    /// The hashed URL of an embedded file, e.g. `app.css` → `/static/app.1a2b3c4d5e.css`.
    pub fn url(&self, name: &str) -> &str {
        self.urls
            .get(name)
            .map(String::as_str)
            .unwrap_or("/static/missing")
    }
}

#[handler]
pub fn static_file(Path(name): Path<String>, state: Data<&AppState>) -> Response {
    match state.assets.by_hashed_name.get(&name) {
        Some((content_type, bytes)) => Response::builder()
            .header(header::CONTENT_TYPE, *content_type)
            .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
            .body(bytes.clone()),
        None => Response::builder().status(StatusCode::NOT_FOUND).finish(),
    }
}
