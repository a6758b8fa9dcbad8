//! The layering of `src/`: a module may only import modules of a lower layer, so the import
//! graph has no loops and a use case never depends on the web app. Reads every `crate::…` (and,
//! in `main.rs`, `homeward::…`) path in the sources.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Layers from the bottom up. A module may import only modules of a strictly lower layer
/// (and itself). `wechat::protocol` is WeChat's wire format, below the services that send
/// messages; the rest of `wechat` is its HTTP side, beside `web` and `api`.
const LAYERS: &[(&str, u8)] = &[
    ("domain", 0),
    ("clock", 1),
    ("settings", 1),
    ("wechat::protocol", 1),
    ("telemetry", 2),
    ("cache", 2),
    ("content", 2),
    ("store", 3),
    ("services", 4),
    ("http", 5),
    ("web", 6),
    ("api", 6),
    ("ops", 6),
    ("wechat", 6),
    ("jobs", 6),
    ("startup", 7),
    ("cli", 8),
    ("lib", 9),
    ("main", 9),
];

fn layer_of(module: &str) -> Option<u8> {
    LAYERS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, level)| *level)
}

/// The module a source file belongs to, e.g. `src/web/pages.rs` → `web`,
/// `src/wechat/protocol/crypto.rs` → `wechat::protocol`, `src/lib.rs` → `lib`.
fn module_of_file(relative: &Path) -> String {
    let parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let first = parts[0].trim_end_matches(".rs").to_owned();
    if first == "wechat" && parts.get(1).map(|p| p.trim_end_matches(".rs")) == Some("protocol") {
        return "wechat::protocol".into();
    }
    first
}

/// The modules a path starting right after `crate::` names: `web::pages` → `web`,
/// `{api, web}` → `api`, `web`; `wechat::protocol::…` → `wechat::protocol`.
fn modules_named(rest: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let with_sub = |s: &str| -> String {
        let first = ident(s);
        let after = &s[first.len()..];
        if first == "wechat" && after.starts_with("::") && ident(&after[2..]) == "protocol" {
            "wechat::protocol".into()
        } else {
            first
        }
    };
    if let Some(group) = rest.strip_prefix('{') {
        let mut depth = 0;
        let mut items = Vec::new();
        let mut start = 0;
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    items.push(&group[start..i]);
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&group[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items
            .into_iter()
            .map(|item| with_sub(item.trim()))
            .filter(|m| !m.is_empty() && m != "self")
            .collect()
    } else {
        vec![with_sub(rest)]
    }
}

/// Every upward or sideways import in one file's source, as `file: a imports b`.
fn violations(relative: &Path, source: &str) -> Vec<String> {
    let module = module_of_file(relative);
    let Some(own_layer) = layer_of(&module) else {
        return vec![format!(
            "{}: module `{module}` has no layer; add it to LAYERS",
            relative.display()
        )];
    };
    let prefix = if module == "main" {
        "homeward::"
    } else {
        "crate::"
    };
    let mut found = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let boundary = rest[..at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            let after = &rest[at + prefix.len()..];
            if boundary {
                for named in modules_named(after) {
                    let same = named == module
                        || (module == "wechat::protocol" && named == "wechat::protocol");
                    if same {
                        continue;
                    }
                    match layer_of(&named) {
                        Some(layer) if layer < own_layer => {}
                        Some(_) => {
                            found.insert(format!(
                                "{}: `{module}` imports `{named}`",
                                relative.display()
                            ));
                        }
                        None => {}
                    }
                }
            }
            rest = after;
        }
    }
    found.into_iter().collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_module_imports_a_higher_layer() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "expected the crate's sources under {src:?}"
    );
    let mut problems = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("read source");
        problems.extend(violations(file.strip_prefix(&src).unwrap(), &source));
    }
    assert!(
        problems.is_empty(),
        "imports that break the layering (domain < store, cache, content < services < http < \
         web, api, wechat, jobs < startup < cli, main):\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_check_sees_upward_imports() {
    let upward = violations(
        Path::new("services/lessons.rs"),
        "use crate::domain::Lang;\nuse crate::startup::AppState;\n",
    );
    assert_eq!(
        upward,
        vec!["services/lessons.rs: `services` imports `startup`"]
    );
    let sideways = violations(
        Path::new("api/enrollment.rs"),
        "fn f() { crate::web::join::limit(); }\nuse crate::{http, web};",
    );
    assert_eq!(sideways, vec!["api/enrollment.rs: `api` imports `web`"]);
    let protocol = violations(
        Path::new("wechat/protocol/crypto.rs"),
        "use crate::wechat::protocol::xml;\nuse crate::services::Context;",
    );
    assert_eq!(
        protocol,
        vec!["wechat/protocol/crypto.rs: `wechat::protocol` imports `services`"]
    );
    assert!(
        violations(
            Path::new("web/pages.rs"),
            "// crate::startup in a comment\nuse crate::wechat::protocol::x;"
        )
        .is_empty()
    );
}
