//! The op profiler: libtorch's op callbacks and infertop's module scopes recorded per inference
//! (`profiler`, with its C++ shim), op names sorted into categories and kernels (`ops`), and the
//! tree their times are summed into (`optree`).
//!
//! Its files are private to the core; what the front ends use is re-exported here.

pub(in crate::core) mod ops;
pub(in crate::core) mod optree;
pub(in crate::core) mod profiler;

pub use ops::{is_conv_kernel, kernel_name, short_name, Category};
pub use optree::{Node, OpTree};
pub use profiler::{
    dims_text, follow_modules, save_scripted_test_net, ConvGeometry, NodeId, NodeInfo, NodeKind, NodeTiming, OpShapes,
    ProfilerError, Recorder, Scope,
};
