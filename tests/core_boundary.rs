//! The core must not know the terminal or the front ends: nothing under `src/core` or
//! `src/export` (which both front ends share) names ratatui, crossterm, or infertop's own TUI,
//! headless printer, command line or signal handling.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder is readable") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What the core must never mention: terminal crates and the front-end modules, however
/// reached (`crate::tui`, `super::super::tui`, `infertop::tui`, a `use crate::{tui, ...}`).
fn front_end_mentions(text: &str) -> Vec<&'static str> {
    // Comments may name the front ends (to say they are not used); code may not.
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut found = Vec::new();
    for name in ["ratatui", "crossterm"] {
        if code.contains(name) {
            found.push(name);
        }
    }
    for module in ["tui", "headless", "cli", "signals"] {
        let paths = [format!("crate::{module}"), format!("super::{module}"), format!("infertop::{module}")];
        let in_group = code.contains("crate::{")
            && code.split("crate::{").skip(1).any(|rest| {
                rest.split('}')
                    .next()
                    .is_some_and(|group| group.split(',').any(|item| item.trim().split("::").next() == Some(module)))
            });
        if in_group || paths.iter().any(|p| code.contains(p.as_str())) {
            found.push(module);
        }
    }
    found
}

#[test]
fn core_never_mentions_the_terminal_or_the_front_ends() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("src/core.rs"), root.join("src/export.rs")];
    rust_files(&root.join("src/core"), &mut files);
    rust_files(&root.join("src/export"), &mut files);
    assert!(files.len() > 10, "expected the core's files, found {files:?}");
    let offenders: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let found = front_end_mentions(&std::fs::read_to_string(f).expect("readable source"));
            (!found.is_empty()).then(|| format!("{}: {found:?}", f.display()))
        })
        .collect();
    assert!(offenders.is_empty(), "front-end code named in the core: {offenders:?}");
}

#[test]
fn the_check_catches_each_way_of_naming_the_front_end() {
    assert_eq!(front_end_mentions("use ratatui::Frame;"), ["ratatui"]);
    assert_eq!(front_end_mentions("use crate::tui::theme::Theme;"), ["tui"]);
    assert_eq!(front_end_mentions("use crate::{core::state, tui};"), ["tui"]);
    assert_eq!(front_end_mentions("let f = crate::headless::text_line;"), ["headless"]);
    assert_eq!(front_end_mentions("use super::super::cli::Cli;"), ["cli"]);
    assert!(front_end_mentions("use crate::core::state::MonitorState; // not crate::tui").is_empty());
    assert!(front_end_mentions("// crate::tui is mentioned in a comment only").is_empty());
}
