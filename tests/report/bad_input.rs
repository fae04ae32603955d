//! Bad snapshots: one line naming the file, exit 2, and no report (nor a temporary file) left.

use std::fs;
use std::path::Path;

use super::{fixture, infertop, VM};

/// A copy of the VM snapshot changed by `break_it`.
fn broken(break_it: impl FnOnce(&Path)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(fixture(VM)).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    break_it(dir.path());
    dir
}

/// `report` and `compare` on `snapshot` fail with exit 2 and one line mentioning `names`, and
/// leave the output folder empty.
fn assert_refused(snapshot: &Path, names: &str) {
    let out_dir = tempfile::tempdir().unwrap();
    let page = out_dir.path().join("page.html");
    let good = fixture(VM);
    let runs: [Vec<&std::ffi::OsStr>; 2] = [
        vec!["report".as_ref(), snapshot.as_os_str(), "-o".as_ref(), page.as_os_str()],
        vec!["compare".as_ref(), good.as_os_str(), snapshot.as_os_str(), "-o".as_ref(), page.as_os_str()],
    ];
    for args in runs {
        let out = infertop(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "not one line: {stderr}");
        assert!(stderr.contains(names), "'{stderr}' does not name {names}");
        assert!(out.stdout.is_empty());
        let left: Vec<_> = fs::read_dir(out_dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

#[test]
fn a_folder_that_is_not_a_snapshot_is_refused_naming_run_json() {
    let empty = tempfile::tempdir().unwrap();
    assert_refused(empty.path(), "run.json");
    let missing = empty.path().join("nowhere");
    assert_refused(&missing, "nowhere: not a folder");
}

#[test]
fn a_snapshot_of_another_format_is_refused_naming_the_format() {
    let dir = broken(|d| {
        let path = d.join("run.json");
        let text = fs::read_to_string(&path).unwrap().replace("\"snapshot_format\": 2", "\"snapshot_format\": 3");
        fs::write(path, text).unwrap();
    });
    assert_refused(dir.path(), "run.json: snapshot_format 3, this infertop reads 2");
}

#[test]
fn a_missing_csv_is_refused_naming_it() {
    for file in ["models.csv", "ops.csv", "system.csv", "inferences.csv"] {
        let dir = broken(|d| fs::remove_file(d.join(file)).unwrap());
        assert_refused(dir.path(), file);
    }
}

#[test]
fn a_truncated_csv_is_refused_naming_it() {
    for file in ["models.csv", "ops.csv", "system.csv", "inferences.csv"] {
        let dir = broken(|d| {
            let path = d.join(file);
            let bytes = fs::read(&path).unwrap();
            // Cut in the middle of a row, as a copy that stopped would.
            let cut = bytes.len() * 2 / 3;
            fs::write(&path, &bytes[..cut]).unwrap();
        });
        assert_refused(dir.path(), file);
    }
}
