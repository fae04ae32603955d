//! The shim's failure path, with real ops: an exception inside a libtorch callback must neither
//! unwind nor abort, and must not pass for a complete recording.

use tch::{Device, Kind, Tensor};

use super::{ffi, ProfilerError, Recorder, Scope};

#[test]
fn a_failure_inside_a_callback_stops_recording_and_take_reports_it() {
    let _g = tch::no_grad_guard();
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let mut rec = Recorder::start().expect("recorder");
    let _ = rec.take();
    // The scope's node is the first creation, the op's under it the second: that one fails
    // inside libtorch's start callback.
    // SAFETY: no pointers; sets a thread-local countdown.
    unsafe { ffi::infertop_prof_fail_node_creation(2) };
    let _ = Scope::new("fault.scope").run(|| x.sigmoid());
    assert_eq!(rec.open_frames(), 0, "the failure dropped the open frames");
    match rec.take() {
        Err(ProfilerError::Stopped(why)) => assert!(why.contains("out of memory"), "{why}"),
        other => panic!("expected the fault, got {other:?}"),
    }
    let _ = x.relu();
    assert_eq!(rec.take(), Ok(Vec::new()), "recording stays off after a failure");
    rec.set_enabled(true);
    let _ = x.relu();
    assert!(!rec.take().expect("complete recording").is_empty(), "switching on records again");
}

#[test]
fn a_failure_in_one_recorder_is_not_reported_to_the_next() {
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let rec = Recorder::start().expect("recorder");
    // SAFETY: as above.
    unsafe { ffi::infertop_prof_fail_node_creation(1) };
    let nodes = ffi::node_count();
    let _ = Scope::new("fault.dropped").run(|| x.relu());
    assert_eq!(ffi::node_count(), nodes, "the scope failed and nothing was recorded after it");
    drop(rec);
    let mut next = Recorder::start().expect("recorder");
    assert!(next.take().is_ok());
}

#[test]
fn a_traced_run_that_unwinds_leaves_trace_mode() {
    let _g = tch::no_grad_guard();
    let x = Tensor::randn([4, 4], (Kind::Float, Device::Cpu));
    let mut rec = Recorder::start().expect("recorder");
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rec.trace(16, || {
            let _ = x.relu();
            panic!("boom inside a traced run")
        })
    }));
    assert!(unwound.is_err());
    let _ = x.relu();
    // SAFETY: a null out-pointer is allowed (the count of foreign ops is then not written).
    let kept = unsafe { ffi::infertop_trace_end(std::ptr::null_mut()) };
    assert_eq!(kept, 0, "spans were kept after the traced run unwound");
    assert!(rec.take().is_ok());
}
