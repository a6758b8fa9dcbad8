//! Response bodies compressed once and kept: gzip and brotli beside the identity bytes, one
//! chosen per request from `Accept-Encoding` (always with `Vary: Accept-Encoding`). Only what is
//! kept and holds no secret is compressed — static files, the OpenAPI document and lesson pages
//! as anyone sees them; never a page with a learner's CSRF token (BREACH), never media (served
//! with byte ranges), and never per request.

use std::collections::HashMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use poem::http::header;
use poem::{Request, Response};

/// Smaller bodies go out as they are: compressing them saves less than it costs.
const MIN_SIZE: usize = 128;
/// Kept bodies, in bytes at most (all encodings); past this the memo starts again empty.
const MEMO_BYTES: usize = 16 * 1024 * 1024;
/// How long a kept page lives: as long as the shared cache keeps pages.
const MEMO_TTL: Duration = Duration::from_secs(3600);

/// One body in every encoding worth sending.
pub struct Encoded {
    pub content_type: &'static str,
    pub identity: Bytes,
    gzip: Option<Bytes>,
    br: Option<Bytes>,
}

impl Encoded {
    /// A body sent only as it is (images, and anything too small to gain).
    pub fn plain(content_type: &'static str, body: Vec<u8>) -> Encoded {
        Encoded {
            content_type,
            identity: Bytes::from(body),
            gzip: None,
            br: None,
        }
    }

    /// Compresses `body` with gzip and brotli, keeping each only when it is smaller. Counts the
    /// compression in `compressions_total`.
    pub fn compress(content_type: &'static str, body: Vec<u8>) -> Encoded {
        if body.len() < MIN_SIZE {
            return Encoded::plain(content_type, body);
        }
        metrics::counter!("compressions_total").increment(1);
        let smaller = |encoded: Vec<u8>| (encoded.len() < body.len()).then(|| Bytes::from(encoded));
        let gzip = gzip(&body).and_then(smaller);
        let br = brotli(&body).and_then(smaller);
        Encoded {
            content_type,
            identity: Bytes::from(body),
            gzip,
            br,
        }
    }

    fn size(&self) -> usize {
        self.identity.len()
            + self.gzip.as_ref().map_or(0, Bytes::len)
            + self.br.as_ref().map_or(0, Bytes::len)
    }

    /// The answer to `req`: the encoding it prefers among those kept (brotli on a tie), the
    /// shared bytes themselves (no copy).
    pub fn respond(&self, req: &Request) -> Response {
        let accept = req.header(header::ACCEPT_ENCODING).unwrap_or_default();
        let br = self.br.as_ref().map(|b| (accepted(accept, "br"), "br", b));
        let gzip = self
            .gzip
            .as_ref()
            .map(|b| (accepted(accept, "gzip"), "gzip", b));
        let chosen = match (br, gzip) {
            (Some(b), Some(g)) => Some(if b.0 >= g.0 { b } else { g }),
            (b, g) => b.or(g),
        }
        .filter(|(q, _, _)| *q > 0.0);
        let mut response = Response::builder().header(header::CONTENT_TYPE, self.content_type);
        if self.br.is_some() || self.gzip.is_some() {
            response = response.header(header::VARY, "accept-encoding");
        }
        match chosen {
            Some((_, coding, body)) => response
                .header(header::CONTENT_ENCODING, coding)
                .body(body.clone()),
            None => response.body(self.identity.clone()),
        }
    }
}

/// The quality value `Accept-Encoding` gives `coding` (0 when it is not accepted).
fn accepted(accept: &str, coding: &str) -> f32 {
    let mut any = 0.0;
    for part in accept.split(',') {
        let mut fields = part.split(';');
        let name = fields.next().unwrap_or_default().trim();
        let q = fields
            .find_map(|f| f.trim().strip_prefix("q=").map(str::trim))
            .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        if name.eq_ignore_ascii_case(coding) {
            return q;
        }
        if name == "*" {
            any = q;
        }
    }
    any
}

fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

fn brotli(body: &[u8]) -> Option<Vec<u8>> {
    let quality = if body.len() > 64 * 1024 { 9 } else { 11 };
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, quality, 22);
        writer.write_all(body).ok()?;
        writer.flush().ok()?;
    }
    Some(out)
}

/// A kept body and until when it is kept.
type Kept = (Arc<Encoded>, Instant);

/// Bodies compressed once per instance and kept by key (the key carries the content
/// generation, so a change is a new key).
#[derive(Default)]
pub struct EncodedMemo {
    entries: Mutex<(usize, HashMap<String, Kept>)>,
    compressions: AtomicU64,
}

impl EncodedMemo {
    pub fn get(&self, key: &str) -> Option<Arc<Encoded>> {
        let entries = self.entries.lock().expect("encoded memo lock");
        entries
            .1
            .get(key)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(encoded, _)| encoded.clone())
    }

    /// The kept body for `key`, or `body` compressed (off the async threads), kept and returned.
    pub async fn get_or_compress(
        &self,
        key: &str,
        content_type: &'static str,
        body: Vec<u8>,
    ) -> Arc<Encoded> {
        if let Some(found) = self.get(key) {
            return found;
        }
        let encoded = match tokio::task::spawn_blocking(move || {
            Encoded::compress(content_type, body)
        })
        .await
        {
            Ok(encoded) => Arc::new(encoded),
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
        self.compressions.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.entries.lock().expect("encoded memo lock");
        if entries.0 + encoded.size() > MEMO_BYTES {
            entries.1.clear();
            entries.0 = 0;
        }
        entries.0 += encoded.size();
        entries
            .1
            .insert(key.to_owned(), (encoded.clone(), Instant::now() + MEMO_TTL));
        encoded
    }

    /// How many bodies this instance has compressed for the memo.
    pub fn compressions(&self) -> u64 {
        self.compressions.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::accepted;

    #[test]
    fn reads_quality_values() {
        assert_eq!(accepted("gzip, deflate, br", "br"), 1.0);
        assert_eq!(accepted("gzip;q=0.5, br;q=0", "br"), 0.0);
        assert_eq!(accepted("gzip;q=0.5, br;q=0", "gzip"), 0.5);
        assert_eq!(accepted("*;q=0.2", "gzip"), 0.2);
        assert_eq!(accepted("identity", "gzip"), 0.0);
        assert_eq!(accepted("", "gzip"), 0.0);
    }
}
