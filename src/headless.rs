//! The headless front end: one line per model every `--print-every`, a summary at the end.
//! Chosen with `--headless` or automatically when stdout is not a terminal.
//!
//! Every way a run can end writes the final snapshot first: `--duration`, a signal, the engine
//! stopping, and stdout failing (a closed pipe, an SSH session that dropped, a full disk), which
//! is treated like a signal rather than as a reason to lose the measurements.

use std::io::{self, Write};
use std::path::Path;

use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

use crate::cli::{Cli, LineFormat};
use crate::core::analysis::ModelSummary;
use crate::core::run::Control;
use crate::core::run::{Plan, Session};
use crate::core::state::MonitorState;
use crate::export::listen::{self, MetricsServer};
use crate::export::trace::TraceWriter;
use crate::export::{ExportError, Report, RunExport};
use crate::run_loop::{reader_gone, End, FrontEnd, Output, OutputLost, RunLoop, Watcher};
use crate::signals::Signals;
use crate::UsageError;

mod lines;
mod records;
mod soak_lines;
use lines::{final_snapshot_line, print_lines, report_line, summary_lines};
pub use lines::{system_line, text_line};

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
    let run_loop = RunLoop::from_cli(cli, Watcher::Nobody);
    let meta = crate::run_meta(cli, plan, "headless");
    let folder =
        RunExport::start(export_base, meta, Some(cli.inferences_part_bytes())).map_err(UsageError::ExportDir)?;
    let mut session = run_loop.start_session(plan)?;
    session.set_journal(folder.journal());
    let traces = match &cli.trace {
        Some(dir) => Some(TraceWriter::start(dir.clone())?),
        None => None,
    };
    if let Some(writer) = &traces {
        session.set_trace_sink(writer.sink());
        session.control(Control::Trace(None));
    }
    let mut printer = Printer::start(cli, folder, traces, metrics);
    // A stdout that fails here fails again at the next line, which ends the run.
    let _ = lines::legend(&mut printer.out, cli.format);
    let mut end = run_loop.drive(&mut session, &mut signals, &mut printer).await;
    let Printer { mut out, started, folder, traces, .. } = printer;
    let elapsed = started.elapsed();
    for written in traces.map(TraceWriter::finish).unwrap_or_default() {
        crate::eprintln_best_effort(&trace_line(&written));
    }
    // After every inference the session applied: the journal's entries are ahead in the queue.
    let last = folder.finish(&session.state);
    if !matches!(end, End::Output(_)) {
        let closing = summary_lines(&mut out, &session.state, (elapsed, plan.threads), &end.reason(), cli.format)
            .and_then(|()| soak_lines::write(&mut out, &session.state, cli.format))
            .and_then(|()| writeln!(out, "{}", final_snapshot_line(&last, cli.format)))
            .and_then(|()| out.flush());
        match closing {
            // The summary may be the run's first write (a --duration shorter than
            // --print-every): a stdout that fails then (a full disk) fails the run, as at any
            // other line; a reader that left is a normal end.
            Err(e) if !reader_gone(&e) => end = stdout_failed(e),
            Err(e) => crate::eprintln_best_effort(&format!("infertop: stdout: {e}; {}", last.describe())),
            Ok(()) => {}
        }
    }
    if let End::Output(lost) = &end {
        crate::eprintln_best_effort(&format!("infertop: stopped: stdout: {}; {}", lost.error, last.describe()));
    }
    run_loop.exit_status(&end, &session.state, Some(&last), elapsed)
}

/// The end of a run whose stdout failed with `error`.
fn stdout_failed(error: io::Error) -> End {
    End::Output(OutputLost { output: Output::Stdout, error })
}

/// The headless front end while measuring: lines every `--print-every`, the run folder's
/// exports and reports, traces written, scrapes answered.
struct Printer<'a> {
    format: LineFormat,
    out: io::StdoutLock<'static>,
    /// When measuring started, the time the lines count from.
    started: Instant,
    ticker: Interval,
    exports: Option<Interval>,
    folder: RunExport,
    traces: Option<TraceWriter>,
    metrics: Option<&'a MetricsServer>,
}

/// What the headless front end waits for.
enum Input<'a> {
    /// Time for the next lines.
    Print,
    /// Time for a periodic export (`--export-every`).
    Export,
    Report(Report),
    TraceWritten(Result<std::path::PathBuf, ExportError>),
    Scrape(&'a MetricsServer),
}

impl<'a> Printer<'a> {
    fn start(cli: &Cli, folder: RunExport, traces: Option<TraceWriter>, metrics: Option<&'a MetricsServer>) -> Self {
        let started = Instant::now();
        let mut ticker = interval_at(started + cli.print_every, cli.print_every);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let exports = cli.export_every.map(|every| interval_at(started + every, every));
        Self { format: cli.format, out: io::stdout().lock(), started, ticker, exports, folder, traces, metrics }
    }
}

impl<'a> FrontEnd for Printer<'a> {
    type Input = Input<'a>;

    async fn next(&mut self) -> Input<'a> {
        tokio::select! {
            _ = self.ticker.tick() => Input::Print,
            () = next_tick(self.exports.as_mut()) => Input::Export,
            report = self.folder.report() => Input::Report(report),
            written = next_trace(self.traces.as_mut()) => Input::TraceWritten(written),
            server = listen::wanted(self.metrics) => Input::Scrape(server),
        }
    }

    fn handle(&mut self, input: Input<'a>, session: &mut Session) -> Option<End> {
        match input {
            Input::Print => {
                return print_lines(&mut self.out, &session.state, self.started.elapsed(), self.format)
                    .err()
                    .map(stdout_failed)
            }
            // A failed periodic export is reported and measuring goes on; the final one is
            // tried again at exit.
            Input::Report(report) => {
                return writeln!(self.out, "{}", report_line(report, self.format)).err().map(stdout_failed)
            }
            // One periodic export at a time: a disk slower than the period skips a turn.
            Input::Export => {
                self.folder.request_export(&session.state);
            }
            Input::TraceWritten(written) => crate::eprintln_best_effort(&trace_line(&written)),
            Input::Scrape(server) => server.publish(&session.state),
        }
        None
    }
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
async fn next_tick(interval: Option<&mut Interval>) {
    match interval {
        Some(i) => {
            i.tick().await;
        }
        None => std::future::pending().await,
    }
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
    use std::time::Duration;

    use super::*;
    use crate::cli::LineFormat;
    use crate::core::machine::SystemSample;
    use crate::core::run::Event;

    /// A run with a contended sample ends with a warning line, in either format.
    #[test]
    fn the_summary_warns_of_contention() {
        use crate::core::machine::{Contention, Reasons};
        let mut state = MonitorState::new(&["a"]);
        let summary = |state: &MonitorState, format| {
            let mut out = Vec::new();
            summary_lines(&mut out, state, (Duration::from_secs(2), 2), &End::Duration.reason(), format).unwrap();
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
}
