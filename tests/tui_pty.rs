//! The real binary on a pseudo-terminal: keys drive it, `q` and signals end it with exit code
//! 0, and the terminal settings (termios) are back to what they were; a bad theme is a usage
//! error before the terminal is touched. The pty comes from `openpty(3)`, so nothing beyond
//! libc is needed.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;
#[path = "binary/pty.rs"]
mod pty;
#[path = "support/scrape.rs"]
mod scrape;

use std::io::{BufRead, Read};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use pty::{start, Output, Pty, Running, PATIENCE};

fn manifest(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("manifest.toml");
    std::fs::write(&path, "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n").unwrap();
    path
}

/// Flags for a quick run of the manifest in `manifest`'s folder, whose snapshots go to its
/// `snapshots/` subfolder.
fn tiny_args(manifest: &std::path::Path) -> Vec<String> {
    let export = manifest.with_file_name("snapshots");
    ["--threads", "1", "--fps", "20", "--sample-every", "100ms", "--models"]
        .iter()
        .map(|s| (*s).to_string())
        .chain([manifest.display().to_string(), "--export-dir".into(), export.display().to_string()])
        .collect()
}

/// The snapshot folders written under the manifest's folder, oldest first.
fn snapshots(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(dir.join("snapshots"))
        .map(|entries| {
            entries
                .map(|e| e.unwrap().path())
                .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// `models.csv` of a snapshot as (model, status, iterations, error) rows.
fn model_rows(snapshot: &std::path::Path) -> Vec<(String, String, u64, String)> {
    let mut csv = csv::Reader::from_path(snapshot.join("models.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (model, status, iterations, error) = (col("model"), col("status"), col("iterations"), col("error"));
    csv.records()
        .map(|r| {
            let r = r.unwrap();
            (r[model].to_string(), r[status].to_string(), r[iterations].parse().unwrap(), r[error].to_string())
        })
        .collect()
}

/// Waits until the program has put the pty in raw mode and drawn its first screen.
fn wait_until_drawn(pty: &Pty, out: &Output) {
    let deadline = Instant::now() + PATIENCE;
    while !pty.termios().raw() {
        assert!(Instant::now() < deadline, "raw mode never entered; output: {}", out.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    out.wait_for("Beyond MACs");
}

fn stderr_of(running: &mut Running) -> String {
    let mut err = String::new();
    if let Some(mut e) = running.child.stderr.take() {
        let _ = e.read_to_string(&mut err);
    }
    err
}

#[test]
fn keys_drive_it_and_q_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let args = tiny_args(&manifest(dir.path()));
    let pty = Pty::open(100, 30);
    let before = pty.termios();
    assert!(!before.raw(), "a fresh pty is cooked");
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_until_drawn(&pty, &out);
    out.wait_for("p50");
    // Single words or text over borders: ratatui redraws only the cells that changed, so a
    // phrase over blank cells may arrive split by cursor moves.
    for (keys, shows) in [
        // A left click (SGR mouse report, 1-based cells) on the "Detail" tab at the top: the
        // first time anything of that view is drawn.
        (&b"\x1b[<0;12;1M\x1b[<0;12;1m"[..], "Conv2D"),
        (b"\t", "correlation with latency"),
        (b"\t", "history"),
        (b"\x1b[Z", "correlation with latency"),
        (b"j", "correlation with latency"),
        (b"p", "paused"),
        (b"?", "snapshot"),
    ] {
        pty.send(keys);
        out.wait_for(shows);
    }
    pty.send(b"q");
    let status = running.wait();
    let err = stderr_of(&mut running);
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(pty.termios(), before, "termios restored after q");
    assert!(out.text().contains("\x1b[?1049l"), "left the alternate screen");
    assert!(out.text().contains("\x1b[?1000h"), "captured the mouse");
    assert!(out.text().contains("\x1b[?1000l"), "released the mouse");
}

#[test]
fn no_mouse_leaves_the_mouse_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = tiny_args(&manifest(dir.path()));
    args.push("--no-mouse".into());
    let pty = Pty::open(100, 30);
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_until_drawn(&pty, &out);
    pty.send(b"q");
    assert_eq!(running.wait().code(), Some(0), "stderr: {}", stderr_of(&mut running));
    assert!(!out.text().contains("\x1b[?1000h"), "no mouse capture with --no-mouse");
}

fn signal_restores_the_terminal(sig: libc::c_int) {
    let dir = tempfile::tempdir().unwrap();
    let args = tiny_args(&manifest(dir.path()));
    let pty = Pty::open(80, 24);
    let before = pty.termios();
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_until_drawn(&pty, &out);
    running.signal(sig);
    let status = running.wait();
    let err = stderr_of(&mut running);
    assert_eq!(status.code(), Some(0), "signal {sig}: {status:?}, stderr: {err}");
    assert_eq!(pty.termios(), before, "termios restored after signal {sig}");
    assert!(out.text().contains("\x1b[?1049l"), "left the alternate screen");
    assert!(out.text().contains("\x1b[?1000l"), "released the mouse after signal {sig}");
    // Nobody may be at the keyboard to press `e`: a signal saves what was measured.
    assert_eq!(snapshots(dir.path()).len(), 1, "one snapshot after signal {sig}; stderr: {err}");
}

#[test]
fn sigterm_restores_the_terminal() {
    signal_restores_the_terminal(libc::SIGTERM);
}

#[test]
fn sigint_and_sighup_restore_the_terminal() {
    signal_restores_the_terminal(libc::SIGINT);
    signal_restores_the_terminal(libc::SIGHUP);
}

#[test]
fn a_bad_theme_is_a_usage_error_before_the_terminal_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let theme = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/themes/bad_color.toml");
    let mut args = tiny_args(&manifest(dir.path()));
    args.extend(["--theme".into(), theme.into()]);
    let pty = Pty::open(80, 24);
    let before = pty.termios();
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let status = running.wait();
    let err = stderr_of(&mut running);
    assert_eq!(status.code(), Some(2), "stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains("bad_color.toml") && err.contains("colors.title = \"purpel\""), "{err}");
    assert_eq!(pty.termios(), before);
    std::thread::sleep(Duration::from_millis(100));
    assert!(!out.text().contains("\x1b[?1049h"), "the alternate screen was never entered");
}

/// One model of the set fails (its input has 1 channel, the net takes 3): it shows as failed
/// with one short line while the other keeps running, and the screen stays up.
#[test]
fn a_failing_model_leaves_the_others_running() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("manifest.toml");
    std::fs::write(
        &manifest,
        "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n\n\
         [[model]]\nname = \"broken\"\narch = \"tiny\"\ninput = [1, 32, 32]\n",
    )
    .unwrap();
    let args = tiny_args(&manifest);
    let pty = Pty::open(120, 30);
    let before = pty.termios();
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_until_drawn(&pty, &out);
    out.wait_for("failed");
    out.wait_for("p50");
    // The healthy model's latency sparkline reaches its top level once two inferences are timed
    // (the header's "p50" shows from the first frame; under emulation timing starts much later).
    out.wait_for("█");
    // Still drawing after the failure: the export key works and reports on screen.
    pty.send(b"e");
    // The status line names the snapshot, looked for on the replayed screen: when writing
    // takes longer than a frame (as under emulation), "export: writing…" is drawn first and
    // ratatui resends only the cells that changed.
    let deadline = Instant::now() + PATIENCE;
    let written = loop {
        if let Some(s) = snapshots(dir.path()).pop() {
            break s;
        }
        assert!(Instant::now() < deadline, "no snapshot after `e`");
        std::thread::sleep(Duration::from_millis(20));
    };
    out.wait_for_on_screen(&written.file_name().unwrap().to_string_lossy(), 120, 30);
    pty.send(b"q");
    let status = running.wait();
    let err = stderr_of(&mut running);
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(pty.termios(), before);
    // `q` drops the run folder streamed since the start (never exported, never visible): only
    // the `e` snapshot stays, with no staging folder beside it.
    let left: Vec<_> = std::fs::read_dir(dir.path().join("snapshots")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(left, std::slice::from_ref(&written));
    assert!(!written.join("inferences.csv").exists(), "a snapshot from memory has no per-inference rows");
    let snapshot = written;
    let rows = model_rows(&snapshot);
    let (tiny, broken) = (&rows[0], &rows[1]);
    assert_eq!((tiny.1.as_str(), broken.1.as_str()), ("running", "failed"), "{rows:?}");
    assert!(tiny.2 > 0, "the healthy model kept running: {rows:?}");
    assert!(broken.3.contains("channels") && broken.3.chars().count() <= 200, "{}", broken.3);
}

/// The terminal goes away under the live screen (an SSH session drops): the run ends as on
/// SIGHUP, and what it measured is saved.
#[test]
fn a_terminal_that_vanishes_leaves_a_complete_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let args = tiny_args(&manifest(dir.path()));
    let pty = Pty::open(100, 30);
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_until_drawn(&pty, &out);
    // The screen has no marker that tells "timed some" apart from "loaded": give the engine
    // time to load the tiny net and time it.
    std::thread::sleep(Duration::from_secs(3) + binary::startup_allowance());
    drop(out);
    drop(pty);
    let status = running.wait();
    let err = stderr_of(&mut running);
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    let snapshot = snapshots(dir.path()).pop().expect("a snapshot after the terminal vanished");
    for file in infertop::export::FILES {
        assert!(snapshot.join(file).is_file(), "{file} missing");
    }
    assert!(model_rows(&snapshot)[0].2 > 0);
    // With --export-dir the live screen streams its run folder too.
    let inferences = std::fs::read_to_string(snapshot.join("inferences.csv")).expect("inferences.csv");
    assert!(inferences.lines().count() > 1, "rows of inferences: {inferences}");
}

/// `--listen` in the live screen: a scrape gets the model's counts while the screen runs, and
/// `q` still ends it cleanly.
#[test]
fn the_live_screen_serves_metrics_while_it_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = tiny_args(&manifest(dir.path()));
    args.extend(["--listen".to_string(), "127.0.0.1:0".to_string()]);
    let pty = Pty::open(100, 30);
    let before = pty.termios();
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    let mut stderr = std::io::BufReader::new(running.child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = scrape::listen_addr(&line);
    wait_until_drawn(&pty, &out);
    out.wait_for("p50");
    let deadline = Instant::now() + PATIENCE;
    let counted = loop {
        let body = scrape::get(addr, "/metrics").expect("the live screen answers /metrics").body;
        let count = body
            .lines()
            .find_map(|l| l.strip_prefix("infertop_inferences_total{model=\"tiny\"} "))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if count > 0.0 && body.contains("infertop_latency_p50_seconds{model=\"tiny\"}") {
            break count;
        }
        assert!(Instant::now() < deadline, "no counts in time:\n{body}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(counted >= 1.0);
    pty.send(b"q");
    let status = running.wait();
    let mut err = String::new();
    let _ = stderr.read_to_string(&mut err);
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(pty.termios(), before, "termios restored after q");
}

/// `--export-every` in the live screen exports into the run folder as the run goes, and the
/// folder, once published, stays after `q`.
#[test]
fn export_every_exports_from_the_live_screen() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = tiny_args(&manifest(dir.path()));
    args.extend(["--export-every".to_string(), "1s".to_string()]);
    let pty = Pty::open(100, 30);
    let out = Output::collect(pty.master.as_raw_fd());
    let mut running = start(&pty, &args.iter().map(String::as_str).collect::<Vec<_>>());
    wait_until_drawn(&pty, &out);
    let exports = |folder: &std::path::Path| -> (u64, u64) {
        let Ok(text) = std::fs::read_to_string(folder.join("run.json")) else { return (0, 0) };
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        (json["exports"].as_u64().unwrap_or(0), json["inferences"].as_u64().unwrap_or(0))
    };
    let deadline = Instant::now() + PATIENCE;
    let folder = loop {
        if let Some(folder) = snapshots(dir.path()).pop().filter(|f| {
            let (exports, inferences) = exports(f);
            exports >= 2 && inferences > 0
        }) {
            break folder;
        }
        assert!(Instant::now() < deadline, "no second periodic export from the live screen");
        std::thread::sleep(Duration::from_millis(50));
    };
    pty.send(b"q");
    let status = running.wait();
    let err = stderr_of(&mut running);
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(snapshots(dir.path()), std::slice::from_ref(&folder));
    assert!(folder.join("inferences.csv").is_file());
}
