//! A disk that fills under a headless run and stays full, on a real file system: a small tmpfs
//! mounted for the test (root only; skipped with a message otherwise). Every inference is in
//! the run folder, in the snapshot that ends the run elsewhere, or counted lost in its
//! `run.json`; the failing exports are said once.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;
#[path = "support/scrape.rs"]
mod scrape;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A tmpfs of `mb` MB at `path`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, mb: u32) -> Option<Self> {
        std::fs::create_dir_all(path).unwrap();
        let size = format!("size={mb}m");
        let status = Command::new("mount").args(["-t", "tmpfs", "-o", &size, "tmpfs"]).arg(path).status().ok()?;
        status.success().then(|| Self(path.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Writes zeros into `path` until the file system refuses more.
fn fill(path: &Path) {
    let mut file = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    // The last pages, smaller than a chunk.
    while file.write_all(&[0u8; 512]).is_ok() {}
}

/// Data rows in every part of `inferences.csv` in `dir`.
fn inference_rows(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("inferences"))
        .map(|p| std::fs::read_to_string(p).unwrap().lines().count().saturating_sub(1) as u64)
        .sum()
}

/// The one visible folder in `base`.
fn only_folder(base: &Path) -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(base)
        .ok()?
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(found.len() <= 1, "{found:?}");
    found.pop()
}

/// The inferences counted so far, from `/metrics`.
fn counted(addr: std::net::SocketAddr) -> u64 {
    let body = scrape::get(addr, "/metrics").expect("a scrape").body;
    let line = body.lines().find(|l| l.starts_with("infertop_inferences_total{model=\"tiny\"}"));
    line.and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse::<f64>().ok()).map_or(0, |v| v as u64)
}

#[test]
fn a_disk_that_stays_full_loses_no_row_uncounted_and_says_so_once() {
    let dir = tempfile::tempdir().unwrap();
    // check_room asks for 32 MiB free at the start.
    let Some(disk) = Tmpfs::mount(&dir.path().join("disk"), 40) else {
        eprintln!("SKIPPED: cannot mount a tmpfs (this test needs root)");
        return;
    };
    let temp = dir.path().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let base = disk.0.join("snapshots");
    let mut child = binary::infertop()
        .args(["--headless", "--threads", "1", "--sample-every", "100ms", "--export-every", "1s"])
        .args(["--listen", "127.0.0.1:0", "--models"])
        .arg(scrape::tiny_manifest(dir.path()))
        .arg("--export-dir")
        .arg(&base)
        .env("TMPDIR", &temp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = scrape::listen_addr(&line);
    let mut stdout = child.stdout.take().unwrap();
    let printed = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });

    // The run folder is published by the first periodic export, with rows in it.
    let deadline = Instant::now() + Duration::from_secs(120) + binary::startup_allowance();
    let folder = loop {
        if let Some(folder) = only_folder(&base).filter(|f| inference_rows(f) >= 100) {
            break folder;
        }
        assert!(Instant::now() < deadline, "no run folder with 100 rows");
        std::thread::sleep(Duration::from_millis(50));
    };
    fill(&disk.0.join("filler"));
    let filled_at = (Instant::now(), counted(addr));
    // Four export periods on a full disk (each one an attempt), and rows measured since.
    while filled_at.0.elapsed() < Duration::from_secs(4) || counted(addr) < filled_at.1 + 500 {
        assert!(Instant::now() < deadline + Duration::from_secs(60), "no inferences after the disk filled");
        std::thread::sleep(Duration::from_millis(100));
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe { libc::kill(i32::try_from(child.id()).unwrap(), libc::SIGINT) };
    let mut rest = String::new();
    let _ = stderr.read_to_string(&mut rest);
    let status = child.wait().unwrap();
    let stdout = printed.join().unwrap();
    eprintln!("exit {status:?}\nstdout:\n{stdout}\nstderr:\n{rest}");

    let failed: Vec<&str> = stdout.lines().filter(|l| l.contains("snapshot failed")).collect();
    assert_eq!(failed.len(), 1, "one line for the one cause: {failed:#?}");
    let fallback = only_folder(&temp.join("infertop-snapshots")).expect("the final snapshot in TMPDIR");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(fallback.join("run.json")).unwrap()).unwrap();
    let series = &json["series"]["inferences"];
    let (kept, lost) = (series["rows"].as_u64().unwrap_or(0), series["rows_lost"].as_u64().unwrap_or(0));
    let in_folder = series["earlier_rows"]["rows"].as_u64().unwrap_or(0);
    assert_eq!(series["earlier_rows"]["folder"], folder.display().to_string(), "{series}");
    assert_eq!(in_folder, inference_rows(&folder), "{series}");
    assert_eq!(kept, inference_rows(&fallback), "{series}");
    assert!(kept > 0, "the rows the full disk refused are in the snapshot: {series}");
    assert_eq!(in_folder + kept + lost, json["inferences"].as_u64().unwrap(), "every inference accounted: {series}");
    drop(disk);
}
