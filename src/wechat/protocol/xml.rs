//! Reading WeChat's XML safely: a size cap, no DOCTYPE or entity declarations (refused before
//! the parser sees the body), only the five predefined entities and character references, and
//! the root `<xml>`'s direct children as name → text.

use std::collections::BTreeMap;

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;
use quick_xml::reader::Reader;

/// The largest body the callback accepts; WeChat's messages are a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Deeper nesting than WeChat ever sends is refused rather than walked.
const MAX_DEPTH: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the body is larger than {MAX_BODY_BYTES} bytes")]
    TooLarge,
    #[error("the body declares a DOCTYPE or entities, which are not accepted")]
    Declaration,
    #[error("the body is not well-formed XML")]
    Malformed,
    #[error("the root element must be <xml>")]
    Root,
    #[error("the body nests elements too deeply")]
    TooDeep,
    #[error("the element <{0}> appears more than once")]
    Duplicate(String),
    #[error("the entity reference &{0}; is not one XML predefines")]
    UnknownEntity(String),
    #[error("the required element <{0}> is missing or empty")]
    Missing(&'static str),
    #[error("the element <{0}> holds an invalid value")]
    Invalid(&'static str),
}

/// Whether the body holds `<!DOCTYPE` or `<!ENTITY` outside CDATA sections (case-insensitive).
/// Checked on the raw text, before any parsing, so no parser ever sees a DTD.
pub fn has_declarations(body: &str) -> bool {
    let mut rest = body;
    while let Some(at) = rest.find("<!") {
        let after = &rest[at + 2..];
        if let Some(cdata) = after.strip_prefix("[CDATA[") {
            match cdata.find("]]>") {
                Some(end) => {
                    rest = &cdata[end + 3..];
                    continue;
                }
                // An unterminated CDATA section is malformed; the parser will say so.
                None => return false,
            }
        }
        let head: String = after
            .chars()
            .take(7)
            .collect::<String>()
            .to_ascii_uppercase();
        if head.starts_with("DOCTYPE") || head.starts_with("ENTITY") {
            return true;
        }
        rest = after;
    }
    false
}

/// The direct children of the root `<xml>` element that hold text (CDATA or escaped),
/// by name. Elements with children of their own (WeChat's `ScanCodeInfo`, a reply's
/// `Articles`) are skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    values: BTreeMap<String, String>,
}

impl Fields {
    /// The element's text, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// The element's text, required and non-empty.
    pub fn required(&self, name: &'static str) -> Result<&str, XmlError> {
        match self.get(name) {
            Some(value) if !value.trim().is_empty() => Ok(value),
            _ => Err(XmlError::Missing(name)),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

/// Parses a body into its fields, refusing what the module's rules refuse.
pub fn parse_fields(body: &str) -> Result<Fields, XmlError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(XmlError::TooLarge);
    }
    if has_declarations(body) {
        return Err(XmlError::Declaration);
    }
    let mut reader = Reader::from_str(body);
    let mut fields = Fields::default();
    // Names of the open elements; [0] is the root.
    let mut open: Vec<String> = Vec::new();
    // The direct child being read: its name, its text so far, and whether it has children.
    let mut current: Option<(String, String, bool)> = None;
    let mut seen_root = false;

    loop {
        let event = reader.read_event().map_err(|_| XmlError::Malformed)?;
        match event {
            Event::DocType(_) => return Err(XmlError::Declaration),
            Event::Start(start) => {
                let name = start.name().into_inner().to_owned();
                if open.is_empty() {
                    if seen_root || name != "xml" {
                        return Err(XmlError::Root);
                    }
                    seen_root = true;
                } else if open.len() == 1 {
                    current = Some((name.clone(), String::new(), false));
                } else if let Some(child) = current.as_mut() {
                    child.2 = true;
                }
                open.push(name);
                if open.len() > MAX_DEPTH {
                    return Err(XmlError::TooDeep);
                }
            }
            Event::Empty(start) => {
                let name = start.name().into_inner().to_owned();
                match open.len() {
                    0 => {
                        if seen_root || name != "xml" {
                            return Err(XmlError::Root);
                        }
                        seen_root = true;
                    }
                    1 => insert(&mut fields, name, String::new())?,
                    _ => {
                        if let Some(child) = current.as_mut() {
                            child.2 = true;
                        }
                    }
                }
            }
            Event::End(_) => {
                open.pop();
                if open.len() == 1
                    && let Some((name, text, nested)) = current.take()
                    && !nested
                {
                    insert(&mut fields, name, text)?;
                }
            }
            Event::Text(text) => {
                if open.len() == 2
                    && let Some(child) = current.as_mut()
                {
                    child.1.push_str(&text.xml10_content());
                } else if open.is_empty() && !text.trim().is_empty() {
                    return Err(XmlError::Malformed);
                }
            }
            Event::CData(data) => {
                if open.len() == 2
                    && let Some(child) = current.as_mut()
                {
                    child.1.push_str(&data.into_inner());
                } else if open.is_empty() {
                    return Err(XmlError::Malformed);
                }
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => resolve_predefined_entity(&reference)
                        .ok_or_else(|| XmlError::UnknownEntity(reference.to_string()))?
                        .to_owned(),
                    Err(_) => return Err(XmlError::Malformed),
                };
                if open.len() == 2
                    && let Some(child) = current.as_mut()
                {
                    child.1.push_str(&resolved);
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !seen_root || !open.is_empty() {
        return Err(XmlError::Malformed);
    }
    Ok(fields)
}

fn insert(fields: &mut Fields, name: String, text: String) -> Result<(), XmlError> {
    if fields.values.contains_key(&name) {
        return Err(XmlError::Duplicate(name));
    }
    fields.values.insert(name, text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdata_escaped_text_and_empty_elements() {
        let fields = parse_fields(
            "<?xml version=\"1.0\"?>\n<xml>\n <ToUserName><![CDATA[gh_1]]></ToUserName>\n \
             <CreateTime>1348831860</CreateTime><Content><![CDATA[a]]]]><![CDATA[>b & <c>]]></Content>\
             <Esc>x &amp; y &lt;z&gt; &#20320;&#x597D;</Esc><EventKey/><!-- note --></xml>",
        )
        .unwrap();
        assert_eq!(fields.get("ToUserName"), Some("gh_1"));
        assert_eq!(fields.get("CreateTime"), Some("1348831860"));
        assert_eq!(fields.get("Content"), Some("a]]>b & <c>"));
        assert_eq!(fields.get("Esc"), Some("x & y <z> 你好"));
        assert_eq!(fields.get("EventKey"), Some(""));
        assert_eq!(
            fields.required("EventKey"),
            Err(XmlError::Missing("EventKey"))
        );
        assert_eq!(fields.get("Missing"), None);
    }

    #[test]
    fn nested_elements_are_skipped_not_flattened() {
        let fields = parse_fields(
            "<xml><Event><![CDATA[scancode_push]]></Event><ScanCodeInfo><ScanType>qrcode</ScanType>\
             <ScanResult>1</ScanResult></ScanCodeInfo></xml>",
        )
        .unwrap();
        assert_eq!(fields.names().collect::<Vec<_>>(), vec!["Event"]);
    }

    #[test]
    fn doctype_and_entity_declarations_are_refused_before_parsing() {
        let billion_laughs = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">\
            <!ENTITY lol2 \"&lol;&lol;&lol;\">]><xml><Content>&lol2;</Content></xml>";
        assert_eq!(parse_fields(billion_laughs), Err(XmlError::Declaration));
        let xxe =
            "<!doctype xml [<!entity xxe SYSTEM \"file:///etc/passwd\">]><xml><A>&xxe;</A></xml>";
        assert_eq!(parse_fields(xxe), Err(XmlError::Declaration));
        assert_eq!(
            parse_fields("<xml><A>1</A></xml><!ENTITY x \"y\">"),
            Err(XmlError::Declaration)
        );
        // The same words inside a follower's text are only text.
        let text = parse_fields("<xml><Content><![CDATA[<!DOCTYPE is fine here]]></Content></xml>")
            .unwrap();
        assert_eq!(text.get("Content"), Some("<!DOCTYPE is fine here"));
    }

    #[test]
    fn undeclared_entities_are_refused() {
        assert_eq!(
            parse_fields("<xml><A>&nbsp;</A></xml>"),
            Err(XmlError::UnknownEntity("nbsp".into()))
        );
    }

    #[test]
    fn malformed_and_odd_documents_are_refused() {
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(10), "</a>".repeat(10));
        let cases: Vec<(&str, XmlError)> = vec![
            ("", XmlError::Malformed),
            ("plain text", XmlError::Malformed),
            ("<xml><A>1</A>", XmlError::Malformed),
            ("<xml><A>1</B></xml>", XmlError::Malformed),
            ("<root><A>1</A></root>", XmlError::Root),
            ("<xml/><xml/>", XmlError::Root),
            (
                "<xml><A>1</A><A>2</A></xml>",
                XmlError::Duplicate("A".into()),
            ),
            (&deep, XmlError::TooDeep),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_fields(body), Err(expected), "{body}");
        }
        let big = format!("<xml><A>{}</A></xml>", "x".repeat(MAX_BODY_BYTES));
        assert_eq!(parse_fields(&big), Err(XmlError::TooLarge));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_body_is_parsed_or_refused_without_panicking(body in ".{0,400}") {
            let _ = parse_fields(&body);
        }

        #[test]
        fn any_text_in_cdata_reads_back_unchanged(text in "[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\r]{0,200}") {
            let sections: String = quick_xml::events::BytesCData::escaped(&text)
                .map(|c| format!("<![CDATA[{}]]>", c.into_inner()))
                .collect();
            let fields = parse_fields(&format!("<xml><Content>{sections}</Content></xml>")).unwrap();
            prop_assert_eq!(fields.get("Content"), Some(text.as_str()));
        }
    }
}
