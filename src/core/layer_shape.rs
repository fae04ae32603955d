//! The shapes of each layer, read off the ops that ran in it: the input of its first top-level
//! op, the output of its last, and for a layer whose own op is a convolution that op's geometry
//! (kernel, stride, padding, dilation, groups). From the calibration pass's shapes in the op
//! tree, so `TorchScript` models with module scopes get them as the built-ins do.

use std::collections::HashMap;
use std::sync::Arc;

use crate::core::ops::Category;
use crate::core::optree::OpTree;
use crate::core::profiler::{ConvGeometry, NodeId, Shape};
use crate::core::state::ModelState;

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
        let shapes = node.shapes.as_deref();
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
    let own = tree.get(op).and_then(|n| n.shapes.as_ref()).and_then(|s| s.conv.clone());
    own.or_else(|| tree.descendants(op).into_iter().find_map(|id| tree.get(id)?.shapes.as_ref()?.conv.clone()))
}
