//! Op names → categories. A category's time is the total time of its top-level ops, so the
//! categories of a model add up to its op time.

/// Where an op's time is booked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Category {
    Conv2d,
    BatchNorm,
    Relu,
    Concat,
    Add,
    Pool,
    Linear,
    /// Allocation and views: empty, view, slice, narrow, copy, reshape, ...
    Bookkeeping,
    Other,
}

impl Category {
    pub const ALL: [Category; 9] = [
        Category::Conv2d,
        Category::BatchNorm,
        Category::Relu,
        Category::Concat,
        Category::Add,
        Category::Pool,
        Category::Linear,
        Category::Bookkeeping,
        Category::Other,
    ];

    /// Every name of the category, from the one table of them ([`Category::names`]).
    #[must_use]
    pub const fn names(self) -> CategoryNames {
        let (label, key, short) = match self {
            Category::Conv2d => ("Conv2D", "conv2d", "conv"),
            Category::BatchNorm => ("BatchNorm", "batchnorm", "BN"),
            Category::Relu => ("ReLU", "relu", "ReLU"),
            Category::Concat => ("Concat", "concat", "cat"),
            Category::Add => ("Add", "add", "add"),
            Category::Pool => ("Pool", "pool", "pool"),
            Category::Linear => ("Linear", "linear", "linear"),
            Category::Bookkeeping => ("Bookkeeping", "bookkeeping", "alloc/view"),
            Category::Other => ("Other", "other", "other"),
        };
        CategoryNames { label, key, short }
    }

    /// Display label (tables, legends, the glossary).
    #[must_use]
    pub const fn label(self) -> &'static str {
        self.names().label
    }

    /// Column-name form (`share_conv2d`, `ops.csv`'s `category`).
    #[must_use]
    pub const fn key(self) -> &'static str {
        self.names().key
    }

    /// Short name, where a line lists several kinds (the Models breakdown, the Beyond MACs
    /// line).
    #[must_use]
    pub const fn short(self) -> &'static str {
        self.names().short
    }
}

/// A category's names. One table, so that the screen, the CSV columns and the report never
/// name one kind two ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CategoryNames {
    pub label: &'static str,
    pub key: &'static str,
    pub short: &'static str,
}

/// Tensor bookkeeping: allocation, views, copies and reshapes that move no arithmetic.
const BOOKKEEPING: &[&str] = &[
    "empty",
    "empty_strided",
    "empty_like",
    "view",
    "_unsafe_view",
    "reshape",
    "_reshape_alias",
    "slice",
    "narrow",
    "select",
    "as_strided",
    "copy_",
    "contiguous",
    "clone",
    "resize_",
    "transpose",
    "t",
    "permute",
    "flatten",
    "squeeze",
    "unsqueeze",
    "expand",
    "chunk",
    "split",
    "split_with_sizes",
    "unbind",
    "zeros",
    "zero_",
    "fill_",
    "to",
    "_to_copy",
    "detach",
    "alias",
    "lift_fresh",
    "numpy_T",
    "unflatten",
    "channel_shuffle",
    "native_channel_shuffle",
    // `aten::_convolution` asks whether NNPACK is there before it picks a kernel: a check.
    "_nnpack_available",
];

const RELU: &[&str] = &[
    "relu",
    "relu_",
    "relu6",
    "relu6_",
    "hardtanh",
    "hardtanh_",
    "clamp",
    "clamp_",
    "clamp_min",
    "clamp_min_",
    "clamp_max",
    "clamp_max_",
    "threshold",
    "threshold_",
];

/// The category of an op such as `aten::mkldnn_convolution`.
#[must_use]
pub fn categorize(op: &str) -> Category {
    let base = short_name(op);
    if base.contains("conv") && !base.contains("shuffle") {
        Category::Conv2d
    } else if base.contains("batch_norm") {
        Category::BatchNorm
    } else if RELU.contains(&base) {
        Category::Relu
    } else if matches!(base, "cat" | "_cat" | "concat" | "concatenate" | "stack") {
        Category::Concat
    } else if matches!(base, "add" | "add_") {
        Category::Add
    } else if base.contains("pool") {
        Category::Pool
    } else if matches!(base, "linear" | "addmm" | "mm" | "matmul" | "bmm" | "baddbmm") {
        Category::Linear
    } else if BOOKKEEPING.contains(&base) {
        Category::Bookkeeping
    } else {
        Category::Other
    }
}

/// An op's name without its namespace (`aten::mkldnn_convolution` → `mkldnn_convolution`), as
/// the tables show it.
#[must_use]
pub fn short_name(op: &str) -> &str {
    op.rsplit("::").next().unwrap_or(op)
}

/// Convolution kernels: the op under `aten::_convolution` that computes. `aten::thnn_conv2d` is
/// not one: in libtorch 2.x it only wraps `aten::_slow_conv2d_forward`, which computes.
#[must_use]
pub fn is_conv_kernel(op: &str) -> bool {
    let base = short_name(op);
    matches!(
        base,
        "mkldnn_convolution"
            | "_slow_conv2d_forward"
            | "_conv_depthwise2d"
            | "_nnpack_spatial_convolution"
            | "slow_conv_dilated2d"
            | "slow_conv3d_forward"
            | "cudnn_convolution"
            | "miopen_convolution"
            | "_mps_convolution"
    ) || base.starts_with("mkldnn_convolution")
}

/// Matrix-multiply kernels: what `aten::linear` (and `aten::matmul`) run (`aten::addmm` for a
/// linear layer with a bias). `aten::linear` and `aten::matmul` themselves only dispatch.
#[must_use]
pub fn is_linear_kernel(op: &str) -> bool {
    matches!(
        short_name(op),
        "addmm" | "_addmm_activation" | "mm" | "bmm" | "baddbmm" | "addbmm" | "addmv" | "mv" | "dot" | "mkldnn_linear"
    )
}

/// The kernels whose time the roofline compares with the MACs' floor: convolution and
/// matrix-multiply kernels (see [`crate::core::analysis::roofline`]).
#[must_use]
pub fn is_kernel(op: &str) -> bool {
    is_conv_kernel(op) || is_linear_kernel(op)
}

/// A kernel's name as every view shows it, screen, CSV and report alike: the op's name without
/// its namespace (`_slow_conv2d_forward`). The one name by which a kernel is known.
#[must_use]
pub fn kernel_name(op: &str) -> &str {
    short_name(op)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_category_has_its_own_label_key_and_short_name() {
        for pick in [|n: CategoryNames| n.label, |n: CategoryNames| n.key, |n: CategoryNames| n.short] {
            let mut names: Vec<&str> = Category::ALL.iter().map(|c| pick(c.names())).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), Category::ALL.len(), "two categories share a name: {names:?}");
        }
        // The key is a CSV column suffix: lower case, no separators.
        assert!(Category::ALL.iter().all(|c| c.key().chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())));
    }

    #[test]
    fn categories_of_the_ops_a_conv_net_emits() {
        for (op, cat) in [
            ("aten::conv2d", Category::Conv2d),
            ("aten::_slow_conv2d_forward", Category::Conv2d),
            ("aten::native_batch_norm", Category::BatchNorm),
            ("aten::relu_", Category::Relu),
            ("aten::hardtanh_", Category::Relu),
            ("aten::cat", Category::Concat),
            ("aten::add", Category::Add),
            ("aten::max_pool2d", Category::Pool),
            ("aten::adaptive_avg_pool2d", Category::Pool),
            ("aten::linear", Category::Linear),
            ("aten::empty", Category::Bookkeeping),
            ("aten::channel_shuffle", Category::Bookkeeping),
            ("aten::sigmoid", Category::Other),
        ] {
            assert_eq!(categorize(op), cat, "{op}");
        }
        assert!(is_conv_kernel("aten::mkldnn_convolution"));
        assert!(!is_conv_kernel("aten::_convolution"));
    }

    #[test]
    fn kernels_are_the_ops_that_compute_and_go_by_one_name() {
        for op in ["aten::_slow_conv2d_forward", "aten::mkldnn_convolution", "aten::addmm", "aten::mm", "aten::bmm"] {
            assert!(is_kernel(op), "{op}");
        }
        // Wrappers and dispatchers call a kernel; a check computes nothing.
        for op in ["aten::thnn_conv2d", "aten::_convolution", "aten::conv2d", "aten::linear", "aten::matmul"] {
            assert!(!is_kernel(op), "{op}");
        }
        assert!(!is_kernel("aten::_nnpack_available"));
        assert_eq!(categorize("aten::_nnpack_available"), Category::Bookkeeping);
        assert_eq!(kernel_name("aten::_slow_conv2d_forward"), "_slow_conv2d_forward");
        assert_eq!(kernel_name("mkldnn_convolution"), "mkldnn_convolution");
    }
}
