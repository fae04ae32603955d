//! The real binary, headless, ended the ways board runs really end: its reader goes away
//! (`| head -1`), its terminal vanishes (an SSH drop), the user presses Ctrl-C twice during a
//! long inference. Each must leave a complete snapshot.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;

use std::io::{BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long the binary may take to start (libtorch loads) or to stop.
const PATIENCE: Duration = Duration::from_secs(90);

fn manifest(dir: &Path, input: &str, arch: &str) -> PathBuf {
    let path = dir.join("manifest.toml");
    std::fs::write(&path, format!("[[model]]\nname = \"m\"\narch = \"{arch}\"\ninput = {input}\n")).unwrap();
    path
}

fn command(manifest: &Path, export: &Path) -> Command {
    let mut c = binary::infertop();
    c.args(["--headless", "--threads", "1", "--print-every", "200ms", "--sample-every", "100ms", "--models"])
        .arg(manifest)
        .arg("--export-dir")
        .arg(export)
        .stdin(Stdio::null())
        .stderr(Stdio::piped());
    c
}

/// The child, killed if the test fails before it exits.
struct Running(Child);

impl Running {
    fn wait_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "infertop did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: libc::c_int) {
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(i32::try_from(self.0.id()).unwrap(), sig) };
    }

    fn stderr(&mut self) -> String {
        let mut err = String::new();
        if let Some(mut e) = self.0.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        err
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The one snapshot folder under `export`, checked complete: every file present, the model's
/// row in `models.csv`.
fn the_snapshot(export: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(export)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert_eq!(dirs.len(), 1, "expected one snapshot in {}: {dirs:?}", export.display());
    for file in infertop::export::FILES {
        assert!(dirs[0].join(file).is_file(), "{file} missing in {}", dirs[0].display());
    }
    let models = std::fs::read_to_string(dirs[0].join("models.csv")).unwrap();
    assert!(models.lines().nth(1).is_some_and(|l| l.starts_with("m,")), "{models}");
    dirs[0].clone()
}

/// The `iterations` field of the model's row.
fn iterations(snapshot: &Path) -> u64 {
    let mut csv = csv::Reader::from_path(snapshot.join("models.csv")).unwrap();
    let headers = csv.headers().unwrap().clone();
    let column = headers.iter().position(|h| h == "iterations").unwrap();
    let row = csv.records().next().unwrap().unwrap();
    row[column].parse().unwrap()
}

#[test]
fn a_reader_that_goes_away_leaves_a_complete_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("snapshots");
    let manifest = manifest(dir.path(), "[3, 32, 32]", "tiny");
    let mut child = Running(command(&manifest, &export).stdout(Stdio::piped()).spawn().unwrap());
    // `| head -1`: read until the model has run, then close the pipe.
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + PATIENCE;
    while !lines.next().unwrap().unwrap().contains("p50") {
        assert!(Instant::now() < deadline, "no inference timed");
    }
    drop(lines);
    let status = child.wait_within(PATIENCE);
    let err = child.stderr();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line on stderr: {err}");
    assert!(err.contains("stdout") && err.contains("snapshot:"), "{err}");
    assert!(iterations(&the_snapshot(&export)) > 0);
}

#[test]
fn stdout_on_a_full_disk_is_named_and_the_snapshot_kept() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("snapshots");
    let manifest = manifest(dir.path(), "[3, 32, 32]", "tiny");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let mut child = Running(command(&manifest, &export).stdout(full).spawn().unwrap());
    let status = child.wait_within(PATIENCE);
    let err = child.stderr();
    assert_eq!(status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("stdout") && err.contains("No space left on device"), "{err}");
    the_snapshot(&export);
}

/// The same when the summary is the run's first write (the run ends before its first periodic
/// line): exit 1 naming stdout, not a silent 0.
#[test]
fn stdout_on_a_full_disk_fails_the_run_when_the_summary_is_the_first_write() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("snapshots");
    let manifest = manifest(dir.path(), "[3, 32, 32]", "tiny");
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let out = binary::infertop()
        .args(["--headless", "--iterations", "3", "--print-every", "1h", "--threads", "1", "--models"])
        .arg(&manifest)
        .arg("--export-dir")
        .arg(&export)
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("stdout") && err.contains("No space left on device"), "{err}");
    assert!(iterations(&the_snapshot(&export)) > 0);
}

#[test]
fn a_terminal_that_vanishes_leaves_a_complete_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("snapshots");
    let manifest = manifest(dir.path(), "[3, 32, 32]", "tiny");
    let (master, slave) = open_pty();
    let mut child = Running(command(&manifest, &export).stdout(Stdio::from(slave)).spawn().unwrap());
    // Read what it prints until a model line with a latency shows, then hang up: close the
    // terminal's master side, as sshd does when the connection drops.
    let mut seen = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    let mut master_file = std::fs::File::from(master);
    while !String::from_utf8_lossy(&seen).contains("p50") {
        assert!(Instant::now() < deadline, "no inference timed: {}", String::from_utf8_lossy(&seen));
        let mut buf = [0u8; 4096];
        let n = master_file.read(&mut buf).unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    drop(master_file);
    let status = child.wait_within(PATIENCE);
    let err = child.stderr();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(iterations(&the_snapshot(&export)) > 0);
}

#[test]
fn a_second_interrupt_during_a_long_inference_exits_at_once_with_a_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("snapshots");
    // VGG-16 at 1024x1024 takes seconds per inference on one thread: long enough that the
    // first Ctrl-C has to wait for it.
    let manifest = manifest(dir.path(), "[3, 1024, 1024]", "vgg16");
    let mut child = Running(command(&manifest, &export).stdout(Stdio::piped()).spawn().unwrap());
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    // The first status line of the model: the engine is loading it or inside its first pass.
    while !lines.next().unwrap().unwrap().contains(" m ") {}
    std::thread::sleep(Duration::from_millis(500));
    child.signal(libc::SIGINT);
    // Longer than the half second after which the wait is announced.
    std::thread::sleep(Duration::from_secs(1));
    assert!(child.0.try_wait().unwrap().is_none(), "the first Ctrl-C waits for the inference");
    let asked = Instant::now();
    child.signal(libc::SIGINT);
    let status = child.wait_within(PATIENCE);
    let waited = asked.elapsed();
    let err = child.stderr();
    // Stopped inside the model's first (warm-up) pass, the run timed nothing: exit 1, saying so.
    assert_eq!(status.code(), Some(1), "stderr: {err}");
    assert!(err.contains("no inference was timed"), "{err}");
    assert!(err.contains("Ctrl-C again"), "the wait was announced: {err}");
    // "At once": well under one inference (several seconds here); generous for a busy machine.
    assert!(waited < Duration::from_secs(3), "took {waited:?} after the second Ctrl-C");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.starts_with("summary after")), "{rest:?}");
    the_snapshot(&export);
}

/// A pseudo-terminal pair (master, slave) from `openpty(3)`.
fn open_pty() -> (OwnedFd, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two descriptors we then own; null name, termios and size are allowed.
    let rc = unsafe {
        libc::openpty(&raw mut master, &raw mut slave, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // Close-on-exec: children that other tests start meanwhile must not inherit the master,
    // or closing ours would not hang the terminal up.
    for fd in [master, slave] {
        // SAFETY: fcntl on descriptors we own.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    // SAFETY: both descriptors were just opened and are owned by nobody else.
    let pair = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    assert!(pair.0.as_raw_fd() >= 0 && pair.1.as_raw_fd() >= 0);
    pair
}
