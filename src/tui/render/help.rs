//! The `?` overlay: every key, then every column and abbreviation the views draw with its unit
//! and how it is computed. Longer than a small screen, so ↑/↓ (k/j) scroll it while it is open.

use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};
use ratatui::Frame;

use super::Ctx;

/// Term and what it means. A term naming a column is written exactly as its header.
pub const ENTRIES: &[(&str, &str)] = &[
    ("↑ ↓  k j", "select a model or a table row; scroll this help"),
    ("PgUp PgDn", "a page up / down (g G Home End: first / last)"),
    ("Enter", "open the selected model's Detail; Esc back (else to Models)"),
    ("Tab ⇧Tab", "next / previous view"),
    ("← →  h l", "Detail: move to the next table (▸ and a lit border mark it)"),
    ("s  S", "next sort column / reverse it (▼ high first, ▲ low)"),
    ("/", "filter the table in front by name (Enter keep, Esc clear)"),
    ("mouse", "click a tab or a row, wheel scrolls (--no-mouse: off)"),
    ("p", "pause / resume inference"),
    ("o", "op profiler off / on (what it costs)"),
    ("f", "run only the selected model / all"),
    ("r", "reset latencies and op times"),
    ("e", "export a snapshot"),
    ("c  C", "trace the next inference: selected / each model"),
    ("t", "next colour theme"),
    ("?  Esc", "open / close this help"),
    ("q  Ctrl-C", "quit"),
    ("views", "Models → Detail → Beyond MACs → System"),
    ("— Models", ""),
    ("params", "weights and biases of the model, count"),
    ("MACs", "multiply-accumulates per inference (calibrated)"),
    ("p50 ms", "median latency of warm timed inferences, ms"),
    ("p90 ms", "90th percentile latency, ms (needs n ≥ 10)"),
    ("p99 ms", "99th percentile latency, ms (needs n ≥ 100)"),
    ("inf/s", "batch ÷ mean latency, inferences per second"),
    ("ms/GMAC", "p50 ms ÷ (MACs / 1e9): ms per billion MACs"),
    ("MAC/s", "model MAC/s: MACs ÷ p50 latency (all ops and the gaps)"),
    ("%peak", "MAC/s ÷ the machine's measured peak MAC/s"),
    ("¬conv", "op time outside convolutions: 100 % − Detail's Conv2D"),
    ("thr+", "throttled mean ÷ unthrottled mean − 1 (n.s.: noise)"),
    ("n", "warm inferences timed, count"),
    ("faults", "minor page faults ÷ warm inferences"),
    ("cold+", "p50 after a switch − warm p50, ms"),
    ("mJ/inf", "energy ÷ warm inferences, mJ (needs power)"),
    ("pred ms", "latency the kernel calibration predicts (infertop calibrate)"),
    ("×pred", "p50 ÷ predicted: time the calibrated kernels do not account for"),
    ("latency", "recent latencies, oldest left"),
    ("what-if", "variant p50 ÷ its original's − 1 (runs with --what-if)"),
    ("✓ ± ✗ out", "faster / no clear change (95 % intervals) / output differs"),
    ("…", "what-if: fewer than 6 latencies or not loaded yet"),
    ("└ ⟨fold-bn⟩", "a variant under its original; the original shows its best"),
    ("█ conv ▓ BN", "op time by kind: one glyph per kind, % of op time"),
    ("samples", "timed inferences behind a sparkline; its min–max ms"),
    ("— Detail", ""),
    ("[a–b]", "95 % interval of the median, ms"),
    ("Δp50 [a, b]", "what-if: change of median and its 95 % interval, %"),
    ("output rel", "max |variant − original| ÷ max |original|; ≤ 1e-4 agrees"),
    ("shares pt", "what-if: change of op-time share by kind, points"),
    ("roofline pt", "what-if: change of the roofline's four shares, points"),
    ("category", "op kind: Conv2D, BatchNorm, … Other"),
    ("roofline", "op time bound by MACs ÷ peak (compute) or bytes ÷ bandwidth"),
    ("below peak", "op time in conv / matmul kernels beyond that floor"),
    ("outside", "the rest: dispatch, bookkeeping, allocation, BN, ReLU, …"),
    ("cmp mem <pk", "short for compute, memory, below peak (out: outside)"),
    ("time", "share of op time, % (MACs beside it: share of MACs)"),
    ("op", "a libtorch op, without its aten:: namespace"),
    ("self ms", "an op's own time per inference, ms"),
    ("total ms", "self ms + the ops it calls, ms"),
    ("calls", "calls per inference"),
    ("% time", "self ms ÷ op time of the inference"),
    ("% conv", "self ms ÷ time inside convolutions"),
    ("kind", "kernel (math), dispatch, bookkeep"),
    ("layer", "a named sub-module; ms, time %, MACs %"),
    ("shape", "a layer's output, NxCxHxW (layers.csv: in too)"),
    ("pred", "a layer's ms as the kernel calibration predicts them"),
    ("— Beyond MACs", ""),
    ("Pearson", "linear correlation with latency, −1…+1"),
    ("Spearman", "rank correlation with latency, −1…+1"),
    ("op calls", "top-level op calls per inference"),
    ("bytes moved", "bytes ops read and write per inference"),
    ("◀", "best predictor: the largest |Spearman| (3+ models)"),
    ("╱ median", "line: latency = median ms/GMAC × GMACs (slope 1)"),
    ("×med", "ms/GMAC ÷ the median model's ms/GMAC"),
    ("MAC±", "left-out error of a·MACs + c fitted on the others, %"),
    ("ops±", "the same for Σ per op kind a·MACs + b·bytes + c·calls"),
    ("kernel GMAC/s", "the slowest conv kernel's MACs ÷ its own time (not MAC/s)"),
    ("— System", ""),
    ("CPU", "infertop's process, inference threads included, % of a core"),
    ("UI", "the screen's own drawing and event handling, % of a core"),
    ("profiler", "profiled mean ÷ warm p50 − 1, median over models"),
];

/// Width of the box: the longest entry plus the key column and borders.
const WIDTH: u16 = 76;

/// The help as lines, one per entry; section titles in the title style.
fn lines(ctx: &Ctx) -> Vec<Line<'static>> {
    ENTRIES
        .iter()
        .map(|(term, what)| {
            if what.is_empty() {
                return Line::styled(format!(" {term}"), ctx.theme.title);
            }
            Line::from(vec![Span::styled(format!(" {term:<13} "), ctx.theme.header), Span::raw(*what)])
        })
        .collect()
}

/// Draws the help box centred over `area`, from line `ctx.ui.help_scroll` on (kept so the last
/// page stays full).
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx) {
    let total = u16::try_from(ENTRIES.len()).unwrap_or(u16::MAX);
    let height = (total + 2).min(area.height);
    let [row] = Layout::vertical([Constraint::Length(height)]).flex(Flex::Center).areas(area);
    let [rect] = Layout::horizontal([Constraint::Length(WIDTH)]).flex(Flex::Center).areas(row);
    let visible = height.saturating_sub(2);
    let first = u16::try_from(ctx.ui.help_scroll).unwrap_or(u16::MAX).min(total.saturating_sub(visible));
    let title = if visible < total {
        format!("help · ↑↓ {}–{} of {total}", first + 1, first + visible)
    } else {
        "help".to_string()
    };
    frame.render_widget(Clear, rect);
    let help = Paragraph::new(lines(ctx)).style(ctx.theme.text).block(ctx.panel(&title)).scroll((first, 0));
    frame.render_widget(help, rect);
}
