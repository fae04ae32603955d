//! The recorded board trees of `tests/fixtures/sysfs/` (described in its README): samplers over
//! them, and copies a test may rewrite between samples.

#![allow(dead_code)] // each test crate uses a different part of it

use std::fs;
use std::path::{Path, PathBuf};

use infertop::core::machine::{Sampler, SamplerConfig, SystemSample};

pub fn fixture(board: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs").join(board)
}

/// A sampler over `root` that runs no command and leaves this machine's sysinfo out.
pub fn offline(root: &Path) -> Sampler {
    Sampler::new(SamplerConfig {
        root: root.to_owned(),
        throttle_command: None,
        power_command: None,
        system_stats: false,
        ..SamplerConfig::default()
    })
}

pub fn sample_of(board: &str) -> SystemSample {
    offline(&fixture(board)).sample()
}

/// Copies a fixture tree into a temporary folder that the test may rewrite.
pub fn copy_of(board: &str) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixture(board), dir.path());
    dir
}

/// Writes `text` and a newline to `file` under `root`, as the kernel ends its values.
pub fn write(root: &Path, file: &str, text: &str) {
    fs::write(root.join(file), format!("{text}\n")).unwrap();
}
