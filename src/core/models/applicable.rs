//! Which variants apply to a model in this run: the requests expanded (a thread sweep into its
//! counts) and each checked against the model and the machine. Apart from the variants
//! themselves ([`crate::core::models::variant`]) because this needs the model's spec, and the manifest
//! that makes specs needs the variants.

use crate::core::models::manifest::{ModelSource, ModelSpec};
use crate::core::models::variant::{ffi, Variant, VariantRequest};

/// Why a variant cannot run on a model: one line naming both.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("what-if '{variant}' does not apply to model '{model}': {reason}")]
pub struct NotApplicable {
    pub variant: String,
    pub model: String,
    pub reason: String,
}

/// Facts about the run and the machine that decide whether a variant applies.
#[derive(Clone, Copy, Debug)]
pub struct RunFacts {
    /// The run's intra-op thread count (the originals').
    pub threads: usize,
    /// The machine's cores, where a thread sweep ends.
    pub cores: usize,
    /// Whether this libtorch has `oneDNN`.
    pub mkldnn: bool,
}

impl RunFacts {
    /// This run's facts: its thread count, the cores the process may use, libtorch's `oneDNN`.
    #[must_use]
    pub fn here(threads: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Self { threads, cores, mkldnn: ffi::mkldnn_available() }
    }
}

/// The variants `requests` ask of `spec`, sweeps expanded, in request order without repeats.
///
/// # Errors
/// The first variant that does not apply (see [`check`]).
pub fn expand(spec: &ModelSpec, requests: &[VariantRequest], facts: RunFacts) -> Result<Vec<Variant>, NotApplicable> {
    let mut out = Vec::new();
    for request in requests {
        let variants: Vec<Variant> = match *request {
            VariantRequest::One(v) => {
                check(spec, v, facts)?;
                vec![v]
            }
            // The run's own count is the original itself; a sweep skips it rather than refuse.
            VariantRequest::ThreadSweep { from } => {
                let counts: Vec<usize> = (from..=facts.cores.max(from)).filter(|&n| n != facts.threads).collect();
                if counts.is_empty() {
                    return Err(not_applicable(
                        &request.to_string(),
                        spec,
                        format!(
                            "it runs at {} threads already, the only count from {from} to the cores",
                            facts.threads
                        ),
                    ));
                }
                counts.into_iter().map(Variant::Threads).collect()
            }
        };
        for v in variants {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    Ok(out)
}

/// Whether `variant` can run on `spec` in this run.
///
/// # Errors
/// Why not: a thread count the original already runs at, a `TorchScript` model whose graph has
/// no `BatchNorm` to fold (read from the file), `oneDNN` switched off on a libtorch without it.
pub fn check(spec: &ModelSpec, variant: Variant, facts: RunFacts) -> Result<(), NotApplicable> {
    let refuse = |reason: String| Err(not_applicable(&variant.to_string(), spec, reason));
    match variant {
        Variant::Threads(n) if n == facts.threads => {
            refuse(format!("it runs at {n} threads already (--threads), so that variant is the original"))
        }
        Variant::NoMkldnn if !facts.mkldnn => refuse("this libtorch has no oneDNN to switch off".into()),
        Variant::FoldBn => match &spec.source {
            ModelSource::TorchScript(path) => match ffi::script_has_batch_norm(path) {
                Ok(true) => Ok(()),
                Ok(false) => refuse(format!("'{}' has no BatchNorm to fold", path.display())),
                Err(e) => refuse(format!("cannot read '{}': {e}", path.display())),
            },
            ModelSource::Arch(_) => Ok(()),
        },
        Variant::Threads(_) | Variant::ChannelsLast | Variant::NoMkldnn => Ok(()),
    }
}

fn not_applicable(variant: &str, spec: &ModelSpec, reason: String) -> NotApplicable {
    NotApplicable { variant: variant.to_string(), model: spec.name.clone(), reason }
}
