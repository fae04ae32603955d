//! The op profiler: a thin safe layer over the C++ shim in `profiler/shim.cpp`, which hooks
//! libtorch's `RecordFunction` (the mechanism behind PyTorch's own profiler).
//!
//! The shim keeps a calling-context tree per recording thread; [`Recorder`] turns its counters
//! into [`NodeTiming`]s after each inference and reports new tree nodes as [`NodeInfo`]s.
//! [`Scope`] marks a model or a layer so that ops roll up per layer.

use std::collections::HashSet;
use std::ffi::{c_char, c_void, CStr, CString};
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};

mod ffi {
    use std::ffi::{c_char, c_void};
    extern "C" {
        pub fn infertop_prof_enable(on: i32);
        pub fn infertop_prof_calibrate(on: i32);
        pub fn infertop_scope_enter(name: *const c_char) -> *mut c_void;
        pub fn infertop_scope_exit(handle: *mut c_void);
        pub fn infertop_prof_node_count() -> i32;
        pub fn infertop_prof_stack_depth() -> i32;
        pub fn infertop_prof_node_info(
            id: i32,
            parent: *mut i32,
            is_scope: *mut i32,
            name: *mut *const c_char,
            calib_calls: *mut u64,
            calib_macs: *mut f64,
            calib_bytes: *mut f64,
        ) -> i32;
        pub fn infertop_prof_take(
            ids: *mut i32,
            calls: *mut u64,
            total_ns: *mut u64,
            self_ns: *mut u64,
            cap: i32,
        ) -> i32;
    }
}

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
}

/// One node's counters for one inference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeTiming {
    pub node: NodeId,
    pub calls: u32,
    pub total_ns: u64,
    pub self_ns: u64,
}

/// Interned, NUL-terminated scope names: the shim keeps raw pointers to them while a scope is
/// open, so they live for the whole process. There are only as many as there are layers.
fn intern(name: &str) -> &'static CStr {
    static NAMES: OnceLock<Mutex<HashSet<&'static CStr>>> = OnceLock::new();
    let clean = CString::new(name.replace('\0', "")).unwrap_or_default();
    let mut names = NAMES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
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

    /// A scope labelled by a VarStore path (`p / "features" / "3"` → `features.3`).
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
        // SAFETY: the name is interned for the process lifetime; the guard closes the scope
        // even if `f` unwinds.
        let handle = unsafe { ffi::infertop_scope_enter(self.name.as_ptr()) };
        let _guard = ScopeGuard(handle);
        f()
    }
}

struct ScopeGuard(*mut c_void);

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: the handle came from `infertop_scope_enter` and is closed exactly once.
            unsafe { ffi::infertop_scope_exit(self.0) };
        }
    }
}

/// Records ops on the thread that created it. Not `Send`: the shim's tree is thread-local.
pub struct Recorder {
    known_nodes: usize,
    ids: Vec<i32>,
    calls: Vec<u64>,
    total: Vec<u64>,
    selfs: Vec<u64>,
    _not_send: PhantomData<*const ()>,
}

impl Recorder {
    /// Registers the op callback for this thread and starts recording.
    #[must_use]
    pub fn start() -> Self {
        // SAFETY: a plain call into the shim, which keeps its state per thread.
        unsafe { ffi::infertop_prof_enable(1) };
        Self {
            known_nodes: 0,
            ids: Vec::new(),
            calls: Vec::new(),
            total: Vec::new(),
            selfs: Vec::new(),
            _not_send: PhantomData,
        }
    }

    /// Pauses (`false`) or resumes recording on this thread; while paused, ops run without any
    /// callback (an unprofiled baseline in the same process).
    pub fn set_enabled(&mut self, on: bool) {
        // SAFETY: a plain call into the shim, which keeps its state per thread.
        unsafe { ffi::infertop_prof_enable(i32::from(on)) };
    }

    /// Counters of every node touched since the last call, which are then reset.
    pub fn take(&mut self) -> Vec<NodeTiming> {
        // SAFETY: the arrays hold `cap` elements and the shim writes at most `cap`.
        let count = unsafe { ffi::infertop_prof_node_count() } as usize;
        for v in [&mut self.calls, &mut self.total, &mut self.selfs] {
            v.resize(count, 0);
        }
        self.ids.resize(count, 0);
        let cap = i32::try_from(count).unwrap_or(i32::MAX);
        let touched = unsafe {
            ffi::infertop_prof_take(
                self.ids.as_mut_ptr(),
                self.calls.as_mut_ptr(),
                self.total.as_mut_ptr(),
                self.selfs.as_mut_ptr(),
                cap,
            )
        } as usize;
        (0..touched.min(count))
            .map(|i| NodeTiming {
                node: self.ids[i] as NodeId,
                calls: u32::try_from(self.calls[i]).unwrap_or(u32::MAX),
                total_ns: self.total[i],
                self_ns: self.selfs[i],
            })
            .collect()
    }

    /// Ops and scopes open on this thread right now (0 between inferences).
    #[must_use]
    pub fn open_frames(&self) -> usize {
        usize::try_from(unsafe { ffi::infertop_prof_stack_depth() }).unwrap_or(0)
    }

    /// Nodes created since the last call (with their calibration results so far).
    pub fn new_nodes(&mut self) -> Vec<NodeInfo> {
        let count = unsafe { ffi::infertop_prof_node_count() } as usize;
        let fresh = (self.known_nodes..count).filter_map(node_info).collect();
        self.known_nodes = count;
        fresh
    }

    /// Runs `f` with input and output capture on, so that every node's MACs and bytes are
    /// measured from real shapes; returns `f`'s result and the nodes
    /// that this pass reached (or created), with their calibration.
    /// Slow: meant for one pass per model.
    pub fn calibrate<T>(&mut self, f: impl FnOnce() -> T) -> (T, Vec<NodeInfo>) {
        unsafe { ffi::infertop_prof_calibrate(1) };
        let out = f();
        unsafe { ffi::infertop_prof_calibrate(0) };
        let _ = self.take();
        let count = unsafe { ffi::infertop_prof_node_count() } as usize;
        let known_before = self.known_nodes;
        // Nodes of other models had their calibration cleared by this pass: report only what
        // this pass saw, plus any node that is new.
        let seen = (0..count)
            .filter_map(node_info)
            .filter(|n| n.calib_calls > 0 || n.id as usize >= known_before)
            .collect();
        self.known_nodes = count;
        (out, seen)
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        unsafe { ffi::infertop_prof_enable(0) };
    }
}

fn node_info(id: usize) -> Option<NodeInfo> {
    let (mut parent, mut is_scope) = (0i32, 0i32);
    let mut name: *const c_char = std::ptr::null();
    let (mut calls, mut macs, mut bytes) = (0u64, 0f64, 0f64);
    let id = i32::try_from(id).ok()?;
    // SAFETY: all out-pointers are valid; the name stays valid while the thread lives and is
    // copied before returning.
    let rc = unsafe {
        ffi::infertop_prof_node_info(
            id, &mut parent, &mut is_scope, &mut name, &mut calls, &mut macs, &mut bytes,
        )
    };
    if rc != 0 || name.is_null() {
        return None;
    }
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    Some(NodeInfo {
        id: id as NodeId,
        parent: u32::try_from(parent).ok(),
        kind: if is_scope != 0 { NodeKind::Scope } else { NodeKind::Op },
        name: Arc::from(name.as_ref()),
        calib_calls: calls,
        macs,
        bytes,
    })
}
