//! The core must not know the terminal or the front ends: nothing under `src/core` or
//! `src/export` (which both front ends share) names ratatui, crossterm, or infertop's own TUI,
//! headless printer, command line or signal handling. And the core's own files stay a layered
//! house: no two import each other in a circle, none imports through its group's facade, and
//! each group uses only the groups below it (the order `src/core.rs` gives).

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::collections::{BTreeMap, BTreeSet};
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

/// The core's code files (not its tests), each with the module path it defines
/// (`src/core/machine/sampler/worker.rs` defines `machine::sampler::worker`) and its code:
/// comments dropped and inline test modules cut off, since only the build's imports count.
fn core_code() -> BTreeMap<Vec<String>, String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core");
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files
        .into_iter()
        .filter(|f| f.file_stem().is_some_and(|s| s != "tests") && !f.components().any(|c| c.as_os_str() == "tests"))
        .map(|f| {
            let rel = f.strip_prefix(&root).unwrap().with_extension("");
            let module = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
            (module, build_code(&std::fs::read_to_string(&f).unwrap()))
        })
        .collect()
}

/// What the build sees of a file's imports: comments dropped, inline test modules cut off.
fn build_code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The `::`-separated lower-case path that starts `text` (`machine::sampler::Sampler` gives
/// `["machine", "sampler"]`: a type ends the module path).
fn module_path(text: &str) -> Vec<String> {
    let end = text.find(|c: char| !(is_ident(c) || c == ':')).unwrap_or(text.len());
    text[..end]
        .split("::")
        .take_while(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .map(str::to_string)
        .collect()
}

/// The longest start of `path` that is one of `modules`.
fn file_of(path: &[String], modules: &BTreeSet<Vec<String>>) -> Option<Vec<String>> {
    (1..=path.len()).rev().map(|n| path[..n].to_vec()).find(|p| modules.contains(p))
}

/// Which files each core file imports: by a `crate::core::` path, by `super::`, or a child
/// module by name. The group facades (`machine.rs`) re-export their files and are left out:
/// `facade_imports` checks that no file imports through one.
fn import_graph(code: &BTreeMap<Vec<String>, String>) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let modules: BTreeSet<Vec<String>> = code.keys().cloned().collect();
    let mut graph = BTreeMap::new();
    for (module, text) in code.iter().filter(|(m, _)| m.len() > 1) {
        let mut targets = BTreeSet::new();
        for (at, _) in text.match_indices("crate::core::") {
            targets.extend(file_of(&module_path(&text[at + "crate::core::".len()..]), &modules));
        }
        for (at, _) in text.match_indices("super::") {
            if text[..at].ends_with("super::") || text[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                continue;
            }
            let rest = &text[at..];
            let ups = rest.split("super::").take_while(|s| s.is_empty()).count();
            let mut path = module[..module.len().saturating_sub(ups)].to_vec();
            path.extend(module_path(&rest["super::".len() * ups..]));
            targets.extend(file_of(&path, &modules));
        }
        for line in text.lines().map(str::trim) {
            let Some(child) = line.strip_suffix(';').and_then(|l| l.rsplit_once("mod ")).map(|(_, c)| c) else {
                continue;
            };
            let child_path = [module.clone(), vec![child.to_string()]].concat();
            let named = text
                .match_indices(&format!("{child}::"))
                .any(|(at, _)| !text[..at].ends_with(|c: char| is_ident(c) || c == ':'));
            if modules.contains(&child_path) && named {
                targets.insert(child_path);
            }
        }
        targets.remove(module);
        graph.insert(module.clone(), targets);
    }
    graph
}

/// Files of `graph` that import each other in a circle, one list per circle (Tarjan's strongly
/// connected components larger than one file).
fn circles(graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        index: BTreeMap<&'a Vec<String>, (usize, usize)>,
        stack: Vec<&'a Vec<String>>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(w: &mut Walk<'a>, v: &'a Vec<String>) {
        let n = w.index.len();
        w.index.insert(v, (n, n));
        w.stack.push(v);
        for t in w.graph.get(v).into_iter().flatten() {
            let Some((t, _)) = w.graph.get_key_value(t) else { continue };
            if !w.index.contains_key(t) {
                visit(w, t);
                let low = w.index[t].1.min(w.index[v].1);
                w.index.get_mut(v).unwrap().1 = low;
            } else if w.stack.contains(&t) {
                let low = w.index[t].0.min(w.index[v].1);
                w.index.get_mut(v).unwrap().1 = low;
            }
        }
        if w.index[v].0 == w.index[v].1 {
            let at = w.stack.iter().position(|m| *m == v).unwrap();
            let component: Vec<String> = w.stack.split_off(at).into_iter().map(|m| m.join("/")).collect();
            if component.len() > 1 {
                w.found.push(component);
            }
        }
    }
    let mut walk = Walk { graph, index: BTreeMap::new(), stack: Vec::new(), found: Vec::new() };
    for v in graph.keys() {
        if !walk.index.contains_key(v) {
            visit(&mut walk, v);
        }
    }
    walk.found
}

/// `crate::core::group::Item` paths inside the core: a file importing through its group's
/// facade, which re-exports that file's neighbours (a circle the graph cannot see).
fn facade_imports(code: &BTreeMap<Vec<String>, String>) -> Vec<String> {
    let modules: BTreeSet<Vec<String>> = code.keys().cloned().collect();
    let mut found = Vec::new();
    for (module, text) in code.iter().filter(|(m, _)| m.len() > 1) {
        for (at, _) in text.match_indices("crate::core::") {
            let rest = &text[at + "crate::core::".len()..];
            let group = rest.split(|c: char| !is_ident(c)).next().unwrap_or("");
            let after = &rest[group.len()..];
            let is_file = |name: &str| modules.contains(&vec![group.to_string(), name.trim().to_string()]);
            let names: Vec<&str> = if let Some(list) = after.strip_prefix("::{") {
                list.split('}').next().unwrap_or("").split(',').map(|i| i.split("::").next().unwrap_or("")).collect()
            } else if let Some(next) = after.strip_prefix("::") {
                vec![next.split(|c: char| !is_ident(c)).next().unwrap_or("")]
            } else {
                Vec::new()
            };
            if let Some(name) = names.into_iter().find(|n| !n.trim().is_empty() && !is_file(n)) {
                found.push(format!("{}: crate::core::{group}::{}", module.join("/"), name.trim()));
            }
        }
    }
    found
}

/// The groups from the bottom up: each uses only those before it (see `src/core.rs`).
const GROUP_ORDER: [&str; 8] = ["common", "profiling", "machine", "limits", "models", "run", "state", "analysis"];

/// The one allowed exception: the session and its journal, at the top of `run`, build and feed
/// the state.
const UPWARD: [(&str, &str); 2] = [("run/session", "state"), ("run/journal", "state")];

#[test]
fn no_two_files_of_the_core_import_each_other_in_a_circle() {
    let code = core_code();
    let graph = import_graph(&code);
    let edges: usize = graph.values().map(BTreeSet::len).sum();
    assert!(graph.len() > 80 && edges > 200, "the graph looks empty: {} files, {edges} imports", graph.len());
    assert_eq!(circles(&graph), Vec::<Vec<String>>::new(), "files importing each other in a circle");
    assert_eq!(facade_imports(&code), Vec::<String>::new(), "core files importing through a group's facade");
}

#[test]
fn each_group_uses_only_the_groups_below_it() {
    let code = core_code();
    let groups: BTreeSet<&str> = code.keys().map(|m| m[0].as_str()).collect();
    assert_eq!(groups, GROUP_ORDER.into_iter().collect(), "src/core.rs and GROUP_ORDER name the same groups");
    let rank = |g: &str| GROUP_ORDER.iter().position(|o| *o == g).unwrap();
    let mut upward = Vec::new();
    for (from, targets) in import_graph(&code) {
        for to in targets.iter().filter(|t| rank(&t[0]) > rank(&from[0])) {
            let allowed = UPWARD.iter().any(|(f, g)| from.join("/").starts_with(f) && to[0] == *g);
            if !allowed {
                upward.push(format!("{} -> {}", from.join("/"), to.join("/")));
            }
        }
    }
    assert_eq!(upward, Vec::<String>::new(), "imports from a lower group into a higher one");
}

#[test]
fn the_import_checks_see_circles_children_and_facades() {
    let file = |path: &str, code: &str| (path.split('/').map(str::to_string).collect::<Vec<_>>(), build_code(code));
    let code: BTreeMap<Vec<String>, String> = [
        file("machine", "mod sample;\npub use sample::SystemSample;"),
        file("machine/sample", "use crate::core::machine::sampler::Sampler; // crate::core::machine::clock"),
        file("machine/sampler", "mod worker;\nuse worker::Worker;\nuse crate::core::machine::sample::SystemSample;"),
        file("machine/sampler/worker", "use super::super::clock::Probe;"),
        file("machine/clock", "use crate::core::machine::SystemSample;"),
    ]
    .into_iter()
    .collect();
    let graph = import_graph(&code);
    let path = |p: &str| p.split('/').map(str::to_string).collect::<Vec<_>>();
    assert!(graph[&path("machine/sampler")].contains(&path("machine/sampler/worker")), "a child named by its module");
    assert!(graph[&path("machine/sampler/worker")].contains(&path("machine/clock")), "super::super::");
    assert!(!graph[&path("machine/sample")].contains(&path("machine/clock")), "comments do not count");
    assert_eq!(circles(&graph), [vec!["machine/sample".to_string(), "machine/sampler".to_string()]]);
    assert_eq!(facade_imports(&code), ["machine/clock: crate::core::machine::SystemSample"]);
}
