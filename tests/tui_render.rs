//! The real `render` into ratatui's `TestBackend`: snapshots of every view at 80x24 and
//! 160x48 from a fixed state built from events, styles of the cells where the theme matters,
//! empty data, every size from 20x5 to 300x100, and theme files with one mistake each.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "tui_fixture/state.rs"]
mod fixture;

use std::path::Path;

use infertop::core::machine::SystemSample;
use infertop::core::machine::{Contention, Reasons};
use infertop::core::machine::{CoolingDevice, CoolingKind, TripKind, TripPoint, ZoneTrips};
use infertop::core::machine::{KernelThrottle, SeenDuringRun, ThrottleCounters};
use infertop::core::machine::{PowerReading, PowerScope};
use infertop::core::profiling::{NodeInfo, NodeKind};
use infertop::core::run::{Event, Inference, ModelInfo};
use infertop::core::state::MonitorState;
use infertop::tui::app::{UiState, View};
use infertop::tui::keymap::Action;
use infertop::tui::render::render;
use infertop::tui::rows::SortKey;
use infertop::tui::theme::{self, Theme};
use ratatui::backend::TestBackend;
use ratatui::style::Modifier;
use ratatui::Terminal;

fn draw(state: &MonitorState, ui: &UiState, theme: &Theme, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| render(f, state, ui, theme)).unwrap();
    terminal
}

/// Five measured models (one selected), one failed, one loading, 40 system samples.
fn fixture() -> MonitorState {
    fixture::state(5, 40)
}

fn ui(view: View) -> UiState {
    UiState { view, selected: 1, ..UiState::default() }
}

/// The screen as text, one line per row (no colour).
fn text(terminal: &Terminal<TestBackend>) -> String {
    terminal.backend().to_string()
}

macro_rules! snapshot_view {
    ($name:ident, $view:expr, $w:expr, $h:expr) => {
        #[test]
        fn $name() {
            let state = fixture();
            let terminal = draw(&state, &ui($view), &Theme::default(), $w, $h);
            insta::assert_snapshot!(text(&terminal));
        }
    };
}

snapshot_view!(models_80x24, View::Models, 80, 24);
snapshot_view!(models_160x48, View::Models, 160, 48);
snapshot_view!(detail_80x24, View::Detail, 80, 24);
snapshot_view!(detail_160x48, View::Detail, 160, 48);
snapshot_view!(beyond_80x24, View::Beyond, 80, 24);
snapshot_view!(beyond_160x48, View::Beyond, 160, 48);
snapshot_view!(system_80x24, View::System, 80, 24);
snapshot_view!(system_160x48, View::System, 160, 48);

#[test]
fn help_overlay_80x24() {
    let state = fixture();
    let ui = UiState { show_help: true, ..ui(View::Models) };
    insta::assert_snapshot!(text(&draw(&state, &ui, &Theme::default(), 80, 24)));
}

#[test]
fn models_sorted_by_latency_with_focus_160x48() {
    let state = fixture();
    let ui = UiState { sort: SortKey::Latency, focused: Some(1), paused: true, ..ui(View::Models) };
    insta::assert_snapshot!(text(&draw(&state, &ui, &Theme::default(), 160, 48)));
}

#[test]
fn empty_state_80x24() {
    let state = MonitorState::new::<&str>(&[]);
    insta::assert_snapshot!(text(&draw(&state, &UiState::default(), &Theme::default(), 80, 24)));
}

/// Row of the screen whose text contains `needle`.
fn row_of(terminal: &Terminal<TestBackend>, needle: &str) -> u16 {
    let buffer = terminal.backend().buffer();
    (0..buffer.area.height)
        .find(|&y| {
            let line: String = (0..buffer.area.width).map(|x| buffer[(x, y)].symbol()).collect();
            line.contains(needle)
        })
        .unwrap_or_else(|| panic!("'{needle}' is not on screen:\n{}", text(terminal)))
}

#[test]
fn the_selected_row_uses_the_themes_highlight() {
    let state = fixture();
    for name in theme::builtin_names() {
        let theme = theme::builtin(name).unwrap();
        let terminal = draw(&state, &ui(View::Models), &theme, 120, 30);
        let buffer = terminal.backend().buffer();
        let selected = row_of(&terminal, "mobilenet");
        let other = row_of(&terminal, "resnet18");
        let cell = &buffer[(10, selected)];
        assert_eq!(cell.bg, theme.highlight.bg.unwrap(), "{name}: selected row background");
        assert_eq!(cell.fg, theme.highlight.fg.unwrap(), "{name}: selected row foreground");
        assert!(cell.modifier.contains(theme.highlight.add_modifier), "{name}");
        assert_ne!(buffer[(10, other)].style(), cell.style(), "{name}: other rows are not highlighted");
    }
    // Without colours, the selection still shows: mono reverses it.
    let mono = theme::builtin("mono").unwrap();
    let terminal = draw(&state, &ui(View::Models), &mono, 120, 30);
    let y = row_of(&terminal, "mobilenet");
    assert!(terminal.backend().buffer()[(10, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn failures_bars_and_active_tab_take_their_theme_colours() {
    let state = fixture();
    let theme = Theme::default();
    let terminal = draw(&state, &ui(View::Models), &theme, 160, 48);
    let buffer = terminal.backend().buffer();
    let y = row_of(&terminal, "failed: weights");
    let x = (0..160).find(|&x| buffer[(x, y)].symbol() == "f").unwrap();
    assert_eq!(buffer[(x, y)].fg, theme.bad.fg.unwrap(), "a failed model's error is in the 'bad' colour");
    // The active tab ("Models") is highlighted in the top line.
    let x = (0..160).find(|&x| buffer[(x, 0)].symbol() == "M").unwrap();
    assert_eq!(buffer[(x, 0)].bg, theme.highlight.bg.unwrap());

    let terminal = draw(&state, &ui(View::Detail), &theme, 160, 48);
    let buffer = terminal.backend().buffer();
    let y = row_of(&terminal, "│Conv2D ");
    let x = (0..160).find(|&x| buffer[(x, y)].symbol() == "█").expect("a time bar for Conv2D");
    assert_eq!(buffer[(x, y)].fg, theme.time_bar.fg.unwrap());
}

/// The top line's text, and the colour of its `⚠` if there is one.
fn top_line(terminal: &Terminal<TestBackend>) -> (String, Option<ratatui::style::Color>) {
    let buffer = terminal.backend().buffer();
    let cells = || (0..buffer.area.width).map(|x| &buffer[(x, 0)]);
    (cells().map(ratatui::buffer::Cell::symbol).collect(), cells().find(|c| c.symbol() == "⚠").map(|c| c.fg))
}

/// A sample taken while another program used a core: the header warns in `bad`, with the
/// figures where they fit and briefly where not. Once the cores are quiet again it still says
/// how many samples were contended, in `warn`. An unknown verdict says nothing.
#[test]
fn the_header_warns_while_other_work_competes_for_the_cores() {
    let theme = Theme::default();
    let mut state = fixture();
    let mut sample = state.system.last().unwrap().clone();
    let quiet = sample.contention.clone();
    let busy = Contention {
        other_cores: Some(1.06),
        load_1m: Some(2.04),
        reasons: Reasons { others: true, ..Reasons::default() },
        ..**quiet.as_ref().unwrap()
    };
    sample.contention = Some(Box::new(busy));
    state.apply(Event::System(sample.clone()));
    let (wide, colour) = top_line(&draw(&state, &ui(View::Models), &theme, 160, 48));
    assert!(
        wide.contains("running · ⚠ contended: other 1.06 cores, steal 0.0%, load 2.04/8 · 220 inferences"),
        "{wide}"
    );
    assert_eq!(colour, theme.bad.fg);
    let (narrow, _) = top_line(&draw(&state, &ui(View::Models), &theme, 80, 24));
    // The warning goes before the inference count, which no longer fits.
    assert!(narrow.ends_with("running · ⚠ contended "), "{narrow}");

    sample.contention = quiet;
    state.apply(Event::System(sample.clone()));
    let (after, colour) = top_line(&draw(&state, &ui(View::System), &theme, 160, 48));
    // The fixture's 40 quiet samples, the busy one, and this one.
    assert!(after.contains("running · ⚠ 1 of 42 samples contended · 220 inferences"), "{after}");
    assert_eq!(colour, theme.warn.fg);

    let mut unknown = MonitorState::new(&["a"]);
    sample.contention = None;
    unknown.apply(Event::System(sample));
    let (top, colour) = top_line(&draw(&unknown, &ui(View::System), &theme, 160, 48));
    assert_eq!(colour, None, "{top}");
}

/// A laptop whose package just throttled, with an ACPI processor limiting the clock and a
/// zone past its passive trip: every source gets a line, what is throttling in `bad`. A
/// machine without any source says "unknown" and shows no source line.
#[test]
fn the_system_view_shows_each_throttle_source_and_unknown_without_any() {
    let theme = Theme::default();
    let device = |name: &str, cur_state, max_state| CoolingDevice {
        name: name.into(),
        kind: CoolingKind::of(name),
        cur_state: Some(cur_state),
        max_state: Some(max_state),
    };
    let kernel = KernelThrottle {
        counters: Some(ThrottleCounters {
            cpus: 4,
            core_events: Some(2),
            package_events: Some(15),
            core_ms: Some(40),
            package_ms: Some(3520),
            interval_events: Some(1),
            run_events: 1,
        }),
        cooling: vec![
            device("Processor", 2, 3),
            device("Processor", 0, 3),
            device("Fan", 1, 1),
            device("TCC Offset", 0, 63),
        ],
        zones: vec![ZoneTrips {
            zone: "acpitz#2".into(),
            celsius: 96.0,
            trips: vec![
                TripPoint { kind: TripKind::Critical, celsius: 105.0 },
                TripPoint { kind: TripKind::Passive, celsius: 95.0 },
            ],
        }],
        seen: SeenDuringRun::default(),
    };
    let mut state = MonitorState::new(&["a"]);
    state.apply(Event::System(SystemSample { kernel_throttle: Box::new(kernel), ..SystemSample::default() }));
    let terminal = draw(&state, &ui(View::System), &theme, 160, 30);
    let screen = text(&terminal);
    for line in [
        "capped yes (Processor 2/3)",
        "throttle now yes · this run yes · since boot yes (from counters, cooling, trips, clock limit)",
        "counters package 15 (3.5 s), core 2 (0.0 s) events since boot · +1 since the last sample · +1 this run",
        "cooling  slowing the CPU: Processor 2/3 · fan Fan 1/1 · 1 other",
        "trips    at a throttling trip: acpitz#2 96.0 °C ≥ passive 95.0 °C",
    ] {
        assert!(screen.contains(line), "{line}\n{screen}");
    }
    assert!(!screen.contains("firmware "), "no firmware flags here:\n{screen}");
    let buffer = terminal.backend().buffer();
    let y = row_of(&terminal, "throttle now yes");
    let x = (0..160).find(|&x| buffer[(x, y)].symbol() == "y").unwrap();
    assert_eq!(buffer[(x, y)].fg, theme.bad.fg.unwrap(), "throttled now, in the 'bad' colour");

    let mut vm = MonitorState::new(&["a"]);
    vm.apply(Event::System(SystemSample::default()));
    let screen = text(&draw(&vm, &ui(View::System), &theme, 160, 30));
    assert!(screen.contains("throttle unknown (no firmware flags, counters, CPU cooling devices"), "{screen}");
    assert!(screen.contains("capped unknown"), "{screen}");
    for label in ["firmware", "counters", "cooling", "trips"] {
        assert!(!screen.contains(&format!("│{label} ")), "{label}:\n{screen}");
    }
}

/// The history: temperature, clock and latency on one time axis with their scales and units,
/// the throttled samples shaded across every chart and marked on the strip, and latency against
/// the clock and the temperature beside them.
#[test]
fn the_history_shades_throttled_samples_and_plots_latency_against_clock_and_temperature() {
    let state = fixture();
    let theme = Theme::default();
    let terminal = draw(&state, &ui(View::System), &theme, 160, 48);
    let screen = text(&terminal);
    for label in
        ["temp °C", "clock MHz", "latency ms", "throttled", "time since start", "ms vs clock MHz", "ms vs temp °C"]
    {
        assert!(screen.contains(label), "{label}\n{screen}");
    }
    let buffer = terminal.backend().buffer();
    let strip = row_of(&terminal, "throttled ");
    let marked: Vec<u16> = (0..160).filter(|&x| buffer[(x, strip)].symbol() == "█").collect();
    let clear: Vec<u16> = (0..160).filter(|&x| buffer[(x, strip)].symbol() == "·").collect();
    assert!(!marked.is_empty() && !clear.is_empty(), "the fixture throttles part of the time:\n{screen}");
    // Every chart row above the strip is shaded in the throttled columns and only there.
    let shading = theme.highlight.bg.expect("the default theme's selection has a background");
    let top = row_of(&terminal, "temp °C") - 1;
    for y in top..strip {
        assert_eq!(buffer[(marked[0], y)].bg, shading, "row {y} column {} shaded", marked[0]);
        assert_ne!(buffer[(clear[0], y)].bg, shading, "row {y} column {} not shaded", clear[0]);
    }
    // Throttled samples come after the cool ones in the fixture: marks on the right.
    assert!(clear[0] < marked[0]);
}

/// Power after the temperature: watts and what they cover, "needs root" (in the warning colour)
/// where only root may read the counter, "n/a" where the machine has no source; never 0 W.
#[test]
fn the_system_view_says_needs_root_and_n_a_for_power() {
    let theme = Theme::default();
    let screen_of = |power: Option<PowerReading>| {
        let mut state = MonitorState::new(&["a"]);
        state.apply(Event::System(SystemSample { power: power.map(Box::new), ..SystemSample::default() }));
        draw(&state, &ui(View::System), &theme, 160, 30)
    };
    let mut rapl = PowerReading::new("RAPL package-0".into(), PowerScope::CpuPackage);
    rapl.needs_root = true;
    let terminal = screen_of(Some(rapl.clone()));
    let screen = text(&terminal);
    assert!(
        screen.contains(" · power needs root · RAPL package-0 (its energy_uj is readable by root only)"),
        "{screen}"
    );
    assert!(!screen.contains(" W "), "{screen}");
    let y = row_of(&terminal, "power needs root");
    let buffer = terminal.backend().buffer();
    let cells: Vec<&str> = (0..160).map(|x| buffer[(x, y)].symbol()).collect();
    let x = (0..150).find(|&x| cells[x..x + 10].concat() == "needs root").unwrap();
    assert_eq!(buffer[(u16::try_from(x).unwrap(), y)].fg, theme.warn.fg.unwrap(), "in the warning colour");

    rapl.needs_root = false;
    rapl.watts = Some(12.5);
    let screen = text(&screen_of(Some(rapl)));
    assert!(screen.contains("n/a (no sensors) · power 12.50 W RAPL package-0 (CPU package only)"), "{screen}");

    let screen = text(&screen_of(None));
    assert!(screen.contains(" · power n/a (no power monitor, RAPL counter or PMIC here)"), "{screen}");
}

/// States with nothing or little in them: no models, models loading, models ready without any
/// inference, inferences without op timings (`--no-op-profile`), no system samples.
fn sparse_states() -> Vec<(&'static str, MonitorState)> {
    let mut out = vec![("no models", MonitorState::new::<&str>(&[]))];
    out.push(("loading", MonitorState::new(&["a", "b"])));
    let mut ready = MonitorState::new(&["a"]);
    let info = ModelInfo {
        name: "a".into(),
        source: "arch:tiny".into(),
        params: 10,
        batch: 1,
        input: [3, 32, 32],
        top1_error: None,
        variant: None,
    };
    ready.apply(Event::ModelReady { model: 0, info });
    let node = |id, parent, kind, name: &str| NodeInfo {
        id,
        parent,
        kind,
        name: name.into(),
        calib_calls: 1,
        macs: 1e6,
        bytes: 1e3,
        call_shapes: std::sync::Arc::default(),
    };
    ready
        .apply(Event::Nodes(vec![node(0, None, NodeKind::Scope, "a"), node(1, Some(0), NodeKind::Op, "aten::conv2d")]));
    ready.apply(Event::ModelScope { model: 0, scope: 0 });
    out.push(("ready, no inference", ready.clone()));
    let mut unprofiled = ready;
    for seq in 1..4 {
        let e = Event::Inference(Inference {
            model: 0,
            seq,
            wall_ns: 1_000_000 * seq,
            at_ns: seq,
            profiled: false,
            cold: false,
            usage: None,
            ops: Vec::new(),
        });
        unprofiled.apply(e);
    }
    out.push(("no op profile", unprofiled));
    out.push(("one model, one sample", fixture::state(1, 1)));
    out
}

#[test]
fn empty_data_does_not_panic_in_any_view() {
    for (what, state) in sparse_states() {
        for view in View::ALL {
            for (w, h) in [(80, 24), (160, 48), (20, 5)] {
                let ui = UiState { view, ..UiState::default() };
                let screen = text(&draw(&state, &ui, &Theme::default(), w, h));
                // An infinite float prints as a word of its own, `inf` (a title such as `mJ/inf`
                // is no number).
                let infinite = |word: &str| word.trim_start_matches(['+', '-']) == "inf";
                let mut words = screen.split(|c: char| c.is_whitespace() || c == '│' || c == '"');
                assert!(!screen.contains("NaN") && !words.any(infinite), "{what} {view:?} {w}x{h}:\n{screen}");
            }
        }
    }
}

#[test]
fn empty_views_say_what_is_missing() {
    let state = MonitorState::new::<&str>(&[]);
    let screen = |view| text(&draw(&state, &UiState { view, ..UiState::default() }, &Theme::default(), 100, 30));
    assert!(screen(View::Models).contains("no models in this run"));
    assert!(screen(View::Detail).contains("no model selected"));
    assert!(screen(View::Beyond).contains("waiting for measured models"));
    assert!(screen(View::System).contains("no system sample yet"));
    let (_, unprofiled) = sparse_states().remove(3);
    let detail =
        text(&draw(&unprofiled, &UiState { view: View::Detail, ..UiState::default() }, &Theme::default(), 160, 48));
    assert!(detail.contains("no profiled inference yet"), "{detail}");
}

#[test]
fn no_panic_at_any_size() {
    let full = fixture::state(10, 45);
    let empty = MonitorState::new::<&str>(&[]);
    let widths = [20, 21, 23, 27, 31, 40, 47, 55, 64, 80, 99, 120, 133, 160, 201, 255, 300];
    let heights = [5, 6, 7, 8, 9, 11, 13, 17, 24, 31, 40, 48, 64, 77, 100];
    let themes: Vec<Theme> = theme::builtin_names().into_iter().filter_map(theme::builtin).collect();
    for state in [&full, &empty] {
        for view in View::ALL {
            for &w in &widths {
                for &h in &heights {
                    let ui = UiState { view, selected: 3, show_help: (w + h) % 3 == 0, ..UiState::default() };
                    let theme = &themes[usize::from(w + h) % themes.len()];
                    draw(state, &ui, theme, w, h);
                }
            }
        }
    }
}

#[test]
fn keys_move_the_selection_through_the_sorted_rows() {
    let state = fixture();
    let mut ui = UiState::default();
    ui.apply(Action::Sort, &state, 3);
    assert_eq!(ui.sort, SortKey::Latency);
    let order: Vec<usize> = infertop::tui::rows::model_rows(&state, ui.sort).iter().map(|r| r.id).collect();
    ui.selected = order[0];
    ui.apply(Action::Down, &state, 3);
    assert_eq!(ui.selected, order[1]);
    for _ in 0..20 {
        ui.apply(Action::Down, &state, 3);
    }
    assert_eq!(ui.selected, *order.last().unwrap(), "the selection stops at the last row");
    ui.apply(Action::NextView, &state, 3);
    ui.apply(Action::PrevView, &state, 3);
    ui.apply(Action::PrevView, &state, 3);
    assert_eq!(ui.view, View::System);
    ui.apply(Action::Focus, &state, 3);
    assert_eq!(ui.focused, Some(ui.selected));
    ui.apply(Action::NextTheme, &state, 3);
    ui.apply(Action::NextTheme, &state, 3);
    ui.apply(Action::NextTheme, &state, 3);
    assert_eq!(ui.theme, 0, "themes cycle");
}

/// `o` switches the op profiler off and on where the run has one, and the header says it is off;
/// a run without one (the engine reports sampling every 0) refuses.
#[test]
fn o_switches_the_op_profiler_only_where_there_is_one() {
    let mut state = fixture();
    state.apply(Event::Profiling { every: 4 });
    let mut ui = ui(View::Models);
    ui.apply(Action::OpProfile, &state, 3);
    assert!(ui.op_profile_off);
    assert!(top_line(&draw(&state, &ui, &Theme::default(), 160, 48)).0.contains("op profiler off"));
    // The engine confirms: nothing is sampled now; `o` again switches it back on.
    state.apply(Event::Profiling { every: 0 });
    ui.apply(Action::OpProfile, &state, 3);
    assert!(!ui.op_profile_off);
    assert!(!top_line(&draw(&state, &ui, &Theme::default(), 160, 48)).0.contains("op profiler"));
    // `--no-op-profile`: every 0 from the start, and `o` changes nothing.
    ui.apply(Action::OpProfile, &state, 3);
    assert!(!ui.op_profile_off, "no op profiler to switch off");
}

/// Loads a broken theme fixture and returns its error.
fn theme_error(file: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/themes").join(file);
    let err = theme::load(&path).expect_err(file).to_string();
    assert!(!err.contains('\n'), "one line: {err}");
    assert!(err.contains(file), "names the file: {err}");
    err
}

#[test]
fn each_broken_theme_gets_a_one_line_error_naming_key_value_and_what_is_valid() {
    let err = theme_error("syntax.toml");
    assert!(err.contains("line 4"), "{err}");
    let err = theme_error("unknown_key.toml");
    assert!(err.contains("colors.titel") && err.contains("unknown field") && err.contains("`title`"), "{err}");
    let err = theme_error("unknown_top_key.toml");
    assert!(err.contains("font") && err.contains("`colors`"), "{err}");
    let err = theme_error("missing_key.toml");
    assert!(err.contains("missing field `title`"), "{err}");
    let err = theme_error("bad_color.toml");
    assert!(err.contains("colors.title = \"purpel\" is not a colour") && err.contains("#rrggbb"), "{err}");
    let err = theme_error("bad_hex.toml");
    assert!(err.contains("colors.border = \"#12345\""), "{err}");
    let err = theme_error("bad_modifier.toml");
    assert!(err.contains("modifiers.header") && err.contains("\"blinky\"") && err.contains("reversed"), "{err}");
    let err = theme_error("wrong_type.toml");
    assert!(err.contains("colors.title") && err.contains("string"), "{err}");
}

#[test]
fn theme_names_and_paths_resolve_and_unknown_ones_are_usage_errors() {
    let dark = Path::new(env!("CARGO_MANIFEST_DIR")).join("themes/dark.toml");
    assert_eq!(theme::resolve(Some(dark.to_str().unwrap()), false).unwrap(), Theme::default());
    let err = theme::resolve(Some("solarized"), false).unwrap_err().to_string();
    assert!(err.contains("'solarized'") && err.contains("dark, light, mono"), "{err}");
    let err = theme::resolve(Some("themes/nope.toml"), false).unwrap_err().to_string();
    assert!(err.contains("no such file"), "{err}");
}

/// A loaded model shows what it is (params, MACs) before its first timed inference.
#[test]
fn a_loaded_model_shows_params_and_macs_before_it_is_timed() {
    let (_, ready) = sparse_states().remove(2);
    let screen = text(&draw(&ready, &UiState::default(), &Theme::default(), 120, 20));
    assert!(screen.contains("10 params · 1.00M MACs · no inference timed yet"), "{screen}");
}

/// Each coloured theme paints its own background over the whole frame, so its contrast does not
/// depend on the terminal's colours; blank cells included.
#[test]
fn coloured_themes_fill_the_frame_with_their_background() {
    let state = fixture();
    for name in ["dark", "light"] {
        let theme = theme::builtin(name).unwrap();
        let terminal = draw(&state, &ui(View::Models), &theme, 160, 48);
        let buffer = terminal.backend().buffer();
        let background = theme.text.bg.unwrap();
        assert_ne!(background, ratatui::style::Color::Reset, "{name}");
        assert_eq!(buffer[(80, 40)].bg, background, "{name}: an empty cell inside the table");
        assert_eq!(buffer[(159, 47)].bg, background, "{name}: the status line's last cell");
    }
}

/// Below the smallest usable size the screen holds one line saying so, and nothing else; from
/// that size on, the views draw.
#[test]
fn below_the_minimum_size_one_line_says_the_terminal_is_too_small() {
    use infertop::tui::render::{MIN_HEIGHT, MIN_WIDTH};
    let state = fixture();
    let message = format!("terminal too small (need {MIN_WIDTH}x{MIN_HEIGHT})");
    for view in View::ALL {
        let ui = UiState { view, show_help: view == View::Detail, ..ui(view) };
        for (w, h) in [(MIN_WIDTH - 1, 24), (80, MIN_HEIGHT - 1), (60, 16), (40, 10)] {
            let terminal = draw(&state, &ui, &Theme::default(), w, h);
            let screen = text(&terminal);
            let words: Vec<&str> = screen.split(['"', '\n', ' ']).filter(|s| !s.is_empty()).collect();
            assert_eq!(words.join(" "), message, "{view:?} {w}x{h}:\n{screen}");
            assert!(row_of(&terminal, "too small") == h / 2, "centred: {view:?} {w}x{h}\n{screen}");
        }
        for (w, h) in [(MIN_WIDTH, MIN_HEIGHT), (80, 24)] {
            let screen = text(&draw(&state, &ui, &Theme::default(), w, h));
            assert!(!screen.contains("too small (need"), "{view:?} {w}x{h}:\n{screen}");
            assert!(screen.contains("Beyond MACs"), "the tabs draw at {w}x{h}:\n{screen}");
        }
    }
    // At the minimum, Detail's lower tables show a header and rows, not an empty frame.
    let screen = text(&draw(&state, &ui(View::Detail), &Theme::default(), MIN_WIDTH, MIN_HEIGHT));
    assert!(screen.contains("│_conv_depthwise2d") && screen.contains("│layer0.conv"), "{screen}");
}

/// Every column header and abbreviation the views draw at 160x48 (checked on screen, so the
/// list stays true), each of which the help explains at some scroll position at 80x24.
#[test]
fn help_explains_every_column_and_abbreviation_and_scrolls() {
    let columns: [(View, &[&str]); 3] = [
        (
            View::Models,
            &[
                "params", "MACs", "p50 ms", "p90 ms", "p99 ms", "inf/s", "ms/GMAC", "MAC/s", "%peak", "¬conv", "thr+",
                "n", "faults", "cold+", "mJ/inf", "pred ms", "×pred", "latency",
            ],
        ),
        (
            View::Detail,
            &["[", "category", "time", "calls", "self ms", "total ms", "% time", "% conv", "kind", "layer", "pred"],
        ),
        (View::Beyond, &["Pearson", "Spearman", "op calls", "bytes moved", "×med", "MAC±", "ops±"]),
    ];
    // Calibrated, so the predicted columns are drawn too.
    let state = fixture::calibrated(fixture());
    let mut help = String::new();
    let mut help_open = UiState { show_help: true, ..ui(View::Models) };
    for _ in 0..100 {
        help.push_str(&text(&draw(&state, &help_open, &Theme::default(), 80, 24)));
        help_open.apply(Action::Down, &state, 3);
    }
    assert_eq!(help_open.selected, 1, "↑/↓ scroll the help, not the selection");
    for (view, labels) in columns {
        let screen = text(&draw(&state, &ui(view), &Theme::default(), 160, 48));
        for label in labels {
            assert!(screen.contains(&format!(" {label}")) || screen.contains(&format!("│{label}")), "{label}");
            let entry = if *label == "[" { "[a–b]" } else { label };
            assert!(help.contains(&format!("│ {entry} ")), "help has no entry for {entry}:\n{help}");
        }
    }
    let of = format!("of {}", infertop::tui::render::help::ENTRIES.len());
    assert!(help.contains(&of), "the title says where the scroll is:\n{help}");
}

/// Every title of the models table, in order.
const MODEL_TITLES: [&str; 19] = [
    "model", "params", "MACs", "p50 ms", "p90 ms", "p99 ms", "inf/s", "ms/GMAC", "MAC/s", "%peak", "¬conv", "thr+",
    "n", "faults", "cold+", "mJ/inf", "pred ms", "×pred", "latency",
];

/// The table's header line of the models view (the third line of the screen).
fn models_header(terminal: &Terminal<TestBackend>) -> String {
    text(terminal).lines().nth(2).unwrap().trim_matches('"').trim_matches('│').to_string()
}

#[test]
fn at_80x24_the_models_view_keeps_the_eight_essential_columns() {
    let header = models_header(&draw(&fixture(), &ui(View::Models), &Theme::default(), 80, 24));
    for title in ["model", "MACs", "p50 ms", "p99 ms", " n ", "ms/GMAC", "%peak", "thr+"] {
        assert!(header.contains(title), "{title:?} missing from {header:?}");
    }
    assert!(!header.contains("MAC/s "), "ms/GMAC and its inverse both shown: {header:?}");
}

#[test]
fn no_models_header_is_cut_at_any_width_from_60_to_200_whatever_the_sort() {
    let state = fixture();
    let words: Vec<&str> = MODEL_TITLES.iter().flat_map(|t| t.split(' ')).collect();
    let mut sort = SortKey::Order;
    for _ in 0..7 {
        for width in 60..=200 {
            let ui = UiState { sort, ..ui(View::Models) };
            let header = models_header(&draw(&state, &ui, &Theme::default(), width, 24));
            let context = format!("{sort:?} at {width}: {header:?}");
            assert!(!header.contains('…'), "{context}");
            for token in header.split_whitespace() {
                assert!(words.contains(&token.trim_end_matches('▼')), "{token:?} in {context}");
            }
            for title in MODEL_TITLES.iter().filter(|t| t.contains(' ')) {
                let first = title.split(' ').next().unwrap();
                if header.split_whitespace().any(|t| t == first) {
                    assert!(header.contains(title), "{title:?} in {context}");
                }
            }
            let both = header.contains("ms/GMAC") && header.contains("MAC/s ");
            assert!(!both || header.contains("mJ/inf"), "GMAC/s shown while space is short: {context}");
        }
        sort = sort.next(false);
    }
}

/// The what-if fixture: resnet50 (id 1) and its variants, 18 rounds.
fn what_if_fixture() -> MonitorState {
    fixture::what_if::state(18)
}

/// The what-if fixture with `selected` selected and the run's 4 intra-op threads.
fn what_if_view(view: View, selected: usize, width: u16, height: u16) -> String {
    let ui = UiState { view, selected, run_threads: Some(4), ..UiState::default() };
    text(&draw(&what_if_fixture(), &ui, &Theme::default(), width, height))
}

#[test]
fn what_if_models_80x24_and_160x48() {
    insta::assert_snapshot!("what_if_models_80x24", what_if_view(View::Models, 1, 80, 24));
    insta::assert_snapshot!("what_if_models_160x48", what_if_view(View::Models, 1, 160, 48));
}

/// The original (resnet50), the faster agreeing variant (fold-bn) and the one whose output
/// differs (channels-last), each at both sizes.
#[test]
fn what_if_detail_80x24_and_160x48() {
    for (id, label) in [(1, "original"), (2, "fold_bn"), (3, "channels_last")] {
        insta::assert_snapshot!(format!("what_if_detail_{label}_80x24"), what_if_view(View::Detail, id, 80, 24));
        insta::assert_snapshot!(format!("what_if_detail_{label}_160x48"), what_if_view(View::Detail, id, 160, 48));
    }
}

/// Two measured models give no coefficients (two points always lie on a line): the Beyond
/// view says once why, with no table of dashes and no best predictor.
#[test]
fn beyond_with_two_models_says_once_that_correlations_need_three() {
    for (w, h) in [(80, 24), (160, 48)] {
        let two = fixture::state(2, 40);
        let screen = text(&draw(&two, &ui(View::Beyond), &Theme::default(), w, h));
        assert_eq!(screen.matches("correlations need 3 or more").count(), 1, "{w}x{h}:\n{screen}");
        assert!(w < 160 || screen.contains("correlations need 3 or more measured models (2 so far)"), "{screen}");
        assert!(!screen.contains("Spearman") && !screen.contains('◀'), "{w}x{h}:\n{screen}");
        let many = text(&draw(&fixture::state(6, 40), &ui(View::Beyond), &Theme::default(), w, h));
        assert!(many.contains("Spearman") && !many.contains("correlations need"), "{w}x{h}:\n{many}");
    }
}

/// At 160x48 the System view's scatters sit in their own column, behind a rule from their
/// title to the time axis, so their dots never read as part of the history's rows.
#[test]
fn the_system_views_scatters_are_ruled_off_from_the_history() {
    let terminal = draw(&fixture(), &ui(View::System), &Theme::default(), 160, 48);
    let buffer = terminal.backend().buffer();
    let lines: Vec<String> = (0..48).map(|y| (0..160).map(|x| buffer[(x, y)].symbol()).collect()).collect();
    let top = lines.iter().position(|l| l.contains("ms vs clock MHz")).expect("the clock scatter");
    let axis = lines.iter().position(|l| l.contains("time since start")).expect("the time axis");
    // The rule's column: the nearest '│' left of the title on its row, inside the panel.
    let row: Vec<char> = lines[top].chars().collect();
    let title_x = lines[top].find("ms vs clock").map(|b| lines[top][..b].chars().count()).unwrap();
    let rule_x = (0..title_x).rev().find(|&c| row[c] == '│').expect("a rule left of the title");
    assert!(rule_x > 100, "the rule is the scatters', not the panel's border: {}", lines[top]);
    for (y, line) in lines.iter().enumerate().take(axis + 1).skip(top) {
        assert_eq!(line.chars().nth(rule_x), Some('│'), "row {y}: {line}");
    }
}

/// With a calibration, the Models table shows each model's predicted latency and measured ÷
/// predicted, and Detail's layer table each layer's predicted ms beside the measured: the
/// figures the core predicted, as the export writes them.
#[test]
fn predictions_stand_beside_the_measurements_in_models_and_detail() {
    let state = fixture::calibrated(fixture());
    let models = text(&draw(&state, &ui(View::Models), &Theme::default(), 160, 48));
    assert!(models.contains("pred ms") && models.contains("×pred"), "{models}");
    let mut predicted = 0;
    for m in infertop::core::analysis::ModelSummary::all(&state) {
        let (Some(ms), Some(ratio)) = (m.predicted_ms, m.measured_over_predicted) else { continue };
        predicted += 1;
        let row = models.lines().find(|l| l.contains(&format!("│  {} ", m.model.name))).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        let at = cells.iter().position(|c| *c == infertop::tui::render::units::ms(ms)).unwrap_or_else(|| {
            panic!("{} predicted {ms} ms not in {row}", m.model.name);
        });
        assert_eq!(cells[at + 1], infertop::tui::render::units::ratio(ratio), "{row}");
    }
    assert!(predicted >= 3, "the calibration predicts the fixture's models");

    let mut detail_ui = ui(View::Detail);
    detail_ui.selected = 0;
    let detail = text(&draw(&state, &detail_ui, &Theme::default(), 160, 48));
    let header = detail.lines().find(|l| l.contains("layer") && l.contains(" ms")).unwrap();
    assert!(header.contains(" pred"), "{header}");
    let prediction = state.models[0].prediction.as_deref().expect("resnet18 predicted");
    let mut shown = 0;
    for (layer, ms) in &prediction.layers {
        let Some(row) = detail.lines().find(|l| l.contains(&format!("│{layer} "))) else { continue };
        assert!(row.contains(&format!(" {} ", infertop::tui::render::units::ms(*ms))), "{layer}: {ms} in {row}");
        shown += 1;
    }
    assert!(shown >= 3, "predicted layers on screen:\n{detail}");
}

/// With a calibration, Beyond MACs ranks models, then their heaviest layers, by measured ÷
/// predicted, largest first, as the core ranks them; without one the panel is not there.
#[test]
fn beyond_macs_ranks_by_measured_over_predicted() {
    let plain = text(&draw(&fixture(), &ui(View::Beyond), &Theme::default(), 160, 48));
    assert!(!plain.contains("measured ÷ predicted"), "no calibration, no panel");
    let state = fixture::calibrated(fixture());
    let (models, layers) = infertop::core::analysis::beyond_prediction(&state);
    assert!(models.len() >= 3 && !layers.is_empty(), "{models:?} {layers:?}");
    for ranked in [&models, &layers] {
        assert!(ranked.windows(2).all(|w| w[0].ratio() >= w[1].ratio()), "largest first: {ranked:?}");
    }
    for l in &layers {
        let m = &state.models[l.model];
        let leaf: f64 =
            infertop::core::analysis::layer_rows(&state.tree, m).iter().filter(|r| r.leaf).map(|r| r.ms).sum();
        assert!(l.measured_ms >= infertop::core::analysis::LAYER_MIN_SHARE * leaf, "{l:?} is too small to rank");
    }
    let screen = text(&draw(&state, &ui(View::Beyond), &Theme::default(), 160, 48));
    let lines: Vec<&str> = screen.lines().collect();
    let top = lines.iter().position(|l| l.contains("measured ÷ predicted, largest first")).expect("the panel");
    let ratio = infertop::tui::render::units::ratio;
    for (i, m) in models.iter().enumerate() {
        let row = lines[top + 2 + i];
        let name = &state.models[m.model].name;
        let end = row.trim_end_matches(['│', '"']).trim_end();
        assert!(row.contains(&format!(" {name} ")) && end.ends_with(&format!(" {}", ratio(m.ratio()))), "{row}");
    }
    let first_layer = lines[top + 3 + models.len()];
    let layer = layers[0].layer.as_deref().unwrap();
    assert!(first_layer.contains(layer) && first_layer.contains(&ratio(layers[0].ratio())), "{first_layer}");
}

/// While the live run calibrates kernels in the background, the top line says how far it got;
/// once done it says nothing.
#[test]
fn the_top_line_shows_a_background_calibrations_progress() {
    let mut state = fixture();
    state.apply(infertop::core::run::Event::CalibrationProgress { timed: 34, of: 100 });
    let (line, _) = top_line(&draw(&state, &ui(View::Models), &Theme::default(), 160, 48));
    assert!(line.contains("calibrating kernels 34%"), "{line}");
    state.apply(infertop::core::run::Event::CalibrationProgress { timed: 100, of: 100 });
    let (line, _) = top_line(&draw(&state, &ui(View::Models), &Theme::default(), 160, 48));
    assert!(!line.contains("calibrating"), "{line}");
}
