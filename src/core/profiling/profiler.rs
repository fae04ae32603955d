//! The op profiler: a thin safe layer over the C++ shim in `profiler/shim.cpp`, which hooks
//! libtorch's `RecordFunction` (the mechanism behind `PyTorch`'s own profiler).
//!
//! The shim keeps a calling-context tree per recording thread; [`Recorder`] turns its counters
//! into [`NodeTiming`]s after each inference and reports new tree nodes as [`NodeInfo`]s.
//! [`Scope`] marks a model or a layer so that ops roll up per layer.

use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};

mod error;
mod ffi;
mod shapes;
#[cfg(test)]
mod tests;

pub use error::ProfilerError;
pub use shapes::{dims_text, follow_modules, save_scripted_test_net, ConvGeometry, OpShapes, Shape};

/// Index of a node in the recording thread's calling-context tree.
pub type NodeId = u32;

/// Whether a tree node is a libtorch op or a scope that infertop opened (a model or a layer).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum NodeKind {
    Op,
    Scope,
}

/// A node of the calling-context tree, as first seen, with what calibration measured.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeInfo {
    pub id: NodeId,
    pub parent: Option<NodeId>,
    pub kind: NodeKind,
    pub name: Arc<str>,
    /// Calls seen in the calibration pass (0 when the node appeared later).
    pub calib_calls: u64,
    /// MACs of all calls in the calibration pass, i.e. per inference.
    pub macs: f64,
    /// Bytes occupied by inputs and outputs of all calls in the calibration pass.
    pub bytes: f64,
    /// Ops only: what each call of the calibration pass was given and returned, in order (the
    /// shim keeps the first 1,024).
    pub call_shapes: Arc<[OpShapes]>,
}

/// One node's counters for one inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeTiming {
    pub node: NodeId,
    pub calls: u32,
    pub total_ns: u64,
    pub self_ns: u64,
}

/// One frame that a traced run closed: a call of a node, on the shim's clock ([`monotonic_ns`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub node: NodeId,
    pub start_ns: u64,
    pub end_ns: u64,
    /// Time inside the frames this one opened (the ops it called, the scopes inside it): the
    /// same accounting as [`NodeTiming::self_ns`].
    pub child_ns: u64,
}

/// What [`Recorder::trace`] kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanRecording {
    /// Every frame closed on this thread, in the order it closed (children before parents).
    pub spans: Vec<Span>,
    /// Op callbacks on threads that inherited the callback but do not record (intra-op
    /// workers), counted while tracing: ops the spans cannot show.
    pub foreign_ops: u64,
}

/// The shim's clock (`CLOCK_MONOTONIC`, the one `std::time::Instant` reads on Linux), in ns.
#[must_use]
pub fn monotonic_ns() -> u64 {
    ffi::now_ns()
}

/// Interned, NUL-terminated scope names. The shim tells scopes apart by the address of their
/// name (each tree node keeps the first address seen with it, for the thread's life), so a name
/// must never be freed and other text put at its address: they live for the whole process.
/// There are only as many as there are layers.
fn intern(name: &str) -> &'static CStr {
    static NAMES: OnceLock<Mutex<HashSet<&'static CStr>>> = OnceLock::new();
    let clean = CString::new(name.replace('\0', "")).unwrap_or_default();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(existing) = names.get(clean.as_c_str()) {
        return existing;
    }
    let leaked: &'static CStr = Box::leak(clean.into_boxed_c_str());
    names.insert(leaked);
    leaked
}

/// A named region (a model, a layer) that appears in the op tree as a parent of its ops. The shim
/// pushes it on the tree directly (no `RecordFunction`), so it costs two clock reads.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    name: &'static CStr,
}

impl Scope {
    /// A scope with the given label, such as `features.3.conv`.
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self { name: intern(name) }
    }

    /// A scope labelled by a `VarStore` path (`p / "features" / "3"` → `features.3`).
    #[must_use]
    pub fn at(path: &tch::nn::Path) -> Self {
        Self::new(&path.components().collect::<Vec<_>>().join("."))
    }

    /// The label.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name.to_str().unwrap_or("?")
    }

    /// Runs `f` inside this scope. Costs next to nothing when the thread is not recording.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        let _open = self.enter();
        f()
    }

    /// Opens this scope on the calling thread until the guard drops. Guards close innermost
    /// first; a guard dropped out of turn, or after recording was switched off and on (which
    /// drops every open frame), closes nothing, so it never closes someone else's frame.
    #[must_use = "the scope closes when the guard drops"]
    pub fn enter(&self) -> ScopeGuard {
        let mut handle = 0;
        // SAFETY: the name is interned: NUL-terminated, alive for the process and never reused
        // for other text, which the shim needs because it compares scope names by address.
        // `handle` is a valid out-pointer.
        let rc = unsafe { ffi::infertop_scope_enter(self.name.as_ptr(), &raw mut handle) };
        // A failure has switched recording off on this thread (the next `take` reports it).
        ScopeGuard { handle: if rc == ffi::OK { handle } else { 0 }, _not_send: PhantomData }
    }
}

/// An open [`Scope`], closed on drop. Bound to the thread that opened it, like the frame.
pub struct ScopeGuard {
    /// The shim's handle of the frame, 0 when the thread was not recording.
    handle: u64,
    _not_send: PhantomData<*const ()>,
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        // The shim closes the frame only if the handle names the innermost open one, so a stale
        // or out-of-turn guard closes nothing (`IGNORED`); a failure leaves a fault for `take`.
        if self.handle != 0 {
            let _ = ffi::scope_exit(self.handle);
        }
    }
}

thread_local! {
    /// Whether this thread has a live [`Recorder`].
    static RECORDING: Cell<bool> = const { Cell::new(false) };
}

/// Records ops on the thread that created it; a thread has at most one. Not `Send`: the shim's
/// tree is thread-local.
///
/// A failure inside the shim (it caught an exception) switches recording off on the thread;
/// the next [`Recorder::take`] reports it, and [`Recorder::set_enabled`] starts afresh.
pub struct Recorder {
    known_nodes: usize,
    ids: Vec<i32>,
    calls: Vec<u64>,
    total: Vec<u64>,
    selfs: Vec<u64>,
    name: Vec<u8>,
    _not_send: PhantomData<*const ()>,
}

impl Recorder {
    /// Registers the op callback for this thread and starts recording.
    ///
    /// # Errors
    /// [`ProfilerError::AlreadyRecording`] while another `Recorder` of this thread lives, or the
    /// shim's failure to register its callback.
    pub fn start() -> Result<Self, ProfilerError> {
        if RECORDING.get() {
            return Err(ProfilerError::AlreadyRecording);
        }
        ffi::check(ffi::enable(true))?;
        RECORDING.set(true);
        Ok(Self {
            known_nodes: 0,
            ids: Vec::new(),
            calls: Vec::new(),
            total: Vec::new(),
            selfs: Vec::new(),
            name: Vec::new(),
            _not_send: PhantomData,
        })
    }

    /// Pauses (`false`) or resumes recording on this thread; while paused, ops run without any
    /// callback (an unprofiled baseline in the same process). Open scopes are dropped. Should the
    /// shim fail to switch, recording stays off and the next [`Recorder::take`] says why.
    pub fn set_enabled(&mut self, on: bool) {
        let _ = ffi::enable(on);
    }

    /// Counters of every node touched since the last call, which are then reset.
    ///
    /// # Errors
    /// When the shim stopped recording since the last call: the counters are incomplete and
    /// dropped.
    pub fn take(&mut self) -> Result<Vec<NodeTiming>, ProfilerError> {
        let timings = self.drain();
        ffi::take_fault().map_or(Ok(timings), Err)
    }

    /// Reads and resets the counters.
    fn drain(&mut self) -> Vec<NodeTiming> {
        let count = ffi::node_count();
        for v in [&mut self.calls, &mut self.total, &mut self.selfs] {
            v.resize(count, 0);
        }
        self.ids.resize(count, 0);
        let cap = i32::try_from(count).unwrap_or(i32::MAX);
        let mut touched = 0;
        // SAFETY: the arrays hold `count` >= `cap` elements and the shim writes at most `cap`.
        let rc = unsafe {
            ffi::infertop_prof_take(
                self.ids.as_mut_ptr(),
                self.calls.as_mut_ptr(),
                self.total.as_mut_ptr(),
                self.selfs.as_mut_ptr(),
                cap,
                &raw mut touched,
            )
        };
        if rc != ffi::OK {
            return Vec::new();
        }
        let touched = usize::try_from(touched).unwrap_or(0).min(count);
        (0..touched)
            .map(|i| NodeTiming {
                node: NodeId::try_from(self.ids[i]).unwrap_or_default(),
                calls: u32::try_from(self.calls[i]).unwrap_or(u32::MAX),
                total_ns: self.total[i],
                self_ns: self.selfs[i],
            })
            .collect()
    }

    /// Ops and scopes open on this thread right now (0 between inferences).
    #[must_use]
    pub fn open_frames(&self) -> usize {
        ffi::stack_depth()
    }

    /// Nodes created since the last call (with their calibration results so far).
    pub fn new_nodes(&mut self) -> Vec<NodeInfo> {
        let count = ffi::node_count();
        let fresh = (self.known_nodes..count).filter_map(|id| node_info(id, &mut self.name)).collect();
        self.known_nodes = count;
        fresh
    }

    /// Runs `f` with input and output capture on, so that every node's MACs and bytes are
    /// measured from real shapes; returns `f`'s result and the nodes
    /// that this pass reached (or created), with their calibration.
    /// Slow: meant for one pass per model. While paused, `f` runs without calibration; should
    /// the shim fail, the next [`Recorder::take`] says why.
    pub fn calibrate<T>(&mut self, f: impl FnOnce() -> T) -> (T, Vec<NodeInfo>) {
        let out = {
            let _calibrating = Calibrating::on();
            f()
        };
        // The pass's counters are no timings: input capture slows every op down.
        let _ = self.drain();
        let count = ffi::node_count();
        let known_before = self.known_nodes;
        // Nodes of other models had their calibration cleared by this pass: report only what
        // this pass saw, plus any node that is new.
        let seen = (0..count)
            .filter_map(|id| node_info(id, &mut self.name))
            .filter(|n| n.calib_calls > 0 || n.id as usize >= known_before)
            .collect();
        self.known_nodes = count;
        (out, seen)
    }
}

impl Recorder {
    /// Runs `f` in trace mode: besides the counters, every op and scope closed on this thread
    /// is kept with its begin and end (room for `reserve` spans is made first, so the buffer
    /// does not grow inside `f`). Trace mode adds one branch per closed frame; off, it costs
    /// the timing path nothing more.
    ///
    /// # Errors
    /// When this thread does not record (paused). A failure inside `f` is reported by the next
    /// [`Recorder::take`], as for any recording: the spans are then incomplete.
    pub fn trace<T>(&mut self, reserve: usize, f: impl FnOnce() -> T) -> (T, Result<SpanRecording, ProfilerError>) {
        if let Err(e) = ffi::check(ffi::trace_begin(reserve)) {
            return (f(), Err(e));
        }
        let mode = TraceMode;
        let out = f();
        std::mem::forget(mode);
        (out, Ok(end_trace()))
    }
}

/// Trace mode, ended (and its spans dropped) should the traced run unwind.
struct TraceMode;

impl Drop for TraceMode {
    fn drop(&mut self) {
        let _ = end_trace();
    }
}

/// Ends trace mode on this thread and collects the spans.
fn end_trace() -> SpanRecording {
    let mut foreign_ops = 0;
    // SAFETY: a valid out-pointer.
    let count = unsafe { ffi::infertop_trace_end(&raw mut foreign_ops) };
    let count = usize::try_from(count).unwrap_or(0);
    let (mut nodes, mut starts, mut ends, mut child) =
        (vec![0i32; count], vec![0u64; count], vec![0u64; count], vec![0u64; count]);
    // SAFETY: each array holds `count` elements and the shim writes at most that many.
    let rc = unsafe {
        ffi::infertop_trace_spans(
            nodes.as_mut_ptr(),
            starts.as_mut_ptr(),
            ends.as_mut_ptr(),
            child.as_mut_ptr(),
            count as u64,
        )
    };
    if rc != ffi::OK {
        return SpanRecording { spans: Vec::new(), foreign_ops };
    }
    let spans = (0..count)
        .filter_map(|i| {
            let node = NodeId::try_from(nodes[i]).ok()?;
            Some(Span { node, start_ns: starts[i], end_ns: ends[i], child_ns: child[i] })
        })
        .collect();
    SpanRecording { spans, foreign_ops }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = ffi::enable(false);
        // Nobody is left to report a fault to; the next recorder starts clean.
        let _ = ffi::take_fault();
        RECORDING.set(false);
    }
}

/// Input capture, on until dropped (so also when the calibrated pass unwinds).
struct Calibrating;

impl Calibrating {
    fn on() -> Self {
        // Refused while paused (the pass then runs without calibration); failures leave a fault.
        let _ = ffi::calibrate(true);
        Self
    }
}

impl Drop for Calibrating {
    fn drop(&mut self) {
        let _ = ffi::calibrate(false);
    }
}

/// Node `id` as the shim describes it, its name copied through the reusable buffer `name`.
fn node_info(id: usize, name: &mut Vec<u8>) -> Option<NodeInfo> {
    let id = i32::try_from(id).ok()?;
    let raw = ffi::node(id, name)?;
    Some(NodeInfo {
        id: NodeId::try_from(id).ok()?,
        parent: u32::try_from(raw.parent).ok(),
        kind: if raw.is_scope != 0 { NodeKind::Scope } else { NodeKind::Op },
        name: Arc::from(String::from_utf8_lossy(name).as_ref()),
        calib_calls: raw.calib_calls,
        macs: raw.calib_macs,
        bytes: raw.calib_bytes,
        call_shapes: shapes::node_call_shapes(id).into(),
    })
}
