//! The headless front end: one line per model every `--print-every`, a summary at the end.
//! Chosen with `--headless` or automatically when stdout is not a terminal.
//!
//! Every way a run can end writes the final snapshot first: `--duration`, a signal, the engine
//! stopping, and stdout failing (a closed pipe, an SSH session that dropped, a full disk), which
//! is treated like a signal rather than as a reason to lose the measurements.

use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

use tokio::time::{interval_at, Instant, MissedTickBehavior};

use crate::cli::{Cli, LineFormat};
use crate::core::event::Control;
use crate::core::session::{Plan, Session, ITERATIONS_REACHED};
use crate::core::soak::{Soak, DEADLINE_GRACE};
use crate::core::state::{ModelStatus, MonitorState};
use crate::core::summary::ModelSummary;
use crate::export::listen::{self, MetricsServer};
use crate::export::trace::TraceWriter;
use crate::export::{ExportError, FinalSnapshot, RunExport};
use crate::signals::{wind_down, Signals};
use crate::UsageError;

mod lines;
mod records;
mod soak_lines;
use lines::{final_snapshot_line, print_lines, report_line, summary_lines};
pub use lines::{system_line, text_line};

/// Why the measuring loop ended.
#[derive(Debug)]
enum End {
    Duration,
    /// Every model timed its `--iterations`.
    Iterations,
    Signal(crate::signals::Signal),
    /// The engine ended by itself (every model failed, or it failed).
    EngineStopped,
    /// `--soak` measured cold, heated and measured hot.
    SoakDone,
    /// Writing to stdout failed: its reader or terminal is gone, or the disk is full.
    Output(io::Error),
}

impl End {
    fn reason(&self) -> &'static str {
        match self {
            End::Duration => "duration reached",
            End::Iterations => ITERATIONS_REACHED,
            End::Signal(s) => s.reason(),
            End::EngineStopped => "engine stopped",
            End::SoakDone => "soak done",
            End::Output(_) => "stdout failed",
        }
    }
}

/// Runs until `--duration`, SIGINT/SIGTERM/SIGHUP, a stdout failure, or until no model can
/// run. Streams every inference and system sample into the run folder, exports the aggregates
/// into it every `--export-every` (on the writer's thread) and always at the end, so neither a
/// Ctrl-C nor a dropped SSH session loses anything. Hands `metrics` a snapshot whenever a
/// scrape asks for one.
///
/// # Errors
/// When the run folder cannot be started, no model could run, the engine failed, the final
/// snapshot could not be written anywhere, stdout failed for another reason than its reader
/// going away, or signals cannot be set up.
pub async fn run(cli: &Cli, plan: &Plan, export_base: &Path, metrics: Option<&MetricsServer>) -> anyhow::Result<()> {
    let mut signals = Signals::new()?;
    let meta = crate::run_meta(cli, plan, "headless");
    let mut folder =
        RunExport::start(export_base, meta, Some(cli.inferences_part_bytes())).map_err(UsageError::ExportDir)?;
    let mut session = Session::start(plan, false)?;
    session.state.soak = cli.soak_config().map(Soak::new);
    session.set_journal(folder.journal());
    let mut traces = match &cli.trace {
        Some(dir) => Some(TraceWriter::start(dir.clone())?),
        None => None,
    };
    if let Some(writer) = &traces {
        session.set_trace_sink(writer.sink());
        session.control(Control::Trace(None));
    }
    let started = Instant::now();
    // A soak ends itself by its longest time, counted on the session's clock (which starts a
    // moment later); the deadline is only its backstop.
    let grace = if cli.soak { DEADLINE_GRACE } else { Duration::ZERO };
    let deadline = cli.run_limit().map(|d| started + d + grace);
    let mut ticker = interval_at(started + cli.print_every, cli.print_every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut exports = cli.export_every.map(|every| interval_at(started + every, every));
    let mut out = io::stdout().lock();
    // A stdout that fails here fails again at the next line, which ends the run.
    let _ = lines::legend(&mut out, cli.format);
    let end = loop {
        tokio::select! {
            Some(event) = session.events.recv() => {
                session.apply(event);
                session.drain();
                if session.state.iterations_done { break End::Iterations; }
                if session.state.engine_stopped { break End::EngineStopped; }
                if session.state.soak.as_ref().is_some_and(Soak::done) { break End::SoakDone; }
            }
            _ = ticker.tick() => {
                if let Err(e) = print_lines(&mut out, &session.state, started.elapsed(), cli.format) {
                    break End::Output(e);
                }
            }
            () = next_tick(exports.as_mut()) => {
                // One periodic export at a time: a disk slower than the period skips a turn.
                folder.request_export(&session.state);
            }
            report = folder.report() => {
                // A failed periodic export is reported and measuring goes on; the final one
                // is tried again at exit.
                if let Err(e) = writeln!(out, "{}", report_line(report, cli.format)) {
                    break End::Output(e);
                }
            }
            written = next_trace(traces.as_mut()) => crate::eprintln_best_effort(&trace_line(&written)),
            server = listen::wanted(metrics) => server.publish(&session.state),
            () = sleep_until_deadline(deadline) => break End::Duration,
            signal = signals.next() => break End::Signal(signal),
        }
    };
    wind_down(&mut session, &mut signals, || {
        crate::eprintln_best_effort("infertop: stopping after the current inference (Ctrl-C again to quit now)");
    })
    .await;
    let elapsed = started.elapsed();
    for written in traces.map(TraceWriter::finish).unwrap_or_default() {
        crate::eprintln_best_effort(&trace_line(&written));
    }
    // After every inference the session applied: the journal's entries are ahead in the queue.
    let last = folder.finish(&session.state);
    let mut end = end;
    if !matches!(end, End::Output(_)) {
        let closing = summary_lines(&mut out, &session.state, (elapsed, plan.threads), end.reason(), cli.format)
            .and_then(|()| soak_lines::write(&mut out, &session.state, cli.format))
            .and_then(|()| writeln!(out, "{}", final_snapshot_line(&last, cli.format)))
            .and_then(|()| out.flush());
        match closing {
            // The summary may be the run's first write (a --duration shorter than
            // --print-every): a stdout that fails then (a full disk) fails the run, as at any
            // other line; a reader that left is a normal end.
            Err(e) if !reader_gone(&e) => end = End::Output(e),
            Err(e) => crate::eprintln_best_effort(&format!("infertop: stdout: {e}; {}", last.describe())),
            Ok(()) => {}
        }
    }
    outcome(&end, &session.state, &last, elapsed)
}

/// The exit status of a run that ended with `end` and saved `last`.
fn outcome(end: &End, state: &MonitorState, last: &FinalSnapshot, elapsed: Duration) -> anyhow::Result<()> {
    if let End::Output(e) = end {
        crate::eprintln_best_effort(&format!("infertop: stopped: stdout: {e}; {}", last.describe()));
        // The reader or the terminal went away: the run ends as a signal would end it.
        if !reader_gone(e) {
            anyhow::bail!("stdout: {e}");
        }
    }
    if let Some(error) = &state.engine_error {
        anyhow::bail!("the engine stopped: {error}; {}", last.describe());
    }
    let timed = state.models.iter().any(|m| m.latency.summary().is_some() || m.cold.summary().is_some());
    if !timed && state.models.iter().all(|m| matches!(m.status, ModelStatus::Failed(_))) {
        anyhow::bail!("no model could run: {}", failures(state));
    }
    if !timed {
        let loading: Vec<&str> =
            state.models.iter().filter(|m| m.status == ModelStatus::Loading).map(|m| &*m.name).collect();
        // Only a run that ran out of time would have timed something given more of it.
        let hint = match end {
            End::Duration => "a longer --duration gives them time".to_string(),
            other => format!("stopped: {}", other.reason()),
        };
        anyhow::bail!(
            "no inference was timed in {:.1} s ({} of {} models still loading); {hint}; {}",
            elapsed.as_secs_f64(),
            loading.len(),
            state.models.len(),
            last.describe()
        );
    }
    if let FinalSnapshot::Lost { .. } = last {
        anyhow::bail!("{}", last.describe());
    }
    Ok(())
}

/// A closed pipe (`| head -1`) or a terminal that is gone (an SSH drop gives `EIO`).
fn reader_gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::BrokenPipe || e.raw_os_error() == Some(libc::EIO)
}

/// The next trace written; never, without a writer.
async fn next_trace(writer: Option<&mut TraceWriter>) -> Result<std::path::PathBuf, ExportError> {
    match writer {
        Some(w) => w.written().await,
        None => std::future::pending().await,
    }
}

/// Where a trace went, or why it did not (measuring goes on either way), for stderr.
fn trace_line(written: &Result<std::path::PathBuf, ExportError>) -> String {
    match written {
        Ok(path) => format!("infertop: trace: {}", path.display()),
        Err(e) => format!("infertop: warning: trace not written: {e}"),
    }
}

/// The next tick of an optional interval; never, without one.
async fn next_tick(interval: Option<&mut tokio::time::Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until_deadline(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn failures(state: &MonitorState) -> String {
    state
        .models
        .iter()
        .filter_map(|m| match &m.status {
            ModelStatus::Failed(e) => Some(e.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Why a `--summary` run ends, in its `summary` records.
const CALIBRATED: &str = "models calibrated (--summary)";

/// `--summary`: load and calibrate every model, print parameters and MACs (a table, or
/// `summary` records in JSON lines), and exit.
///
/// # Errors
/// When the engine thread cannot start, or stdout fails.
pub async fn summary(plan: &Plan, format: LineFormat) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut session = Session::start(plan, true)?;
    while let Some(event) = session.events.recv().await {
        session.apply(event);
        if session.state.engine_stopped {
            break;
        }
    }
    let mut out = io::stdout().lock();
    match format {
        LineFormat::Text => summary_table(&mut out, &session.state)?,
        LineFormat::Jsonl => {
            for record in records::summary_records(&session.state, started.elapsed(), CALIBRATED) {
                writeln!(out, "{}", record.line())?;
            }
        }
    }
    out.flush()?;
    if let Some(error) = &session.state.engine_error {
        anyhow::bail!("the engine stopped: {error}");
    }
    Ok(())
}

/// Parameters and MACs per model; a MAC count that is not known is a dash.
fn summary_table(out: &mut impl Write, state: &MonitorState) -> io::Result<()> {
    writeln!(out, "{:<14} {:>14} {:>16} {:>12}", "model", "params", "MACs", "GMAC")?;
    for summary in ModelSummary::all(state) {
        let m = summary.model;
        match (summary.error(), &m.info, summary.macs) {
            (Some(e), _, _) => writeln!(out, "{:<14} failed: {e}", m.name)?,
            (None, Some(info), Some(macs)) => {
                writeln!(out, "{:<14} {:>14} {:>16.0} {:>12.3}", m.name, info.params, macs, macs / 1e9)?;
            }
            (None, Some(info), None) => writeln!(out, "{:<14} {:>14} {:>16} {:>12}", m.name, info.params, "-", "-")?,
            (None, None, _) => writeln!(out, "{:<14} not loaded", m.name)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::cli::LineFormat;
    use crate::core::event::Event;
    use crate::core::sampler::SystemSample;
    use crate::export::ExportError;

    /// A state in which model `a` has timed one inference.
    fn timed_state() -> MonitorState {
        use crate::core::event::Inference;
        let mut state = MonitorState::new(&["a"]);
        let inference = Inference {
            model: 0,
            seq: 1,
            wall_ns: 1_000_000,
            at_ns: 1,
            profiled: false,
            cold: false,
            usage: None,
            ops: vec![],
        };
        state.apply(Event::Inference(inference));
        state
    }

    #[test]
    fn a_run_that_timed_nothing_is_an_error_saying_why() {
        let state = MonitorState::new(&["a", "b"]);
        let saved = FinalSnapshot::Written(PathBuf::from("s"));
        let err = outcome(&End::Duration, &state, &saved, Duration::from_secs(30)).unwrap_err().to_string();
        assert_eq!(
            err,
            "no inference was timed in 30.0 s (2 of 2 models still loading); a longer --duration gives them time; \
             snapshot: s"
        );
        assert!(outcome(&End::Duration, &timed_state(), &saved, Duration::from_secs(30)).is_ok());
    }

    #[test]
    fn an_engine_that_died_is_an_error_naming_the_reason_and_the_snapshot() {
        let mut state = MonitorState::new(&["a"]);
        state.apply(Event::EngineStopped { error: Some("the engine thread panicked: boom".into()) });
        let saved = FinalSnapshot::Written(PathBuf::from("snaps/20261126-010000"));
        let err = outcome(&End::EngineStopped, &state, &saved, Duration::ZERO).unwrap_err().to_string();
        assert_eq!(err, "the engine stopped: the engine thread panicked: boom; snapshot: snaps/20261126-010000");
    }

    #[test]
    fn a_reader_that_went_away_ends_cleanly_but_a_full_stdout_does_not() {
        let saved = FinalSnapshot::Written(PathBuf::from("s"));
        let gone = End::Output(io::Error::from(io::ErrorKind::BrokenPipe));
        assert!(outcome(&gone, &timed_state(), &saved, Duration::ZERO).is_ok());
        let hung_up = End::Output(io::Error::from_raw_os_error(libc::EIO));
        assert!(outcome(&hung_up, &timed_state(), &saved, Duration::ZERO).is_ok());
        let full = End::Output(io::Error::from_raw_os_error(libc::ENOSPC));
        assert!(outcome(&full, &timed_state(), &saved, Duration::ZERO)
            .unwrap_err()
            .to_string()
            .starts_with("stdout: No space left"));
    }

    /// A run with a contended sample ends with a warning line, in either format.
    #[test]
    fn the_summary_warns_of_contention() {
        use crate::core::contention::{Contention, Reasons};
        let mut state = MonitorState::new(&["a"]);
        let summary = |state: &MonitorState, format| {
            let mut out = Vec::new();
            summary_lines(&mut out, state, (Duration::from_secs(2), 2), End::Duration.reason(), format).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert!(!summary(&state, LineFormat::Text).contains("warning"));
        let busy = Contention {
            cores: 2,
            busy_pct: 100.0,
            steal_pct: 0.0,
            own_cores: Some(1.0),
            own_threads: Some(5),
            other_cores: Some(1.0),
            load_1m: Some(2.0),
            reasons: Reasons { others: true, ..Reasons::default() },
        };
        state.apply(Event::System(SystemSample { contention: Some(Box::new(busy)), ..SystemSample::default() }));
        let text = summary(&state, LineFormat::Text);
        assert!(text.contains("\nwarning: 1 of 1 samples were taken while other work used the cores (other processes up to 1.00 cores, steal up to 0.0%)\n"), "{text}");
        // Other work used one of the two cores: one thread would have left it that core.
        assert!(text.ends_with("\nhint: --threads 1 leaves room for the other work (it used up to 1.00 of 2 cores), so inferences stop competing with it\n"), "{text}");
        let jsonl = summary(&state, LineFormat::Jsonl);
        let warnings: Vec<&str> = jsonl.lines().filter(|l| l.starts_with(r#"{"type":"warning","message":"#)).collect();
        assert!(warnings[0].contains(r#""message":"1 of 1 samples"#) && warnings[1].contains("--threads 1"), "{jsonl}");
    }

    #[test]
    fn a_lost_snapshot_fails_the_run() {
        let e = || ExportError::new("cannot write", Path::new("x"), &io::Error::from(io::ErrorKind::StorageFull));
        let lost = FinalSnapshot::Lost { error: e(), fallback: e() };
        assert!(outcome(&End::Duration, &timed_state(), &lost, Duration::ZERO)
            .unwrap_err()
            .to_string()
            .starts_with("snapshot failed"));
    }
}
