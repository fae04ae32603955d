//! What `infertop report` costs on a one-hour ten-model snapshot (the target: under 2 s).
//!
//! The snapshot is synthesised from the recorded Pi replay (tests/fixtures/snapshots): its four
//! models become ten (renamed copies with their ops), its 40 s of system samples are repeated
//! to 7200 samples (an hour at the default 500 ms), and its inferences to 100 a second over the
//! hour (360 000 rows, a fast machine's rate for the ten models). Reported: wall time of the
//! whole command's work (read, compute, draw, write) per run, min and median of a few runs.
//! Plain harness: `cargo bench --bench report [-- RUNS]`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

const MODELS: usize = 10;
const SAMPLES: usize = 7200;
const SAMPLE_EVERY_MS: f64 = 500.0;
const INFERENCES_PER_S: usize = 100;
const HOUR_S: usize = 3600;
const TARGET: Duration = Duration::from_secs(2);

fn main() {
    let runs: usize = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(5);
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/snapshots/rpi4-hot-throttle-replay");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let snapshot = dir.path().join("hour");
    let counts = synthesise(&source, &snapshot);
    println!(
        "report: snapshot of {MODELS} models, {SAMPLES} system samples ({} rows), {} inferences",
        counts.0, counts.1
    );
    let out = dir.path().join("report.html");
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            infertop::report::write_report(&snapshot, &out).expect("report");
            start.elapsed()
        })
        .collect();
    times.sort();
    let median = times[times.len() / 2];
    let size = fs::metadata(&out).map_or(0, |m| m.len());
    println!(
        "report: {runs} runs, min {:.3} s, median {:.3} s, page {} kB (target < {} s: {})",
        times[0].as_secs_f64(),
        median.as_secs_f64(),
        size / 1000,
        TARGET.as_secs(),
        if median < TARGET { "met" } else { "NOT met" }
    );
    if median >= TARGET {
        std::process::exit(1);
    }
}

/// Writes the hour-long snapshot into `to`; returns (system rows, inferences).
fn synthesise(from: &Path, to: &Path) -> (usize, usize) {
    fs::create_dir_all(to).unwrap();
    let names: Vec<String> = (0..MODELS).map(|i| format!("model{i:02}")).collect();
    let (header, models) = read(&from.join("models.csv"));
    let model_col = header.iter().position(|h| h == "model").unwrap();
    let params_col = header.iter().position(|h| h == "params").unwrap();
    let rows: Vec<Vec<String>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut row = models[i % models.len()].clone();
            row[model_col].clone_from(name);
            // Spread the sizes so that the copies are not the same point.
            let params: f64 = row[params_col].parse().unwrap();
            row[params_col] = format!("{}", (params * (1.0 + i as f64 * 0.37)).round());
            row
        })
        .collect();
    write(&to.join("models.csv"), &header, &rows);
    let (header, ops) = read(&from.join("ops.csv"));
    let originals: Vec<String> = models.iter().map(|m| m[model_col].clone()).collect();
    let rows: Vec<Vec<String>> = names
        .iter()
        .enumerate()
        .flat_map(|(i, name)| {
            let original = &originals[i % originals.len()];
            ops.iter().filter(move |r| &r[0] == original).map(move |r| {
                let mut r = r.clone();
                r[0].clone_from(name);
                r
            })
        })
        .collect();
    write(&to.join("ops.csv"), &header, &rows);
    let system = repeat_system(from, to);
    let inferences = repeat_inferences(from, to, &names);
    let mut run: serde_json::Value = serde_json::from_str(&fs::read_to_string(from.join("run.json")).unwrap()).unwrap();
    run["models"] = names.iter().map(|n| serde_json::json!({"name": n, "status": "running"})).collect();
    run["series"]["system"]["parts"] = serde_json::json!([{"file": "system.csv", "rows": system}]);
    run["series"]["inferences"]["parts"] = serde_json::json!([{"file": "inferences.csv", "rows": inferences}]);
    fs::write(to.join("run.json"), run.to_string()).unwrap();
    (system, inferences)
}

/// The recorded samples repeated, shifted in time, to [`SAMPLES`] samples [`SAMPLE_EVERY_MS`] apart.
fn repeat_system(from: &Path, to: &Path) -> usize {
    let (header, rows) = read(&from.join("system.csv"));
    let mut times: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    times.dedup();
    let per_sample: Vec<Vec<&Vec<String>>> =
        times.iter().map(|t| rows.iter().filter(|r| r[0] == *t).collect()).collect();
    let mut out = Vec::new();
    for s in 0..SAMPLES {
        for row in &per_sample[s % per_sample.len()] {
            let mut row = (*row).clone();
            row[0] = format!("{}", (s as f64 * SAMPLE_EVERY_MS).round());
            out.push(row);
        }
    }
    write(&to.join("system.csv"), &header, &out);
    out.len()
}

/// The recorded inferences repeated over the hour at [`INFERENCES_PER_S`], spread over the ten
/// models.
fn repeat_inferences(from: &Path, to: &Path, names: &[String]) -> usize {
    let (header, rows) = read(&from.join("inferences.csv"));
    let total = INFERENCES_PER_S * HOUR_S;
    let out: Vec<Vec<String>> = (0..total)
        .map(|k| {
            let mut row = rows[k % rows.len()].clone();
            row[0] = format!("{:.3}", k as f64 * 1000.0 / INFERENCES_PER_S as f64);
            row[1] = (k + 1).to_string();
            row[2].clone_from(&names[k % names.len()]);
            row
        })
        .collect();
    write(&to.join("inferences.csv"), &header, &out);
    total
}

fn read(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let header = reader.headers().unwrap().iter().map(str::to_string).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(str::to_string).collect()).collect();
    (header, rows)
}

fn write(path: &Path, header: &[String], rows: &[Vec<String>]) {
    let mut writer = csv::Writer::from_path(path).unwrap();
    writer.write_record(header).unwrap();
    for row in rows {
        writer.write_record(row).unwrap();
    }
    writer.flush().unwrap();
}
