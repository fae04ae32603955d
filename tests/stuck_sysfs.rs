//! Sysfs files that never finish reading: a FIFO (which blocks in `open` until a writer comes)
//! and a link to `/dev/zero` (which never ends). The sampler reports those sensors as absent and
//! still reads the good ones, and the real binary stops on time and on signals, writing its
//! snapshot, with such a tree as `--sysfs-root`.
//!
//! In every file the sampler reads, a FIFO comes before a `/dev/zero` link, so a reader that
//! blocks again stops on the FIFO and fails by timeout rather than filling memory.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use infertop::core::machine::{CpuFreqPolicy, Sampler, SamplerConfig, ThrottleState};

fn mkfifo(path: &Path) {
    let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0, "mkfifo {}", path.display());
}

fn zero_link(path: &Path) {
    std::os::unix::fs::symlink("/dev/zero", path).unwrap();
}

fn write(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, format!("{text}\n")).unwrap();
}

/// A tree whose every kind of sensor has a good file, a FIFO and a `/dev/zero` link.
fn stuck_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let zones = root.join("sys/class/thermal");
    write(&zones.join("thermal_zone0/type"), "fifo-zone");
    mkfifo(&zones.join("thermal_zone0/temp"));
    write(&zones.join("thermal_zone1/type"), "zero-zone");
    zero_link(&zones.join("thermal_zone1/temp"));
    write(&zones.join("thermal_zone2/type"), "good-zone");
    write(&zones.join("thermal_zone2/temp"), "45000");
    // A zone that is a FIFO instead of a folder.
    mkfifo(&zones.join("thermal_zone3"));

    let chip = root.join("sys/class/hwmon/hwmon0");
    write(&chip.join("name"), "chip");
    mkfifo(&chip.join("temp1_input"));
    write(&chip.join("temp2_input"), "50000");
    zero_link(&chip.join("temp2_label"));

    let policy = root.join("sys/devices/system/cpu/cpufreq/policy0");
    write(&policy.join("related_cpus"), "0 1");
    mkfifo(&policy.join("scaling_cur_freq"));
    write(&policy.join("cpuinfo_min_freq"), "600000");
    zero_link(&policy.join("cpuinfo_max_freq"));
    write(&policy.join("scaling_max_freq"), "18446744073709551615");
    mkfifo(&policy.join("scaling_governor"));

    let firmware = root.join("sys/devices/platform/soc/soc:firmware");
    fs::create_dir_all(&firmware).unwrap();
    mkfifo(&firmware.join("get_throttled"));

    // A power monitor whose input rail's current and another rail's voltage never finish, and
    // a RAPL counter that is a FIFO: no rail, no counter, no power.
    let monitor = root.join("sys/class/hwmon/hwmon1");
    write(&monitor.join("name"), "ina3221");
    write(&monitor.join("in1_label"), "VDD_IN");
    write(&monitor.join("in1_input"), "5000");
    mkfifo(&monitor.join("curr1_input"));
    write(&monitor.join("in2_label"), "VDD_CPU");
    zero_link(&monitor.join("in2_input"));
    write(&monitor.join("curr2_input"), "300");
    let rapl = root.join("sys/class/powercap/intel-rapl:0");
    write(&rapl.join("name"), "package-0");
    mkfifo(&rapl.join("energy_uj"));
    dir
}

/// Runs `f` on its own thread and fails if it has not returned within 20 s, so that a sampler
/// that blocks fails the test instead of hanging it.
fn returns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()));
    rx.recv_timeout(Duration::from_secs(20)).expect("the sample returns within 20 s")
}

#[test]
fn the_sampler_skips_fifos_and_endless_files_and_reads_the_rest() {
    let tree = stuck_tree();
    let root = tree.path().to_owned();
    let sample = returns(move || {
        let mut sampler = Sampler::new(SamplerConfig {
            root,
            throttle_command: None,
            power_command: None,
            system_stats: false,
            ..SamplerConfig::default()
        });
        // Twice: a reader left stuck by the first sample would show in the second.
        sampler.sample();
        sampler.sample()
    });
    let temps: Vec<(&str, f64)> = sample.temps.iter().map(|t| (t.name.as_str(), t.celsius)).collect();
    assert_eq!(temps, [("good-zone", 45.0), ("chip/temp2", 50.0)]);
    let policy = CpuFreqPolicy { policy: 0, cpus: vec![0, 1], min_khz: Some(600_000), ..CpuFreqPolicy::default() };
    assert_eq!(sample.cpufreq, [policy]);
    assert_eq!(sample.throttle, ThrottleState::Unknown);
    assert_eq!(sample.power, None);
}

/// How long a run may take to stop before the test kills it and fails.
const STOP_BOUND: Duration = Duration::from_secs(60);

/// The binary running headless on the `tiny` model over a stuck tree, its stdout lines
/// arriving on a channel. Dropping it kills the process, so a failed test leaves none behind.
struct Run {
    child: Child,
    lines: Receiver<String>,
    dir: tempfile::TempDir,
    _tree: tempfile::TempDir,
}

impl Run {
    fn start(extra: &[&str]) -> Self {
        let tree = stuck_tree();
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("manifest.toml");
        fs::write(&manifest, "[[model]]\nname = \"tiny\"\narch = \"tiny\"\ninput = [3, 32, 32]\n").unwrap();
        let mut child = binary::infertop()
            .args(["--headless", "--threads", "1", "--sample-every", "100ms", "--print-every", "500ms", "--models"])
            .arg(&manifest)
            .arg("--sysfs-root")
            .arg(tree.path())
            .arg("--export-dir")
            .arg(dir.path().join("snaps"))
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(fs::File::create(dir.path().join("stderr")).unwrap())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Self { child, lines, dir, _tree: tree }
    }

    fn stderr(&self) -> String {
        fs::read_to_string(self.dir.path().join("stderr")).unwrap_or_default()
    }

    /// Reads lines until one contains `text`; fails after 60 s (plus the emulator's start-up).
    fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60) + binary::startup_allowance();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(text) => return,
                Ok(_) => {}
                Err(e) => panic!("no line with '{text}' ({e:?}); stderr: {}", self.stderr()),
            }
        }
    }

    /// Waits for the process to end within [`STOP_BOUND`] (else kills it and fails); returns
    /// its exit code and the rest of its output.
    fn finish(&mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + STOP_BOUND;
        let mut rest = Vec::new();
        loop {
            match self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(line) => rest.push(line),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!("still running after {STOP_BOUND:?}: {}\nstderr: {}", rest.join("\n"), self.stderr());
                }
            }
        }
        // Output closed: the process is ending.
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "closed its output but did not exit");
            std::thread::sleep(Duration::from_millis(20));
        };
        (status.code(), rest.join("\n"))
    }

    /// The snapshot folders written, hidden staging folders left out.
    fn snapshots(&self) -> Vec<PathBuf> {
        fs::read_dir(self.dir.path().join("snaps"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect()
    }

    fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: kill(2) on our own child, which has not been reaped yet.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Exit 0 with one complete snapshot, and the good sensors read all along.
fn assert_stopped_cleanly(run: &mut Run, reason: &str) {
    let (code, rest) = run.finish();
    assert_eq!(code, Some(0), "{rest}\nstderr: {}", run.stderr());
    assert!(rest.contains(reason), "{rest}");
    assert!(rest.contains("temp 50.0°C chip/temp2"), "the good sensors are read: {rest}");
    let snapshots = run.snapshots();
    assert_eq!(snapshots.len(), 1, "{rest}");
    assert!(snapshots[0].join("run.json").is_file(), "{}", snapshots[0].display());
}

#[test]
fn a_timed_run_over_a_stuck_tree_ends_on_time() {
    // Long enough to time an inference after start-up (an emulator takes longer to start): a run
    // that timed nothing exits 1 by design.
    let mut run = Run::start(&["--duration", binary::duration(3).as_str()]);
    assert_stopped_cleanly(&mut run, "duration reached");
}

#[test]
fn sigint_ends_a_run_over_a_stuck_tree() {
    let run = &mut Run::start(&[]);
    // A system line: the sampler has been through the tree at least once; then a timed
    // inference, since a run that timed nothing exits 1 by design.
    run.wait_for("] system");
    run.wait_for("p50");
    run.signal(libc::SIGINT);
    assert_stopped_cleanly(run, "interrupted");
}

#[test]
fn sigterm_ends_a_run_over_a_stuck_tree() {
    let run = &mut Run::start(&[]);
    run.wait_for("] system");
    run.wait_for("p50");
    run.signal(libc::SIGTERM);
    assert_stopped_cleanly(run, "terminated");
}
