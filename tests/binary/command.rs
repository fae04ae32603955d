//! The infertop binary as a `Command`, for every test that starts it. `INFERTOP_TEST_RUNNER`
//! (words split on spaces) goes in front of it: a cross-built binary then runs under the same
//! emulator as the test itself (`make test-aarch64` sets it to `qemu-aarch64 -L <sysroot>`; the
//! cargo runner wraps only the test binaries, not the children they start).

#![allow(dead_code)] // each test crate uses a different part of it

use std::process::Command;
use std::time::Duration;

/// A command that runs the infertop binary this test was built with.
pub fn infertop() -> Command {
    infertop_at(env!("CARGO_BIN_EXE_infertop"))
}

/// A command that runs the infertop binary at `exe`, under `INFERTOP_TEST_RUNNER` when set.
pub fn infertop_at(exe: impl AsRef<std::ffi::OsStr>) -> Command {
    let exe = exe.as_ref();
    let runner = std::env::var("INFERTOP_TEST_RUNNER").unwrap_or_default();
    let mut words = runner.split_whitespace();
    match words.next() {
        Some(program) => {
            let mut command = Command::new(program);
            command.args(words).arg(exe);
            command
        }
        None => Command::new(exe),
    }
}

/// Whether the binary runs under a runner (an emulator), where everything takes many times longer.
pub fn emulated() -> bool {
    std::env::var("INFERTOP_TEST_RUNNER").is_ok_and(|r| !r.trim().is_empty())
}

/// What the binary needs before its first inference beyond what it needs natively: under
/// emulation the peak measurement (1024³ matrix products at about 0.2 GMAC/s) and loading take
/// 13–20 s, three times that leaves room for a loaded machine.
pub fn startup_allowance() -> Duration {
    if emulated() {
        Duration::from_secs(45)
    } else {
        Duration::ZERO
    }
}

/// A `--duration` value: `secs` seconds of measuring plus the startup allowance. The run's
/// duration counts from its start, so without the allowance an emulated run would end before
/// its first inference.
pub fn duration(secs: u64) -> String {
    format!("{}s", secs + startup_allowance().as_secs())
}

/// What [`run_until`] saw: the exit status and everything the run wrote.
pub struct Finished {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// How long [`run_until`] waits for what it waits for: only a guard against a hang, never a
/// measure of speed (an emulated run on a loaded machine takes minutes to start).
pub const HANG_GUARD: Duration = Duration::from_secs(900);

/// Starts `command` with stdout and stderr piped, waits until `enough` holds for what it has
/// printed on stdout so far, then sends SIGINT and waits for it to end. A run is ended by what
/// it has done (lines printed, inferences timed), not by a clock, so a slow or busy machine
/// only takes longer. Panics, naming what was printed, when the program ends first or nothing
/// comes within [`HANG_GUARD`].
pub fn run_until(command: &mut Command, enough: impl Fn(&str) -> bool) -> Finished {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("start infertop");
    let mut stderr_pipe = child.stderr.take().expect("piped stderr");
    let stderr_thread = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr_pipe.read_to_string(&mut text);
        text
    });
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let stdout_pipe = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout_pipe).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let deadline = std::time::Instant::now() + HANG_GUARD;
    let mut stdout = String::new();
    let mut ended = false;
    while !enough(&stdout) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let Ok(line) = rx.recv_timeout(left) else {
            ended = true;
            break;
        };
        stdout.push_str(&line);
        stdout.push('\n');
    }
    if !ended {
        // SAFETY: kill(2) on our own child, which has not been waited for yet.
        unsafe { libc::kill(i32::try_from(child.id()).expect("a pid"), libc::SIGINT) };
    }
    let status = child.wait().expect("wait for infertop");
    for line in &rx {
        stdout.push_str(&line);
        stdout.push('\n');
    }
    let stderr = stderr_thread.join().unwrap_or_default();
    assert!(
        !ended,
        "infertop ended (or hung) before what the test waits for; status {status}\nstdout: {stdout}\nstderr: {stderr}"
    );
    Finished { status, stdout, stderr }
}

/// Whether headless text output so far has, for each of `models`, a periodic line with timed
/// and profiled inferences (`n=` and `prof=` above zero).
pub fn all_timed_and_profiled(stdout: &str, models: &[&str]) -> bool {
    let count = |line: &str, key: &str| -> u64 {
        line.split_whitespace().find_map(|w| w.strip_prefix(key)).and_then(|v| v.parse().ok()).unwrap_or(0)
    };
    models.iter().all(|model| {
        stdout.lines().any(|l| line_model(l) == Some(*model) && count(l, "n=") > 0 && count(l, "prof=") > 0)
    })
}

/// The model (or `system`) a periodic headless line is about: the word after `[  12.3s]`.
pub fn line_model(line: &str) -> Option<&str> {
    line.split_once("s] ").and_then(|(_, rest)| rest.split_whitespace().next())
}
