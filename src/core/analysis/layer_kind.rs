//! What each layer is, read off the ops that ran in it: its kind (the category of the op that
//! took most of its time: a `Conv2D` layer, a `BatchNorm` layer; `block` for a layer with layers
//! inside) and, for convolutions, which kernel path ran (oneDNN, the slow path, depthwise).
//! Taken from the op tree, so scripted models with scopes get it as the built-ins do.

use std::collections::HashMap;
use std::sync::Arc;

use crate::core::analysis::model_profile::{conv_kernels, top_level_ops};
use crate::core::profiling::ops::Category;
use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::NodeKind;
use crate::core::state::monitor::ModelState;

/// A layer's kind and kernel paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerKind {
    /// `Conv2D`, `BatchNorm`, `ReLU`, ... or `block`.
    pub kind: &'static str,
    /// The convolution kernels that ran directly in it (`mkldnn_convolution`), `+`-joined.
    pub kernels: Option<String>,
}

/// Every layer of `model` by name, once it has been profiled.
#[must_use]
pub fn layer_kinds(tree: &OpTree, model: &ModelState) -> HashMap<Arc<str>, LayerKind> {
    let Some(root) = model.scope else { return HashMap::new() };
    let kernels = conv_kernels(tree, model);
    let mut time: HashMap<Arc<str>, HashMap<Category, f64>> = HashMap::new();
    let mut paths: HashMap<Arc<str>, Vec<String>> = HashMap::new();
    for op in top_level_ops(tree, model) {
        let Some(node) = tree.get(op.id) else { continue };
        let Some(layer) = node.scope.filter(|s| *s != root).and_then(|s| tree.get(s)) else { continue };
        *time.entry(Arc::clone(&layer.name)).or_default().entry(node.category).or_default() += op.ms;
        if let Some(kernel) = kernels.get(&op.id) {
            let name = tree.name_of(*kernel);
            let short = name.rsplit("::").next().unwrap_or(name).to_string();
            let list = paths.entry(Arc::clone(&layer.name)).or_default();
            if !list.contains(&short) {
                list.push(short);
            }
        }
    }
    let mut out = HashMap::new();
    for id in tree.descendants(root) {
        let Some(node) = tree.get(id).filter(|n| n.kind == NodeKind::Scope) else { continue };
        let nested = node.scope.filter(|s| *s != root).and_then(|s| tree.get(s)).map(|p| Arc::clone(&p.name));
        if let Some(parent) = nested {
            out.insert(parent, LayerKind { kind: "block", kernels: None });
        }
    }
    for (layer, by_category) in time {
        if out.get(&layer).is_some_and(|k: &LayerKind| k.kind == "block") {
            continue;
        }
        let kind = by_category.into_iter().max_by(|a, b| a.1.total_cmp(&b.1)).map_or("?", |(c, _)| c.label());
        let kernels = paths.remove(&layer).map(|k| k.join("+"));
        out.insert(layer, LayerKind { kind, kernels });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::profiling::profiler::{NodeId, NodeInfo, NodeTiming};
    use crate::core::run::event::{Event, Inference};
    use crate::core::state::monitor::MonitorState;

    #[test]
    fn a_slow_path_convolution_names_the_kernel_that_computed_not_its_wrapper() {
        let node = |id: NodeId, parent: Option<NodeId>, kind, name: &str| NodeInfo {
            id,
            parent,
            kind,
            name: name.into(),
            calib_calls: 1,
            macs: 0.0,
            bytes: 0.0,
            call_shapes: Arc::default(),
        };
        let chain = ["aten::conv2d", "aten::_convolution", "aten::thnn_conv2d", "aten::_slow_conv2d_forward"];
        let mut nodes = vec![node(0, None, NodeKind::Scope, "model:m"), node(1, Some(0), NodeKind::Scope, "stem.conv")];
        nodes.extend((0..4).map(|i| node(i + 2, Some(i + 1), NodeKind::Op, chain[i as usize])));
        let mut state = MonitorState::new(&["m"]);
        state.apply(Event::Nodes(nodes));
        state.apply(Event::ModelScope { model: 0, scope: 0 });
        // The wrapper's total holds the kernel's: it took longer, yet computed nothing itself.
        let ops = (0..6)
            .map(|id| NodeTiming { node: id, calls: 1, total_ns: 1000 - 100 * u64::from(id), self_ns: 100 })
            .collect();
        let inference =
            Inference { model: 0, seq: 0, wall_ns: 1000, at_ns: 0, profiled: true, cold: false, usage: None, ops };
        state.apply(Event::Inference(inference));
        let kinds = layer_kinds(&state.tree, &state.models[0]);
        let stem = &kinds[&Arc::<str>::from("stem.conv")];
        assert_eq!((stem.kind, stem.kernels.as_deref()), ("Conv2D", Some("_slow_conv2d_forward")));
    }
}
