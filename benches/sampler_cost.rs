//! What watching costs: one system sample (sysfs + sysinfo) on this machine and on a recorded
//! Raspberry Pi 4 tree, and one effective-clock measurement (which the engine runs between
//! inferences at most once per sample).

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use infertop::core::clock;
use infertop::core::sampler::{Sampler, SamplerConfig};

fn sampler(c: &mut Criterion) {
    let mut live = Sampler::new(SamplerConfig { throttle_command: None, ..SamplerConfig::default() });
    c.bench_function("sample: this machine (sysfs + sysinfo)", |b| b.iter(|| live.sample()));
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sysfs/rpi4");
    let mut pi = Sampler::new(SamplerConfig { root, throttle_command: None, ..SamplerConfig::default() });
    c.bench_function("sample: rpi4 tree (sysfs + sysinfo)", |b| b.iter(|| pi.sample()));
    c.bench_function("effective clock probe", |b| b.iter(clock::effective_mhz));
}

criterion_group!(benches, sampler);
criterion_main!(benches);
