//! Which profiled inferences a model's op, layer and category figures rest on.
//!
//! Those figures are means over profiled inferences, and there are few of them (one inference
//! in `--profile-every`). A single inference stalled by another process (a core taken away in
//! the middle of a convolution) can take three times as long as the others, and its stall lands
//! on whichever ops were running: a mean over ten inferences then books a quarter of a model's
//! time to `BatchNorm`. The latency beside it is a median and does not move, so the two stop
//! agreeing. The window keeps the latest [`WINDOW`] profiled inferences of a model and leaves
//! out of the figures
//! - every inference whose wall time is above [`STALL_RATIO`] times the window's median (a
//!   stall, whatever caused it), and
//! - every inference that overlapped a sample interval in which infertop saw contention (other
//!   work on the cores), as long as at least [`MIN_KEPT`] uncontended ones remain: on a machine
//!   that is contended all the time there is no quiet inference to prefer, and the stall rule
//!   alone applies.
//!
//! The op tree's totals are always the sums over the kept inferences, so every consumer (Detail,
//! the CSV rows, the report, /metrics) reads robust means without knowing about the window.

use std::collections::VecDeque;

use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::NodeTiming;

/// Profiled inferences kept per model: enough for a median that one stall cannot move, few
/// enough that the figures follow the machine (a model that heats up, a changed setting).
pub const WINDOW: usize = 32;

/// An inference slower than this times the window's median wall time is a stall. Quiet
/// profiled inferences of one model vary by a few per cent; a core taken away for part of an
/// inference costs tens of per cent.
pub const STALL_RATIO: f64 = 1.25;

/// Contended inferences are left out only while this many uncontended ones stay in the figures.
pub const MIN_KEPT: usize = 3;

/// The stall rule needs this many inferences for its median to mean anything.
const MIN_FOR_MEDIAN: usize = 3;

/// Why an inference is not in the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeftOut {
    /// Its wall time was above [`STALL_RATIO`] × the window's median.
    Stalled,
    /// It overlapped a sample interval with contention.
    Contended,
}

#[derive(Clone, Debug, PartialEq)]
struct Entry {
    /// When it started and ended (ns since the session's epoch, [`crate::core::run::epoch`]).
    start_ns: u64,
    end_ns: u64,
    wall_ns: u64,
    ops: Vec<NodeTiming>,
    contended: bool,
    /// Whether its counters are in the tree's totals now.
    counted: Option<bool>,
}

/// The latest profiled inferences of one model and which of them the figures rest on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProfiledWindow {
    entries: VecDeque<Entry>,
    /// Left out of the window's current figures, by reason.
    stalled: usize,
    contended: usize,
    /// Profiled inferences seen since the last reset, kept or not.
    seen: u64,
}

impl ProfiledWindow {
    /// Adds a profiled inference that ended at `end_ns` and re-decides which are counted,
    /// moving counters in and out of `tree`.
    pub fn push(&mut self, tree: &mut OpTree, end_ns: u64, wall_ns: u64, ops: Vec<NodeTiming>) {
        self.seen += 1;
        let start_ns = end_ns.saturating_sub(wall_ns);
        self.entries.push_back(Entry { start_ns, end_ns, wall_ns, ops, contended: false, counted: None });
        if self.entries.len() > WINDOW {
            if let Some(old) = self.entries.pop_front() {
                if old.counted == Some(true) {
                    tree.unrecord(&old.ops);
                }
            }
        }
        self.decide(tree);
    }

    /// Marks the inferences that overlapped the sample interval `(from_ns, to_ns]`, in which the
    /// sampler saw contention, and re-decides.
    pub fn contended_between(&mut self, tree: &mut OpTree, from_ns: u64, to_ns: u64) {
        let mut changed = false;
        for e in &mut self.entries {
            if !e.contended && e.end_ns > from_ns && e.start_ns <= to_ns {
                e.contended = true;
                changed = true;
            }
        }
        if changed {
            self.decide(tree);
        }
    }

    /// Inferences whose counters are in the figures.
    #[must_use]
    pub fn kept(&self) -> u64 {
        self.entries.iter().filter(|e| e.counted == Some(true)).count() as u64
    }

    /// Summed wall time of the kept inferences.
    #[must_use]
    pub fn kept_wall_ns(&self) -> u64 {
        self.entries.iter().filter(|e| e.counted == Some(true)).map(|e| e.wall_ns).sum()
    }

    /// How many of the window's inferences are left out, and why.
    #[must_use]
    pub fn left_out(&self, reason: LeftOut) -> usize {
        match reason {
            LeftOut::Stalled => self.stalled,
            LeftOut::Contended => self.contended,
        }
    }

    /// Profiled inferences in the window (kept or left out).
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Profiled inferences seen since the last reset.
    #[must_use]
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Applies the rules of the module comment to every entry and moves the counters of those
    /// whose verdict changed.
    fn decide(&mut self, tree: &mut OpTree) {
        let verdicts = self.verdicts();
        self.stalled = verdicts.iter().filter(|v| **v == Some(LeftOut::Stalled)).count();
        self.contended = verdicts.iter().filter(|v| **v == Some(LeftOut::Contended)).count();
        for (e, verdict) in self.entries.iter_mut().zip(verdicts) {
            let count = verdict.is_none();
            match (e.counted, count) {
                (Some(true), false) => tree.unrecord(&e.ops),
                (Some(false) | None, true) => tree.record(&e.ops),
                _ => {}
            }
            e.counted = Some(count);
        }
    }

    fn verdicts(&self) -> Vec<Option<LeftOut>> {
        let threshold = self.stall_threshold_ns();
        let stalled = |e: &Entry| threshold.is_some_and(|t| e.wall_ns as f64 > t);
        let quiet = self.entries.iter().filter(|e| !e.contended && !stalled(e)).count();
        let drop_contended = quiet >= MIN_KEPT;
        self.entries
            .iter()
            .map(|e| {
                if stalled(e) {
                    Some(LeftOut::Stalled)
                } else if e.contended && drop_contended {
                    Some(LeftOut::Contended)
                } else {
                    None
                }
            })
            .collect()
    }

    fn stall_threshold_ns(&self) -> Option<f64> {
        if self.entries.len() < MIN_FOR_MEDIAN {
            return None;
        }
        let mut walls: Vec<u64> = self.entries.iter().map(|e| e.wall_ns).collect();
        walls.sort_unstable();
        let mid = walls.len() / 2;
        let median = if walls.len() % 2 == 0 { (walls[mid - 1] + walls[mid]) as f64 / 2.0 } else { walls[mid] as f64 };
        Some(median * STALL_RATIO)
    }
}

#[cfg(test)]
mod tests;
