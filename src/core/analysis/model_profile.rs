//! Derived views of a model's op tree: MACs, category shares, the op table, what convolutions
//! spend inside, and layers. Pure functions of the state, shared by the TUI and the export.

use std::collections::HashMap;
use std::sync::Arc;

use crate::core::profiling::ops::{is_conv_kernel, Category};
use crate::core::profiling::optree::{Node, NodeTotals, OpTree};
use crate::core::profiling::profiler::{NodeId, NodeKind};
use crate::core::state::monitor::ModelState;

/// Time and work of one category (per inference).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CategoryShare {
    pub category: Option<Category>,
    pub ms: f64,
    pub macs: f64,
}

/// One row of the op table (per inference averages).
#[derive(Clone, Debug, PartialEq)]
pub struct OpRow {
    pub op: Arc<str>,
    /// The op it ran under (`None` for top-level ops); only set when grouping by parent.
    pub parent_op: Option<Arc<str>>,
    pub category: Category,
    pub calls: f64,
    pub self_ms: f64,
    pub total_ms: f64,
    pub macs: f64,
    pub bytes: f64,
}

impl OpRow {
    /// A row for `node`'s op with nothing counted yet.
    fn empty(node: &Node, parent_op: Option<Arc<str>>) -> Self {
        Self {
            op: Arc::clone(&node.name),
            parent_op,
            category: node.category,
            calls: 0.0,
            self_ms: 0.0,
            total_ms: 0.0,
            macs: 0.0,
            bytes: 0.0,
        }
    }

    /// Adds a node's calls and self time, per inference over `inferences`.
    fn add_calls_and_self(&mut self, totals: NodeTotals, inferences: u64) {
        if inferences > 0 {
            self.calls += totals.calls as f64 / inferences as f64;
        }
        self.self_ms += per_inference(totals.self_ns, inferences);
    }

    /// Achieved GMAC/s (0 for ops that do no MACs).
    #[must_use]
    pub fn gmacs_per_s(&self) -> f64 {
        rate(self.macs, self.total_ms)
    }
}

/// One layer (a scope named by its `VarStore` path).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerRow {
    pub layer: Arc<str>,
    /// True when no other layer is nested inside.
    pub leaf: bool,
    pub ms: f64,
    pub macs: f64,
    pub bytes: f64,
}

/// Everything derived from one model's subtree, per inference.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelProfile {
    /// Profiled inferences behind the averages.
    pub inferences: u64,
    /// Sum of the top-level ops' total time: what the categories add up to.
    pub op_ms: f64,
    pub macs: f64,
    pub bytes: f64,
    /// Calls of top-level ops.
    pub top_level_calls: f64,
    pub categories: Vec<CategoryShare>,
}

impl ModelProfile {
    /// `category`'s share of the op time: Detail's category bar, and for `Conv2D` what the
    /// Models view's share outside convolutions is one minus. `None` before any op time.
    #[must_use]
    pub fn time_share(&self, category: Category) -> Option<f64> {
        if self.inferences == 0 || self.op_ms <= 0.0 {
            return None;
        }
        let ms: f64 = self.categories.iter().filter(|c| c.category == Some(category)).map(|c| c.ms).sum();
        Some(ms / self.op_ms)
    }
}

/// Mean wall time of the profiled inferences: what the op times of [`model_profile`] add up to
/// at most. `None` before the first.
#[must_use]
pub fn profiled_latency_ms(model: &ModelState) -> Option<f64> {
    (model.profiled > 0).then(|| per_inference(model.profiled_wall_ns, model.profiled))
}

/// GMAC/s from MACs and milliseconds.
#[must_use]
pub fn rate(macs: f64, ms: f64) -> f64 {
    if ms > 0.0 {
        macs / (ms * 1e6)
    } else {
        0.0
    }
}

fn per_inference(ns: u64, inferences: u64) -> f64 {
    if inferences == 0 {
        0.0
    } else {
        ns as f64 / 1e6 / inferences as f64
    }
}

/// MACs, bytes and op-time shares of a model. MACs come from calibration, so they are known
/// before the first profiled inference.
#[must_use]
pub fn model_profile(tree: &OpTree, model: &ModelState) -> ModelProfile {
    let Some(root) = model.scope else { return ModelProfile::default() };
    let n = model.profiled;
    let mut by_cat: HashMap<Category, CategoryShare> = HashMap::new();
    let mut profile = ModelProfile { inferences: n, ..ModelProfile::default() };
    for id in tree.descendants(root) {
        let Some(node) = tree.get(id).filter(|n| n.is_top_level_op()) else { continue };
        let totals = tree.totals(id);
        let ms = per_inference(totals.total_ns, n);
        profile.op_ms += ms;
        profile.macs += node.macs;
        profile.bytes += node.bytes;
        profile.top_level_calls += if n == 0 { node.calib_calls as f64 } else { totals.calls as f64 / n as f64 };
        let share = by_cat
            .entry(node.category)
            .or_insert(CategoryShare { category: Some(node.category), ..Default::default() });
        share.ms += ms;
        share.macs += node.macs;
    }
    profile.categories = Category::ALL
        .iter()
        .map(|c| by_cat.get(c).copied().unwrap_or(CategoryShare { category: Some(*c), ..Default::default() }))
        .collect();
    profile
}

/// The op table, grouped by op name (and by the op it ran under when `by_parent`), sorted by
/// self time, largest first. Total time counts an op only where no op of the same name is
/// above it, so recursion does not double it.
#[must_use]
pub fn op_rows(tree: &OpTree, model: &ModelState, by_parent: bool) -> Vec<OpRow> {
    let Some(root) = model.scope else { return Vec::new() };
    let n = model.profiled;
    let mut rows: HashMap<(Arc<str>, Option<Arc<str>>), OpRow> = HashMap::new();
    for id in tree.descendants(root) {
        let Some(node) = tree.get(id).filter(|n| n.kind == NodeKind::Op) else { continue };
        let parent_op = node.parent_op.and_then(|p| tree.get(p)).map(|p| Arc::clone(&p.name));
        let key = (Arc::clone(&node.name), if by_parent { parent_op.clone() } else { None });
        let totals = tree.totals(id);
        let row = rows.entry(key).or_insert_with(|| OpRow::empty(node, if by_parent { parent_op } else { None }));
        row.add_calls_and_self(totals, n);
        if !has_op_ancestor_named(tree, id, &node.name) {
            row.total_ms += per_inference(totals.total_ns, n);
            row.macs += node.macs;
            row.bytes += node.bytes;
        }
    }
    let mut out: Vec<OpRow> = rows.into_values().collect();
    out.sort_by(|a, b| b.self_ms.total_cmp(&a.self_ms).then_with(|| a.op.cmp(&b.op)));
    out
}

fn has_op_ancestor_named(tree: &OpTree, id: NodeId, name: &str) -> bool {
    let mut cur = tree.get(id).and_then(|n| n.parent_op);
    while let Some(p) = cur {
        let Some(node) = tree.get(p) else { return false };
        if &*node.name == name {
            return true;
        }
        cur = node.parent_op;
    }
    false
}

/// What top-level convolutions spend inside: per descendant op name (kernels and
/// bookkeeping), self time, plus the convolution ops' own self time, sorted by time.
#[must_use]
pub fn conv_breakdown(tree: &OpTree, model: &ModelState) -> Vec<OpRow> {
    let Some(root) = model.scope else { return Vec::new() };
    let ids = tree.descendants(root);
    let max = ids.iter().copied().max().unwrap_or(0) as usize;
    let mut inside_conv = vec![false; max + 1];
    let mut rows = Vec::new();
    for &id in &ids {
        let Some(node) = tree.get(id) else { continue };
        let under = node.parent_op.is_some_and(|p| inside_conv.get(p as usize).copied().unwrap_or(false));
        let conv_top = node.is_top_level_op() && node.category == Category::Conv2d;
        if node.kind == NodeKind::Op && (under || conv_top) {
            inside_conv[id as usize] = true;
            rows.push(id);
        }
    }
    let n = model.profiled;
    let mut by_name: HashMap<Arc<str>, OpRow> = HashMap::new();
    for id in rows {
        let Some(node) = tree.get(id) else { continue };
        let totals = tree.totals(id);
        let row = by_name.entry(Arc::clone(&node.name)).or_insert_with(|| OpRow::empty(node, None));
        row.add_calls_and_self(totals, n);
        row.total_ms += per_inference(totals.total_ns, n);
        if is_conv_kernel(&node.name) {
            row.macs += node.macs;
        }
    }
    let mut out: Vec<OpRow> = by_name.into_values().collect();
    out.sort_by(|a, b| b.self_ms.total_cmp(&a.self_ms).then_with(|| a.op.cmp(&b.op)));
    out
}

/// Layers of a model (scopes below the model's own), with time and the MACs of the top-level
/// ops inside them, sorted by time.
#[must_use]
pub fn layer_rows(tree: &OpTree, model: &ModelState) -> Vec<LayerRow> {
    let Some(root) = model.scope else { return Vec::new() };
    let n = model.profiled;
    let ids = tree.descendants(root);
    let mut rows: HashMap<NodeId, LayerRow> = HashMap::new();
    for &id in &ids {
        let Some(node) = tree.get(id) else { continue };
        if node.kind == NodeKind::Scope {
            rows.insert(
                id,
                LayerRow {
                    layer: Arc::clone(&node.name),
                    leaf: true,
                    ms: per_inference(tree.totals(id).total_ns, n),
                    macs: 0.0,
                    bytes: 0.0,
                },
            );
        }
    }
    for &id in &ids {
        let Some(node) = tree.get(id) else { continue };
        let mut scope = node.scope;
        if node.kind == NodeKind::Scope {
            if let Some(parent) = scope.and_then(|s| rows.get_mut(&s)) {
                parent.leaf = false;
            }
            continue;
        }
        if !node.is_top_level_op() {
            continue;
        }
        while let Some(s) = scope.filter(|s| *s != root) {
            if let Some(row) = rows.get_mut(&s) {
                row.macs += node.macs;
                row.bytes += node.bytes;
            }
            scope = tree.get(s).and_then(|n| n.scope);
        }
    }
    let mut out: Vec<LayerRow> = rows.into_values().collect();
    out.sort_by(|a, b| b.ms.total_cmp(&a.ms).then_with(|| a.layer.cmp(&b.layer)));
    out
}

/// One top-level op node of a model with its time per profiled inference.
#[derive(Clone, Copy, Debug)]
pub struct TopOp {
    pub id: NodeId,
    pub ms: f64,
}

/// The top-level op nodes under a model's scope with their mean time per profiled inference
/// (empty before the first one).
#[must_use]
pub fn top_level_ops(tree: &OpTree, model: &ModelState) -> Vec<TopOp> {
    let (Some(root), n) = (model.scope, model.profiled) else { return Vec::new() };
    if n == 0 {
        return Vec::new();
    }
    tree.descendants(root)
        .into_iter()
        .filter(|id| tree.get(*id).is_some_and(Node::is_top_level_op))
        .map(|id| TopOp { id, ms: per_inference(tree.totals(id).total_ns, n) })
        .collect()
}

/// For each top-level op of the model that ran a convolution kernel, the kernel that took the
/// longest under it (`aten::mkldnn_convolution`, `aten::_slow_conv2d_forward`, ...). A kernel
/// called by the chosen one is what computed (`aten::thnn_conv2d` only wraps
/// `aten::_slow_conv2d_forward`), so it takes its caller's place.
#[must_use]
pub fn conv_kernels(tree: &OpTree, model: &ModelState) -> HashMap<NodeId, NodeId> {
    let Some(root) = model.scope else { return HashMap::new() };
    let mut best: HashMap<NodeId, (NodeId, u64)> = HashMap::new();
    for id in tree.descendants(root) {
        let Some(node) = tree.get(id).filter(|n| n.parent_op.is_some() && is_conv_kernel(&n.name)) else { continue };
        let mut top = node.parent_op;
        while let Some(parent) = top.and_then(|p| tree.get(p)).and_then(|p| p.parent_op) {
            top = Some(parent);
        }
        let Some(top) = top else { continue };
        let ns = tree.totals(id).total_ns;
        let slot = best.entry(top).or_insert((id, ns));
        // Ids run in tree order: a kernel's caller was seen before it.
        if ns > slot.1 || node.parent_op == Some(slot.0) {
            *slot = (id, ns);
        }
    }
    best.into_iter().map(|(top, (kernel, _))| (top, kernel)).collect()
}
