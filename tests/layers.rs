//! The layers of ARCHITECTURE.md, checked: no module of `src/` names a
//! module of a higher layer (or another module of its own layer).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use std::path::Path;

/// Layer of each top-level module, lowest first (ARCHITECTURE.md).
const LAYERS: &[(&str, u32)] = &[
    ("util", 0),
    ("paths", 1),
    ("content", 1),
    ("audio", 1),
    ("model", 1),
    ("transcribe", 2),
    ("analysis", 3),
    ("store", 4),
    ("settings", 4),
    ("pipeline", 5),
    ("ui", 6),
    ("cli", 7),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(name, _)| *name == module).map(|(_, layer)| *layer)
}

/// Every `crate::name` a source file mentions.
fn crate_paths(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let after = &rest[at + "crate::".len()..];
        let name: String = after.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        // Only a path that starts at `crate` (not `x::crate`, `my_crate::`).
        let before = rest[..at].chars().last();
        if !name.is_empty() && !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            found.push(name);
        }
        rest = after;
    }
    found
}

fn visit(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            visit(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn no_module_uses_a_module_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    visit(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("under src");
        let first = relative.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
        let module = first.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let own = layer(&module).unwrap_or_else(|| panic!("src/{first} is in no layer: add it to LAYERS"));
        let text = std::fs::read_to_string(file).expect("read");
        for used in crate_paths(&text) {
            if used == module {
                continue;
            }
            let Some(theirs) = layer(&used) else { continue };
            if theirs >= own {
                violations
                    .push(format!("src/{}: uses crate::{used} (layer {theirs}) from layer {own}", relative.display()));
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(violations.is_empty(), "layer violations:\n{}", violations.join("\n"));
}

#[test]
fn the_checker_sees_an_upward_use() {
    assert_eq!(crate_paths("use crate::ui::App; x::crate::no; let a = crate::store::Store;"), ["ui", "store"]);
}
