//! The README's picture of the live screen, `docs/screen.svg`, drawn from a real run: a short
//! session on four built-in models, drawn by the real `render` into ratatui's `TestBackend` at
//! 120x36 on the Models view, then written as SVG by `infertop::tui::screen_svg`.
//!
//! The test fails when the screen's fixed parts (tabs, column headers, panel titles) no longer
//! match the picture, so a changed screen needs a new picture: `make screen` (this test with
//! `INFERTOP_UPDATE_SCREEN=1`) writes it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "support/screen.rs"]
mod screen;

use std::time::{Duration, Instant};

use infertop::core::models::{Arch, ModelSource, ModelSpec};
use infertop::core::run::{Event, Plan, Schedule, Session};
use infertop::core::state::MonitorState;
use infertop::tui::app::{UiState, View};
use infertop::tui::screen_svg::{self, Defaults, CELL_HEIGHT, CELL_WIDTH};
use infertop::tui::theme::Theme;
use ratatui::style::Color;
use screen::Screen;

const WIDTH: u16 = 120;
const HEIGHT: u16 = 36;
/// Warm timed inferences per model before the screen is drawn: p90 needs 10. Kept at that
/// because `make test-aarch64` runs this under qemu, where one of these models takes over a
/// second per inference and a dwell there holds one cold and one warm inference: 20 took more
/// than ten minutes beside a busy core.
const TIMED: u64 = 10;
/// Profiled inferences per model, so the op breakdown under the table has something to show.
const PROFILED: u64 = 2;
/// How long the run may go without a single inference before the test calls it hung: far
/// above one emulated inference (about 1.5 s) or the limits measured at the start, and not a
/// bound on how long reaching the counts takes.
const HUNG_AFTER: Duration = Duration::from_secs(300);
/// Turns (dwells) of every model after which the screen is drawn anyway. Natively the counts
/// above come within the first two turns (a dwell holds a hundred inferences); under qemu a
/// dwell holds one cold and one warm inference, and the screen is drawn with what was measured
/// after this many. The checks below need only the screen's layout, the same either way.
const ENOUGH_TURNS: usize = 12;
const PICTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/screen.svg");

/// Runs four small built-in models of the kinds the README talks about (depthwise separable,
/// inverted residual, grouped with channel shuffle: `mobilenet`, `mobilenetv2`, `shufflenet`,
/// `shufflenetv2`), which are also quick under emulation, until each has `TIMED` warm inferences and
/// `PROFILED` profiled ones, the machine's limits are measured and the sampler has run twice
/// (contention needs two samples). Ends on counts, never on a clock.
fn measured() -> MonitorState {
    let archs = [Arch::MobileNet, Arch::MobileNetV2, Arch::ShuffleNet, Arch::ShuffleNetV2];
    let plan = Plan {
        models: archs.iter().map(|a| ModelSpec::new(a.name(), ModelSource::Arch(*a), [3, 32, 32])).collect(),
        threads: 1,
        op_profile: true,
        profile_every: 4,
        warmup: 2,
        iterations: None,
        calibration_cache: None,
        background_calibration: None,
        manifest_source: "built-in".into(),
        sample_every: Some(Duration::from_millis(250)),
        sysfs_root: "/".into(),
        replay_speed: 1.0,
        schedule: Schedule::Dwell(Duration::from_millis(500)),
    };
    let mut session = Session::start(&plan, false).unwrap();
    // Only a safety net against a hang: a slow machine just takes longer to reach the counts.
    let mut last_inference = Instant::now();
    let mut turns = [0; 4];
    let done = |s: &MonitorState| {
        s.peak_gmacs.is_some()
            && s.bandwidth_gbs.is_some()
            && s.system.len() >= 2
            && s.models.iter().all(|m| m.profiled >= PROFILED && m.latency.summary().is_some_and(|l| l.count >= TIMED))
    };
    while !done(&session.state) && turns.iter().any(|n| *n < ENOUGH_TURNS) {
        assert!(last_inference.elapsed() < HUNG_AFTER, "no inference for {HUNG_AFTER:?}: the run hung");
        let event = session.events.blocking_recv().expect("engine running");
        if let Event::Inference(i) = &event {
            last_inference = Instant::now();
            turns[i.model] += usize::from(i.cold);
        }
        session.state.apply(event);
    }
    // Taken before stopping, so the picture shows a running monitor, not "engine stopped".
    let state = std::mem::replace(&mut session.state, MonitorState::new::<&str>(&[]));
    session.stop();
    state
}

/// What `Color::Reset` means in the picture: the theme's own text and background colours,
/// which the screen paints everywhere anyway.
fn defaults(theme: &Theme) -> Defaults {
    Defaults { fg: theme.text.fg.unwrap_or(Color::Gray), bg: theme.text.bg.unwrap_or(Color::Black) }
}

/// The rows of an SVG as text, read with an HTML parser (not with the writer's own code): each
/// `<tspan>`'s decoded text put at the column its `x` names, on the row its `<text>`'s `y`
/// names, on a screen of spaces.
fn svg_rows(svg: &str, width: usize, height: usize) -> Vec<String> {
    let document = scraper::Html::parse_fragment(svg);
    let texts = scraper::Selector::parse("text").unwrap();
    let tspans = scraper::Selector::parse("tspan").unwrap();
    let mut rows = vec![vec![' '; width]; height];
    for text in document.select(&texts) {
        let y: u32 = text.value().attr("y").expect("a row's y").parse().unwrap();
        let row = usize::try_from(y / CELL_HEIGHT).unwrap();
        for tspan in text.select(&tspans) {
            let x: u32 = tspan.value().attr("x").expect("a run's x").parse().unwrap();
            assert_eq!(x % CELL_WIDTH, 0, "runs start on a cell: {x}");
            let column = usize::try_from(x / CELL_WIDTH).unwrap();
            for (i, c) in tspan.text().collect::<String>().chars().enumerate() {
                rows[row][column + i] = c;
            }
        }
    }
    rows.into_iter().map(|r| r.into_iter().collect()).collect()
}

/// The parts of a screen that do not depend on what was measured or when, each with its row:
/// the tab names (the tab line up to the status beside them), every word of the models
/// table's header line, and on every panel border line (where titles sit) and the key line at
/// the bottom the words that hold no digit (figures, counts and times all have one).
fn fixed_labels(rows: &[String]) -> Vec<(usize, String)> {
    let is_border = |line: &str| ['┌', '╭', '└', '╰'].iter().any(|c| line.contains(*c));
    let words = |text: &str| -> Vec<String> {
        text.split(|c: char| c.is_whitespace() || "─│┌┐└┘╭╮╰╯├┤┬┴┼".contains(c))
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    };
    let mut labels = Vec::new();
    // The status follows the tabs after a gap of spaces.
    let tabs = rows[0].trim_start().split("  ").next().unwrap_or_default();
    labels.extend(words(tabs).into_iter().map(|w| (0, w)));
    let header = rows.iter().position(|l| l.starts_with("│model")).expect("the models table's header line");
    labels.extend(words(&rows[header]).into_iter().map(|w| (header, w)));
    for (y, line) in rows.iter().enumerate() {
        if is_border(line) || y == rows.len() - 1 {
            let fixed = words(line).into_iter().filter(|w| !w.chars().any(|c| c.is_ascii_digit()));
            labels.extend(fixed.map(|w| (y, w)));
        }
    }
    labels
}

#[test]
fn the_readme_picture_is_the_live_screen_of_a_real_run() {
    let theme = Theme::default();
    let screen = Screen::new(measured(), UiState { view: View::Models, ..UiState::default() }, WIDTH, HEIGHT);
    let rows = screen.lines();
    let svg = screen_svg::svg(screen.terminal.backend().buffer(), defaults(&theme));

    // (a) The picture holds exactly the screen's text, cell for cell.
    assert_eq!(svg_rows(&svg, WIDTH.into(), HEIGHT.into()), rows, "the SVG's rows are the buffer's rows");

    let labels = fixed_labels(&rows);
    for needle in ["Models", "Detail", "Beyond", "System", "model", "p50", "MACs", "latency"] {
        assert!(labels.iter().any(|(_, w)| w.contains(needle)), "{needle} is a fixed label:\n{}", screen.text());
    }

    if std::env::var_os("INFERTOP_UPDATE_SCREEN").is_some_and(|v| v == "1") {
        std::fs::write(PICTURE, &svg).unwrap();
        eprintln!("wrote {PICTURE}");
        return;
    }

    // (b) The committed picture shows the same fixed labels, each on its row.
    let committed =
        std::fs::read_to_string(PICTURE).unwrap_or_else(|e| panic!("{PICTURE}: {e}; write it with `make screen`"));
    let pictured = svg_rows(&committed, WIDTH.into(), HEIGHT.into());
    let stale: Vec<&(usize, String)> =
        labels.iter().filter(|(y, word)| !pictured[*y].contains(word.as_str())).collect();
    assert!(
        stale.is_empty(),
        "docs/screen.svg no longer shows the screen's {stale:?}; run `make screen` to redraw it.\nNow:\n{}",
        screen.text()
    );
}
