//! What-if variants: a model run again with one change (`BatchNorm` folded, channels-last, another
//! thread count, `oneDNN` off) as its own row beside the original, under the same schedule, so
//! the two are measured alike. Each variant's output is checked against the original's before
//! any speed-up is reported (see [`OutputCheck`]).

use std::fmt;
use std::str::FromStr;

pub mod ffi;

/// One change to a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Variant {
    /// `BatchNorm` folded into the convolution before it (built-ins); for `TorchScript`, libtorch's
    /// freeze and optimize-for-inference passes, which fold it and more.
    FoldBn,
    /// Input and weights in channels-last (NHWC) memory format.
    ChannelsLast,
    /// The model alone at this many intra-op threads.
    Threads(usize),
    /// `oneDNN` (mkldnn) convolutions switched off, so libtorch's fallback kernels run.
    NoMkldnn,
}

/// What a user asks for: one variant, or a sweep of thread counts from `from` up to the
/// machine's cores (`threads=1..`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VariantRequest {
    One(Variant),
    ThreadSweep { from: usize },
}

/// The most intra-op threads a variant may ask for (the `--threads` limit).
pub const MAX_THREADS: usize = 1024;

/// The valid spellings, for error messages.
pub const VARIANT_HINT: &str = "fold-bn, channels-last, threads=N, threads=N.. (a sweep up to the cores), no-mkldnn";

/// Largest relative difference (max |variant − original| over max |original|) at which a
/// variant's output still counts as the same answer. Reordered float sums (other thread
/// counts, other kernels, folded weights) differ by about 1e-6 here; a real change of result
/// is orders of magnitude larger.
pub const OUTPUT_TOLERANCE: f64 = 1e-4;

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variant::FoldBn => f.write_str("fold-bn"),
            Variant::ChannelsLast => f.write_str("channels-last"),
            Variant::Threads(n) => write!(f, "threads={n}"),
            Variant::NoMkldnn => f.write_str("no-mkldnn"),
        }
    }
}

impl fmt::Display for VariantRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VariantRequest::One(v) => v.fmt(f),
            VariantRequest::ThreadSweep { from } => write!(f, "threads={from}.."),
        }
    }
}

/// A variant that is not one of [`VARIANT_HINT`], or a `threads=` one whose count is not.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownVariant {
    #[error("unknown variant '{0}' (valid: {VARIANT_HINT})")]
    Name(String),
    #[error("variant '{0}': the thread count must be a whole number from 1 to {MAX_THREADS}")]
    ThreadCount(String),
}

impl FromStr for VariantRequest {
    type Err = UnknownVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || UnknownVariant::Name(s.to_string());
        let count = |n: &str| {
            n.parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_THREADS).contains(n))
                .ok_or_else(|| UnknownVariant::ThreadCount(s.to_string()))
        };
        match s.trim() {
            "fold-bn" => Ok(VariantRequest::One(Variant::FoldBn)),
            "channels-last" => Ok(VariantRequest::One(Variant::ChannelsLast)),
            "no-mkldnn" => Ok(VariantRequest::One(Variant::NoMkldnn)),
            t => match t.strip_prefix("threads=") {
                Some(n) => match n.strip_suffix("..") {
                    Some(from) => Ok(VariantRequest::ThreadSweep { from: count(from)? }),
                    None => Ok(VariantRequest::One(Variant::Threads(count(n)?))),
                },
                None => Err(bad()),
            },
        }
    }
}

/// Which model a variant row varies, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantOf {
    /// The original's name.
    pub base: String,
    pub variant: Variant,
}

/// The row name of `variant` of `base`: `resnet50 ⟨fold-bn⟩`.
#[must_use]
pub fn variant_name(base: &str, variant: Variant) -> String {
    format!("{base} \u{27e8}{variant}\u{27e9}")
}

/// The variant's output against the original's on the same input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutputCheck {
    /// Largest |variant − original| over the output's elements.
    pub max_abs: f64,
    /// `max_abs` over the largest |original|: the difference relative to the output's scale.
    pub max_rel: f64,
}

impl OutputCheck {
    /// Compares two outputs of the same shape.
    #[must_use]
    pub fn between(original: &[f32], variant: &[f32]) -> Self {
        let scale = original.iter().fold(0f64, |m, x| m.max(f64::from(x.abs())));
        let max_abs = original.iter().zip(variant).fold(0f64, |m, (a, b)| m.max(f64::from((a - b).abs())));
        let shape_differs = original.len() != variant.len();
        let max_rel = if shape_differs {
            f64::INFINITY
        } else if scale > 0.0 {
            max_abs / scale
        } else if max_abs == 0.0 {
            0.0
        } else {
            f64::INFINITY
        };
        Self { max_abs: if shape_differs { f64::INFINITY } else { max_abs }, max_rel }
    }

    /// Whether the variant gives the original's answer within [`OUTPUT_TOLERANCE`]; a variant
    /// that does not is never reported as a speed-up.
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.max_rel <= OUTPUT_TOLERANCE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_print_back() {
        for text in ["fold-bn", "channels-last", "no-mkldnn", "threads=3", "threads=1.."] {
            assert_eq!(text.parse::<VariantRequest>().unwrap().to_string(), text);
        }
        for bad in ["fold", "thread=2", ""] {
            let err = bad.parse::<VariantRequest>().unwrap_err().to_string();
            assert!(err.contains(&format!("unknown variant '{bad}'")) && err.contains("fold-bn"), "{err}");
        }
        // A threads variant with a count out of range is a known variant with a bad count.
        for bad in ["threads=0", "threads=", "threads=x..", "threads=2000", "threads=100000"] {
            let err = bad.parse::<VariantRequest>().unwrap_err().to_string();
            assert!(!err.contains("unknown") && err.contains(&format!("'{bad}'")), "{err}");
            assert!(err.contains(&format!("from 1 to {MAX_THREADS}")), "{err}");
        }
    }

    #[test]
    fn output_check_scales_by_the_original_and_catches_shape_changes() {
        let check = OutputCheck::between(&[10.0, -20.0], &[10.0, -20.001]);
        assert!((check.max_abs - 0.001).abs() < 1e-5 && (check.max_rel - 0.00005).abs() < 1e-6);
        assert!(check.agrees());
        assert!(!OutputCheck::between(&[10.0, -20.0], &[10.0, -19.0]).agrees());
        assert!(!OutputCheck::between(&[1.0, 2.0], &[1.0]).agrees());
        assert!(OutputCheck::between(&[0.0], &[0.0]).agrees());
    }
}
