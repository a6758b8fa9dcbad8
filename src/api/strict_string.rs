//! A JSON string that is really a string: poem-openapi's `String` turns `false` or `42` into
//! `"false"` or `"42"`, so a factory could be named "false". Every string a client sends to
//! the API is a `StrictString`, which takes only JSON strings and answers anything else with a 400.

use std::fmt;
use std::ops::Deref;

use poem_openapi::NewType;
use poem_openapi::types::{ParseError, ParseFromJSON, ParseResult};

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, NewType)]
#[oai(from_json = false)]
pub struct StrictString(pub String);

impl ParseFromJSON for StrictString {
    fn parse_from_json(value: Option<serde_json::Value>) -> ParseResult<Self> {
        match value.unwrap_or_default() {
            serde_json::Value::String(text) => Ok(StrictString(text)),
            other => Err(ParseError::expected_type(other)),
        }
    }
}

impl Deref for StrictString {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StrictString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<StrictString> for String {
    fn from(text: StrictString) -> String {
        text.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn takes_strings_only() {
        assert_eq!(
            StrictString::parse_from_json(Some(json!("工厂"))).unwrap(),
            StrictString("工厂".into())
        );
        for value in [
            json!(false),
            json!(42),
            json!(1.5),
            json!(null),
            json!([]),
            json!({}),
        ] {
            assert!(
                StrictString::parse_from_json(Some(value.clone())).is_err(),
                "{value}"
            );
        }
    }
}
