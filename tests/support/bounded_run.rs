//! A child process run as a hostile input could make it run: failing the test instead of
//! hanging it, and unable to fill the disk or the memory while it is wrong.

#![allow(dead_code)] // each test crate uses a different part

use std::os::unix::process::CommandExt as _;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The most a child may write to one file.
pub const FILE_LIMIT: u64 = 64 << 20;

/// Runs `command` and returns its output, failing the test if it has not ended within
/// `patience`. The child's files are limited to [`FILE_LIMIT`] bytes and, given a
/// `data_limit`, its heap to that many bytes: a copy or a read of `/dev/zero` then fails
/// quickly instead of filling the disk or the memory of a shared machine.
pub fn run_bounded(mut command: Command, patience: Duration, data_limit: Option<u64>) -> Output {
    // SAFETY: setrlimit is async-signal-safe and touches no state of the parent.
    unsafe {
        command.pre_exec(move || {
            limit(libc::RLIMIT_FSIZE, FILE_LIMIT)?;
            data_limit.map_or(Ok(()), |bytes| limit(libc::RLIMIT_DATA, bytes))
        });
    }
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("the child starts");
    let deadline = Instant::now() + patience;
    // Polled, not waited on: a child that never ends must fail the test.
    while child.try_wait().expect("wait for the child").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("the killed child's output");
            panic!("still running after {patience:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("the child's output")
}

fn limit(resource: libc::__rlimit_resource_t, bytes: u64) -> std::io::Result<()> {
    let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
    // SAFETY: a valid rlimit for a resource of this platform.
    if unsafe { libc::setrlimit(resource, &raw const limit) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
