//! The shapes of each layer, read off the ops that ran in it: the input of its first top-level
//! op, the output of its last, and for a layer whose own op is a convolution that op's geometry
//! (kernel, stride, padding, dilation, groups). From the calibration pass's shapes in the op
//! tree, so `TorchScript` models with module scopes get them as the built-ins do.

use std::collections::HashMap;
use std::sync::Arc;

use crate::core::profiling::ops::Category;
use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::{ConvGeometry, NodeId, Shape};
use crate::core::state::monitor::ModelState;

/// A layer's shapes and, for a convolution, its geometry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerShape {
    pub input: Option<Shape>,
    pub output: Option<Shape>,
    /// The geometry of the convolution run directly in the layer (not in a nested layer).
    pub conv: Option<ConvGeometry>,
}

/// Every layer of `model` by name, once it has been calibrated.
#[must_use]
pub fn layer_shapes(tree: &OpTree, model: &ModelState) -> HashMap<Arc<str>, LayerShape> {
    let Some(root) = model.scope else { return HashMap::new() };
    let mut out: HashMap<Arc<str>, LayerShape> = HashMap::new();
    // In id order: the order in which ops first ran, so the last one seen is the last to run.
    for id in tree.descendants(root) {
        let Some(node) = tree.get(id).filter(|n| n.is_top_level_op()) else { continue };
        let shapes = node.shapes();
        let mut scope = node.scope.filter(|s| *s != root);
        let mut innermost = true;
        while let Some(layer) = scope.and_then(|s| tree.get(s)) {
            let entry = out.entry(Arc::clone(&layer.name)).or_default();
            if let Some(s) = shapes {
                if entry.input.is_none() {
                    entry.input.clone_from(&s.input);
                }
                if s.output.is_some() {
                    entry.output.clone_from(&s.output);
                }
            }
            if innermost && entry.conv.is_none() && node.category == Category::Conv2d {
                entry.conv = conv_geometry(tree, id);
            }
            innermost = false;
            scope = layer.scope.filter(|s| *s != root);
        }
    }
    out
}

/// The geometry of a top-level convolution op: its own (`aten::conv2d`) or, when it was not
/// read there, the first op below it that has one (`aten::_convolution`).
fn conv_geometry(tree: &OpTree, op: NodeId) -> Option<ConvGeometry> {
    let own = tree.get(op).and_then(|n| n.shapes()).and_then(|s| s.conv.clone());
    own.or_else(|| tree.descendants(op).into_iter().find_map(|id| tree.get(id)?.shapes()?.conv.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::profiling::profiler::{NodeInfo, NodeKind, OpShapes};
    use crate::core::run::event::Event;
    use crate::core::state::monitor::MonitorState;

    fn node(id: NodeId, parent: NodeId, kind: NodeKind, name: &str, shapes: Option<OpShapes>) -> NodeInfo {
        NodeInfo {
            id,
            parent: Some(parent),
            kind,
            name: name.into(),
            calib_calls: 1,
            macs: 0.0,
            bytes: 0.0,
            call_shapes: shapes.into_iter().collect(),
        }
    }

    fn io(input: &[i64], output: &[i64], conv: Option<ConvGeometry>) -> OpShapes {
        OpShapes { input: Some(input.to_vec()), output: Some(output.to_vec()), conv }
    }

    #[test]
    fn a_block_spans_its_first_input_to_its_last_output_and_only_a_conv_layer_has_a_geometry() {
        let geometry = ConvGeometry { weight: vec![8, 3, 3, 3], stride: vec![2, 2], groups: 1, ..Default::default() };
        let mut state = MonitorState::new(&["m"]);
        let model = NodeInfo { parent: None, ..node(0, 0, NodeKind::Scope, "model:m", None) };
        state.apply(Event::Nodes(vec![
            model,
            node(1, 0, NodeKind::Scope, "block", None),
            node(2, 1, NodeKind::Scope, "block.conv", None),
            // The top-level convolution did not have its geometry read; the op below it did.
            node(3, 2, NodeKind::Op, "aten::conv2d", Some(io(&[1, 3, 8, 8], &[1, 8, 4, 4], None))),
            node(
                4,
                3,
                NodeKind::Op,
                "aten::_convolution",
                Some(io(&[1, 3, 8, 8], &[1, 8, 4, 4], Some(geometry.clone()))),
            ),
            node(5, 1, NodeKind::Scope, "block.act", None),
            node(6, 5, NodeKind::Op, "aten::relu", Some(io(&[1, 8, 4, 4], &[1, 8, 4, 4], None))),
            node(7, 1, NodeKind::Op, "aten::flatten", Some(io(&[1, 8, 4, 4], &[1, 128], None))),
        ]));
        state.apply(Event::ModelScope { model: 0, scope: 0 });
        let shapes = layer_shapes(&state.tree, &state.models[0]);
        let conv = &shapes[&Arc::<str>::from("block.conv")];
        assert_eq!((conv.input.as_deref(), conv.output.as_deref()), (Some(&[1, 3, 8, 8][..]), Some(&[1, 8, 4, 4][..])));
        assert_eq!(conv.conv.as_ref(), Some(&geometry));
        let block = &shapes[&Arc::<str>::from("block")];
        assert_eq!((block.input.as_deref(), block.output.as_deref()), (Some(&[1, 3, 8, 8][..]), Some(&[1, 128][..])));
        assert_eq!(block.conv, None, "the convolution belongs to block.conv");
        assert_eq!(shapes[&Arc::<str>::from("block.act")].conv, None);
        assert!(!shapes.contains_key(&Arc::<str>::from("model:m")), "the model's own scope is no layer");
    }
}
