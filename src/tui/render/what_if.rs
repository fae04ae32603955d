//! What-if variants on screen: the models table's what-if cell (a variant's change of median
//! with its verdict, an original's best variant) and the detail view's what-if block (per
//! variant: the change with its interval, the verdict, the output check against the
//! tolerance, the largest changes of category shares and of the roofline split; for a thread
//! sweep, the best thread count). A variant whose output differs is never shown as faster.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::units::ms;
use super::Ctx;
use crate::core::analysis::{best_threads, Comparison, Verdict};
use crate::core::models::{Variant, OUTPUT_TOLERANCE};
use crate::core::run::ModelId;
use crate::core::state::ModelStatus;
use crate::tui::theme::Theme;
use crate::tui::variants::{short, Role};

/// Width of the what-if column: `-18% ✓ fold`, `+4% t=12`.
pub const CELL_WIDTH: u16 = 11;

/// Category shares named in the block: the largest changes.
const TOP_SHARES: usize = 3;

/// A change as a whole percentage: `-18%`, `+4%`, `0%`.
fn whole_pct(delta: f64) -> String {
    let p = (delta * 100.0).round();
    if p == 0.0 {
        "0%".into()
    } else {
        format!("{p:+.0}%")
    }
}

/// The verdict's mark after a change (`✓` faster, `±` no clear change) and its style.
fn mark(verdict: Verdict, theme: &Theme) -> (&'static str, Style) {
    match verdict {
        Verdict::Faster => (" ✓", theme.good),
        Verdict::Slower => ("", theme.warn),
        Verdict::NoClearChange => (" ±", theme.dim),
        Verdict::Pending | Verdict::Disagrees => ("", theme.dim),
    }
}

/// What a variant's cell says once it is compared: its change and mark, `…` while pending,
/// `✗ out` when its output differs (`✗ n/a` when it could not be compared), whatever its latency.
fn variant_cell(c: &Comparison, theme: &Theme) -> Span<'static> {
    match (c.verdict, c.delta_p50) {
        (Verdict::Disagrees, _) => Span::styled(if c.check.is_ok() { "✗ out" } else { "✗ n/a" }, theme.bad),
        (Verdict::Pending, _) | (_, None) => Span::styled("…", theme.dim),
        (verdict, Some(d)) => {
            let (mark, style) = mark(verdict, theme);
            Span::styled(format!("{}{mark}", whole_pct(d)), style)
        }
    }
}

/// The what-if cell of model `id`: empty for a model without variants.
#[must_use]
pub fn cell(ctx: &Ctx, id: ModelId) -> Span<'static> {
    let (what_if, theme) = (&ctx.what_if, ctx.theme);
    match what_if.role(id) {
        Role::Alone => Span::raw(""),
        Role::Variant { .. } => {
            what_if.comparison(id).map_or_else(|| Span::styled("…", theme.dim), |c| variant_cell(c, theme))
        }
        Role::Original => {
            if let Some((best, d)) = what_if.best(id).and_then(|c| Some((c, c.delta_p50?))) {
                let (mark, style) = mark(best.verdict, theme);
                return Span::styled(format!("{}{mark} {}", whole_pct(d), short(best.variant)), style);
            }
            let variants = what_if.variants_of(id);
            let waiting = variants.iter().any(|&v| {
                let failed = matches!(ctx.state.models[v].status, ModelStatus::Failed(_));
                !failed && what_if.comparison(v).is_none_or(|c| c.verdict == Verdict::Pending)
            });
            if waiting {
                Span::styled("…", theme.dim)
            } else if what_if.comparisons_of(id).next().is_some() {
                Span::styled("✗ out", theme.bad)
            } else {
                Span::raw("")
            }
        }
    }
}

/// Lines of items joined by ` · `, a new line where the next item would pass `width`; each
/// group starts a line of its own.
fn flow(groups: Vec<Vec<Vec<Span<'static>>>>, width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for group in groups {
        let mut line: Vec<Span<'static>> = Vec::new();
        let mut used = 0;
        for item in group {
            let len: usize = item.iter().map(|s| s.content.chars().count()).sum();
            if used > 0 && used + 3 + len > width {
                lines.push(Line::from(std::mem::take(&mut line)));
                used = 0;
            }
            if used > 0 {
                line.push(Span::styled(" · ", theme.dim));
                used += 3;
            }
            line.extend(item);
            used += len;
        }
        lines.push(Line::from(line));
    }
    lines
}

/// A percentage-point change: `+5.1`.
fn points(delta: f64) -> String {
    format!("{:+.1}", delta * 100.0)
}

/// One variant's items: change with interval, verdict, output check, shares, roofline.
fn items(c: &Comparison, label: Option<Variant>, theme: &Theme) -> Vec<Vec<Span<'static>>> {
    let prefix = label.map_or_else(String::new, |v| format!("\u{27e8}{v}\u{27e9} "));
    let change = match (c.delta_p50, c.delta_ci) {
        (Some(d), Some((lo, hi))) => {
            format!("{prefix}Δp50 {:+.1}% [{:+.1}, {:+.1}]", d * 100.0, lo * 100.0, hi * 100.0)
        }
        (Some(d), None) => format!("{prefix}Δp50 {:+.1}% (no interval yet)", d * 100.0),
        (None, _) => format!("{prefix}Δp50 waiting for latencies"),
    };
    let verdict_style = match c.verdict {
        Verdict::Faster => theme.good,
        Verdict::Slower => theme.warn,
        Verdict::Disagrees => theme.bad,
        Verdict::Pending | Verdict::NoClearChange => theme.dim,
    };
    let mut out = vec![vec![Span::raw(change)], vec![Span::styled(c.verdict.label(), verdict_style)]];
    out.push(match &c.check {
        Ok(check) if check.agrees() => vec![Span::raw(format!(
            "output rel {:.1e} ≤ {OUTPUT_TOLERANCE:.0e} (abs {:.1e})",
            check.max_rel, check.max_abs
        ))],
        Ok(check) => vec![Span::styled(
            format!(
                "output rel {:.1e} > {OUTPUT_TOLERANCE:.0e} (abs {:.1e}): no speed-up claimed",
                check.max_rel, check.max_abs
            ),
            theme.bad,
        )],
        Err(why) => vec![Span::styled(format!("output not compared ({why}): no speed-up claimed"), theme.bad)],
    });
    let mut shares: Vec<_> = c.delta_shares.iter().filter(|(_, d)| d.abs() >= 0.0005).collect();
    shares.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
    out.push(if c.delta_shares.is_empty() {
        vec![Span::styled("shares: waiting for profiled runs", theme.dim)]
    } else if shares.is_empty() {
        vec![Span::raw("shares unchanged")]
    } else {
        let top: Vec<String> =
            shares.iter().take(TOP_SHARES).map(|(k, d)| format!("{} {}", k.short(), points(*d))).collect();
        vec![Span::raw(format!("shares {} pt", top.join(" ")))]
    });
    out.push(match c.delta_split {
        Some([cmp, mem, below, outside]) => vec![Span::raw(format!(
            "roofline cmp {} mem {} <pk {} out {} pt",
            points(cmp),
            points(mem),
            points(below),
            points(outside)
        ))],
        None => vec![Span::styled("roofline: waiting", theme.dim)],
    });
    out
}

/// The original's summary: its best agreeing variant, and the best thread count of a sweep.
fn summary(ctx: &Ctx, base: ModelId) -> Vec<Vec<Span<'static>>> {
    let theme = ctx.theme;
    let mut out = vec![match ctx.what_if.best(base) {
        Some(best) if best.verdict == Verdict::Faster => vec![Span::styled(
            format!("best ⟨{}⟩ {:+.1}%", best.variant, best.delta_p50.unwrap_or(0.0) * 100.0),
            theme.good,
        )],
        Some(best) => vec![Span::raw(format!(
            "no variant faster (closest ⟨{}⟩ {:+.1}%)",
            best.variant,
            best.delta_p50.unwrap_or(0.0) * 100.0
        ))],
        None => vec![Span::styled("no agreeing variant measured yet", theme.dim)],
    }];
    let sweep = ctx.what_if.comparisons_of(base).any(|c| matches!(c.variant, Variant::Threads(_)));
    if sweep {
        let own = ctx.ui.run_threads.unwrap_or(0);
        out.push(vec![Span::raw(match best_threads(ctx.state, ctx.what_if.comparisons(), base, own) {
            Some((n, p50)) if n == own && own > 0 => format!("best thread count: the run's own {n} ({} ms)", ms(p50)),
            Some((n, p50)) if n == own => format!("best thread count: the run's own ({} ms)", ms(p50)),
            Some((n, p50)) => format!("best thread count: {n} ({} ms)", ms(p50)),
            None => "best thread count: waiting for latencies".into(),
        })]);
    }
    out
}

/// The block's lines for model `id` at `width`, or `None` for a model without variants. An
/// original whose variants' full comparisons take more than `room` lines gets one line per
/// variant instead (change, interval, verdict); its variants' rows hold the rest.
#[must_use]
pub fn lines(ctx: &Ctx, id: ModelId, width: usize, room: usize) -> Option<Vec<Line<'static>>> {
    let theme = ctx.theme;
    match ctx.what_if.role(id) {
        Role::Alone => None,
        Role::Variant { .. } => Some(flow(
            vec![match ctx.what_if.comparison(id) {
                Some(c) => items(c, None, theme),
                None => vec![vec![Span::styled("waiting for the variant to load", theme.dim)]],
            }],
            width,
            theme,
        )),
        Role::Original => {
            let full = flow(original(ctx, id, false), width, theme);
            Some(if full.len() > room { flow(original(ctx, id, true), width, theme) } else { full })
        }
    }
}

/// An original's groups: its summary, then each variant in full or (`compact`) its first two items.
fn original(ctx: &Ctx, id: ModelId, compact: bool) -> Vec<Vec<Vec<Span<'static>>>> {
    let mut groups = vec![summary(ctx, id)];
    for v in ctx.what_if.variants_of(id) {
        groups.push(match ctx.what_if.comparison(v) {
            Some(c) => {
                let mut items = items(c, Some(c.variant), ctx.theme);
                if compact {
                    items.truncate(2);
                }
                items
            }
            None => vec![vec![Span::styled(format!("{}: not loaded", ctx.state.models[v].name), ctx.theme.dim)]],
        });
    }
    groups
}

/// The block's title for model `id`.
fn title(ctx: &Ctx, id: ModelId) -> String {
    match ctx.what_if.role(id) {
        Role::Variant { base, .. } => {
            format!("what-if · {} vs {}", ctx.state.models[id].name, ctx.state.models[base].name)
        }
        _ => format!("what-if · {} variants of {}", ctx.what_if.variants_of(id).len(), ctx.state.models[id].name),
    }
}

/// Draws the block into `area`; lines that do not fit end in one saying how many more.
pub fn render(frame: &mut Frame, area: Rect, ctx: &Ctx, id: ModelId, mut lines: Vec<Line<'static>>) {
    let block = ctx.panel(&title(ctx, id));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let room = usize::from(inner.height);
    if lines.len() > room && room > 0 {
        let more = lines.len() - room + 1;
        lines.truncate(room - 1);
        let hint = if ctx.what_if.role(id) == Role::Original { ": select a variant row for its own" } else { "" };
        lines.push(Line::styled(format!("… {more} more lines{hint}"), ctx.theme.dim));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
