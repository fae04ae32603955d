//! One line per model saying where its time beyond the MACs goes: the op kinds outside the
//! convolutions that take a real share, the convolution kernel that runs furthest below the
//! machine's peak with its own rate (its MACs over its own time: the *kernel* GMAC/s, above the
//! model's MACs over its whole latency), and the roofline's time beyond the floors in its two
//! parts, inside the kernels (below peak) and outside them.

use crate::core::analysis::model_profile::conv_breakdown;
use crate::core::analysis::summary::ModelSummary;
use crate::core::profiling::ops::{is_conv_kernel, kernel_name, Category};
use crate::core::profiling::optree::OpTree;

/// A category outside the convolutions is named from this share of the op time.
const NAMED_SHARE: f64 = 0.05;
/// A kernel is considered from this share of the convolutions' kernel time.
const KERNEL_SHARE: f64 = 0.10;

/// The line for `model` (`None` before its ops are timed), e.g. `BN+ReLU 26%,
/// _slow_conv2d_forward 28% of conv at 420 kernel MMAC/s (1% of peak), 30% kernel below peak,
/// 14% outside kernels`. The
/// kernel goes by its one name ([`kernel_name`]), as in Detail, `layers.csv` and the report.
#[must_use]
pub fn beyond_macs_line(tree: &OpTree, summary: &ModelSummary) -> Option<String> {
    let (model, profile, limits) = (summary.model, &summary.profile, summary.limits.as_ref());
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
        let names: Vec<&str> = outside.iter().map(|(c, _)| c.short()).collect();
        let share: f64 = outside.iter().map(|(_, s)| s).sum();
        parts.push(format!("{} {:.0}%", names.join("+"), share * 100.0));
    }
    let kernels: Vec<_> = conv_breakdown(tree, model).into_iter().filter(|r| is_conv_kernel(&r.op)).collect();
    let kernel_ms: f64 = kernels.iter().map(|r| r.total_ms).sum();
    if let Some(slowest) = kernels
        .iter()
        .filter(|r| r.macs > 0.0 && r.total_ms >= KERNEL_SHARE * kernel_ms)
        .min_by(|a, b| a.gmacs_per_s().total_cmp(&b.gmacs_per_s()))
    {
        // Its share of the convolutions' kernel time says whether it matters; its share of the
        // peak how far below the machine it runs.
        let share = 100.0 * slowest.total_ms / kernel_ms;
        let peak = limits
            .map(|l| format!(" ({:.0}% of peak)", 100.0 * slowest.gmacs_per_s() / l.peak_gmacs))
            .unwrap_or_default();
        parts.push(format!(
            "{} {share:.0}% of conv at {}{peak}",
            kernel_name(&slowest.op),
            rate(slowest.gmacs_per_s())
        ));
    }
    if let Some(split) = summary.roofline() {
        let [_, _, below_peak, outside] = split.model.shares();
        parts.push(format!("{:.0}% kernel below peak", below_peak * 100.0));
        parts.push(format!("{:.0}% outside kernels", outside * 100.0));
    }
    Some(parts.join(", "))
}

/// A kernel's rate, labelled as the kernel's, with the prefix that keeps it readable (never
/// `0.0`).
fn rate(gmacs: f64) -> String {
    if gmacs >= 1.0 {
        format!("{gmacs:.1} kernel GMAC/s")
    } else {
        format!("{:.0} kernel MMAC/s", gmacs * 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_rates_say_they_are_the_kernels() {
        assert_eq!(rate(0.42), "420 kernel MMAC/s");
        assert_eq!(rate(12.34), "12.3 kernel GMAC/s");
    }
}
