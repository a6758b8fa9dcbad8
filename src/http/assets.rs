//! Static files (CSS, icons) embedded in the binary and served under content-hashed names with
//! a year-long cache, so WeChat's aggressive cache never shows an old stylesheet.

use std::collections::HashMap;

use poem::http::{HeaderValue, StatusCode, header};
use poem::web::Path;
use poem::{Request, Response, handler, web::Data};
use rust_embed::RustEmbed;
use sha2::{Digest, Sha256};

use super::AppState;
use super::encoded::Encoded;

#[derive(RustEmbed)]
#[folder = "templates/static/"]
struct Embedded;

/// Embedded files by their hashed name, and the hashed URL of each original name.
pub struct Assets {
    by_hashed_name: HashMap<String, Encoded>,
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
            // Compressed once, here; PNG is compressed already.
            let encoded = if ext == "png" {
                Encoded::plain(content_type, bytes)
            } else {
                Encoded::compress(content_type, bytes)
            };
            by_hashed_name.insert(hashed, encoded);
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
pub fn static_file(Path(name): Path<String>, state: Data<&AppState>, req: &Request) -> Response {
    match state.assets.by_hashed_name.get(&name) {
        Some(encoded) => {
            let mut response = encoded.respond(req);
            response.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            );
            response
        }
        None => Response::builder().status(StatusCode::NOT_FOUND).finish(),
    }
}
