//! The real binary in headless mode on a real (small) model.

#[path = "binary/command.rs"]
mod binary;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

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

#[test]
fn headless_prints_lines_and_a_summary_then_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_tiny(dir.path());
    let out = binary::infertop()
        .args([
            "--headless",
            "--duration",
            binary::duration(3).as_str(),
            "--print-every",
            "1s",
            "--threads",
            "1",
            "--models",
        ])
        .arg(&manifest)
        .arg("--export-dir")
        .arg(dir.path().join("snapshots"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "stdout {stdout} stderr {}", String::from_utf8_lossy(&out.stderr));
    let summary_at = stdout.find("summary after").expect("a summary");
    let summary = &stdout[summary_at..];
    for model in ["tiny ", "tiny-b4"] {
        let line = summary.lines().find(|l| l.contains(model)).expect("a summary line per model");
        assert!(line.contains("p50") && line.contains("p99") && line.contains("inf/s"), "{line}");
    }
    // Periodic lines came before the summary.
    assert!(stdout[..summary_at].lines().filter(|l| l.contains("p50")).count() >= 2, "{stdout}");
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
    // Wait for the first measured line, so SIGINT hits a running engine.
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut line = String::new();
    while !line.contains("p50") {
        line.clear();
        assert!(reader.read_line(&mut line).unwrap() > 0, "output ended early");
        assert!(Instant::now() < deadline, "no measurement within 60 s");
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGINT) };
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(rest.contains("summary after") && rest.contains("interrupted"), "{rest}");
}

/// Runs headless for a short while with sysfs read under `root`; returns stdout.
fn headless_with_root(root: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let manifest = manifest_with_tiny(dir.path());
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(root);
    let out = binary::infertop()
        .args([
            "--headless",
            "--duration",
            binary::duration(2).as_str(),
            "--print-every",
            "1s",
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
        .arg(dir.path().join("snapshots"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn headless_lines_show_clock_temperature_and_throttle_of_a_pi() {
    let stdout = headless_with_root("tests/fixtures/sysfs/rpi4");
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

#[test]
fn headless_lines_say_n_a_on_a_machine_without_sensors() {
    let stdout = headless_with_root("tests/fixtures/sysfs/vm");
    let line = stdout.lines().rev().find(|l| l.contains("] system")).expect("a system line");
    assert!(line.contains("clock n/a MHz (max n/a"), "{line}");
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
                "--duration",
                binary::duration(2).as_str(),
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
