//! Slugs name series and lessons in URLs and in `content/` folder names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Lowercase ASCII letters, digits and `-`, 1–64 characters, not starting or ending with `-`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    pub fn parse(raw: &str) -> Result<Slug, String> {
        let valid_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if raw.is_empty() || raw.len() > 64 {
            Err(format!("'{raw}' must be 1 to 64 characters long"))
        } else if !valid_chars || raw.starts_with('-') || raw.ends_with('-') {
            Err(format!(
                "'{raw}' may only use lowercase letters a-z, digits and '-' (not at the ends)"
            ))
        } else {
            Ok(Slug(raw.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Slug {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Slug::parse(&value)
    }
}

impl From<Slug> for String {
    fn from(slug: Slug) -> String {
        slug.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Slug;

    #[test]
    fn accepts_plain_slugs() {
        assert_eq!(
            Slug::parse("video-calls-2").unwrap().as_str(),
            "video-calls-2"
        );
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "Video",
            "a_b",
            "-a",
            "a-",
            "a/b",
            "..",
            "视频",
            &"a".repeat(65),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
