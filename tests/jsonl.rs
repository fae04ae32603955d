//! JSON lines from the real binary against `docs/jsonl.schema.json`, and the table of record types
//! in `docs/snapshots.md` against the same schema, so the three cannot drift apart.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;
#[path = "support/jsonl_schema.rs"]
mod jsonl_schema;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

fn manifest(dir: &Path) -> PathBuf {
    let path = dir.join("manifest.toml");
    std::fs::write(
        &path,
        "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n\n\
         [[model]]\nname = \"tiny-b2\"\narch = \"tiny\"\ninput = [3, 32, 32]\nbatch = 2\n",
    )
    .unwrap();
    path
}

/// Runs the binary with `args`; returns its stdout lines after checking each against the
/// schema.
fn validated_lines(args: &[&str], dir: &Path) -> Vec<Value> {
    let out = binary::infertop()
        .args(args)
        .arg("--models")
        .arg(manifest(dir))
        .arg("--export-dir")
        .arg(dir.join("snaps"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    validated(&stdout)
}

/// Each line of `stdout` checked against the schema, parsed.
fn validated(stdout: &str) -> Vec<Value> {
    let schema = jsonl_schema::schema();
    stdout
        .lines()
        .map(|line| {
            jsonl_schema::validate_line(&schema, line).unwrap_or_else(|e| panic!("{e}"));
            serde_json::from_str(line).unwrap()
        })
        .collect()
}

/// Whether the JSON lines so far hold a periodic snapshot, a system record, and a model record
/// with timed inferences for each of `models`.
fn has_every_kind(stdout: &str, models: &[&str]) -> bool {
    let records: Vec<Value> = stdout.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let any = |kind: &str| records.iter().any(|r| r["type"] == kind);
    let timed = |model: &&str| {
        records
            .iter()
            .any(|r| r["type"] == "model" && r["model"] == *model && r["iterations"].as_u64().is_some_and(|n| n > 0))
    };
    any("snapshot") && any("system") && models.iter().all(timed)
}

fn models_csv_header(folder: &Path) -> BTreeSet<String> {
    let mut reader = csv::Reader::from_path(folder.join("models.csv")).unwrap();
    reader.headers().unwrap().iter().map(String::from).collect()
}

#[test]
fn a_runs_json_lines_validate_against_the_documented_schema() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs/rpi4");
    // Until a periodic snapshot, a system record and both models' timings have been printed,
    // then SIGINT: the run ends on what it has done, not on a clock.
    let run = binary::run_until(
        binary::infertop()
            .args([
                "--headless",
                "--format",
                "jsonl",
                "--export-every",
                "1s",
                "--print-every",
                "500ms",
                "--sample-every",
                "100ms",
                "--threads",
                "1",
                "--sysfs-root",
                root.to_str().unwrap(),
                "--models",
            ])
            .arg(manifest(dir.path()))
            .arg("--export-dir")
            .arg(dir.path().join("snaps")),
        |out| has_every_kind(out, &["tiny", "tiny-b2"]),
    );
    assert_eq!(run.status.code(), Some(0), "{}{}", run.stdout, run.stderr);
    let records = validated(&run.stdout);
    let kinds: Vec<&str> = records.iter().map(|r| r["type"].as_str().unwrap()).collect();
    for kind in ["model", "system", "snapshot", "summary"] {
        assert!(kinds.contains(&kind), "a {kind} record: {kinds:?}");
    }
    // The end: a last system record, a summary per model, the final snapshot.
    let last = records.last().unwrap();
    assert_eq!((last["type"].as_str(), last["final"].as_bool()), (Some("snapshot"), Some(true)), "{last}");
    let n = kinds.len();
    assert_eq!(kinds[n - 3..n - 1], ["summary", "summary"], "{kinds:?}");
    assert!(!kinds[..n - 3].contains(&"summary"), "summaries only at the end: {kinds:?}");
    assert!(records[..n - 1].iter().all(|r| r["type"] != "snapshot" || r["final"] == false));
    // The same fields as models.csv, no fewer.
    let folder = PathBuf::from(last["path"].as_str().unwrap());
    let columns = models_csv_header(&folder);
    for record in records.iter().filter(|r| r["type"] == "model" || r["type"] == "summary") {
        let keys: BTreeSet<String> = record
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| !["type", "elapsed_s", "reason"].contains(&k.as_str()))
            .cloned()
            .collect();
        assert_eq!(keys, columns, "{record}");
    }
    for summary in records.iter().filter(|r| r["type"] == "summary") {
        assert!(summary["macs"].as_f64().is_some_and(|m| m > 0.0), "{summary}");
        assert!(summary["iterations"].as_u64().is_some_and(|n| n > 0), "{summary}");
    }
    // A model still loading at the first lines knows nothing yet: nulls, not zeros.
    if let Some(loading) = records.iter().find(|r| r["status"] == "loading") {
        assert!(loading["macs"].is_null() && loading["params"].is_null(), "{loading}");
    }
    let system = records.iter().rev().find(|r| r["type"] == "system").unwrap();
    assert!(system["metrics"]["temp_c"]["cpu-thermal"].is_number(), "{system}");
    assert_eq!(system["metrics"]["throttle_since_boot"]["under_voltage"], 1.0, "the fixture's flags: {system}");
}

#[test]
fn summary_prints_summary_records_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let records = validated_lines(&["--summary", "--format", "jsonl"], dir.path());
    let names: Vec<&str> = records.iter().map(|r| r["model"].as_str().unwrap()).collect();
    assert_eq!(names, ["tiny", "tiny-b2"]);
    for r in &records {
        assert_eq!(r["type"], "summary");
        assert!(r["params"].as_u64().is_some_and(|p| p > 0) && r["macs"].as_f64().is_some_and(|m| m > 0.0), "{r}");
        assert!(r["latency_ms_p50"].is_null(), "nothing was timed: null, never 0: {r}");
    }
}

/// The table in `docs/snapshots.md` (under "JSON lines") names each record type the schema defines and, for
/// each, exactly its fields: listed one by one, or as "every column of `models.csv`".
#[test]
fn the_documented_table_of_record_types_matches_the_schema() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/snapshots.md")).unwrap();
    let section = doc.split("## JSON lines").nth(1).expect("a JSON lines section");
    let rows: Vec<&str> =
        section.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|')).collect();
    let schema = jsonl_schema::schema();
    let model_columns: BTreeSet<String> =
        jsonl_schema::fields(&schema, "model").into_iter().filter(|f| f != "type" && f != "elapsed_s").collect();
    let mut documented = Vec::new();
    for row in rows.iter().skip(2) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let kind = cells[1].trim_matches('`');
        documented.push(kind.to_string());
        let mut listed: BTreeSet<String> = cells[3]
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
            .map(String::from)
            .collect();
        if cells[3].contains("column of `models.csv`") {
            listed.extend(model_columns.iter().cloned());
        }
        let defined: BTreeSet<String> = jsonl_schema::fields(&schema, kind).into_iter().collect();
        assert_eq!(listed, defined, "docs/snapshots.md row for {kind}: {row}");
    }
    documented.sort();
    let mut defined = jsonl_schema::record_types(&schema);
    defined.sort();
    assert_eq!(documented, defined);
}
