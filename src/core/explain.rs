//! One line per model saying where its time beyond the MACs goes: the op kinds outside the
//! convolutions that take a real share, the convolution kernel that runs furthest below the
//! machine's peak, and how much of the op time no floor of the roofline explains.

use crate::core::analysis::{conv_breakdown, model_profile};
use crate::core::ops::{is_conv_kernel, Category};
use crate::core::optree::OpTree;
use crate::core::roofline::{roofline, Limits};
use crate::core::state::ModelState;

/// A category outside the convolutions is named from this share of the op time.
const NAMED_SHARE: f64 = 0.05;
/// A kernel is considered from this share of the convolutions' kernel time.
const KERNEL_SHARE: f64 = 0.10;

/// Short names of the op categories for the line.
fn short(category: Category) -> &'static str {
    match category {
        Category::Conv2d => "conv",
        Category::BatchNorm => "BN",
        Category::Relu => "ReLU",
        Category::Concat => "concat",
        Category::Add => "add",
        Category::Pool => "pool",
        Category::Linear => "linear",
        Category::Bookkeeping => "bookkeeping",
        Category::Other => "other",
    }
}

/// What a convolution kernel is called for people: `aten::_slow_conv2d_forward` is the slow
/// path, `aten::mkldnn_convolution` oneDNN.
#[must_use]
pub fn kernel_label(op: &str) -> String {
    let base = op.rsplit("::").next().unwrap_or(op);
    match base {
        "_slow_conv2d_forward" | "thnn_conv2d" => "slow-path conv".into(),
        "_conv_depthwise2d" => "depthwise conv".into(),
        "_nnpack_spatial_convolution" => "NNPACK conv".into(),
        "slow_conv_dilated2d" => "dilated conv".into(),
        b if b.starts_with("mkldnn_convolution") => "oneDNN conv".into(),
        b => format!("{b} conv"),
    }
}

/// The line for `model` (`None` before its ops are timed), e.g.
/// `BN+ReLU 26 %, slow-path conv at 0.4 GMAC/s, 40 % overhead`.
#[must_use]
pub fn beyond_macs_line(tree: &OpTree, model: &ModelState, limits: Option<&Limits>) -> Option<String> {
    let profile = model_profile(tree, model);
    if profile.inferences == 0 || profile.op_ms <= 0.0 {
        return None;
    }
    let mut parts = Vec::new();
    let mut outside: Vec<(Category, f64)> = profile
        .categories
        .iter()
        .filter_map(|c| c.category.map(|cat| (cat, c.ms / profile.op_ms)))
        .filter(|(cat, share)| *cat != Category::Conv2d && *share >= NAMED_SHARE)
        .collect();
    outside.sort_by(|a, b| b.1.total_cmp(&a.1));
    outside.truncate(2);
    if !outside.is_empty() {
        let names: Vec<&str> = outside.iter().map(|(c, _)| short(*c)).collect();
        let share: f64 = outside.iter().map(|(_, s)| s).sum();
        parts.push(format!("{} {:.0} %", names.join("+"), share * 100.0));
    }
    let kernels: Vec<_> = conv_breakdown(tree, model).into_iter().filter(|r| is_conv_kernel(&r.op)).collect();
    let kernel_ms: f64 = kernels.iter().map(|r| r.total_ms).sum();
    if let Some(slowest) = kernels
        .iter()
        .filter(|r| r.macs > 0.0 && r.total_ms >= KERNEL_SHARE * kernel_ms)
        .min_by(|a, b| a.gmacs_per_s().total_cmp(&b.gmacs_per_s()))
    {
        parts.push(format!("{} at {}", kernel_label(&slowest.op), rate(slowest.gmacs_per_s())));
    }
    if let Some(limits) = limits {
        let split = roofline(tree, model, limits).model;
        parts.push(format!("{:.0} % overhead", split.shares()[2] * 100.0));
    }
    Some(parts.join(", "))
}

/// A rate with the prefix that keeps it readable (never `0.0`).
fn rate(gmacs: f64) -> String {
    if gmacs >= 1.0 {
        format!("{gmacs:.1} GMAC/s")
    } else {
        format!("{:.0} MMAC/s", gmacs * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_and_rates_read_as_people_say_them() {
        assert_eq!(kernel_label("aten::_slow_conv2d_forward"), "slow-path conv");
        assert_eq!(kernel_label("aten::mkldnn_convolution"), "oneDNN conv");
        assert_eq!(rate(0.42), "420 MMAC/s");
        assert_eq!(rate(12.34), "12.3 GMAC/s");
    }
}
