//! The C ABI of `shim.cpp`. Every function there is `noexcept` and catches every C++ exception,
//! so none unwinds into Rust; they report through status codes instead (mirrored below).

use std::ffi::{c_char, CStr};

use super::error::ProfilerError;

/// Done.
pub const OK: i32 = 0;
/// A scope exit whose frame is not the innermost open one: nothing was closed.
pub const IGNORED: i32 = 1;
/// Calibration was asked for while the thread does not record.
pub const NOT_RECORDING: i32 = -3;
/// A null pointer or an unknown node id.
pub const BAD_ARGUMENT: i32 = -4;
// -1 (out of memory) and -2 (a C++ exception) come with a fault that `take_fault` collects.

/// A node as `infertop_prof_node_info` describes it (`InfertopNode` in the shim).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RawNode {
    pub parent: i32,
    pub is_scope: i32,
    pub calib_calls: u64,
    pub calib_macs: f64,
    pub calib_bytes: f64,
    pub name_len: u64,
}

/// Sizes kept per shape (`kMaxDims` in `calibration.h`) and entries of stride, padding and
/// dilation (`kMaxSpatial`).
const MAX_DIMS: usize = 8;
const MAX_SPATIAL: usize = 4;

/// An op's shapes as `infertop_prof_node_shapes` copies them (`OpShapes` in `calibration.h`);
/// a rank of -1 is unknown.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RawShapes {
    pub input_rank: i64,
    pub input: [i64; MAX_DIMS],
    pub output_rank: i64,
    pub output: [i64; MAX_DIMS],
    pub is_conv: i64,
    pub weight_rank: i64,
    pub weight: [i64; MAX_DIMS],
    pub stride_len: i64,
    pub padding_len: i64,
    pub dilation_len: i64,
    pub stride: [i64; MAX_SPATIAL],
    pub padding: [i64; MAX_SPATIAL],
    pub dilation: [i64; MAX_SPATIAL],
    pub groups: i64,
}

extern "C" {
    pub fn infertop_prof_node_shapes(id: i32, call: u64, out: *mut RawShapes) -> i32;
    pub fn infertop_prof_follow_modules(on: i32);
    pub fn infertop_test_save_scripted_net(path: *const c_char, error: *mut c_char, error_cap: usize) -> i32;
    pub fn infertop_prof_enable(on: i32) -> i32;
    pub fn infertop_prof_calibrate(on: i32) -> i32;
    pub fn infertop_scope_enter(name: *const c_char, handle: *mut u64) -> i32;
    pub fn infertop_scope_exit(handle: u64) -> i32;
    pub fn infertop_prof_node_count() -> i32;
    pub fn infertop_prof_stack_depth() -> i32;
    pub fn infertop_prof_node_info(id: i32, out: *mut RawNode, name: *mut c_char, name_cap: usize) -> i32;
    pub fn infertop_prof_take(
        ids: *mut i32,
        calls: *mut u64,
        total_ns: *mut u64,
        self_ns: *mut u64,
        cap: i32,
        touched: *mut i32,
    ) -> i32;
    pub fn infertop_prof_take_fault(text: *mut c_char, text_cap: usize) -> i32;
    pub fn infertop_prof_now_ns() -> u64;
    pub fn infertop_trace_begin(reserve: u64) -> i32;
    pub fn infertop_trace_end(foreign: *mut u64) -> i64;
    pub fn infertop_trace_spans(
        nodes: *mut i32,
        start_ns: *mut u64,
        end_ns: *mut u64,
        child_ns: *mut u64,
        cap: u64,
    ) -> i32;
    #[cfg(test)]
    pub fn infertop_prof_fail_node_creation(n: i32);
}

// The calls without pointers have no precondition: the shim keeps its state per thread, checks
// what it is given and catches its exceptions. Hence these safe wrappers.

/// Starts or stops recording on the calling thread; a status.
pub fn enable(on: bool) -> i32 {
    // SAFETY: no pointers; see above.
    unsafe { infertop_prof_enable(i32::from(on)) }
}

/// Switches input capture on or off; a status.
pub fn calibrate(on: bool) -> i32 {
    // SAFETY: no pointers; see above.
    unsafe { infertop_prof_calibrate(i32::from(on)) }
}

/// The shim's clock (`CLOCK_MONOTONIC`) in ns.
pub fn now_ns() -> u64 {
    // SAFETY: no pointers; see above.
    unsafe { infertop_prof_now_ns() }
}

/// Starts trace mode on this thread with room for `reserve` spans; a status.
pub fn trace_begin(reserve: usize) -> i32 {
    // SAFETY: no pointers; see above.
    unsafe { infertop_trace_begin(reserve as u64) }
}

/// Nodes in this thread's tree.
pub fn node_count() -> usize {
    // SAFETY: no pointers; see above.
    usize::try_from(unsafe { infertop_prof_node_count() }).unwrap_or(0)
}

/// Frames open on this thread.
pub fn stack_depth() -> usize {
    // SAFETY: no pointers; see above.
    usize::try_from(unsafe { infertop_prof_stack_depth() }).unwrap_or(0)
}

/// Closes the scope frame `handle` names if it is the innermost open one; a status.
pub fn scope_exit(handle: u64) -> i32 {
    // SAFETY: no pointers (a handle is a number the shim checks against its stack).
    unsafe { infertop_scope_exit(handle) }
}

/// The fault that stopped recording on this thread since the last call, if any (and clears it).
pub fn take_fault() -> Option<ProfilerError> {
    let mut text = [0u8; 256];
    // SAFETY: the shim writes at most `text.len()` bytes, NUL-terminated, and keeps no pointer.
    let code = unsafe { infertop_prof_take_fault(text.as_mut_ptr().cast(), text.len()) };
    (code != OK).then(|| {
        let text = CStr::from_bytes_until_nul(&text).map(CStr::to_string_lossy).unwrap_or_default();
        ProfilerError::Stopped(format!("{text} (shim status {code})"))
    })
}

/// Turns a status into a result; a failure that left a fault reports the fault (and clears it).
pub fn check(code: i32) -> Result<(), ProfilerError> {
    match code {
        OK | IGNORED => Ok(()),
        NOT_RECORDING | BAD_ARGUMENT => Err(ProfilerError::Status(code)),
        _ => Err(take_fault().unwrap_or(ProfilerError::Status(code))),
    }
}

/// The shapes node `id` saw in call `call` (from 0) of the latest calibration pass, `None` when
/// it has none.
pub fn node_shapes(id: i32, call: u64) -> Option<RawShapes> {
    let mut raw = RawShapes::default();
    // SAFETY: `raw` is a valid `RawShapes`, which the shim overwrites whole or not at all.
    let rc = unsafe { infertop_prof_node_shapes(id, call, &raw mut raw) };
    (rc == OK).then_some(raw)
}

/// Node `id`, with its name read into `name` (reused across calls, grown when too short), or
/// `None` for an unknown id.
pub fn node(id: i32, name: &mut Vec<u8>) -> Option<RawNode> {
    let mut raw = RawNode::default();
    name.resize(name.capacity().max(64), 0);
    for _ in 0..2 {
        // SAFETY: `raw` is a valid `RawNode`; the shim copies at most `name.len()` bytes into
        // `name` and returns nothing that points into its own memory.
        let rc = unsafe { infertop_prof_node_info(id, &raw mut raw, name.as_mut_ptr().cast(), name.len()) };
        if rc != OK {
            return None;
        }
        let len = usize::try_from(raw.name_len).ok()?;
        if len <= name.len() {
            name.truncate(len);
            return Some(raw);
        }
        name.resize(len, 0);
    }
    None
}
