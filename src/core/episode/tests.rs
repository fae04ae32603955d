use std::fs;
use std::path::Path;
use std::time::Duration;

use super::*;

/// An episode folder holding `toml` as its `episode.toml` and a base tree `base/` with one file.
fn episode_dir(toml: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("base/sys/class/thermal/thermal_zone0")).unwrap();
    fs::write(dir.path().join("base/sys/class/thermal/thermal_zone0/temp"), "50000\n").unwrap();
    fs::write(dir.path().join(EPISODE_FILE), toml).unwrap();
    dir
}

fn problem(toml: &str) -> String {
    let dir = episode_dir(toml);
    let err = Episode::load(dir.path()).unwrap_err();
    assert_eq!(err.file, dir.path().join(EPISODE_FILE), "the error names the file");
    assert!(!err.to_string().contains('\n'), "one line: {err}");
    err.problem
}

const ZONE: &str = "sys/class/thermal/thermal_zone0/temp";

#[test]
fn a_folder_without_an_episode_file_is_a_plain_tree() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(Episode::load(dir.path()).unwrap(), None);
}

#[test]
fn steps_load_in_order_with_numbers_as_text() {
    let dir = episode_dir(&format!(
        "base = \"base\"\n[[step]]\nat = \"2s\"\nfiles = {{ \"{ZONE}\" = 81000 }}\n[[step]]\nat = \"2500ms\"\nfiles = {{ \"{ZONE}\" = \"60000\" }}\n"
    ));
    let episode = Episode::load(dir.path()).unwrap().unwrap();
    assert_eq!(episode.steps.len(), 2);
    assert_eq!(episode.steps[0].at, Duration::from_secs(2));
    assert_eq!(episode.steps[0].files, vec![(PathBuf::from(ZONE), "81000".to_string())]);
    assert_eq!(episode.length(), Duration::from_millis(2500));
}

#[test]
fn each_mistake_is_named() {
    assert!(problem("base = \"nowhere\"\n").contains("base 'nowhere' is not a folder"));
    assert!(problem("base = \"base\"\nspeed = 2\n").contains("unknown field"));
    let step = |at: &str, files: &str| format!("base = \"base\"\n[[step]]\nat = \"{at}\"\nfiles = {{ {files} }}\n");
    assert!(problem(&step("soon", "\"a\" = \"1\"")).contains("step 1: at = 'soon' is not a duration"));
    assert!(problem(&step("1s", "\"../../etc/passwd\" = \"x\"")).contains("step 1: '../../etc/passwd' leaves the tree"));
    assert!(problem(&step("1s", "\"/etc/passwd\" = \"x\"")).contains("leaves the tree"));
    assert!(problem(&step("1s", "\"a\" = [1, 2]")).contains("is not text or a number"));
    let back = format!("{}[[step]]\nat = \"500ms\"\nfiles = {{ \"a\" = \"1\" }}\n", step("1s", "\"a\" = \"1\""));
    assert!(problem(&back).contains("step 2: at = '500ms' is earlier than the step before"));
    assert!(problem("base = ").contains("string"), "a syntax error says what it expected");
}

#[test]
fn a_replay_writes_each_step_when_its_time_comes_and_removes_its_copy() {
    let dir = episode_dir(&format!(
        "base = \"base\"\n[[step]]\nat = \"10s\"\nfiles = {{ \"{ZONE}\" = 81000 }}\n[[step]]\nat = \"20s\"\nfiles = {{ \"{ZONE}\" = 62000, \"sys/new/file\" = \"1\" }}\n"
    ));
    let episode = Episode::load(dir.path()).unwrap().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    // Ten times real time: the step at 10 s comes after 1 s.
    let mut replay = Replay::start(&episode, 10.0, scratch.path()).unwrap();
    let read = |root: &Path, path: &str| fs::read_to_string(root.join(path)).unwrap();
    assert_eq!(read(replay.root(), ZONE), "50000\n", "the base tree at time zero");
    assert_eq!(replay.advance(Duration::from_millis(999)), 0);
    assert_eq!(read(replay.root(), ZONE), "50000\n");
    assert_eq!(replay.advance(Duration::from_secs(1)), 1);
    assert_eq!(read(replay.root(), ZONE), "81000\n");
    assert!(!replay.finished());
    assert_eq!(replay.advance(Duration::from_secs(5)), 1);
    assert_eq!(read(replay.root(), ZONE), "62000\n");
    assert_eq!(read(replay.root(), "sys/new/file"), "1\n", "a step may add a file");
    assert!(replay.finished());
    assert_eq!(read(&dir.path().join("base"), ZONE), "50000\n", "the recording itself is untouched");
    let root = replay.root().to_path_buf();
    drop(replay);
    assert!(!root.exists(), "the copy is removed");
}
