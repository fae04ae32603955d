//! Episodes as a hostile user would write them, and a replay folder such a user tried to make
//! first, against the binary run as root: each refused tree is one line naming `episode.toml`
//! and the path, exit 2, before anything runs or is copied; a planted folder is never used.

use std::os::unix::fs::{symlink, PermissionsExt as _};
use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use super::{binary, bounded_run, episode_dir};

/// `command` run to its end, failing the test if it has not ended within a minute (plus the
/// emulator's allowance): a refused tree must not hang the run. Its files are limited, so a
/// copy of `/dev/zero` fails instead of filling the disk.
fn run_bounded(command: Command) -> Output {
    bounded_run::run_bounded(command, Duration::from_secs(60) + binary::startup_allowance(), None)
}

/// An episode whose base is a small tree changed by `change`, run by the binary with its
/// temporary folder in a folder of its own: asserts exit 2, one line naming `episode.toml`
/// and `names`, and that no replay folder was left (none was needed).
fn assert_refused(change: impl FnOnce(&Path), names: &str) {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base");
    std::fs::create_dir_all(base.join("sys/class/thermal/thermal_zone0")).unwrap();
    std::fs::write(base.join("sys/class/thermal/thermal_zone0/temp"), "50000\n").unwrap();
    std::fs::write(dir.path().join("episode.toml"), "base = \"base\"\n").unwrap();
    change(&base);
    let tmp = tempfile::tempdir().unwrap();
    let mut command = binary::infertop();
    command.args(["--headless", "--only", "tiny", "--threads", "1", "--no-op-profile", "--duration", "1s"]);
    command
        .arg("--sysfs-root")
        .arg(dir.path())
        .arg("--export-dir")
        .arg(dir.path().join("snaps"))
        .env("TMPDIR", tmp.path());
    let out = run_bounded(command);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "not one line: {stderr}");
    assert!(stderr.contains(&dir.path().join("episode.toml").display().to_string()), "{stderr}");
    assert!(stderr.contains(names), "'{stderr}' does not say {names}");
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

#[test]
fn a_fifo_in_the_base_tree_is_refused_at_once() {
    assert_refused(
        |b| mkfifo(&b.join("sys/class/thermal/thermal_zone0/type")),
        "'sys/class/thermal/thermal_zone0/type' is a FIFO",
    );
}

#[test]
fn links_out_of_the_base_tree_and_link_loops_are_refused_naming_the_link() {
    assert_refused(
        |b| symlink("/dev/zero", b.join("sys/zero")).unwrap(),
        "'sys/zero' links out of the base tree (to '/dev/zero')",
    );
    assert_refused(|b| symlink("/etc", b.join("sys/etc")).unwrap(), "'sys/etc' links out of the base tree");
    assert_refused(|b| symlink("loop", b.join("sys/loop")).unwrap(), "'sys/loop' is a loop of links");
    assert_refused(|b| symlink("../..", b.join("sys/class/up")).unwrap(), "'sys/class/up' leads back to a folder");
    assert_refused(|b| symlink("missing", b.join("sys/gone")).unwrap(), "'sys/gone' is a link to nothing");
}

#[test]
fn a_file_too_large_for_a_recording_is_refused_before_any_copy() {
    assert_refused(
        |b| std::fs::File::create(b.join("sys/huge")).unwrap().set_len(1 << 30).unwrap(),
        "'sys/huge' is larger than 1048576 bytes",
    );
}

/// Whether this process may act as `nobody` through `setpriv` (root, with util-linux).
fn can_act_as_nobody() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// Another user makes the replay folder a root-run infertop of a pid they can guess would
/// use (main's `$TMPDIR/infertop-replay-<pid>-0`), with `thermal_zone0` linked to a folder of
/// root's: the run uses a folder of its own, writes nothing where the link leads, and removes
/// only its own folder.
#[test]
fn a_replay_folder_made_first_by_another_user_is_not_used() {
    if !can_act_as_nobody() {
        println!("skipped: needs root and setpriv to act as a second user (nobody)");
        return;
    }
    let outer = tempfile::tempdir().unwrap();
    std::fs::set_permissions(outer.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    // A shared temporary folder, as /tmp is: anyone may add to it, only owners remove.
    let shared = outer.path().join("tmp");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let victim = outer.path().join("victim");
    std::fs::create_dir(&victim).unwrap();
    // The shell plants the folder as nobody, then becomes infertop keeping its pid.
    let plant = "d=\"$TMPDIR/infertop-replay-$1-0/sys/class/thermal\"; mkdir -p \"$d\" && ln -s \"$VICTIM\" \"$d/thermal_zone0\"";
    let infertop = binary::infertop();
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("setpriv --reuid=65534 --regid=65534 --clear-groups sh -c '{plant}' plant $$ && exec \"$@\""))
        .arg("sh")
        .arg(infertop.get_program())
        .args(infertop.get_args())
        .args(["--headless", "--only", "tiny", "--threads", "1", "--no-op-profile", "--duration"])
        .arg(binary::duration(1))
        .args(["--sample-every", "100ms", "--sysfs-root"])
        .arg(episode_dir("rpi4-hot-throttle"))
        .arg("--export-dir")
        .arg(outer.path().join("snaps"))
        .env("TMPDIR", &shared)
        .env("VICTIM", &victim);
    let out = run_bounded(command);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    // The replay is made before the engine starts, so a run that reached its summary made it.
    // Whether an inference was timed within the second (exit 0, else 1) depends on the
    // machine's load and does not matter here.
    assert!(stdout.contains("(duration reached)"), "the run did not get to its end: {stdout}{stderr}");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stdout}{stderr}");
    let written: Vec<_> = std::fs::read_dir(&victim).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(written.is_empty(), "root wrote into the folder the link leads to: {written:?}");
    let planted: Vec<_> = std::fs::read_dir(&shared).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(planted.len(), 1, "only the planted folder is left: {planted:?}");
    assert!(planted[0].to_string_lossy().starts_with("infertop-replay-"), "the plant ran: {planted:?}");
}
