//! Where a model's data is when each of its ops runs, worked out from the sizes its calibration
//! pass recorded and the machine's caches, as the shares `forest::CacheContext` holds.
//!
//! Two questions, both about reuse distance (the bytes a net reads and writes between two uses
//! of the same data) against a cache's size, on a log scale: 0 at 0.7 times the cache, 1 at
//! 1.4 times.
//! - The private caches: an op's output and scratch buffers are recycled from tensors freed an
//!   op or two before, and its code and parameters were last used an inference ago; between
//!   them run the ops just before it. So an op whose bytes and its [`NEIGHBOURS`] predecessors'
//!   fit in the level-2 caches finds its own there (as in `MobileNet` at 32x32 here), and one
//!   whose neighbourhood does not finds them swept (`ResNet-50`'s wide layers).
//! - The last-level cache, for weights: a net reads each weight once per inference in the same
//!   order, so a cache that cannot hold all it streams keeps little of them.
//!
//! Measured on this project's VM with exact shapes (a throwaway harness, docs/predict.md):
//! `MobileNet`'s 27 convolutions took 2.10-2.52 ms in the net and 2.45-2.59 ms timed swept with
//! weights in cache; `ResNet-50`'s 53 took 20.2-23.2 ms in the net and 19.9-21.7 ms swept with
//! weights from memory.

use crate::core::profiling::optree::OpTree;
use crate::core::profiling::profiler::{NodeId, OpShapes};

/// Ops before an op whose bytes count towards its neighbourhood.
pub const NEIGHBOURS: usize = 3;

/// A reuse distance's share past a cache: 0 up to 0.7 times its size, 1 from 1.4 times, log-linear
/// between. No cache known: 1 (the state calibration's main figure is timed in).
fn share_past(bytes: f64, cache: Option<u64>) -> f64 {
    match cache {
        Some(cache) if cache > 0 => ((bytes.max(1.0) / cache as f64).log2() + 0.5).clamp(0.0, 1.0),
        _ => 1.0,
    }
}

/// How far an op's private caches are swept when it and the ops just before it move
/// `neighbourhood_bytes`, on a machine with `l2_bytes` of level-2 caches.
#[must_use]
pub fn swept_share(neighbourhood_bytes: f64, l2_bytes: Option<u64>) -> f64 {
    share_past(neighbourhood_bytes, l2_bytes)
}

/// The share of a model's weights read from memory, given the bytes it streams per inference and
/// the last-level cache: none when they fit in well under the cache, all when they are well
/// over it, and between on a log scale (0 at 0.7 times the cache, 1 at 1.4 times). A model
/// reads its weights in the same order every inference, so a cache that cannot hold them all
/// keeps little of them (each is evicted before its next use). What it streams counts each
/// convolution's weights twice: oneDNN reorders them into a new buffer on every call (our
/// reading of libtorch's eager convolution, which does not keep the reordered copy). No cache
/// known: all from memory.
#[must_use]
pub fn from_memory_share(streamed_bytes: f64, cache_bytes: Option<u64>) -> f64 {
    share_past(streamed_bytes, cache_bytes)
}

/// Bytes of weights one call reads (a convolution's from its geometry, a linear layer's from its
/// input and output), and whether they are a convolution's; `None` for other ops.
fn call_weight_bytes(name: &str, shapes: &OpShapes) -> Option<(f64, bool)> {
    if let Some(g) = &shapes.conv {
        return Some((4.0 * g.weight.iter().map(|d| *d as f64).product::<f64>(), true));
    }
    if name == "aten::linear" {
        let (c_in, c_out) = (*shapes.input.as_ref()?.last()?, *shapes.output.as_ref()?.last()?);
        return Some((4.0 * c_in as f64 * c_out as f64, false));
    }
    None
}

/// The model's weight bytes per inference and the bytes it streams for them (see
/// [`from_memory_share`]), over the top-level ops under `root`.
pub fn weights_of(tree: &OpTree, root: NodeId) -> (f64, f64) {
    let (mut weights, mut streamed) = (0.0, 0.0);
    for id in tree.descendants(root) {
        let Some(node) = tree.get(id).filter(|n| n.is_top_level_op() && n.calib_calls > 0) else { continue };
        if node.call_shapes.is_empty() {
            continue;
        }
        // Calls past the shapes kept weigh as the mean of those kept.
        let scale = (node.calib_calls as f64 / node.call_shapes.len() as f64).max(1.0);
        for (call, shapes) in node.call_shapes.iter().enumerate() {
            if let Some((bytes, conv)) = call_weight_bytes(&node.name, &op_shapes(tree, id, call, shapes)) {
                weights += scale * bytes;
                streamed += scale * bytes * if conv { 2.0 } else { 1.0 };
            }
        }
    }
    (weights, streamed)
}

/// Bytes one call moves: its input and output, and its weights as [`weights_of`] counts them.
#[must_use]
pub fn call_bytes(name: &str, shapes: &OpShapes) -> f64 {
    let numel = |s: &Option<Vec<i64>>| s.as_ref().map_or(0.0, |s| s.iter().map(|d| *d as f64).product::<f64>());
    let weights = call_weight_bytes(name, shapes).map_or(0.0, |(bytes, conv)| bytes * if conv { 2.0 } else { 1.0 });
    4.0 * (numel(&shapes.input) + numel(&shapes.output)) + weights
}

/// Call `call` of a top-level op's shapes, with a convolution's geometry taken from the op below
/// it (its same call) when the op itself did not record one.
pub fn op_shapes(tree: &OpTree, id: NodeId, call: usize, shapes: &OpShapes) -> OpShapes {
    let mut shapes = shapes.clone();
    if shapes.conv.is_none() && tree.get(id).is_some_and(|n| n.name.contains("conv")) {
        shapes.conv = tree.descendants(id).into_iter().find_map(|d| {
            let below = tree.get(d)?;
            below.call_shapes.get(call).or(below.shapes())?.conv.clone()
        });
    }
    shapes
}

#[cfg(test)]
#[allow(clippy::float_cmp, reason = "the shares clamp to exactly 0 and 1, and the byte counts are whole numbers")]
mod tests {
    use super::*;
    use crate::core::profiling::profiler::ConvGeometry;

    #[test]
    fn a_reuse_distance_is_past_a_cache_on_a_log_scale_between_0_7_and_1_4_times_it() {
        let cache = Some(64 << 20);
        let mib = f64::from(1 << 20);
        assert_eq!(share_past(32.0 * mib, cache), 0.0);
        assert_eq!(share_past(45.0 * mib, cache), 0.0);
        assert!((share_past(64.0 * mib, cache) - 0.5).abs() < 1e-12);
        assert_eq!(share_past(91.0 * mib, cache), 1.0);
        assert_eq!(share_past(32.0 * mib, None), 1.0, "no cache known: the cold state");
        assert_eq!(share_past(32.0 * mib, Some(0)), 1.0);
    }

    #[test]
    fn a_convolution_moves_its_input_output_and_twice_its_weights_a_linear_layer_once() {
        let conv = OpShapes {
            input: Some(vec![1, 16, 8, 8]),
            output: Some(vec![1, 32, 8, 8]),
            conv: Some(ConvGeometry {
                weight: vec![32, 16, 3, 3],
                stride: vec![1, 1],
                padding: vec![1, 1],
                dilation: vec![1, 1],
                groups: 1,
            }),
        };
        assert_eq!(call_bytes("aten::conv2d", &conv), 4.0 * (1024.0 + 2048.0) + 2.0 * 4.0 * 4608.0);
        let linear = OpShapes { input: Some(vec![1, 512]), output: Some(vec![1, 100]), conv: None };
        assert_eq!(call_bytes("aten::linear", &linear), 4.0 * (512.0 + 100.0) + 4.0 * 51_200.0);
        let relu = OpShapes { input: Some(vec![1, 16, 8, 8]), output: Some(vec![1, 16, 8, 8]), conv: None };
        assert_eq!(call_bytes("aten::relu_", &relu), 4.0 * 2048.0);
    }
}
