//! A traced inference resolved against the state (names, categories, MACs, the system samples
//! around it) into a [`TraceDoc`] for the export side to write (`export::trace`, Chrome's
//! trace-event JSON). Apart from the capture ([`crate::core::run::trace`]) because the capture
//! travels in events, which the state folds, and this reads the state.

use std::sync::Arc;

use crate::core::machine::sample::SystemSample;
use crate::core::profiling::ops::{categorize, Category};
use crate::core::profiling::profiler::{NodeId, NodeKind, Span};
use crate::core::run::trace::TraceCapture;
use crate::core::state::monitor::MonitorState;

/// Samples from this long before a traced inference start its counter tracks, so that a
/// track has a value when the inference begins (samples come every 500 ms by default).
const COUNTER_LEAD_NS: u64 = 2_000_000_000;

/// What a slice of the timeline is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SliceKind {
    /// The model's own scope, around the whole inference.
    Model,
    /// A layer's scope (`features.3`).
    Layer,
    Op,
}

impl SliceKind {
    /// `model`, `layer` or `op`.
    #[must_use]
    pub fn key(self) -> &'static str {
        match self {
            SliceKind::Model => "model",
            SliceKind::Layer => "layer",
            SliceKind::Op => "op",
        }
    }
}

/// One call of an op or one pass through a scope.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceSlice {
    pub name: Arc<str>,
    pub kind: SliceKind,
    /// The op's category (ops only).
    pub category: Option<Category>,
    pub node: NodeId,
    pub parent: Option<NodeId>,
    /// ns since the session's epoch ([`crate::core::run::epoch`]).
    pub start_ns: u64,
    pub dur_ns: u64,
    /// `dur_ns` less the time in the slices it opened.
    pub self_ns: u64,
    /// Per call, from calibration (ops with a known count only).
    pub macs: Option<f64>,
    pub bytes: Option<f64>,
}

/// Values of one counter track at one time.
#[derive(Clone, Debug, PartialEq)]
pub struct CounterPoint {
    /// ns since the session's epoch ([`crate::core::run::epoch`]).
    pub at_ns: u64,
    /// Series name and value (`policy0` and its MHz).
    pub values: Vec<(String, f64)>,
}

/// A traced inference, resolved: what `export::trace` writes.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceDoc {
    pub model: Arc<str>,
    pub seq: u64,
    pub wall_ns: u64,
    pub pid: u32,
    pub tid: i64,
    pub thread: String,
    pub intra_op_threads: usize,
    pub foreign_ops: u64,
    /// In the order their frames closed (children before parents).
    pub slices: Vec<TraceSlice>,
    /// Reported clocks per cpufreq policy and the measured one, in MHz.
    pub clock_mhz: Vec<CounterPoint>,
    /// Every temperature sensor, in °C.
    pub temperature_c: Vec<CounterPoint>,
}

impl TraceDoc {
    /// Resolves `capture` against `state`, whose op tree knows every node the capture names
    /// (the engine sends new nodes before the inference) and whose system history holds the
    /// samples up to now.
    #[must_use]
    pub fn assemble(capture: &TraceCapture, state: &MonitorState) -> Self {
        let model = state.models.get(capture.model);
        let model_scope = model.and_then(|m| m.scope);
        let slices = capture.spans.iter().map(|s| slice(s, state, model_scope)).collect();
        let samples = samples_around(capture, state);
        Self {
            model: model.map_or_else(|| Arc::from(format!("model {}", capture.model)), |m| Arc::clone(&m.name)),
            seq: capture.seq,
            wall_ns: capture.wall_ns,
            pid: std::process::id(),
            tid: capture.tid,
            thread: capture.thread.clone(),
            intra_op_threads: capture.intra_op_threads,
            foreign_ops: capture.foreign_ops,
            slices,
            clock_mhz: samples.iter().filter_map(|s| counter(s, clock_values(s))).collect(),
            temperature_c: samples.iter().filter_map(|s| counter(s, temperature_values(s))).collect(),
        }
    }

    /// Total time of the ops no op called (what the op tables count as the inference's op
    /// time), in ns.
    #[must_use]
    pub fn top_level_op_ns(&self) -> u64 {
        let ops: std::collections::HashSet<NodeId> =
            self.slices.iter().filter(|s| s.kind == SliceKind::Op).map(|s| s.node).collect();
        self.slices
            .iter()
            .filter(|s| s.kind == SliceKind::Op && s.parent.is_none_or(|p| !ops.contains(&p)))
            .map(|s| s.dur_ns)
            .sum()
    }
}

/// `span` named and classified by the state's op tree.
fn slice(span: &Span, state: &MonitorState, model_scope: Option<NodeId>) -> TraceSlice {
    let node = state.tree.get(span.node);
    let name: Arc<str> = node.map_or_else(|| Arc::from(format!("node {}", span.node)), |n| Arc::clone(&n.name));
    let kind = match node.map(|n| n.kind) {
        Some(NodeKind::Op) => SliceKind::Op,
        _ if Some(span.node) == model_scope || name.starts_with("model:") => SliceKind::Model,
        _ => SliceKind::Layer,
    };
    let per_call = |total: f64| {
        let calls = node.map_or(0, |n| n.calib_calls);
        (kind == SliceKind::Op && calls > 0 && total > 0.0).then(|| total / calls as f64)
    };
    let dur_ns = span.end_ns.saturating_sub(span.start_ns);
    TraceSlice {
        category: (kind == SliceKind::Op).then(|| categorize(&name)),
        kind,
        node: span.node,
        // The tree's root is no slice: the model's scope hangs from it.
        parent: node.and_then(|n| n.parent).filter(|p| state.tree.get(*p).is_some_and(|n| n.parent.is_some())),
        start_ns: span.start_ns,
        dur_ns,
        self_ns: dur_ns.saturating_sub(span.child_ns),
        macs: per_call(node.map_or(0.0, |n| n.macs)),
        bytes: per_call(node.map_or(0.0, |n| n.bytes)),
        name,
    }
}

/// The samples from [`COUNTER_LEAD_NS`] before the inference to now, and at least the last one
/// taken before it began.
fn samples_around<'a>(capture: &TraceCapture, state: &'a MonitorState) -> Vec<&'a SystemSample> {
    let start_ns = capture.spans.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let at_ns = |s: &SystemSample| s.at_ms.saturating_mul(1_000_000);
    let from = start_ns.saturating_sub(COUNTER_LEAD_NS);
    let mut picked: Vec<&SystemSample> = state.system.iter().filter(|s| at_ns(s) >= from).collect();
    if picked.first().is_none_or(|s| at_ns(s) > start_ns) {
        if let Some(before) = state.system.iter().rev().find(|s| at_ns(s) <= start_ns) {
            picked.insert(0, before);
        }
    }
    picked
}

fn counter(sample: &SystemSample, values: Vec<(String, f64)>) -> Option<CounterPoint> {
    (!values.is_empty()).then(|| CounterPoint { at_ns: sample.at_ms.saturating_mul(1_000_000), values })
}

/// Reported clock per policy, and the measured one.
fn clock_values(s: &SystemSample) -> Vec<(String, f64)> {
    let reported = s.cpufreq.iter().filter_map(|p| Some((format!("policy{}", p.policy), p.cur_mhz()?)));
    reported.chain(s.measured_mhz.map(|m| ("measured".to_string(), m))).collect()
}

fn temperature_values(s: &SystemSample) -> Vec<(String, f64)> {
    s.temps.iter().map(|t| (t.name.clone(), t.celsius)).collect()
}
