//! The run folder from the real binary: every inference timed is one row of `inferences.csv`,
//! periodic exports append to the time series instead of copying them (one folder whose
//! series only grow), and rotation by size loses no row.

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
         [[model]]\nname = \"tiny-b2\"\narch = \"tiny\"\ninput = [3, 32, 32]\nbatch = 2\n",
    )
    .unwrap();
    path
}

fn run_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .deserialize()
        .map(Result::unwrap)
        .collect()
}

fn num(row: &HashMap<String, String>, key: &str) -> u64 {
    row[key].parse().unwrap_or_else(|_| panic!("{key} = {:?}", row[key]))
}

/// Folders under `base`, hidden ones included.
fn folders(base: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(base).unwrap().map(|e| e.unwrap().path()).collect()
}

/// Bytes of every file under `dir`.
fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
}

/// The first `bytes` bytes of a file: what an export's `run.json` vouches for.
fn covered(path: &Path, bytes: u64) -> Vec<u8> {
    let all = std::fs::read(path).unwrap();
    assert!(all.len() as u64 >= bytes, "{} is shorter than run.json says", path.display());
    all[..usize::try_from(bytes).unwrap()].to_vec()
}

/// What one periodic export left, read as soon as it was announced.
struct Export {
    inferences: Vec<u8>,
    system: Vec<u8>,
    folder_bytes: u64,
}

/// Reads the folder right after an export: `run.json` agrees with the state's counts and
/// with the files, and the series' covered bytes are whole rows.
fn read_export(dir: &Path) -> Export {
    let json = run_json(dir);
    let series = &json["series"];
    let inferences = &series["inferences"];
    assert_eq!(inferences["rows_lost"], 0, "{series}");
    // Every inference counted is a row, or waits for the next sample's power (boards with a
    // power source only).
    let waiting = inferences["rows_waiting"].as_u64().unwrap();
    assert_eq!(inferences["rows"].as_u64().unwrap() + waiting, json["inferences"].as_u64().unwrap(), "{json}");
    assert_eq!(series["system"]["samples"], json["system_samples"], "{series}");
    let part = |s: &serde_json::Value| s["parts"][0]["bytes"].as_u64().unwrap();
    let export = Export {
        inferences: covered(&dir.join("inferences.csv"), part(inferences)),
        system: covered(&dir.join("system.csv"), part(&series["system"])),
        folder_bytes: folder_bytes(dir),
    };
    for (text, rows) in [(&export.inferences, &inferences["rows"]), (&export.system, &series["system"]["rows"])] {
        assert!(text.ends_with(b"\n"));
        let lines = text.split(|b| *b == b'\n').count() - 1;
        assert_eq!(lines as u64, rows.as_u64().unwrap() + 1, "the header and every row");
    }
    export
}

#[test]
fn periodic_exports_append_and_every_inference_is_one_row() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("snaps");
    let mut child = binary::infertop()
        .args(["--headless", "--export-every", "1s"])
        .args(["--print-every", "300ms", "--sample-every", "100ms", "--threads", "1", "--models"])
        .arg(manifest(dir.path()))
        .arg("--export-dir")
        .arg(&base)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut exports: Vec<Export> = Vec::new();
    let mut run_folder = None;
    let (mut timed, mut stopped) = (String::new(), false);
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if !stopped && exports.len() == 3 && binary::all_timed_and_profiled(&timed, &["tiny", "tiny-b2"]) {
            // Three periodic exports read and both models timed (a run stopped before that exits
            // 1 by design): stop the run. A count, not a clock, ends it.
            // SAFETY: kill(2) on our own child, not yet waited for.
            unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGINT) };
            stopped = true;
        }
        if binary::line_model(&line).is_some() {
            timed.push_str(&line);
            timed.push('\n');
        }
        let Some(path) = line.strip_prefix("snapshot: ") else { continue };
        let path = PathBuf::from(path);
        assert_eq!(folders(&base), std::slice::from_ref(&path), "one folder, nothing else");
        assert_eq!(run_folder.get_or_insert_with(|| path.clone()), &path);
        if exports.len() < 3 {
            exports.push(read_export(&path));
        }
    }
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(exports.len(), 3, "three periodic exports were read");
    // Appended, never copied: each export's rows are the start of the next one's.
    for pair in exports.windows(2) {
        assert!(pair[1].inferences.starts_with(&pair[0].inferences));
        assert!(pair[1].system.starts_with(&pair[0].system));
    }
    let growth: Vec<String> = exports.iter().map(|e| format!("{} B", e.folder_bytes)).collect();
    eprintln!("folder after each periodic export: {}", growth.join(", "));

    let folder = run_folder.unwrap();
    let json = run_json(&folder);
    assert_eq!(json["run_ended"], true);
    let rows = csv_rows(&folder.join("inferences.csv"));
    let models = csv_rows(&folder.join("models.csv"));
    let timed: u64 =
        models.iter().map(|m| num(m, "iterations") + num(m, "cold_iterations") + num(m, "profiled_iterations")).sum();
    assert_eq!(rows.len() as u64, timed, "one row per inference timed or profiled");
    assert_eq!(json["inferences"], timed);
    let seqs: Vec<u64> = rows.iter().map(|r| num(r, "seq")).collect();
    assert_eq!(seqs, (1..=timed).collect::<Vec<_>>(), "in order, none missing");
    for model in ["tiny", "tiny-b2"] {
        let m = models.iter().find(|m| m["model"] == model).unwrap();
        let of = |f: fn(&HashMap<String, String>) -> bool| {
            rows.iter().filter(|r| r["model"] == model && f(r)).count() as u64
        };
        assert_eq!(of(|r| r["profiled"] == "true"), num(m, "profiled_iterations"), "{model}");
        assert_eq!(of(|r| r["profiled"] == "false" && r["cold"] == "true"), num(m, "cold_iterations"), "{model}");
        assert_eq!(of(|r| r["profiled"] == "false" && r["cold"] == "false"), num(m, "iterations"), "{model}");
    }
    // On the system samples' clock: every inference ended within the run's samples (give or
    // take the last sample's period).
    let last_sample = json["series"]["system"]["last_t_ms"].as_f64().unwrap();
    let last_inference: f64 = rows.last().unwrap()["t_ms"].parse().unwrap();
    assert!(last_inference > 0.0 && last_inference < last_sample + 1_000.0, "{last_inference} vs {last_sample}");
}

#[test]
fn rotation_by_size_loses_no_row() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("snaps");
    let out = binary::infertop()
        .args(["--headless", "--iterations", "200", "--inferences-max-mb", "0.01"])
        .args(["--threads", "1", "--models"])
        .arg(manifest(dir.path()))
        .arg("--export-dir")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let folder = folders(&base).pop().unwrap();
    let json = run_json(&folder);
    let parts = json["series"]["inferences"]["parts"].as_array().unwrap();
    assert!(parts.len() >= 2, "rotated at 10 kB: {parts:?}");
    let mut on_disk: Vec<String> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("inferences"))
        .collect();
    on_disk.sort_by_key(|n| n.split('.').nth(1).and_then(|k| k.parse::<u32>().ok()).unwrap_or(u32::MAX));
    let listed: Vec<&str> = parts.iter().map(|p| p["file"].as_str().unwrap()).collect();
    assert_eq!(on_disk, listed, "run.json lists every part, oldest first");
    let seqs: Vec<u64> = listed.iter().flat_map(|f| csv_rows(&folder.join(f))).map(|r| num(&r, "seq")).collect();
    let inferences = json["inferences"].as_u64().unwrap();
    assert_eq!(seqs, (1..=inferences).collect::<Vec<_>>(), "every row once, in order, over the parts");
}

/// On a board with a power monitor (the Orin Nano's recorded INA3221, a steady 6.24 W) each
/// inference's energy is the interval's mean power times its latency; the first interval (no
/// mean power yet) and the last (no sample closes it) have none, never 0.
#[test]
fn energy_per_inference_is_the_intervals_power_times_its_latency() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("snaps");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs/jetson-orin-nano");
    // Until the model's line shows energy (samples on both sides of its inferences), then SIGINT.
    let run = binary::run_until(
        binary::infertop()
            .args(["--headless", "--print-every", "200ms", "--sample-every", "200ms"])
            .args(["--threads", "1", "--only", "tiny", "--models"])
            .arg(manifest(dir.path()))
            .arg("--sysfs-root")
            .arg(&root)
            .arg("--export-dir")
            .arg(&base),
        |out| out.lines().any(|l| binary::line_model(l) == Some("tiny") && l.contains("mJ/inf")),
    );
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    let folder = folders(&base).pop().unwrap();
    let watts: Vec<f64> = csv_rows(&folder.join("system.csv"))
        .iter()
        .filter(|r| r["metric"] == "power_interval_w")
        .map(|r| r["value"].parse().unwrap())
        .collect();
    assert!(!watts.is_empty() && watts.iter().all(|w| (w - watts[0]).abs() < 1e-9), "{watts:?}");
    let rows = csv_rows(&folder.join("inferences.csv"));
    assert_eq!(rows.len() as u64, run_json(&folder)["inferences"].as_u64().unwrap());
    let charged: Vec<_> = rows.iter().filter(|r| !r["energy_mj"].is_empty()).collect();
    assert!(!charged.is_empty() && charged.len() < rows.len(), "{} of {} rows", charged.len(), rows.len());
    for r in charged {
        let (mj, ms): (f64, f64) = (r["energy_mj"].parse().unwrap(), r["latency_ms"].parse().unwrap());
        assert!((mj - watts[0] * ms).abs() < 1e-6 * mj.max(1.0), "{r:?}");
    }
}
