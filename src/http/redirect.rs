//! Where a redirect may lead when the destination comes from the request (`?next=` on the
//! language switch and the staff sign-in): a path on this site, never another host however it
//! is disguised.

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};

/// What a `Location` path keeps encoded: controls, spaces, quotes, angle brackets and anything
/// beyond ASCII (`%` stays, so sequences already encoded pass through unchanged).
const LOCATION: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'|')
    .add(b'^');

/// What a query value must encode so the value stays one value.
const QUERY_VALUE: &AsciiSet = &LOCATION.add(b'&').add(b'?').add(b'#').add(b'+').add(b'%');

/// `raw` as a path on this site, ready for a `Location` header, or `None` when it could lead
/// elsewhere: anything not starting with a single `/`, a backslash or a control character
/// anywhere (browsers drop tabs and newlines and read `\` as `/`, so `/\t/evil.example`
/// becomes `//evil.example`), or any of these hidden behind percent-encoding, however often
/// encoded.
pub fn safe_local_path(raw: &str) -> Option<String> {
    let mut layer = raw.to_owned();
    // Each decoding is checked, so a proxy or browser that decodes again finds nothing either.
    for _ in 0..4 {
        if !looks_local(&layer) {
            return None;
        }
        let decoded = percent_decode_str(&layer).decode_utf8().ok()?.into_owned();
        if decoded == layer {
            return Some(utf8_percent_encode(raw, LOCATION).to_string());
        }
        layer = decoded;
    }
    // Encoded more often than any honest link is.
    None
}

fn looks_local(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !path.chars().any(|c| c == '\\' || c.is_control())
}

/// `path` as the value of a query parameter (such as `?next=`).
pub fn query_value(path: &str) -> String {
    utf8_percent_encode(path, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_local_paths() {
        assert_eq!(safe_local_path("/").as_deref(), Some("/"));
        assert_eq!(
            safe_local_path("/s/parents/praise?lang=en").as_deref(),
            Some("/s/parents/praise?lang=en")
        );
        assert_eq!(
            safe_local_path("/s/父母").as_deref(),
            Some("/s/%E7%88%B6%E6%AF%8D")
        );
        assert_eq!(safe_local_path("/a%20b").as_deref(), Some("/a%20b"));
    }

    #[test]
    fn refuses_everything_that_leaves_the_site() {
        for raw in [
            "",
            "evil.example",
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example/",
            "/\n/x",
            "/\r\n/x",
            "/%09/evil.example/",
            "/%0a/x",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5Cevil.example",
            "/%252F/evil.example",
            "/%25252F/evil.example",
            "/%2509/evil.example",
            "/ok\u{7f}",
            "/%ff",
        ] {
            assert_eq!(safe_local_path(raw), None, "{raw:?}");
        }
    }

    #[test]
    fn encodes_query_values() {
        assert_eq!(query_value("/studio?x=1&y"), "/studio%3Fx=1%26y");
    }
}
