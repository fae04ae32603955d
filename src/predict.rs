//! The `calibrate` and `predict` commands: calibrate this machine's kernels, and predict models
//! from that calibration after one shape-capturing pass (no timing loop).

use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;

use crate::cli::{CalibrateArgs, PredictArgs};
use crate::core::limits::predict_scope;
use crate::core::limits::{calibrate, calibration, Calibration};
use crate::core::limits::{Basis, Options};
use crate::core::models::{ModelSource, ModelSpec};
use crate::core::run::{Plan, Session};
use crate::UsageError;

/// `infertop calibrate`: a fresh calibration, saved to the cache; prints where.
///
/// # Errors
/// When the cache folder cannot be found or written.
pub fn calibrate_command(args: &CalibrateArgs) -> anyhow::Result<()> {
    let path = calibration::cache_path().context("no cache folder: set HOME or XDG_CACHE_HOME")?;
    let made = run_calibration(&path, args.thread_count(), args.quick)?;
    println!("{}", path.display());
    eprintln!("infertop: {} configurations timed in {:.0} s", made.samples.len(), made.seconds);
    Ok(())
}

/// Calibrates with progress on stderr, saving as it goes.
fn run_calibration(path: &Path, threads: usize, quick: bool) -> anyhow::Result<Calibration> {
    let mut last_shown = Instant::now();
    let mut stored = Ok(());
    let made = calibrate(
        &Options::new(threads, quick),
        |done, planned| {
            if last_shown.elapsed().as_millis() >= 500 || done == planned {
                last_shown = Instant::now();
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\rinfertop: calibrating with {threads} threads: {done}/{planned}");
                if done == planned {
                    let _ = writeln!(err);
                }
            }
        },
        |c| stored = calibration::store(path, c),
    );
    stored.with_context(|| format!("cannot write {}", path.display()))?;
    Ok(made)
}

/// The cached calibration at `threads`, or a new one (saying so on stderr); a corrupt cache is
/// named and calibrated over.
fn calibration_for(threads: usize) -> anyhow::Result<Calibration> {
    let path = calibration::cache_path().context("no cache folder: set HOME or XDG_CACHE_HOME")?;
    match calibration::load(&path, threads) {
        Ok(Some(found)) => {
            if !found.complete() {
                eprintln!(
                    "infertop: using a partial calibration ({} of {} configurations); `infertop calibrate` completes it",
                    found.samples.len(),
                    found.planned
                );
            }
            return Ok(found);
        }
        Ok(None) => eprintln!("infertop: no calibration for this machine at {threads} threads yet: calibrating first"),
        Err(e) => eprintln!("infertop: {e}: calibrating anew"),
    }
    run_calibration(&path, threads, false)
}

/// The models `args` names.
fn plan(args: &PredictArgs) -> Result<Plan, UsageError> {
    let threads = args.thread_count();
    if let Some(file) = &args.model {
        if !file.is_file() {
            return Err(UsageError::Predict(format!("cannot read '{}': no such file", file.display())));
        }
        let input: [i64; 3] =
            args.input.clone().try_into().map_err(|_| UsageError::Predict("--input takes three sizes".into()))?;
        if input.iter().any(|d| *d <= 0) {
            return Err(UsageError::Predict(format!("--input {input:?}: sizes must be positive")));
        }
        let name = file.file_stem().map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
        let mut plan = Plan::new(None, &["tiny".to_string()], None, threads, true).map_err(UsageError::Plan)?;
        plan.models = vec![ModelSpec::new(&name, ModelSource::TorchScript(file.clone()), input)];
        return Ok(plan);
    }
    if let Some(path) = &args.models {
        if !path.is_file() {
            return Err(UsageError::Predict(format!("--models: cannot read '{}': no such file", path.display())));
        }
    }
    Plan::new(args.models.as_deref(), &args.only, None, threads, true).map_err(UsageError::Plan)
}

/// `infertop predict`: per model its predicted latency and the longest predicted layers.
///
/// # Errors
/// A usage error for what cannot be predicted; the engine's error when no model loads.
pub fn predict_command(args: &PredictArgs) -> anyhow::Result<()> {
    let plan = plan(args)?;
    let calibration = calibration_for(plan.threads)?;
    let predictor = calibration.predictor();
    // The shape-capturing pass only: the engine loads, calibrates and stops.
    let mut session = Session::start(&Plan { sample_every: None, ..plan }, true)?;
    while let Some(event) = session.events.blocking_recv() {
        session.apply(event);
        if session.state.engine_stopped {
            break;
        }
    }
    let state = &session.state;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{:<16} {:>12} {:>12} {:>12}  (this machine, {} threads)",
        "model", "predicted ms", "kernels ms", "overhead ms", calibration.threads
    )?;
    let mut predicted = 0;
    for m in &state.models {
        let Some(p) = m.scope.and_then(|scope| predict_scope(&state.tree, scope, &predictor)) else {
            writeln!(out, "{:<16} no prediction: {}", m.name, m.status.key())?;
            continue;
        };
        predicted += 1;
        let unmodelled: usize = p.ops.iter().filter(|o| o.basis == Basis::Unmodelled).count();
        writeln!(
            out,
            "{:<16} {:>12.3} {:>12.3} {:>12.3}{}",
            m.name,
            p.ms,
            p.kernel_ms,
            p.dispatch_ms + p.unmodelled_ms,
            if unmodelled > 0 { format!("  ({unmodelled} ops not calibrated)") } else { String::new() }
        )?;
        let mut leaves: Vec<(&str, f64)> = p
            .ops
            .iter()
            .filter_map(|o| o.layer.as_deref())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|l| p.layers.get(l).map(|ms| (l, *ms)))
            .collect();
        leaves.sort_by(|a, b| b.1.total_cmp(&a.1));
        for (layer, ms) in leaves.into_iter().take(args.top) {
            writeln!(out, "  {layer:<30} {ms:>10.3} ms")?;
        }
    }
    out.flush()?;
    if predicted == 0 {
        anyhow::bail!(
            "no model could be predicted{}",
            state.engine_error.as_ref().map(|e| format!(": {e}")).unwrap_or_default()
        );
    }
    Ok(())
}
