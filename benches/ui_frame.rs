//! What drawing costs: one full frame of each view at 160x48 with ten measured models (plus a
//! failed and a loading one), a full latency window and 600 system samples. Measured as CPU
//! time of the drawing thread, since that is what a frame takes away from inference on a
//! small board; at the default 4 frames per second, 1 ms per frame is 0.4 % of one core.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a bench that cannot set up has nothing to time")]

#[path = "../tests/tui_fixture/state.rs"]
mod fixture;

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use infertop::tui::app::{UiState, View};
use infertop::tui::render::render;
use infertop::tui::theme::Theme;
use ratatui::backend::TestBackend;
use ratatui::Terminal;

/// CPU time this thread has used.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &raw mut ts) };
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}

fn frames(c: &mut Criterion) {
    let state = fixture::state(10, 600);
    let theme = Theme::default();
    let mut group = c.benchmark_group("ui_frame 160x48, 10 models (CPU time)");
    for view in View::ALL {
        let ui = UiState { view, selected: 3, ..UiState::default() };
        let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("a test terminal");
        group.bench_function(view.label(), |b| {
            b.iter_custom(|iters| {
                let start = thread_cpu();
                for _ in 0..iters {
                    terminal.draw(|f| render(f, black_box(&state), &ui, &theme)).expect("draw");
                }
                thread_cpu().checked_sub(start).unwrap()
            });
        });
    }
    group.finish();
}

criterion_group!(benches, frames);
criterion_main!(benches);
