//! The profiler's error, apart from the recorder so that the FFI layer below it can return it.

/// Why the op profiler cannot record (or did not record all of an inference).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfilerError {
    /// The thread already has a live `Recorder`; the shim's state is per thread, so two would
    /// switch each other off.
    #[error("this thread already has an op recorder; drop it before starting another")]
    AlreadyRecording,
    /// The shim caught an exception (out of memory, an error from libtorch) and stopped
    /// recording on this thread.
    #[error("the op profiler stopped recording: {0}")]
    Stopped(String),
    /// The shim returned a status this side does not expect.
    #[error("the op profiler returned status {0}")]
    Status(i32),
}
