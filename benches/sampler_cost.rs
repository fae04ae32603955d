//! What watching costs: one system sample on each recorded board tree (sysfs and `proc` under
//! the tree: zones, clocks, throttle sources, power, contention), on the Raspberry Pi 4 tree
//! with `sysinfo` too, and on this machine; and one effective-clock measurement (which the
//! engine runs between inferences at most once per sample). The trees are read on this
//! machine's disk cache, not on a board's sysfs: the figures count infertop's own work per
//! sample, the part that more sources could make slower; each tree with power files is also
//! sampled from a copy without them, so the difference is what power costs. A board's power
//! monitor answers over I2C (each file read a bus transfer, about half a millisecond at a
//! Raspberry Pi's 100 kHz), which no tree can show.
//!
//! A short run: `cargo bench --bench sampler_cost -- --warm-up-time 1 --measurement-time 3`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

use std::fs;
use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion};
use infertop::core::machine::effective_mhz;
use infertop::core::machine::{Sampler, SamplerConfig};

/// Every recorded tree (`tests/fixtures/sysfs/`).
const TREES: [&str; 5] = ["rpi4", "rpi5", "jetson-orin-nano", "x86-laptop", "vm"];
/// The trees with power files.
const POWERED: [&str; 3] = ["rpi4", "jetson-orin-nano", "x86-laptop"];

/// A sampler of the files under `root` alone: no command, no `sysinfo`.
fn files_only(root: &Path) -> Sampler {
    Sampler::new(SamplerConfig {
        root: root.to_owned(),
        throttle_command: None,
        power_command: None,
        system_stats: false,
        ..SamplerConfig::default()
    })
}

fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &to.join(entry.file_name()));
        } else {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// A copy of `tree` without RAPL zones and power monitor chips.
fn without_power(tree: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(tree, dir.path());
    let _ = fs::remove_dir_all(dir.path().join("sys/class/powercap"));
    for chip in fs::read_dir(dir.path().join("sys/class/hwmon")).unwrap() {
        let chip = chip.unwrap().path();
        if fs::read_to_string(chip.join("name")).is_ok_and(|name| name.starts_with("ina")) {
            fs::remove_dir_all(chip).unwrap();
        }
    }
    dir
}

fn sampler(c: &mut Criterion) {
    let trees = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs");
    for tree in TREES {
        let mut sampler = files_only(&trees.join(tree));
        c.bench_function(&format!("sample: {tree} tree (sysfs)"), |b| b.iter(|| sampler.sample()));
    }
    for tree in POWERED {
        let copy = without_power(&trees.join(tree));
        let mut sampler = files_only(copy.path());
        c.bench_function(&format!("sample: {tree} tree without power files (sysfs)"), |b| b.iter(|| sampler.sample()));
    }
    let mut pi = Sampler::new(SamplerConfig {
        root: trees.join("rpi4"),
        throttle_command: None,
        power_command: None,
        ..SamplerConfig::default()
    });
    c.bench_function("sample: rpi4 tree (sysfs + sysinfo)", |b| b.iter(|| pi.sample()));
    let mut live = Sampler::new(SamplerConfig { throttle_command: None, ..SamplerConfig::default() });
    c.bench_function("sample: this machine (sysfs + sysinfo)", |b| b.iter(|| live.sample()));
    c.bench_function("effective clock probe", |b| b.iter(effective_mhz));
}

criterion_group!(benches, sampler);
criterion_main!(benches);
