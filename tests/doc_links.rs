//! Every relative link in `README.md` and `docs/*.md` leads somewhere: the file exists, and a
//! `#fragment` names a heading of the file it points into. The README is a landing page whose
//! chapters live in `docs/`, so a moved or renamed chapter must not leave a dead link.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The markdown files that link to each other: the README and every `docs/*.md`.
fn documents() -> Vec<PathBuf> {
    let mut files = vec![Path::new(ROOT).join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The text outside fenced code blocks, where `](` is markdown and not shell or code.
fn prose(markdown: &str) -> String {
    let mut fenced = false;
    let mut out = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The targets of inline links and images, `[text](target)` and `![alt](target)`; link text
/// may span lines.
fn link_targets(markdown: &str) -> Vec<String> {
    prose(markdown)
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.trim().to_string()))
        .collect()
}

/// GitHub's anchor for a heading: lower case, spaces to hyphens, other punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

fn anchors(markdown: &str) -> BTreeSet<String> {
    prose(markdown).lines().filter_map(|l| l.strip_prefix('#')).map(|l| anchor(l.trim_start_matches('#'))).collect()
}

/// Whether `target` leaves the repository (a web address) rather than naming a file in it.
fn external(target: &str) -> bool {
    target.starts_with("http://") || target.starts_with("https://") || target.starts_with("mailto:")
}

/// Every broken relative link in `file`, as "file: target (why)".
fn broken_links(file: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut broken = Vec::new();
    for target in link_targets(&text).into_iter().filter(|t| !external(t)) {
        let (path, fragment) = target.split_once('#').map_or((target.as_str(), None), |(p, f)| (p, Some(f)));
        let linked = if path.is_empty() { file.to_path_buf() } else { file.parent().unwrap().join(path) };
        if !linked.exists() {
            broken.push(format!("{}: {target} (no such file)", file.display()));
            continue;
        }
        if let Some(fragment) = fragment {
            let headings = std::fs::read_to_string(&linked).map(|t| anchors(&t)).unwrap_or_default();
            if !headings.contains(fragment) {
                broken.push(format!("{}: {target} (no heading #{fragment}; there are {headings:?})", file.display()));
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_in_the_readme_and_docs_leads_to_a_file_and_heading() {
    let broken: Vec<String> = documents().iter().flat_map(|f| broken_links(f)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README is a landing page into `docs/`: its picture and its links into every chapter are
/// among the links checked above, so the check is not vacuous.
#[test]
fn the_readme_shows_the_screen_and_links_every_chapter_in_docs() {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let targets = link_targets(&readme);
    assert!(targets.iter().any(|t| t == "docs/screen.svg"), "the picture of the live screen: {targets:?}");
    for doc in documents().iter().skip(1) {
        let relative = format!("docs/{}", doc.file_name().unwrap().to_str().unwrap());
        assert!(targets.iter().any(|t| t.split('#').next() == Some(relative.as_str())), "no link to {relative}");
    }
}

#[test]
fn the_link_reader_finds_links_images_and_fragments_and_skips_code() {
    let text = "see [a\nb](docs/a.md#x-y) and ![pic](p.svg)\n```\ncall(x)](not-a-link)\n```\n[web](https://e.org)";
    assert_eq!(link_targets(text), ["docs/a.md#x-y", "p.svg", "https://e.org"]);
    assert_eq!(anchor(" How long `make test` takes"), "how-long-make-test-takes");
    assert_eq!(anchor("Which boards run infertop (aarch64)"), "which-boards-run-infertop-aarch64");
}
