//! What a predictor sees of an op: which predictor it belongs to (its kernel kind), a feature
//! vector, and the work (MACs, or elements) its time is divided by. Computed from the op's name
//! and [`OpShapes`] alone, so a calibration sample (described as the profiler would record it)
//! and an op of a real model go through the very same function.

use crate::core::profiling::profiler::{ConvGeometry, OpShapes};

use super::space::{out_side, Cheap, Config, Unary};

/// An op's kernel kind, features and work.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// The predictor: `conv`, `conv-depthwise`, `conv-grouped`, or the op name for the others.
    pub kind: String,
    pub values: Vec<f64>,
    /// MACs for convolutions and linear layers, elements for the rest (at least 1).
    pub work: f64,
}

fn ln(x: f64) -> f64 {
    x.max(1.0).ln()
}

fn numel(shape: &[i64]) -> f64 {
    shape.iter().map(|d| *d as f64).product::<f64>().max(1.0)
}

/// The features of op `name` given its shapes; `None` for an op no predictor covers (a cheap
/// op, an unknown op, or shapes missing).
#[must_use]
pub fn features(name: &str, shapes: &OpShapes) -> Option<Features> {
    let input = shapes.input.as_deref()?;
    let output = shapes.output.as_deref().unwrap_or(input);
    let (n_in, n_out) = (numel(input), numel(output));
    let side = |s: &[i64], i: usize| s.get(i).copied().unwrap_or(1) as f64;
    let make =
        |kind: &str, values: Vec<f64>, work: f64| Some(Features { kind: kind.into(), values, work: work.max(1.0) });
    match name {
        "aten::conv2d" | "aten::_convolution" | "aten::convolution" => conv(input, output, shapes.conv.as_ref()?),
        "aten::linear" => {
            let (c_in, c_out) = (*input.last()? as f64, *output.last()? as f64);
            let rows = n_in / c_in.max(1.0);
            make(name, vec![ln(c_in), ln(c_out), ln(rows)], rows * c_in * c_out)
        }
        "aten::max_pool2d" | "aten::avg_pool2d" => {
            // The stride (input side over output side) decides how many windows each input
            // element is read in: stride 1 reads it in nine, stride 2 in two or three. Given as
            // a feature of its own, since trees do not take ratios of two features.
            let stride = side(input, 2) / side(output, 2).max(1.0);
            let values = vec![ln(side(input, 1)), ln(side(input, 2)), ln(side(output, 2)), ln(n_in), ln(n_out), stride];
            make(name, values, n_in)
        }
        "aten::cat" => make(name, vec![ln(side(input, 1)), ln(side(output, 1)), ln(side(output, 2)), ln(n_out)], n_out),
        "aten::batch_norm"
        | "aten::relu_"
        | "aten::relu"
        | "aten::relu6_"
        | "aten::hardtanh_"
        | "aten::sigmoid"
        | "aten::add"
        | "aten::add_"
        | "aten::mul"
        | "aten::adaptive_avg_pool2d"
        | "aten::contiguous" => {
            let spatial: f64 = input.iter().skip(2).map(|d| *d as f64).product();
            make(name, vec![ln(side(input, 1)), ln(spatial), ln(n_in)], n_in)
        }
        _ => None,
    }
}

fn conv(input: &[i64], output: &[i64], geometry: &ConvGeometry) -> Option<Features> {
    let w = &geometry.weight;
    let (c_out, c_per_group, kh, kw) = (*w.first()?, *w.get(1)?, *w.get(2)?, *w.get(3)?);
    let groups = geometry.groups.max(1);
    let c_in = c_per_group * groups;
    let kind = match groups {
        1 => "conv",
        g if g == c_in => "conv-depthwise",
        _ => "conv-grouped",
    };
    let out_hw = numel(output.get(2..)?);
    let macs = out_hw * (c_out * c_per_group * kh * kw) as f64;
    let stride = geometry.stride.first().copied().unwrap_or(1) as f64;
    let bytes = 4.0 * (numel(input) + numel(output) + numel(w));
    let values = vec![
        ln(c_in as f64),
        ln(c_out as f64),
        ln(*input.get(2)? as f64),
        ln(*input.get(3)? as f64),
        kh as f64,
        kw as f64,
        stride,
        ln(groups as f64),
        ln(out_hw),
        ln(macs),
        ln(bytes),
    ];
    Some(Features { kind: kind.into(), values, work: macs.max(1.0) })
}

impl Config {
    /// The op name and shapes the profiler records for this configuration in a net.
    #[must_use]
    pub fn describe(&self) -> (&'static str, OpShapes) {
        let img = |c: i64, h: i64, w: i64| Some(vec![1, c, h, w]);
        let same = |name, c, hw| (name, OpShapes { input: img(c, hw, hw), output: img(c, hw, hw), conv: None });
        match *self {
            Config::Conv { c_in, c_out, hw, kernel, stride, padding, groups } => {
                let (oh, ow) =
                    (out_side(hw, kernel[0], stride, padding[0]), out_side(hw, kernel[1], stride, padding[1]));
                let conv = ConvGeometry {
                    weight: vec![c_out, c_in / groups, kernel[0], kernel[1]],
                    stride: vec![stride, stride],
                    padding: padding.to_vec(),
                    dilation: vec![1, 1],
                    groups,
                };
                ("aten::conv2d", OpShapes { input: img(c_in, hw, hw), output: img(c_out, oh, ow), conv: Some(conv) })
            }
            Config::Linear { c_in, c_out } => {
                ("aten::linear", OpShapes { input: Some(vec![1, c_in]), output: Some(vec![1, c_out]), conv: None })
            }
            Config::BatchNorm { c, hw } => same("aten::batch_norm", c, hw),
            Config::Unary { unary, c, hw } => {
                let name = match unary {
                    Unary::ReluInPlace => "aten::relu_",
                    Unary::Relu => "aten::relu",
                    Unary::Relu6InPlace => "aten::relu6_",
                    Unary::Sigmoid => "aten::sigmoid",
                };
                same(name, c, hw)
            }
            Config::Add { c, hw, in_place } => same(if in_place { "aten::add_" } else { "aten::add" }, c, hw),
            Config::Scale { c, hw } => same("aten::mul", c, hw),
            Config::MaxPool { c, hw, k, stride, pad } | Config::AvgPool { c, hw, k, stride, pad } => {
                let name = if matches!(self, Config::MaxPool { .. }) { "aten::max_pool2d" } else { "aten::avg_pool2d" };
                let o = out_side(hw, k, stride, pad);
                (name, OpShapes { input: img(c, hw, hw), output: img(c, o, o), conv: None })
            }
            Config::GlobalAvgPool { c, hw } => {
                ("aten::adaptive_avg_pool2d", OpShapes { input: img(c, hw, hw), output: img(c, 1, 1), conv: None })
            }
            Config::Cat { c, parts, hw } => {
                ("aten::cat", OpShapes { input: img(c, hw, hw), output: img(c * parts, hw, hw), conv: None })
            }
            Config::Shuffle { c, groups, hw } => {
                let shape = Some(vec![1, c / groups, groups, hw, hw]);
                ("aten::contiguous", OpShapes { input: shape.clone(), output: shape, conv: None })
            }
            Config::Cheap { cheap, c, hw } => {
                let name = match cheap {
                    Cheap::View => "aten::view",
                    Cheap::Transpose => "aten::transpose",
                    Cheap::Split => "aten::split",
                    Cheap::Dropout => "aten::dropout",
                    Cheap::FeatureDropout => "aten::feature_dropout",
                    Cheap::ExpandAs => "aten::expand_as",
                };
                same(name, c, hw)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_depthwise_convolution_has_its_own_kind_and_its_macs_as_work() {
        let config =
            Config::Conv { c_in: 32, c_out: 32, hw: 8, kernel: [3, 3], stride: 1, padding: [1, 1], groups: 32 };
        let (name, shapes) = config.describe();
        let f = features(name, &shapes).unwrap();
        assert_eq!(f.kind, "conv-depthwise");
        assert!((f.work - 32.0 * 64.0 * 9.0).abs() < 1e-9);
        assert_eq!(features("aten::view", &shapes), None);
    }

    #[test]
    fn a_pool_tells_its_stride_apart_where_the_sides_alone_do_not() {
        // Inception's 3x3 stride-1 average pool on 14x14 and a stride-2 one from 28x28 share the
        // output side; only the stride feature separates them (the first reads each input four
        // times as often per element).
        let pool = |hw, stride| {
            let (name, shapes) = Config::AvgPool { c: 768, hw, k: 3, stride, pad: 1 }.describe();
            features(name, &shapes).unwrap().values
        };
        let (same_size, halving) = (pool(14, 1), pool(28, 2));
        assert!((same_size[2] - halving[2]).abs() < 1e-12, "same output side");
        assert!((same_size[5] - 1.0).abs() < 1e-12 && (halving[5] - 2.0).abs() < 1e-12, "{same_size:?} {halving:?}");
    }
}
