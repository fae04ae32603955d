//! infertop: runs CNN inference in a loop and shows where the time goes beyond the MAC count.
//!
//! [`run`] picks a front end (the live TUI or the headless printer) over the same core.

pub mod cli;
pub mod core;
pub mod export;
pub mod headless;
pub mod predict;
pub mod report;
pub mod run_loop;
pub mod schema;
pub mod signals;
pub mod tui;

use std::io::IsTerminal;

pub use cli::Cli;

/// Runs infertop with parsed options until it stops.
///
/// # Errors
/// [`UsageError`] for bad input found after parsing (manifest, model names, theme, export
/// folder); other errors for runtime failures.
pub fn run(cli: &Cli) -> anyhow::Result<()> {
    if let Some(command) = &cli.command {
        return run_command(command);
    }
    if cli.list_models {
        return list_models(cli);
    }
    cli.validate()?;
    let mut plan =
        core::run::Plan::new(cli.models.as_deref(), &cli.only, cli.batch, cli.thread_count(), !cli.no_op_profile)
            .map_err(UsageError::Plan)?;
    plan.what_if(&cli.what_if).map_err(UsageError::Plan)?;
    let plan = core::run::Plan {
        sample_every: Some(cli.sample_every),
        sysfs_root: cli.sysfs_root.clone(),
        replay_speed: cli.replay_speed,
        profile_every: cli.profile_every,
        schedule: cli.schedule(),
        warmup: cli.warmup,
        iterations: cli.iterations,
        ..plan
    };
    // One thread is enough for the front end: inference runs on the engine's own thread.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    if cli.summary {
        return runtime.block_on(headless::summary(&plan, cli.format));
    }
    let headless = cli.headless || !std::io::stdout().is_terminal();
    let background_calibration =
        (!headless && !cli.no_calibrate).then(|| core::limits::Options::new(plan.threads, false));
    let plan = core::run::Plan { background_calibration, ..plan };
    // Checked in every mode: a bad --theme is a mistake even where nothing is drawn.
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let theme = tui::theme::resolve(cli.theme.as_deref(), no_color).map_err(UsageError::Theme)?;
    // Found before measuring starts: an hour of measurement must not end in "cannot save".
    // Headless mode always saves at exit; the live screen only when `e` is pressed or the run
    // ends on its own, so it checks only a folder it was given or will export into.
    let export_base = cli.export_dir.clone().unwrap_or_else(export::default_export_base);
    if headless || cli.export_dir.is_some() || cli.export_every.is_some() {
        export::check_writable(&export_base).map_err(UsageError::ExportDir)?;
        // A killed run's rows, published before the room is judged (they take none more).
        for leftover in export::recover_staging(&export_base) {
            eprintln_best_effort(&format!("infertop: {}", leftover.describe()));
        }
        export::check_room(&export_base).map_err(UsageError::ExportDir)?;
    }
    if let Some(dir) = &cli.trace {
        export::trace::check_trace_dir(dir).map_err(UsageError::TraceDir)?;
    }
    let metrics = listen(cli)?;
    if headless {
        runtime.block_on(headless::run(cli, &plan, &export_base, metrics.as_ref()))
    } else {
        runtime.block_on(tui::run(cli, &plan, theme, &export_base, metrics.as_ref()))
    }
}

/// Prints the models `--list-models` asks for (those of `--only`, or all), from the manifest
/// alone.
fn list_models(cli: &Cli) -> anyhow::Result<()> {
    use std::io::Write as _;
    let manifest = match &cli.models {
        Some(path) => core::models::Manifest::load(path),
        None => Ok(core::models::Manifest::builtin()),
    };
    let manifest = manifest.map_err(|e| UsageError::Plan(e.into()))?;
    let models = if cli.only.is_empty() {
        manifest.models.clone()
    } else {
        manifest.select(&cli.only).map_err(|e| UsageError::Plan(e.into()))?
    };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(cli::model_list::model_list(&manifest, &models).as_bytes()) {
        // `| head` is a reader leaving, not a failure.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// The `/metrics` server `--listen` asks for, listening before measuring starts: a port in
/// use is a usage error now, not a surprise an hour into the run.
fn listen(cli: &Cli) -> Result<Option<export::listen::MetricsServer>, UsageError> {
    let Some(addr) = cli.listen else { return Ok(None) };
    let server = export::listen::MetricsServer::bind(addr)
        .map_err(|e| UsageError::Flag { flag: "--listen", problem: e.to_string() })?;
    eprintln_best_effort(&format!("infertop: serving OpenMetrics on http://{}/metrics", server.local_addr()));
    Ok(Some(server))
}

/// Runs a command that reads snapshots (`report`, `compare`) and prints where its page went.
fn run_command(command: &cli::Command) -> anyhow::Result<()> {
    let (written, output) = match command {
        cli::Command::Report { snapshot, output, .. } => (report::write_report(snapshot, output), output),
        cli::Command::Compare { a, b, output, .. } => (report::write_compare(a, b, output), output),
        cli::Command::Calibrate(args) => return predict::calibrate_command(args),
        cli::Command::Predict(args) => return predict::predict_command(args),
    };
    match written {
        Ok(()) => {
            println!("{}", output.display());
            Ok(())
        }
        // A snapshot that cannot be read or an output that must not be replaced is bad input;
        // a page that cannot be written is not.
        Err(e @ (report::ReportError::Snapshot { .. } | report::ReportError::Output { .. })) => {
            Err(UsageError::Report(e).into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Writes a line to stderr if there still is one: after an SSH drop nothing more can be done.
fn eprintln_best_effort(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// The settings a snapshot records, for the front end named `front_end`.
fn run_meta(cli: &Cli, plan: &core::run::Plan, front_end: &str) -> export::RunMeta {
    let mut meta = export::RunMeta::from_plan(plan, std::time::SystemTime::now());
    meta.front_end = front_end.into();
    meta.duration = cli.duration;
    meta.args = std::env::args().skip(1).collect();
    meta
}

/// A mistake in what the user asked for, found after parsing: it exits with code 2 like a clap
/// error.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// A flag whose value clap cannot check (a file that must exist, a folder).
    #[error("{flag}: {problem}")]
    Flag { flag: &'static str, problem: String },
    /// The manifest, `--only` or `--batch`.
    #[error(transparent)]
    Plan(core::run::PlanError),
    #[error(transparent)]
    Theme(tui::theme::ThemeError),
    #[error("--export-dir: {0}")]
    ExportDir(export::ExportError),
    #[error("--trace: {0}")]
    TraceDir(export::ExportError),
    /// A snapshot folder `report` or `compare` cannot read, or an output it must not replace.
    #[error(transparent)]
    Report(report::ReportError),
    /// What `predict` was asked to predict: a missing file, an unknown name.
    #[error("{0}")]
    Predict(String),
}
