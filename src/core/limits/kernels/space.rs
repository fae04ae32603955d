//! The space of single-op configurations calibration samples: each [`Config`] is one op as the
//! built-in nets call it (a convolution of given geometry, a batch norm, a pooling, ...), at
//! batch 1. A seeded sampler draws them, interleaving the kinds so that a calibration stopped
//! early still covers every kind.

use serde::{Deserialize, Serialize};

/// Channel counts drawn from (multiples of 8 with the sizes common nets use, and 3 for stems).
const CHANNELS: [i64; 22] =
    [8, 16, 24, 32, 40, 48, 64, 80, 96, 128, 144, 160, 192, 224, 256, 320, 384, 512, 768, 1024, 1536, 2048];
/// Square spatial sizes drawn from.
const SIZES: [i64; 20] = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64];
/// Kernels of dense convolutions (square and factorised).
const KERNELS: [[i64; 2]; 10] = [[1, 1], [1, 1], [3, 3], [3, 3], [5, 5], [7, 7], [1, 3], [3, 1], [1, 7], [7, 1]];
/// The largest op sampled: larger ones take long to time and nets at these input sizes have none.
const MAX_MACS: f64 = 1.5e9;
const MAX_ELEMENTS: i64 = 4 << 20;

/// An in-place or plain element-wise op with one input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Unary {
    /// `aten::relu_`.
    ReluInPlace,
    /// `aten::relu`.
    Relu,
    /// `aten::relu6_` (libtorch's `hardtanh_`).
    Relu6InPlace,
    /// `aten::sigmoid`.
    Sigmoid,
}

/// Ops whose time is their dispatch: views and inference-mode identities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cheap {
    View,
    Transpose,
    Split,
    Dropout,
    FeatureDropout,
    ExpandAs,
}

/// One op configuration (batch 1, NCHW, square pictures of side `hw`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum Config {
    Conv {
        c_in: i64,
        c_out: i64,
        hw: i64,
        kernel: [i64; 2],
        stride: i64,
        padding: [i64; 2],
        groups: i64,
    },
    Linear {
        c_in: i64,
        c_out: i64,
    },
    BatchNorm {
        c: i64,
        hw: i64,
    },
    Unary {
        unary: Unary,
        c: i64,
        hw: i64,
    },
    /// `a + b` (or `a += b` in place).
    Add {
        c: i64,
        hw: i64,
        in_place: bool,
    },
    /// `x * s` with `s` of shape `[1, c, 1, 1]` expanded (squeeze-and-excitation).
    Scale {
        c: i64,
        hw: i64,
    },
    MaxPool {
        c: i64,
        hw: i64,
        k: i64,
        stride: i64,
        pad: i64,
    },
    AvgPool {
        c: i64,
        hw: i64,
        k: i64,
        stride: i64,
        pad: i64,
    },
    GlobalAvgPool {
        c: i64,
        hw: i64,
    },
    /// `parts` tensors of `c` channels each joined along the channels.
    Cat {
        c: i64,
        parts: i64,
        hw: i64,
    },
    /// The copy in a channel shuffle: `contiguous()` of `[1, g, c/g, h, w]` transposed.
    Shuffle {
        c: i64,
        groups: i64,
        hw: i64,
    },
    Cheap {
        cheap: Cheap,
        c: i64,
        hw: i64,
    },
}

/// Output side of a convolution or pooling window.
#[must_use]
pub fn out_side(side: i64, k: i64, stride: i64, pad: i64) -> i64 {
    (side + 2 * pad - k) / stride.max(1) + 1
}

impl Config {
    /// Whether libtorch takes it (output at least 1x1, channels divisible by the groups) and it
    /// is within the sampled bounds.
    #[must_use]
    pub fn is_valid(&self) -> bool {
        match *self {
            Config::Conv { c_in, c_out, hw, kernel, stride, padding, groups } => {
                let (oh, ow) =
                    (out_side(hw, kernel[0], stride, padding[0]), out_side(hw, kernel[1], stride, padding[1]));
                let macs = (c_out * oh * ow * kernel[0] * kernel[1] * (c_in / groups.max(1))) as f64;
                oh > 0 && ow > 0 && c_in % groups == 0 && c_out % groups == 0 && macs <= MAX_MACS
            }
            Config::MaxPool { hw, k, stride, pad, .. } | Config::AvgPool { hw, k, stride, pad, .. } => {
                pad * 2 <= k && out_side(hw, k, stride, pad) > 0
            }
            Config::Cat { c, parts, hw } => c * parts * hw * hw <= MAX_ELEMENTS,
            Config::Linear { c_in, c_out } => c_in * c_out <= MAX_ELEMENTS * 4,
            Config::BatchNorm { c, hw }
            | Config::Unary { c, hw, .. }
            | Config::Add { c, hw, .. }
            | Config::Scale { c, hw }
            | Config::GlobalAvgPool { c, hw }
            | Config::Shuffle { c, hw, .. }
            | Config::Cheap { c, hw, .. } => c * hw * hw <= MAX_ELEMENTS,
        }
    }
}

/// A small deterministic generator (splitmix64): calibrations are repeatable.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// The kinds calibration samples, with how many configurations a full calibration takes of each.
pub const PLAN: [(&str, usize); 14] = [
    ("conv", 520),
    ("conv-depthwise", 160),
    ("conv-grouped", 90),
    ("linear", 60),
    ("batch-norm", 90),
    ("unary", 120),
    ("add", 70),
    ("scale", 30),
    ("max-pool", 50),
    ("avg-pool", 50),
    ("global-avg-pool", 30),
    ("cat", 70),
    ("shuffle", 40),
    ("cheap", 12),
];

/// Draws one configuration of `kind` (a name from [`PLAN`]), retrying until it is valid.
#[must_use]
pub fn draw(kind: &str, rng: &mut Rng) -> Config {
    loop {
        let config = draw_once(kind, rng);
        if config.is_valid() {
            return config;
        }
    }
}

fn draw_once(kind: &str, rng: &mut Rng) -> Config {
    let c = rng.pick(&CHANNELS);
    let hw = rng.pick(&SIZES);
    let stride = if rng.chance(0.25) { 2 } else { 1 };
    match kind {
        "conv" => {
            let kernel = rng.pick(&KERNELS);
            let same = rng.chance(0.8);
            let padding = if same { [kernel[0] / 2, kernel[1] / 2] } else { [0, 0] };
            let c_in = if rng.chance(0.05) { 3 } else { c };
            Config::Conv { c_in, c_out: rng.pick(&CHANNELS), hw, kernel, stride, padding, groups: 1 }
        }
        "conv-depthwise" => {
            let k = rng.pick(&[3, 3, 3, 5, 7]);
            Config::Conv { c_in: c, c_out: c, hw, kernel: [k, k], stride, padding: [k / 2, k / 2], groups: c }
        }
        "conv-grouped" => {
            let groups = rng.pick(&[2, 3, 4, 8]);
            let k = rng.pick(&[1, 1, 3]);
            let per = rng.pick(&[8, 16, 24, 30, 32, 48, 60, 64, 68, 96]);
            let c_out = groups * rng.pick(&[8, 16, 24, 30, 32, 48, 60, 64, 68, 96]);
            let padding = [k / 2, k / 2];
            Config::Conv { c_in: groups * per, c_out, hw, kernel: [k, k], stride, padding, groups }
        }
        "linear" => {
            Config::Linear { c_in: rng.pick(&CHANNELS), c_out: rng.pick(&[10, 16, 64, 100, 256, 512, 1000, 4096]) }
        }
        "batch-norm" => Config::BatchNorm { c, hw },
        "unary" => {
            let unary =
                rng.pick(&[Unary::ReluInPlace, Unary::ReluInPlace, Unary::Relu, Unary::Relu6InPlace, Unary::Sigmoid]);
            Config::Unary { unary, c, hw }
        }
        "add" => Config::Add { c, hw, in_place: rng.chance(0.3) },
        "scale" => Config::Scale { c, hw },
        "max-pool" | "avg-pool" => {
            let k = rng.pick(&[2, 3, 3]);
            let pad = if rng.chance(0.5) { k / 2 } else { 0 };
            let stride = rng.pick(&[1, 2, 2]);
            if kind == "max-pool" {
                Config::MaxPool { c, hw, k, stride, pad }
            } else {
                Config::AvgPool { c, hw, k, stride, pad }
            }
        }
        "global-avg-pool" => Config::GlobalAvgPool { c, hw },
        "cat" => Config::Cat {
            c: rng.pick(&[8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384]),
            parts: rng.pick(&[2, 2, 3, 4]),
            hw,
        },
        "shuffle" => {
            let groups = rng.pick(&[2, 3, 4, 8]);
            Config::Shuffle { c: groups * rng.pick(&[8, 16, 24, 30, 60, 120]), groups, hw }
        }
        _ => {
            let cheap = rng.pick(&[
                Cheap::View,
                Cheap::Transpose,
                Cheap::Split,
                Cheap::Dropout,
                Cheap::FeatureDropout,
                Cheap::ExpandAs,
            ]);
            Config::Cheap { cheap, c, hw }
        }
    }
}

/// The configurations of a calibration: `PLAN`'s counts scaled by `scale` (at least one of
/// each kind), interleaved round-robin over the kinds.
#[must_use]
pub fn sample_space(scale: f64, seed: u64) -> Vec<Config> {
    let mut rng = Rng::new(seed);
    let counts: Vec<usize> = PLAN.iter().map(|(_, n)| ((*n as f64 * scale).round() as usize).max(1)).collect();
    let mut out = Vec::with_capacity(counts.iter().sum());
    let most = counts.iter().copied().max().unwrap_or(0);
    for round in 0..most {
        for ((kind, _), n) in PLAN.iter().zip(&counts) {
            // Spread each kind evenly over the rounds.
            if round * n / most != (round + 1) * n / most {
                out.push(draw(kind, &mut rng));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_space_is_repeatable_valid_and_interleaved() {
        let a = sample_space(0.05, 7);
        assert_eq!(a, sample_space(0.05, 7));
        assert!(a.iter().all(Config::is_valid));
        // Every kind appears among the first configurations.
        let first: Vec<_> = a.iter().take(PLAN.len() * 2).collect();
        assert!(first.iter().any(|c| matches!(c, Config::Cat { .. })));
        assert!(first.iter().any(|c| matches!(c, Config::Conv { groups: 1, .. })));
        assert!(a.iter().any(|c| matches!(c, Config::Conv { c_in, groups, .. } if c_in == groups && *groups > 1)));
    }
}
