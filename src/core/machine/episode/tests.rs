use std::fs;
use std::path::Path;
use std::time::Duration;

use super::replay::Replay;
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

#[test]
fn a_replay_folder_is_private_and_named_at_random() {
    use std::os::unix::fs::MetadataExt as _;
    let dir = episode_dir("base = \"base\"\n");
    let episode = Episode::load(dir.path()).unwrap().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let (a, b) =
        (Replay::start(&episode, 1.0, scratch.path()).unwrap(), Replay::start(&episode, 1.0, scratch.path()).unwrap());
    for replay in [&a, &b] {
        let meta = fs::symlink_metadata(replay.root()).unwrap();
        assert!(meta.is_dir());
        assert_eq!(meta.mode() & 0o7777, 0o700, "{}", replay.root().display());
        // SAFETY: geteuid has no preconditions.
        assert_eq!(meta.uid(), unsafe { libc::geteuid() });
        let name = replay.root().file_name().unwrap().to_string_lossy().into_owned();
        let random = name.strip_prefix("infertop-replay-").unwrap();
        assert!(random.len() >= 6 && !random.contains(&std::process::id().to_string()), "{name}");
    }
    assert_ne!(a.root(), b.root());
}

/// A folder or file of the copy replaced by a link (as only root could, the folder being
/// private) is replaced, never written through.
#[test]
fn a_replay_does_not_write_through_a_link_in_its_folder() {
    let dir = episode_dir(&format!(
        "base = \"base\"\n[[step]]\nat = \"1s\"\nfiles = {{ \"{ZONE}\" = 81000, \"sys/hwmon/temp\" = 1 }}\n"
    ));
    let episode = Episode::load(dir.path()).unwrap().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let outside_file = elsewhere.path().join("file");
    fs::write(&outside_file, "mine\n").unwrap();
    let mut replay = Replay::start(&episode, 1.0, scratch.path()).unwrap();
    let zone = replay.root().join("sys/class/thermal/thermal_zone0");
    fs::remove_dir_all(&zone).unwrap();
    std::os::unix::fs::symlink(elsewhere.path(), &zone).unwrap();
    fs::create_dir_all(replay.root().join("sys/hwmon")).unwrap();
    std::os::unix::fs::symlink(&outside_file, replay.root().join("sys/hwmon/temp")).unwrap();
    assert_eq!(replay.advance(Duration::from_secs(1)), 1);
    let outside: Vec<_> = fs::read_dir(elsewhere.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(outside, ["file"], "nothing written where the folder link leads");
    assert_eq!(fs::read_to_string(&outside_file).unwrap(), "mine\n", "the linked file is untouched");
    assert_eq!(fs::read_to_string(replay.root().join("sys/hwmon/temp")).unwrap(), "1\n", "the link itself replaced");
    let root = replay.root().to_path_buf();
    drop(replay);
    assert!(!root.exists());
    assert_eq!(fs::read_to_string(&outside_file).unwrap(), "mine\n", "removing the copy removes links, not targets");
}

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

/// The problem `Episode::load` finds in an episode whose base is changed by `change`, checked
/// to be one line naming `episode.toml`; fails the test rather than hang on a read that blocks.
fn base_problem(change: impl FnOnce(&Path)) -> String {
    let dir = episode_dir("base = \"base\"\n");
    change(&dir.path().join("base"));
    let path = dir.path().to_path_buf();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || tx.send(Episode::load(&path).map(|_| ())));
    let err = rx.recv_timeout(Duration::from_secs(20)).expect("loading returns").unwrap_err();
    assert_eq!(err.file, dir.path().join(EPISODE_FILE));
    assert!(!err.to_string().contains('\n'), "one line: {err}");
    err.problem
}

#[test]
fn a_base_tree_holding_what_cannot_be_played_is_refused_naming_the_path() {
    use std::os::unix::fs::symlink;
    let zone = Path::new("sys/class/thermal/thermal_zone0");
    assert_eq!(
        base_problem(|b| mkfifo(&b.join(zone).join("trip"))),
        "base 'base': 'sys/class/thermal/thermal_zone0/trip' is a FIFO, not a regular file or folder"
    );
    let socket = base_problem(|b| drop(std::os::unix::net::UnixListener::bind(b.join("sock")).unwrap()));
    assert_eq!(socket, "base 'base': 'sock' is a socket, not a regular file or folder");
    assert_eq!(
        base_problem(|b| symlink("/dev/zero", b.join("zero")).unwrap()),
        "base 'base': 'zero' links out of the base tree (to '/dev/zero')"
    );
    let out = base_problem(|b| symlink("../..", b.join("up")).unwrap());
    assert!(out.starts_with("base 'base': 'up' links out of the base tree"), "{out}");
    assert_eq!(
        base_problem(|b| symlink("nothing", b.join("gone")).unwrap()),
        "base 'base': 'gone' is a link to nothing"
    );
    assert_eq!(
        base_problem(|b| {
            symlink("loop2", b.join("loop1")).unwrap();
            symlink("loop1", b.join("loop2")).unwrap();
        }),
        "base 'base': 'loop1' is a loop of links"
    );
    assert_eq!(
        base_problem(|b| symlink("../..", b.join(zone).join("again")).unwrap()),
        "base 'base': 'sys/class/thermal/thermal_zone0/again' leads back to a folder that holds it"
    );
    let large = base_problem(|b| {
        // Sparse: a gigabyte that takes no room.
        fs::File::create(b.join("large")).unwrap().set_len(1 << 30).unwrap();
    });
    assert_eq!(large, format!("base 'base': 'large' is larger than {} bytes", base_tree::MAX_FILE_BYTES));
}

#[test]
fn links_inside_the_base_tree_are_copied_as_plain_files_and_folders() {
    let dir = episode_dir("base = \"base\"\n");
    let base = dir.path().join("base");
    std::os::unix::fs::symlink("sys/class/thermal/thermal_zone0", base.join("zone")).unwrap();
    std::os::unix::fs::symlink("zone/temp", base.join("temp")).unwrap();
    let episode = Episode::load(dir.path()).unwrap().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let replay = Replay::start(&episode, 1.0, scratch.path()).unwrap();
    for path in ["zone/temp", "temp", ZONE] {
        let copy = replay.root().join(path);
        assert!(fs::symlink_metadata(&copy).unwrap().is_file(), "{path}");
        assert_eq!(fs::read_to_string(copy).unwrap(), "50000\n");
    }
    assert!(fs::symlink_metadata(replay.root().join("zone")).unwrap().is_dir());
}

#[test]
fn an_episode_file_that_is_not_a_regular_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(&dir.path().join(EPISODE_FILE));
    let err = Episode::load(dir.path()).unwrap_err();
    assert_eq!(err.to_string(), format!("{}: is a FIFO, not a regular file", dir.path().join(EPISODE_FILE).display()));
}
