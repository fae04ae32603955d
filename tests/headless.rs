//! The real binary in headless mode on a real (small) model.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::Instant;

fn manifest_with_tiny(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("manifest.toml");
    std::fs::write(
        &path,
        "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n\n\
         [[model]]\nname = \"tiny-b4\"\narch = \"tiny\"\ninput = [3, 32, 32]\nbatch = 4\n",
    )
    .unwrap();
    path
}

/// `--iterations N` ends the run on a count, not a clock: every model has exactly N timed
/// inferences in its latency, the summary says why the run ended, and the exit code is 0.
#[test]
fn iterations_end_the_run_after_that_many_timed_inferences_per_model() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_tiny(dir.path());
    let snapshots = dir.path().join("snapshots");
    let out = binary::infertop()
        .args(["--headless", "--iterations", "6", "--print-every", "1h", "--threads", "1", "--models"])
        .arg(&manifest)
        .arg("--export-dir")
        .arg(&snapshots)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout {stdout} stderr {}", String::from_utf8_lossy(&out.stderr));
    let summary_at = stdout.find("summary after").expect("a summary");
    let summary = &stdout[summary_at..];
    assert!(summary.lines().next().unwrap().contains("iterations reached"), "{summary}");
    for model in ["tiny ", "tiny-b4"] {
        let line = summary.lines().find(|l| l.contains(model)).expect("a summary line per model");
        assert!(line.contains("p50") && line.contains("p99") && line.contains("inf/s"), "{line}");
    }
    let rows = models_csv(&snapshots);
    for model in ["tiny", "tiny-b4"] {
        assert_eq!(rows[model]["iterations"], "6", "{model}: {:?}", rows[model]);
    }
    assert!(stdout.starts_with("lines: n= timed inferences; prof= profiled"), "the legend comes first: {stdout}");
    for model in ["tiny", "tiny-b4"] {
        let line = summary.lines().find(|l| l.contains(&format!("] {model} "))).unwrap();
        assert_op_shares_match_the_csv(line, &rows[model]);
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snapshot_folder(&snapshots).join("run.json")).unwrap()).unwrap();
    assert_eq!(run["settings"]["iterations"], 6);
    assert_eq!(run["settings"]["warmup"], 2);
}

/// A model line's `ops` field (`ops Conv2D 58% BatchNorm 27% Pool 14% rest 1%`): the three
/// largest shares of op time, each the one models.csv holds, largest first, then the rest.
fn assert_op_shares_match_the_csv(line: &str, row: &std::collections::HashMap<String, String>) {
    use infertop::core::profiling::Category;
    let ops = line.split("  ops ").nth(1).unwrap_or_else(|| panic!("no op shares: {line}"));
    let words: Vec<&str> = ops.split("  ").next().unwrap().split(' ').collect();
    let mut shares: Vec<(Category, f64)> = Category::ALL
        .iter()
        .filter_map(|c| row[&format!("share_{}", c.key())].parse::<f64>().ok().map(|s| (*c, s)))
        .collect();
    shares.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (pair, (category, share)) in words.chunks(2).zip(&shares).take(3) {
        assert_eq!(pair[0], category.label(), "{line}");
        assert_eq!(pair[1], format!("{:.0}%", 100.0 * share), "{line}");
    }
    let rest: f64 = shares.iter().skip(3).map(|(_, s)| s).sum();
    if shares.len() > 3 {
        assert_eq!(words[6..], ["rest", &format!("{:.0}%", 100.0 * rest)], "{line}");
    }
}

/// `--warmup 0` times the first inference after loading, and keeps it apart as cold; with
/// warm-up passes it is warm. (The peak measurement after the first inference evicts the
/// caches, so the inference after it is cold either way: one cold inference with a warm-up,
/// two without.)
#[test]
fn without_warm_up_the_first_timed_inference_is_cold() {
    let cold = |warmup: &str| {
        let dir = tempfile::tempdir().unwrap();
        let snapshots = dir.path().join("snapshots");
        let out = binary::infertop()
            .args(["--headless", "--only", "tiny", "--iterations", "4", "--threads", "1", "--warmup", warmup])
            .arg("--export-dir")
            .arg(&snapshots)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        let rows = models_csv(&snapshots);
        assert_eq!(rows["tiny"]["iterations"], "4");
        rows["tiny"]["cold_iterations"].clone()
    };
    assert_eq!(cold("0"), "2");
    assert_eq!(cold("3"), "1");
}

/// The only snapshot folder under `snapshots`.
fn snapshot_folder(snapshots: &std::path::Path) -> std::path::PathBuf {
    let mut folders: Vec<_> = std::fs::read_dir(snapshots)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    folders.pop().unwrap()
}

/// models.csv of the only snapshot under `snapshots`, by model name and column.
fn models_csv(
    snapshots: &std::path::Path,
) -> std::collections::HashMap<String, std::collections::HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(snapshot_folder(snapshots).join("models.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let row: std::collections::HashMap<String, String> =
                headers.iter().zip(r.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect();
            (row["model"].clone(), row)
        })
        .collect()
}

#[test]
fn sigint_ends_headless_mode_with_exit_0_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_tiny(dir.path());
    let mut child = binary::infertop()
        .args(["--headless", "--print-every", "200ms", "--threads", "1", "--models"])
        .arg(&manifest)
        .arg("--export-dir")
        .arg(dir.path().join("snapshots"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for two measured lines (periodic lines come while it runs), so SIGINT hits a
    // running engine. The deadline only guards against a hang.
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + binary::HANG_GUARD;
    let mut line = String::new();
    let mut measured = 0;
    while measured < 2 {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "output ended early");
        assert!(Instant::now() < deadline, "no measurement within {:?}", binary::HANG_GUARD);
        measured += usize::from(line.contains("p50"));
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGINT) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(rest.contains("summary after") && rest.contains("interrupted"), "{rest}");
}

/// Runs headless with sysfs read under `root` until stdout holds what `ready` waits for, then
/// stops it with SIGINT; returns stdout.
fn headless_with_root(root: &str, ready: impl Fn(&str) -> bool) -> String {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_tiny(dir.path());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let run = binary::run_until(
        binary::infertop()
            .args([
                "--headless",
                "--print-every",
                "200ms",
                "--threads",
                "1",
                "--sample-every",
                "100ms",
                "--only",
                "tiny",
            ])
            .arg("--models")
            .arg(&manifest)
            .arg("--sysfs-root")
            .arg(&root)
            .arg("--export-dir")
            .arg(dir.path().join("snapshots")),
        ready,
    );
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    run.stdout
}

/// Whether the last periodic line of `model` (a `] model` line) contains `what`.
fn last_line_has(stdout: &str, model: &str, what: &str) -> bool {
    stdout.lines().rev().find(|l| l.contains(&format!("] {model}"))).is_some_and(|l| l.contains(what))
}

#[test]
fn headless_lines_show_clock_temperature_and_throttle_of_a_pi() {
    // Energy needs system samples on both sides of inferences: wait until the model's line has it.
    let stdout = headless_with_root("tests/fixtures/sysfs/rpi4", |out| {
        last_line_has(out, "tiny", " mJ/inf") && last_line_has(out, "system", "MHz")
    });
    let line = stdout.lines().rev().find(|l| l.contains("] system")).expect("a system line");
    let policy_mhz = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/sysfs/rpi4/sys/devices/system/cpu/cpufreq/policy0/scaling_cur_freq"),
    )
    .unwrap()
    .trim()
    .parse::<f64>()
    .unwrap()
        / 1000.0;
    assert!(line.contains(&format!("clock {policy_mhz:.0} MHz")), "{line}");
    assert!(line.contains("°C cpu-thermal"), "{line}");
    // The fixture's flags say under-voltage and throttling happened before this run, not now.
    assert!(line.contains("throttle now no, this run no, since boot yes (firmware now none, this run none)"), "{line}");
    if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        assert!(!line.contains("measured n/a"), "the engine measures the clock here: {line}");
    }
    // The tree's INA219 HAT reads its own power register; the model's inferences are charged.
    assert!(line.contains("power 6.17 W ina219"), "{line}");
    let model = stdout.lines().rev().find(|l| l.contains("] tiny")).expect("a model line");
    assert!(model.contains(" mJ/inf"), "{model}");
}

/// An `intel_pstate` machine with only `scaling_*` cpufreq files and a Wi-Fi chip hotter than
/// its CPU: the line shows `scaling_cur_freq` and the CPU package's temperature.
#[test]
fn headless_lines_show_the_clock_and_cpu_temperature_of_an_intel_pstate_machine() {
    let stdout = headless_with_root("tests/fixtures/sysfs/x86-intel-pstate", |out| {
        last_line_has(out, "tiny", "p50") && last_line_has(out, "system", "MHz")
    });
    let line = stdout.lines().rev().find(|l| l.contains("] system")).expect("a system line");
    // No hardware maximum in this tree: left out, not "max n/a".
    assert!(line.contains("clock 3400 MHz") && !line.contains("max n/a"), "{line}");
    assert!(line.contains("temp 48.0°C coretemp/Package id 0 "), "{line}");
    assert!(!line.contains("mt7996"), "the Wi-Fi chip is no headline: {line}");
    assert!(line.contains("throttle now no, this run no, since boot no"), "{line}");
}

#[test]
fn headless_lines_say_n_a_on_a_machine_without_sensors() {
    let stdout = headless_with_root("tests/fixtures/sysfs/vm", |out| {
        last_line_has(out, "tiny", "p50") && out.contains("] system")
    });
    let line = stdout.lines().rev().find(|l| l.contains("] system")).expect("a system line");
    // No cpufreq: the engine's measured clock where it measures one, else plainly n/a.
    if cfg!(any(target_arch = "x86_64", target_arch = "aarch64")) {
        assert!(line.contains(" MHz measured (no cpufreq)  "), "{line}");
    } else {
        assert!(line.contains("clock n/a  "), "{line}");
    }
    assert!(!line.contains("n/a MHz") && !line.contains("max n/a"), "{line}");
    assert!(line.contains("temp n/a"), "{line}");
    assert!(line.contains("throttle unknown"), "{line}");
    assert!(line.contains("power n/a"), "{line}");
    let model = stdout.lines().rev().find(|l| l.contains("] tiny")).expect("a model line");
    assert!(!model.contains("mJ"), "no energy without a power source: {model}");
}

/// JSON lines carry the same figures as the text lines, and what is not known is `null`, never
/// 0: without the op profiler no MAC count exists.
#[test]
fn jsonl_writes_unknown_figures_as_null() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_tiny(dir.path());
    let run = |extra: &[&str]| {
        let out = binary::infertop()
            .args([
                "--headless",
                "--format",
                "jsonl",
                "--iterations",
                "3",
                "--threads",
                "1",
                "--only",
                "tiny",
                "--models",
            ])
            .arg(&manifest)
            .args(extra)
            .arg("--export-dir")
            .arg(dir.path().join("snapshots"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "stderr {}", String::from_utf8_lossy(&out.stderr));
        let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect();
        lines.into_iter().rev().find(|l| l.get("model").is_some()).expect("a model line")
    };
    let unprofiled = run(&["--no-op-profile"]);
    assert_eq!(unprofiled["status"], "running");
    assert!(unprofiled["macs"].is_null() && unprofiled["gmacs_per_s"].is_null(), "{unprofiled}");
    assert!(unprofiled["latency_ms_p50"].as_f64().is_some_and(|v| v > 0.0), "{unprofiled}");
    let profiled = run(&[]);
    assert!(profiled["macs"].as_f64().is_some_and(|v| v > 0.0), "{profiled}");
}
