//! Where a model's time goes: time and MACs per category from the top-level ops of `ops.csv`,
//! and the convolution's kernels and their sub-operations.

use std::collections::{BTreeMap, BTreeSet};

use super::snapshot::{OpRecord, CATEGORIES};
use crate::core::profiling::{is_conv_kernel, kernel_name, short_name};

/// A model's time and MACs per category, per inference, in [`CATEGORIES`] order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CategorySplit {
    pub ms: [f64; 9],
    pub macs: [f64; 9],
}

impl CategorySplit {
    /// Each category's share of the time, of the MACs; `None` where the total is zero.
    #[must_use]
    pub fn shares(&self) -> (Option<[f64; 9]>, Option<[f64; 9]>) {
        (normalised(&self.ms), normalised(&self.macs))
    }
}

fn normalised(v: &[f64; 9]) -> Option<[f64; 9]> {
    let total: f64 = v.iter().sum();
    (total > 0.0).then(|| v.map(|x| x / total))
}

/// `model`'s split from its top-level ops (those without a parent, whose times add up to the
/// profiled op time); `None` when it has none.
#[must_use]
pub fn category_split(ops: &[OpRecord], model: &str) -> Option<CategorySplit> {
    let mut split = CategorySplit::default();
    let mut any = false;
    for op in ops.iter().filter(|o| o.model == model && o.parent_op.is_none()) {
        let i = CATEGORIES.iter().position(|c| *c == op.category).unwrap_or(CATEGORIES.len() - 1);
        split.ms[i] += op.total_ms.unwrap_or(0.0);
        split.macs[i] += op.macs;
        any = true;
    }
    any.then_some(split)
}

/// An op's time per inference inside the convolution.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvOp {
    pub op: String,
    pub calls: f64,
    pub ms: f64,
}

/// The convolution of one model: its kernels (by [`kernel_name`], the name the screen and
/// `layers.csv` give them) with their total time, and the sub-operations beneath them with their
/// own (self) time, longest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConvBreakdown {
    pub kernels: Vec<ConvOp>,
    pub sub_ops: Vec<ConvOp>,
}

/// `model`'s convolution breakdown; empty when it has no profiled convolution.
#[must_use]
pub fn conv_breakdown(ops: &[OpRecord], model: &str) -> ConvBreakdown {
    let rows: Vec<&OpRecord> = ops.iter().filter(|o| o.model == model).collect();
    // The kernels that computed: a kernel that called another only wrapped it.
    let wrappers: BTreeSet<&str> = rows
        .iter()
        .filter(|o| is_conv_kernel(&o.op))
        .filter_map(|o| o.parent_op.as_deref().filter(|p| is_conv_kernel(p)))
        .collect();
    let kernels: Vec<&OpRecord> =
        rows.iter().copied().filter(|o| is_conv_kernel(&o.op) && !wrappers.contains(o.op.as_str())).collect();
    // Everything below the kernels, found by walking parent names down from them.
    let mut inside: BTreeSet<&str> = kernels.iter().map(|o| o.op.as_str()).collect();
    let mut sub: BTreeMap<&str, ConvOp> = BTreeMap::new();
    for k in &kernels {
        let entry = sub.entry(&k.op).or_insert_with(|| ConvOp { op: kernel_name(&k.op).into(), calls: 0.0, ms: 0.0 });
        entry.calls += k.calls_per_inference.unwrap_or(0.0);
        entry.ms += k.self_ms.unwrap_or(0.0);
    }
    let mut frontier: Vec<&str> = inside.iter().copied().collect();
    while let Some(parent) = frontier.pop() {
        for row in rows.iter().filter(|o| o.parent_op.as_deref() == Some(parent)) {
            let entry =
                sub.entry(&row.op).or_insert_with(|| ConvOp { op: short_name(&row.op).into(), calls: 0.0, ms: 0.0 });
            entry.calls += row.calls_per_inference.unwrap_or(0.0);
            entry.ms += row.self_ms.unwrap_or(0.0);
            if inside.insert(&row.op) {
                frontier.push(&row.op);
            }
        }
    }
    let by_time = |v: &mut Vec<ConvOp>| v.sort_by(|a, b| b.ms.total_cmp(&a.ms).then_with(|| a.op.cmp(&b.op)));
    let mut by_name: BTreeMap<&str, ConvOp> = BTreeMap::new();
    for o in &kernels {
        let name = kernel_name(&o.op);
        let entry = by_name.entry(name).or_insert_with(|| ConvOp { op: name.to_string(), calls: 0.0, ms: 0.0 });
        entry.calls += o.calls_per_inference.unwrap_or(0.0);
        entry.ms += o.total_ms.unwrap_or(0.0);
    }
    let mut kernels: Vec<ConvOp> = by_name.into_values().collect();
    by_time(&mut kernels);
    let mut sub_ops: Vec<ConvOp> = sub.into_values().collect();
    by_time(&mut sub_ops);
    ConvBreakdown { kernels, sub_ops }
}
