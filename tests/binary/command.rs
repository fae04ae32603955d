//! The infertop binary as a `Command`, for every test that starts it. `INFERTOP_TEST_RUNNER`
//! (words split on spaces) goes in front of it: a cross-built binary then runs under the same
//! emulator as the test itself (`make test-aarch64` sets it to `qemu-aarch64 -L <sysroot>`; the
//! cargo runner wraps only the test binaries, not the children they start).

#![allow(dead_code)] // each test crate uses a different part of it

use std::process::Command;
use std::time::Duration;

/// A command that runs the infertop binary this test was built with.
pub fn infertop() -> Command {
    let exe = env!("CARGO_BIN_EXE_infertop");
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
