//! One inference as a timeline, the engine's half: which models the engine is to trace next and
//! what it captures (every op and scope it closed, with begin and end). The capture travels in
//! an event; [`crate::core::state::trace_doc`] resolves it against the state.

use std::collections::{BTreeMap, BTreeSet};

use crate::core::run::epoch::Epoch;
use crate::core::run::model_id::ModelId;

use crate::core::profiling::profiler::{monotonic_ns, Span, SpanRecording};

/// Spans the engine makes room for before a traced inference, so that the buffer does not grow
/// (allocate) inside it: resnet50 closes about 1,200 frames per inference, and no built-in
/// model closes more than a few thousand. A larger model grows the buffer while traced.
pub const TRACE_RESERVE: usize = 16 * 1024;

/// Models whose next warm inference the engine traces.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceTargets {
    wanted: BTreeSet<ModelId>,
    /// Recordings in a row that came out incomplete, per model still wanted.
    failed: BTreeMap<ModelId, u8>,
}

/// How many incomplete recordings in a row a trace request survives: one that failed (a fault
/// in the recording, a trace mode refused) is tried again on the next inference, but a profiler
/// that keeps failing is not asked forever.
const TRACE_TRIES: u8 = 3;

impl TraceTargets {
    /// Asks for a trace of `model`'s next inference, or of each of the `models` models'.
    pub fn request(&mut self, model: Option<ModelId>, models: usize) {
        match model {
            Some(m) => {
                self.wanted.insert(m);
            }
            None => self.wanted.extend(0..models),
        }
    }

    /// Whether `model`'s inference now is to be traced; a model is traced once per request.
    pub fn take(&mut self, model: ModelId) -> bool {
        self.wanted.remove(&model)
    }

    /// After a traced inference: `captured` ends the request; an incomplete recording leaves it
    /// standing for the next inference, up to [`TRACE_TRIES`] in a row.
    pub fn settle(&mut self, model: ModelId, captured: bool) {
        if captured {
            self.failed.remove(&model);
            return;
        }
        let tries = self.failed.entry(model).or_default();
        *tries += 1;
        if *tries < TRACE_TRIES {
            self.wanted.insert(model);
        } else {
            self.failed.remove(&model);
        }
    }
}

/// What the engine captured for one traced inference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceCapture {
    pub model: ModelId,
    /// The inference's `seq` (its row in `inferences.csv`).
    pub seq: u64,
    /// Its wall time, as the engine timed it.
    pub wall_ns: u64,
    /// Every op and scope closed, children before parents, in ns since the session's epoch
    /// ([`crate::core::run::epoch`]).
    pub spans: Vec<Span>,
    /// The recording thread's OS id (`gettid`) and name.
    pub tid: i64,
    pub thread: String,
    /// libtorch's intra-op threads.
    pub intra_op_threads: usize,
    /// Ops seen on threads that do not record (see [`SpanRecording::foreign_ops`]).
    pub foreign_ops: u64,
}

impl TraceCapture {
    /// The capture of `recording`, made on the calling (recording) thread; `epoch` is the
    /// session's time zero.
    #[must_use]
    pub fn new(model: ModelId, seq: u64, wall_ns: u64, recording: SpanRecording, epoch: Epoch) -> Self {
        // The shim's clock and `Instant` are both CLOCK_MONOTONIC: read together, they give
        // the epoch on the shim's clock.
        let since_epoch = epoch.ns();
        let epoch_ns = monotonic_ns().saturating_sub(since_epoch);
        let spans = recording
            .spans
            .into_iter()
            .map(|s| Span {
                start_ns: s.start_ns.saturating_sub(epoch_ns),
                end_ns: s.end_ns.saturating_sub(epoch_ns),
                ..s
            })
            .collect();
        let thread = std::thread::current().name().unwrap_or("engine").to_string();
        // SAFETY: gettid has no preconditions.
        let tid = i64::from(unsafe { libc::gettid() });
        let intra_op_threads = usize::try_from(tch::get_num_threads()).unwrap_or(1);
        Self { model, seq, wall_ns, spans, tid, thread, intra_op_threads, foreign_ops: recording.foreign_ops }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_traces_one_inference() {
        let mut targets = TraceTargets::default();
        assert!(!targets.take(0));
        targets.request(Some(1), 3);
        assert!(!targets.take(0));
        assert!(targets.take(1));
        assert!(!targets.take(1), "once per request");
        targets.request(None, 3);
        assert_eq!((targets.take(2), targets.take(0), targets.take(1), targets.take(0)), (true, true, true, false));
    }

    #[test]
    fn an_incomplete_recording_leaves_the_request_for_the_next_inference_a_few_times() {
        let mut targets = TraceTargets::default();
        targets.request(Some(0), 1);
        assert!(targets.take(0));
        targets.settle(0, false);
        assert!(targets.take(0), "tried again after an incomplete recording");
        targets.settle(0, true);
        assert!(!targets.take(0), "a captured trace ends the request");
        targets.request(Some(0), 1);
        let mut tries = 0;
        while targets.take(0) {
            tries += 1;
            targets.settle(0, false);
        }
        assert_eq!(tries, TRACE_TRIES, "a profiler that keeps failing is not asked forever");
    }
}
