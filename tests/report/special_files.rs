//! Snapshot files and outputs that are not regular files: `report` and `compare` refuse them
//! with one line naming the path, exit 2, without hanging, filling memory or replacing them.

use std::fs;
use std::os::unix::fs::FileTypeExt as _;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use super::{binary, bounded_run, fixture, VM};

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

/// `infertop report SNAPSHOT -o OUT` within a minute and 2 GiB of heap.
fn report(snapshot: &Path, out: &Path) -> Output {
    let mut command = binary::infertop();
    command.arg("report").arg(snapshot).arg("-o").arg(out);
    let patience = Duration::from_secs(60) + binary::startup_allowance();
    bounded_run::run_bounded(command, patience, Some(2 << 30))
}

fn assert_usage_error(out: &Output, names: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "not one line: {stderr}");
    for name in names {
        assert!(stderr.contains(name), "'{stderr}' does not say {name}");
    }
}

/// A copy of the VM snapshot with `file` replaced by what `make` puts at its path.
fn with_special(file: &str, make: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixture(VM)).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    fs::remove_file(dir.path().join(file)).unwrap();
    make(&dir.path().join(file));
    dir
}

#[test]
fn snapshot_files_that_are_not_regular_files_are_refused_without_hanging() {
    let out_dir = tempfile::tempdir().unwrap();
    let page = out_dir.path().join("page.html");
    let fifo = with_special("models.csv", mkfifo);
    assert_usage_error(&report(fifo.path(), &page), &["models.csv", "is a FIFO, not a regular file"]);
    let zero = with_special("ops.csv", |p| std::os::unix::fs::symlink("/dev/zero", p).unwrap());
    assert_usage_error(&report(zero.path(), &page), &["ops.csv", "is a character device, not a regular file"]);
    let run_json = with_special("run.json", mkfifo);
    assert_usage_error(&report(run_json.path(), &page), &["run.json", "is a FIFO"]);
    let folder = with_special("system.csv", |p| fs::create_dir(p).unwrap());
    assert_usage_error(&report(folder.path(), &page), &["system.csv", "is a folder, not a regular file"]);
    assert!(fs::read_dir(out_dir.path()).unwrap().next().is_none(), "no page written");
}

#[test]
fn snapshot_files_past_their_bounds_are_refused() {
    let out_dir = tempfile::tempdir().unwrap();
    let page = out_dir.path().join("page.html");
    // Sparse files: gigabytes that take no room.
    let sparse = |len: u64| move |p: &Path| fs::File::create(p).unwrap().set_len(len).unwrap();
    let run_json = with_special("run.json", sparse(1 << 30));
    assert_usage_error(&report(run_json.path(), &page), &["run.json", "is larger than 16777216 bytes"]);
    let ops = with_special("ops.csv", sparse(1 << 30));
    assert_usage_error(&report(ops.path(), &page), &["ops.csv", "has a line longer than 1048576 bytes"]);
}

#[test]
fn an_output_that_is_not_a_regular_file_is_refused_and_left_alone() {
    let out_dir = tempfile::tempdir().unwrap();
    let fifo = out_dir.path().join("fifo.html");
    mkfifo(&fifo);
    let out = report(&fixture(VM), &fifo);
    assert_usage_error(&out, &[&fifo.display().to_string(), "it is a FIFO, not a regular file"]);
    assert!(fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo(), "the FIFO is still a FIFO");
    // A link to a device is refused too (the device as such, when root may make one).
    let link = out_dir.path().join("null.html");
    std::os::unix::fs::symlink("/dev/null", &link).unwrap();
    assert_usage_error(&report(&fixture(VM), &link), &["null.html", "it is a character device"]);
    assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "the link is left");
    let device = out_dir.path().join("null");
    let c_path = std::ffi::CString::new(device.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path; (1, 3) is the null device.
    if unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } == 0 {
        assert_usage_error(&report(&fixture(VM), &device), &["null", "it is a character device"]);
        assert!(fs::symlink_metadata(&device).unwrap().file_type().is_char_device(), "the device is left");
    } else {
        println!("device case skipped: mknod is not permitted here ({})", std::io::Error::last_os_error());
    }
    let mut left: Vec<_> = fs::read_dir(out_dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert!(
        left.len() <= 3 && left.iter().all(|n| ["fifo.html", "null.html", "null"].contains(&n.to_str().unwrap())),
        "{left:?}"
    );
    // A regular file is still replaced, and compare refuses the same way.
    let page = out_dir.path().join("page.html");
    fs::write(&page, "old").unwrap();
    assert_eq!(report(&fixture(VM), &page).status.code(), Some(0));
    assert!(fs::read_to_string(&page).unwrap().starts_with("<!DOCTYPE html>"));
    let mut command = binary::infertop();
    command.arg("compare").arg(fixture(VM)).arg(fixture(VM)).arg("-o").arg(&fifo);
    let out = bounded_run::run_bounded(command, Duration::from_secs(60), Some(2 << 30));
    assert_usage_error(&out, &["fifo.html", "it is a FIFO"]);
}
