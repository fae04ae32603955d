//! Counts, not times: with the allocator's thresholds fixed at start, a model's activations are
//! reused from the heap, so a warm inference barely touches fresh pages. (Before, glibc's
//! adaptive mmap threshold could hand ResNet-50 thousands of fresh pages per inference,
//! depending on what had run before.) Alone in its own test binary: the counter is the
//! process's, and other tests' threads would add their own faults.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "binary/command.rs"]
mod binary;

use infertop::core::models::Manifest;
use infertop::core::run::{Plan, Session};

#[test]
fn resnet50_without_the_profiler_averages_under_100_minor_faults_per_warm_inference() {
    // The history that made faults come and go, made deterministic: glibc's adaptive
    // thresholds can end up trimming the heap after every free and mapping mid-sized blocks
    // afresh. infertop must set its own thresholds when a session starts, whatever came before.
    // SAFETY: mallopt only changes malloc's tuning parameters.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 0);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 64 * 1024);
    }
    let mut plan = Plan::new(None, &["resnet50".to_string()], None, 2, false).expect("built-in manifest");
    plan.sample_every = None;
    assert_eq!(plan.models.len(), 1, "{:?}", Manifest::builtin().models.len());
    let mut session = Session::start(&plan, false).unwrap();
    // Under an emulator (`make test-aarch64`) ResNet-50 takes seconds per inference: fewer of
    // them, more time; the bound per inference is the same.
    let emulated = binary::emulated();
    let (wanted, patience) = if emulated { (15, 900) } else { (40, 180) };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(patience);
    while session.state.models[0].usage.inferences < wanted {
        assert!(std::time::Instant::now() < deadline, "{wanted} inferences not reached");
        match session.events.blocking_recv() {
            Some(e) => session.state.apply(e),
            None => panic!("engine ended early: {:?}", session.state.models[0].status),
        }
    }
    session.stop();
    let usage = session.state.models[0].usage;
    let per_inference = usage.faults_per_inference().unwrap();
    if emulated {
        // qemu-user answers getrusage with its own process's counters, which include the
        // emulator's translation buffers and guest-memory mappings (17,640 per inference seen
        // here): they say nothing about the model. Only that the counter runs is checked.
        eprintln!("emulated: {per_inference:.0} faults per inference are the emulator's; bound not checked");
        assert!(usage.inferences >= wanted && usage.minor_faults > 0, "{usage:?}");
        return;
    }
    assert!(per_inference < 100.0, "{per_inference:.0} minor faults per inference ({usage:?})");
}
