//! The figures and the verdict from readings whose differences are worked out by hand.

use super::procfs::{CpuTicks, Reading};
use super::*;

/// A reading of `cores` cores whose counters stand at `cpu`, with infertop's own ticks and
/// threads and the load.
fn reading(cores: u32, cpu: CpuTicks, own: Option<u64>, threads: Option<u32>, load: Option<f64>) -> Reading {
    Reading { cpu, cores, own_ticks: own, own_threads: threads, load_1m: load }
}

/// A machine 10 000 ticks into its life.
fn start(cores: u32, own: Option<u64>) -> Reading {
    let cpu = CpuTicks { user: 4000, system: 1000, idle: 5000, ..CpuTicks::default() };
    reading(cores, cpu, own, Some(6), Some(1.0))
}

/// `start` plus the interval's ticks.
fn after(earlier: &Reading, delta: CpuTicks, own_delta: Option<u64>, load: Option<f64>) -> Reading {
    let c = earlier.cpu;
    let cpu = CpuTicks {
        user: c.user + delta.user,
        system: c.system + delta.system,
        idle: c.idle + delta.idle,
        steal: c.steal + delta.steal,
        ..c
    };
    let own = earlier.own_ticks.zip(own_delta).map(|(a, d)| a + d);
    reading(earlier.cores, cpu, own, earlier.own_threads, load)
}

fn close(a: Option<f64>, b: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() < 1e-9)
}

/// 4 cores, 500 ms at 100 ticks/s: 200 ticks. infertop 50 ticks (one core), busy 53 ticks:
/// others 3 ticks, 0.06 cores.
#[test]
fn a_quiet_machine_is_not_contended() {
    let a = start(4, Some(900));
    let b = after(&a, CpuTicks { user: 48, system: 5, idle: 147, ..CpuTicks::default() }, Some(50), Some(1.1));
    let c = Contention::between(&a, &b).unwrap();
    assert!((c.busy_pct - 26.5).abs() < 1e-9, "53 of 200 ticks: {}", c.busy_pct);
    assert!(close(c.own_cores, 1.0) && close(c.other_cores, 0.06), "{c:?}");
    assert!(c.steal_pct.abs() < 1e-12, "{}", c.steal_pct);
    assert_eq!((c.reasons, c.verdict()), (Reasons::default(), Some(false)));
    assert_eq!(describe(Some(&c)), "none");
}

/// The same interval with a second program on a core: busy 104 ticks, others 54 = 1.08 cores.
#[test]
fn another_program_on_a_core_is_contention() {
    let a = start(4, Some(900));
    let b = after(&a, CpuTicks { user: 97, system: 7, idle: 96, ..CpuTicks::default() }, Some(50), Some(2.0));
    let c = Contention::between(&a, &b).unwrap();
    assert!(close(c.other_cores, 1.08), "{c:?}");
    assert_eq!(c.reasons, Reasons { others: true, ..Reasons::default() });
    assert_eq!(c.verdict(), Some(true));
    assert_eq!(describe(Some(&c)), "other 1.08 cores, steal 0.0%, load 2.00/4");
}

/// 2 vCPUs over 1 s: 200 ticks, 6 stolen = 3 %, although nothing else ran in the VM.
#[test]
fn steal_is_a_share_of_all_time() {
    let a = start(2, Some(0));
    let b = after(&a, CpuTicks { user: 101, system: 2, idle: 91, steal: 6, ..CpuTicks::default() }, Some(102), None);
    let c = Contention::between(&a, &b).unwrap();
    assert!((c.steal_pct - 3.0).abs() < 1e-9 && (c.busy_pct - 51.5).abs() < 1e-9, "{c:?}");
    assert!(close(c.other_cores, 0.01), "{c:?}");
    assert_eq!(c.reasons, Reasons { steal: true, ..Reasons::default() });
    // 39 of 2000 ticks (1.95 %) stays below the threshold.
    let b =
        after(&a, CpuTicks { user: 1010, system: 20, idle: 931, steal: 39, ..CpuTicks::default() }, Some(1029), None);
    assert_eq!(Contention::between(&a, &b).unwrap().verdict(), Some(false));
}

/// On a 100 ms interval (10 ticks a core), 3 ticks of others on 2 cores is 0.3 cores but no
/// more than rounding can make; 4 ticks is more.
#[test]
fn others_within_tick_rounding_are_not_contention() {
    let a = start(2, Some(0));
    let b = after(&a, CpuTicks { user: 13, idle: 7, ..CpuTicks::default() }, Some(10), None);
    let c = Contention::between(&a, &b).unwrap();
    assert!(close(c.other_cores, 0.3));
    assert_eq!(c.verdict(), Some(false));
    let b = after(&a, CpuTicks { user: 14, idle: 6, ..CpuTicks::default() }, Some(10), None);
    assert_eq!(Contention::between(&a, &b).unwrap().verdict(), Some(true));
}

/// Load 6.4 on 4 cores with 6 infertop threads could all be infertop's; 6.6 cannot.
#[test]
fn load_counts_only_beyond_cores_and_all_of_our_threads() {
    let a = start(4, Some(0));
    let quiet = CpuTicks { user: 100, idle: 100, ..CpuTicks::default() };
    let c = Contention::between(&a, &after(&a, quiet, Some(100), Some(6.4))).unwrap();
    assert_eq!(c.verdict(), Some(false));
    let c = Contention::between(&a, &after(&a, quiet, Some(100), Some(6.6))).unwrap();
    assert_eq!(c.reasons, Reasons { load: true, ..Reasons::default() });
    // Without the thread count, the load cannot be told apart from infertop's own.
    let mut b = after(&a, quiet, Some(100), Some(9.0));
    b.own_threads = None;
    assert_eq!(Contention::between(&a, &b).unwrap().verdict(), Some(false));
}

/// Without infertop's own time, "no contention" cannot be said; steal still can say "yes".
#[test]
fn unknown_own_time_leaves_the_verdict_unknown() {
    let a = start(2, None);
    let b = after(&a, CpuTicks { user: 150, idle: 50, ..CpuTicks::default() }, None, Some(1.0));
    let c = Contention::between(&a, &b).unwrap();
    assert_eq!((c.own_cores, c.other_cores, c.verdict()), (None, None, None));
    assert_eq!(describe(Some(&c)), "n/a");
    let b = after(&a, CpuTicks { user: 150, idle: 40, steal: 10, ..CpuTicks::default() }, None, Some(1.0));
    assert_eq!(Contention::between(&a, &b).unwrap().verdict(), Some(true));
}

#[test]
fn no_time_passed_or_counters_going_back_give_no_figures() {
    let a = start(2, Some(10));
    assert_eq!(Contention::between(&a, &a), None, "a recorded file read twice");
    let b = after(&a, CpuTicks { user: 10, idle: 10, ..CpuTicks::default() }, Some(5), None);
    assert_eq!(Contention::between(&b, &a), None);
    assert_eq!(describe(None), "n/a");
}

#[test]
fn the_run_summary_counts_known_samples_and_keeps_the_worst() {
    let a = start(4, Some(0));
    let quiet =
        Contention::between(&a, &after(&a, CpuTicks { user: 50, idle: 150, ..CpuTicks::default() }, Some(49), None));
    let busy =
        Contention::between(&a, &after(&a, CpuTicks { user: 150, idle: 50, ..CpuTicks::default() }, Some(50), None));
    let unknown = Contention::between(
        &start(4, None),
        &after(&start(4, None), CpuTicks { user: 9, idle: 1, steal: 1, ..CpuTicks::default() }, None, None),
    );
    let mut summary = ContentionSummary::default();
    assert_eq!((summary.contended_share(), summary.warning()), (None, None));
    for contention in [None, quiet, quiet, busy, unknown] {
        summary.record(contention.as_ref());
    }
    // `unknown` has a verdict after all: 1 of its 11 ticks was stolen (9 %).
    assert_eq!((summary.samples_known, summary.samples_contended), (4, 2));
    assert_eq!(summary.contended_share(), Some(0.5));
    assert!(close(summary.max_other_cores, 2.0), "{summary:?}");
    assert!(close(summary.max_steal_pct, 100.0 / 11.0), "{summary:?}");
    assert_eq!(
        summary.warning().as_deref(),
        Some("2 of 4 samples were taken while other work used the cores (other processes up to 2.00 cores, steal up to 9.1%)")
    );
}

/// Fewer threads are suggested only after contention, and only when they leave other work the
/// cores it used: 1.0 of 2 cores busy elsewhere leaves one; a run at one thread needs no hint.
#[test]
fn fewer_threads_leave_the_cores_other_work_used() {
    let mut summary = ContentionSummary { cores: Some(2), max_other_cores: Some(1.0), ..ContentionSummary::default() };
    assert_eq!(summary.fewer_threads(2), None, "no sample was contended");
    summary.samples_known = 1;
    summary.samples_contended = 1;
    assert_eq!(summary.fewer_threads(2), Some((1, 2, 1.0)));
    assert_eq!(summary.fewer_threads(1), None);
    summary.cores = Some(8);
    summary.max_other_cores = Some(2.5);
    assert_eq!(summary.fewer_threads(8), Some((5, 8, 2.5)));
    summary.max_other_cores = Some(f64::NAN);
    assert_eq!(summary.fewer_threads(8), None);
}
