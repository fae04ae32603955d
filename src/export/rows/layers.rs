//! Rows of `layers.csv`: one per named scope of a model, with its time, MACs, shapes, kernel
//! and roofline split.

use serde::Serialize;

use super::{as_f64, profiled, split_columns};
use crate::core::analysis::layer_kinds;
use crate::core::analysis::layer_shapes;
use crate::core::analysis::model_roofline;
use crate::core::analysis::{layer_rows as model_layer_rows, model_profile, rate};
use crate::core::profiling::dims_text;
use crate::core::state::MonitorState;

/// One row of `layers.csv`: a named scope of a model, per inference.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LayerRecord<'a> {
    pub model: &'a str,
    /// The `VarStore` path, `features.3.conv`.
    pub layer: String,
    /// What ran in it: the category of the op that took most of its time (`Conv2D`,
    /// `BatchNorm`, ...), or `block` for a layer with layers inside.
    pub kind: Option<&'static str>,
    /// The convolution kernels that ran in it (`mkldnn_convolution`, `_slow_conv2d_forward`).
    pub kernel: Option<String>,
    /// Sizes joined by `x`, batch first (`1x64x8x8`): the first tensor input of the layer's
    /// first top-level op, and the first output of its last, from the calibration pass.
    pub input_shape: Option<String>,
    pub output_shape: Option<String>,
    /// Convolution layers only (empty otherwise): the kernel's spatial size (`3x3`), and the
    /// stride, padding and dilation arguments (`2x2`, `1x1`, `1x1`), and the groups (equal to
    /// the input channels for a depthwise convolution).
    pub kernel_size: Option<String>,
    pub stride: Option<String>,
    pub padding: Option<String>,
    pub dilation: Option<String>,
    pub groups: Option<i64>,
    /// True when no other layer is nested inside (leaf layers do not overlap).
    pub leaf: bool,
    pub ms: Option<f64>,
    /// What the kernel calibration predicts for the layer's ops (`core::limits::kernels`), beside `ms`;
    /// empty without a calibration.
    pub predicted_ms: Option<f64>,
    /// `ms` over the model's whole forward pass as the profiler saw it.
    pub time_share: Option<f64>,
    pub macs: f64,
    /// `macs` over the model's MACs.
    pub mac_share: Option<f64>,
    pub bytes: f64,
    /// MACs over `ms`.
    pub gmacs_per_s: Option<f64>,
    /// `time_share` over `mac_share`: above 1, the layer takes more time than its MACs' share.
    pub time_share_per_mac_share: Option<f64>,
    /// Roofline split of the time of the top-level ops inside the layer (part of `ms`), as in
    /// `models.csv`: the four add up to that time.
    pub compute_ms: Option<f64>,
    pub memory_ms: Option<f64>,
    pub below_peak_ms: Option<f64>,
    pub outside_kernels_ms: Option<f64>,
}

/// `layers.csv`: per model (in model order), its layers, longest first.
#[must_use]
pub fn layer_rows(state: &MonitorState) -> Vec<LayerRecord<'_>> {
    let mut out = Vec::new();
    for m in &state.models {
        let measured = profiled(m);
        let forward_ms =
            m.scope.map_or(0.0, |s| as_f64(state.tree.totals(s).total_ns) / 1e6 / as_f64(m.profiled.max(1)));
        let model_macs = model_profile(&state.tree, m).macs;
        let split = model_roofline(state, m);
        let mut kinds = layer_kinds(&state.tree, m);
        let mut shapes = layer_shapes(&state.tree, m);
        let predicted = m.prediction.as_deref();
        for r in model_layer_rows(&state.tree, m) {
            let kind = kinds.remove(&r.layer);
            let shape = shapes.remove(&r.layer).unwrap_or_default();
            let conv = shape.conv.as_ref();
            let listed = |v: &[i64]| (!v.is_empty()).then(|| dims_text(v));
            let time_share = (measured && forward_ms > 0.0).then(|| r.ms / forward_ms);
            let mac_share = (model_macs > 0.0).then(|| r.macs / model_macs);
            let [compute_ms, memory_ms, below_peak_ms, outside_kernels_ms] =
                split_columns(split.as_ref().map(|s| s.layers.get(&r.layer).copied().unwrap_or_default()));
            out.push(LayerRecord {
                model: &m.name,
                layer: r.layer.to_string(),
                kind: kind.as_ref().map(|k| k.kind),
                kernel: kind.and_then(|k| k.kernels),
                input_shape: shape.input.as_deref().map(dims_text),
                output_shape: shape.output.as_deref().map(dims_text),
                kernel_size: conv.and_then(|c| listed(c.kernel())),
                stride: conv.and_then(|c| listed(&c.stride)),
                padding: conv.and_then(|c| listed(&c.padding)),
                dilation: conv.and_then(|c| listed(&c.dilation)),
                groups: conv.map(|c| c.groups),
                leaf: r.leaf,
                ms: measured.then_some(r.ms),
                predicted_ms: predicted.as_ref().and_then(|p| p.layers.get(&r.layer).copied()),
                time_share,
                macs: r.macs,
                mac_share,
                bytes: r.bytes,
                gmacs_per_s: (measured && r.macs > 0.0).then(|| rate(r.macs, r.ms)),
                time_share_per_mac_share: time_share.zip(mac_share).filter(|(_, m)| *m > 0.0).map(|(t, m)| t / m),
                compute_ms,
                memory_ms,
                below_peak_ms,
                outside_kernels_ms,
            });
        }
    }
    out
}
