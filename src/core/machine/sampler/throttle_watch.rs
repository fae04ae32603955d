//! The throttle flags over a run: read at most every `throttle_interval` from the firmware
//! file, the throttle command or the under-voltage alarm, with the run's history kept.

use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use super::config::SamplerConfig;
use crate::core::machine::sysfs::{self, throttle, ThrottleBits, ThrottleReport, ThrottleSource, ThrottleState};

/// Reads the throttle flags at most every `throttle_interval`, falling back from the firmware
/// file to the command to the under-voltage alarm, and keeps the run's history.
pub(super) struct ThrottleWatch {
    firmware_file: Option<PathBuf>,
    command: Option<Vec<String>>,
    last_read: Option<Instant>,
    state: ThrottleState,
    /// "Since boot" bits already set before the run: those at the first firmware reading,
    /// less those "now" then (which did happen during the run).
    before_run: Option<ThrottleBits>,
    during_run: ThrottleBits,
}

impl ThrottleWatch {
    pub(super) fn new(config: &SamplerConfig) -> Self {
        Self {
            firmware_file: throttle::find_firmware_file(&config.root),
            command: config.throttle_command.clone().filter(|command| !command.is_empty()),
            last_read: None,
            state: ThrottleState::Unknown,
            before_run: None,
            during_run: ThrottleBits::default(),
        }
    }

    pub(super) fn state_at(&mut self, config: &SamplerConfig, now: Instant) -> ThrottleState {
        let fresh = self.last_read.is_none_or(|last| now.saturating_duration_since(last) >= config.throttle_interval);
        if fresh {
            self.last_read = Some(now);
            self.state = self.read(&config.root);
        }
        self.state.clone()
    }

    fn read(&mut self, root: &Path) -> ThrottleState {
        if let Some(word) = self.firmware_file.as_deref().and_then(throttle::read_firmware_file) {
            return self.firmware_report(word, ThrottleSource::FirmwareSysfs);
        }
        if let Some(command) = &self.command {
            match run_command(command).as_deref().and_then(throttle::parse_firmware_word) {
                Some(word) => return self.firmware_report(word, ThrottleSource::Vcgencmd),
                // Missing, refused (no access to /dev/vcio) or garbage: it will not get better.
                None => self.command = None,
            }
        }
        let Some(alarm) = throttle::read_under_voltage_alarm(root) else {
            return ThrottleState::Unknown;
        };
        let now = ThrottleBits { under_voltage: alarm, ..ThrottleBits::default() };
        self.during_run = self.during_run.union(now);
        ThrottleState::Known(ThrottleReport {
            source: ThrottleSource::UnderVoltageAlarm,
            raw: None,
            now,
            since_boot: None,
            during_run: self.during_run,
        })
    }

    fn firmware_report(&mut self, word: u32, source: ThrottleSource) -> ThrottleState {
        let now = ThrottleBits::now_of(word);
        let since_boot = ThrottleBits::since_boot_of(word);
        let before_run = *self.before_run.get_or_insert(since_boot.minus(now));
        self.during_run = self.during_run.union(now).union(since_boot.minus(before_run));
        ThrottleState::Known(ThrottleReport {
            source,
            raw: Some(word),
            now,
            since_boot: Some(since_boot),
            during_run: self.during_run,
        })
    }
}

/// How long the throttle command may take before it is killed.
pub(super) const COMMAND_TIMEOUT: Duration = Duration::from_secs(1);

/// Runs `command` and returns its standard output, or `None` when it cannot start, fails,
/// prints more than [`sysfs::MAX_FILE_BYTES`] or takes longer than [`COMMAND_TIMEOUT`] (a busy
/// firmware mailbox must not stall sampling); then it is killed and reaped. The PMIC command
/// runs through it too.
pub(super) fn run_command(command: &[String]) -> Option<String> {
    let (program, args) = command.split_first()?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + COMMAND_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return read_left_output(child.stdout.take()?),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            Ok(Some(_)) => return None,
            Ok(None) | Err(_) => {
                // Best effort: the child may have exited in between.
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
}

/// What an exited command left in its output pipe, read without waiting: a process it started
/// may hold the pipe open, and keep writing, long after the command itself is gone.
fn read_left_output(stdout: ChildStdout) -> Option<String> {
    let fd = stdout.as_raw_fd();
    // SAFETY: fcntl(2) on a descriptor that `stdout` owns and keeps open.
    let nonblocking = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) == 0
    };
    if !nonblocking {
        return None;
    }
    let mut bytes = Vec::new();
    match stdout.take(sysfs::MAX_FILE_BYTES + 1).read_to_end(&mut bytes) {
        // What was read before "would block" is kept in `bytes`: all the command wrote.
        Err(e) if e.kind() != io::ErrorKind::WouldBlock => return None,
        _ => {}
    }
    if bytes.len() as u64 > sysfs::MAX_FILE_BYTES {
        return None;
    }
    String::from_utf8(bytes).ok()
}
