//! Snapshots from the real binary in headless mode: periodic and final exports into one run
//! folder whose CSVs parse back and agree with each other, a final snapshot after SIGINT, and
//! an unwritable folder refused before measuring starts.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn manifest(dir: &Path) -> PathBuf {
    let path = dir.join("manifest.toml");
    std::fs::write(
        &path,
        "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n\n\
         [[model]]\nname = \"shufflenetv2\"\narch = \"shufflenetv2\"\ninput = [3, 32, 32]\n",
    )
    .unwrap();
    path
}

type Rows = Vec<HashMap<String, String>>;

fn read_csv(path: &Path) -> (Vec<String>, Rows) {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let rows =
        reader.records().map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(String::from)).collect()).collect();
    (headers, rows)
}

fn num(row: &HashMap<String, String>, key: &str) -> f64 {
    row[key].parse().unwrap_or_else(|_| panic!("{key} = '{}' is not a number", row[key]))
}

/// Every file is there, parses, and the numbers agree with each other.
fn check_snapshot(dir: &Path, models: &[&str]) {
    for file in ["models.csv", "ops.csv", "layers.csv", "system.csv", "inferences.csv", "run.json"] {
        assert!(dir.join(file).is_file(), "{} lacks {file}", dir.display());
    }
    let (headers, rows) = read_csv(&dir.join("models.csv"));
    for h in [
        "model",
        "params",
        "macs",
        "iterations",
        "latency_ms_p50",
        "latency_ms_p90",
        "latency_ms_p99",
        "inferences_per_s",
        "ms_per_gmac",
        "share_conv2d",
        "share_bookkeeping",
        "share_other",
        "throttle_penalty",
    ] {
        assert!(headers.iter().any(|x| x == h), "models.csv lacks {h}: {headers:?}");
    }
    let (_, ops) = read_csv(&dir.join("ops.csv"));
    for model in models {
        let row = rows.iter().find(|r| r["model"] == *model).unwrap_or_else(|| panic!("no row for {model}"));
        assert!(num(row, "iterations") > 0.0);
        // p90 and p99 are empty until 10 and 100 samples back them.
        let p50 = num(row, "latency_ms_p50");
        let tail = |c: &str| (!row[c].is_empty()).then(|| num(row, c));
        assert!(
            tail("latency_ms_p90").is_none_or(|p90| p50 <= p90 && tail("latency_ms_p99").is_none_or(|p99| p90 <= p99))
        );
        assert!(tail("latency_ms_p99").is_none() || num(row, "percentile_window") >= 100.0, "{row:?}");
        let shares: f64 = headers.iter().filter(|h| h.starts_with("share_")).map(|h| num(row, h)).sum();
        assert!((shares - 1.0).abs() < 1e-6, "{model}: shares add up to {shares}");
        // Top-level ops (no parent op) take at most the latency of the inferences they ran in.
        let top: f64 =
            ops.iter().filter(|o| o["model"] == *model && o["parent_op"].is_empty()).map(|o| num(o, "total_ms")).sum();
        assert!(top > 0.0 && top <= num(row, "latency_ms_profiled_mean"), "{model}: top-level ops {top} ms");
        assert!(num(row, "profiled_iterations") > 0.0);
    }
    let (_, layers) = read_csv(&dir.join("layers.csv"));
    assert!(layers.iter().any(|l| l["model"] == "shufflenetv2"), "layers of the built-in net");
    let (headers, system) = read_csv(&dir.join("system.csv"));
    assert_eq!(headers, ["t_ms", "metric", "source", "value", "running_model"]);
    assert!(system.iter().any(|r| r["metric"].starts_with("mem_")), "memory rows");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert!(run.to_string().contains("2.13.0"), "libtorch version in run.json");
}

fn snapshots(base: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(base).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

#[test]
fn periodic_and_final_exports_fill_one_run_folder_that_parses_back_and_agrees() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("snaps");
    // Until two periodic exports and both models timed and profiled, then SIGINT: what the
    // test waits for is counted, never a clock.
    let exported = |out: &str| out.lines().filter(|l| l.starts_with("snapshot: ")).count();
    let run = binary::run_until(
        binary::infertop()
            .args([
                "--headless",
                "--print-every",
                "300ms",
                "--export-every",
                "1500ms",
                "--threads",
                "1",
                "--sample-every",
                "200ms",
                "--models",
            ])
            .arg(manifest(dir.path()))
            .arg("--export-dir")
            .arg(&base),
        |out| exported(out) >= 2 && binary::all_timed_and_profiled(out, &["tiny", "shufflenetv2"]),
    );
    let stdout = run.stdout;
    assert_eq!(run.status.code(), Some(0), "{stdout}{}", run.stderr);
    let dirs = snapshots(&base);
    assert_eq!(dirs.len(), 1, "one folder for the run: {dirs:?}\n{stdout}");
    let exports = stdout.lines().filter(|l| *l == format!("snapshot: {}", dirs[0].display())).count();
    assert!(exports >= 3, "two periodic exports and the final one into the same folder:\n{stdout}");
    check_snapshot(&dirs[0], &["tiny", "shufflenetv2"]);
    // Nothing half-written stays behind.
    let hidden: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden.is_empty(), "{hidden:?}");
    let hidden_files: Vec<_> = std::fs::read_dir(&dirs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(hidden_files.is_empty(), "{hidden_files:?}");
}

#[test]
fn sigint_leaves_a_complete_final_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("snaps");
    let mut child = binary::infertop()
        .args(["--headless", "--print-every", "300ms", "--threads", "1", "--models"])
        .arg(manifest(dir.path()))
        .arg("--export-dir")
        .arg(&base)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // Wait until both models have been measured (they load one after the other).
    let mut seen = std::collections::HashSet::new();
    while seen.len() < 2 {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "output ended early");
        if line.contains("p50") {
            seen.extend(["tiny ", "shufflenetv2"].into_iter().filter(|m| line.contains(m)));
        }
    }
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGINT) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0), "{rest}");
    let dirs = snapshots(&base);
    assert_eq!(dirs.len(), 1, "{rest}");
    assert!(rest.contains(&format!("snapshot: {}", dirs[0].display())), "{rest}");
    check_snapshot(&dirs[0], &["tiny", "shufflenetv2"]);
}

#[test]
fn an_unwritable_export_folder_exits_2_before_measuring() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").unwrap();
    let bad = file.join("snaps");
    let out = binary::infertop()
        .args(["--headless", "--duration", "30s", "--models"])
        .arg(manifest(dir.path()))
        .arg("--export-dir")
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&bad.display().to_string()), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing was measured");
}

/// The data rows in every part of `inferences.csv` in `dir`.
fn inference_rows_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("inferences"))
            .map(|p| std::fs::read_to_string(p).unwrap().lines().count().saturating_sub(1))
            .sum()
    })
}

/// A run killed with SIGKILL before its first export (no `--export-every`) keeps its rows: the
/// next start publishes its folder, says so, and counts the rows in its `run.json`.
#[test]
fn a_killed_runs_rows_are_published_by_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("tiny.toml");
    std::fs::write(&models, "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n").unwrap();
    let base = dir.path().join("snapshots");
    let run = |extra: &[&str]| {
        let mut command = binary::infertop();
        command.args(["--headless", "--threads", "1", "--sample-every", "100ms", "--models"]);
        command.arg(&models).arg("--export-dir").arg(&base).args(extra);
        command
    };
    let mut child = run(&[]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    // Rows reach the staging folder's series within a second or so of being measured.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120) + binary::startup_allowance();
    let staging = loop {
        let found = std::fs::read_dir(&base).ok().and_then(|entries| {
            entries.map(|e| e.unwrap().path()).find(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        });
        if let Some(staging) = found.filter(|s| inference_rows_in(s) >= 200) {
            break staging;
        }
        assert!(std::time::Instant::now() < deadline, "no staging folder with 200 rows");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let rows = inference_rows_in(&staging);

    // Its exit code is no matter here: a loaded machine may time nothing in a second.
    let next = run(&["--duration", &binary::duration(1)]).output().unwrap();
    let stderr = String::from_utf8_lossy(&next.stderr);
    let name = staging.file_name().unwrap().to_string_lossy();
    let name = name.trim_start_matches('.').split('.').next().unwrap().to_string();
    let published = base.join(&name);
    assert!(stderr.contains(&format!("infertop: published {}", published.display())), "{stderr}");
    assert!(!staging.exists());
    assert!(inference_rows_in(&published) + 1 >= rows, "{rows} rows before, a partial last one at most cut");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(published.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["run_ended"], false);
    assert_eq!(json["series"]["inferences"]["rows"].as_u64(), Some(inference_rows_in(&published) as u64), "{json}");
    // The next run's own folder is beside it.
    assert_eq!(snapshots(&base).len(), 2, "{:?}", snapshots(&base));
}
