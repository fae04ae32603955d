//! A traced inference as a Chrome trace-event JSON file (`trace-<model>-<seq>.json`), the format
//! Perfetto's UI and `chrome://tracing` open: the model's scope, its layers and their ops as
//! complete (`X`) slices on the engine thread, metadata (`M`) naming the process and thread,
//! and counter (`C`) tracks of the clocks and temperatures sampled around the inference.
//!
//! Times are µs since the session's epoch (`core::run::epoch`; `system.csv`'s `t_ms` × 1000), so a trace lines up
//! with the run folder's series.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::thread::JoinHandle;

use serde_json::{json, Map, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::files::write_atomic;
use super::ExportError;
use crate::core::run::TraceSink;
use crate::core::state::{CounterPoint, SliceKind, TraceDoc, TraceSlice};

/// µs, as the format wants them, from ns. Half a nanosecond is added so that a reader that
/// multiplies by 1000 and truncates (as Perfetto's JSON importer does) gets the exact
/// nanosecond back, and a child never ends a nanosecond after its parent.
fn us(ns: u64) -> f64 {
    (ns as f64 + 0.5) / 1000.0
}

/// The file name of `doc`'s trace: `trace-<model>-<seq>.json`, the model's name kept to
/// characters every file system takes.
#[must_use]
pub fn trace_file_name(doc: &TraceDoc) -> String {
    let model: String =
        doc.model.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    format!("trace-{model}-{}.json", doc.seq)
}

/// `doc` as a trace-event document.
#[must_use]
pub fn trace_json(doc: &TraceDoc) -> Value {
    let (pid, tid) = (doc.pid, doc.tid);
    let mut events = vec![
        json!({"name": "process_name", "ph": "M", "pid": pid, "tid": tid,
               "args": {"name": format!("infertop: {}", doc.model)}}),
        json!({"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": doc.thread}}),
    ];
    let mut slices: Vec<&TraceSlice> = doc.slices.iter().collect();
    // Parents before their children: earlier first, and the longer of two that start together.
    slices.sort_by_key(|s| (s.start_ns, std::cmp::Reverse(s.dur_ns)));
    events.extend(slices.into_iter().map(|s| slice_event(doc, s)));
    events.extend(doc.clock_mhz.iter().map(|p| counter_event(doc, "clock_mhz", p)));
    events.extend(doc.temperature_c.iter().map(|p| counter_event(doc, "temperature_c", p)));
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ns",
        "otherData": {
            "model": &*doc.model,
            "seq": doc.seq,
            "time": "µs since the session's start (system.csv's t_ms × 1000)",
            "infertop": env!("CARGO_PKG_VERSION"),
        },
    })
}

fn slice_event(doc: &TraceDoc, s: &TraceSlice) -> Value {
    let mut args = Map::new();
    args.insert("node".into(), json!(s.node));
    if let Some(parent) = s.parent {
        args.insert("parent_node".into(), json!(parent));
    }
    args.insert("self_us".into(), json!(s.self_ns as f64 / 1000.0));
    if let Some(category) = s.category {
        args.insert("category".into(), json!(category.label()));
    }
    if let Some(macs) = s.macs {
        args.insert("macs".into(), json!(macs));
    }
    if let Some(bytes) = s.bytes {
        args.insert("bytes".into(), json!(bytes));
    }
    if s.kind == SliceKind::Model {
        args.insert("seq".into(), json!(doc.seq));
        args.insert("latency_ms".into(), json!(doc.wall_ns as f64 / 1e6));
        args.insert("op_time_us".into(), json!(doc.top_level_op_ns() as f64 / 1000.0));
        args.insert("intra_op_threads".into(), json!(doc.intra_op_threads));
        args.insert("ops_on_other_threads".into(), json!(doc.foreign_ops));
    }
    let cat = match s.category {
        Some(c) => format!("op,{}", c.key()),
        None => s.kind.key().to_string(),
    };
    json!({
        "name": &*s.name, "cat": cat, "ph": "X", "ts": us(s.start_ns), "dur": us(s.dur_ns),
        "pid": doc.pid, "tid": doc.tid, "args": args,
    })
}

fn counter_event(doc: &TraceDoc, name: &str, point: &CounterPoint) -> Value {
    let args: Map<String, Value> = point.values.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({"name": name, "ph": "C", "ts": us(point.at_ns), "pid": doc.pid, "tid": doc.tid, "args": args})
}

/// Writes `doc` into `dir` (created if missing), atomically; returns the file.
///
/// # Errors
/// When the folder cannot be created or the file written, naming it.
pub fn write_trace(dir: &Path, doc: &TraceDoc) -> Result<PathBuf, ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| ExportError::new("cannot create trace folder", dir, &e))?;
    let path = dir.join(trace_file_name(doc));
    let json = trace_json(doc);
    write_atomic(&path, |w| serde_json::to_writer(w, &json).map_err(std::io::Error::from))?;
    Ok(path)
}

/// Creates `dir` if missing and proves that files can be made in it, before a run measures
/// anything it could not save.
///
/// # Errors
/// When the folder cannot be created or written, naming it and the reason.
pub fn check_trace_dir(dir: &Path) -> Result<(), ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| ExportError::new("cannot create trace folder", dir, &e))?;
    let probe = dir.join(format!(".infertop-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| ExportError::new("cannot write in trace folder", dir, &e))?;
    std::fs::remove_file(&probe).map_err(|e| ExportError::new("cannot remove a file in trace folder", dir, &e))
}

/// What the writer thread is given.
enum Message {
    Doc(Box<TraceDoc>),
    Finish,
}

/// Writes traces into a folder on a thread of its own, so a slow disk never stalls the front
/// end; each file written (or the reason it was not) is reported.
pub struct TraceWriter {
    dir: PathBuf,
    queue: Sender<Message>,
    thread: Option<JoinHandle<()>>,
    reports: UnboundedReceiver<Result<PathBuf, ExportError>>,
}

impl TraceWriter {
    /// Starts the writer for `dir` (created when the first trace comes).
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn start(dir: PathBuf) -> std::io::Result<Self> {
        let (queue, inbox) = channel();
        let (report, reports) = unbounded_channel();
        let folder = dir.clone();
        let thread = std::thread::Builder::new().name("infertop-trace".into()).spawn(move || {
            write_until_finished(&folder, &inbox, &report);
        })?;
        Ok(Self { dir, queue, thread: Some(thread), reports })
    }

    /// The folder traces go to.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A sink for [`crate::core::run::Session::set_trace_sink`] that queues every trace
    /// for this writer (never blocking).
    #[must_use]
    pub fn sink(&self) -> TraceSink {
        let queue = self.queue.clone();
        Box::new(move |doc| {
            let _ = queue.send(Message::Doc(Box::new(doc)));
        })
    }

    /// The next trace written, or why it was not. Cancel-safe, for `select!`.
    ///
    /// # Errors
    /// Why a trace could not be written.
    pub async fn written(&mut self) -> Result<PathBuf, ExportError> {
        match self.reports.recv().await {
            Some(report) => report,
            None => std::future::pending().await,
        }
    }

    /// Writes what is queued, stops the thread, and returns the reports not yet collected.
    #[must_use]
    pub fn finish(mut self) -> Vec<Result<PathBuf, ExportError>> {
        let _ = self.queue.send(Message::Finish);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        std::iter::from_fn(|| self.reports.try_recv().ok()).collect()
    }
}

fn write_until_finished(dir: &Path, inbox: &Receiver<Message>, report: &UnboundedSender<Result<PathBuf, ExportError>>) {
    while let Ok(Message::Doc(doc)) = inbox.recv() {
        let _ = report.send(write_trace(dir, &doc));
    }
}
