//! What-if variants on the live screen, read off the real `render` in `TestBackend` as a person
//! would: the what-if column of the models view (a variant whose output differs never shows a
//! speed-up, even when its latency is lower), sorting by it with `s`/`S`, variant rows reading
//! as branches of their original, the detail view's what-if block, and no trace of any of it
//! in a run without variants.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "tui_fixture/state.rs"]
mod fixture;
#[path = "support/screen.rs"]
mod screen;

use crossterm::event::KeyCode;
use infertop::core::analysis::{comparisons, Comparison, Verdict};
use infertop::core::models::Variant;
use infertop::core::run::Event;
use infertop::core::state::MonitorState;
use infertop::tui::app::{UiState, View};
use infertop::tui::mouse::TableHit;
use infertop::tui::rows::{ordered_rows, SortKey};
use infertop::tui::tables::TableId;
use screen::{inside, Screen};

/// Row ids of the what-if fixture.
const RESNET50: usize = 1;
const FOLD_BN: usize = 2;
const CHANNELS_LAST: usize = 3;
const THREADS_1: usize = 5;

/// The what-if fixture on a screen, `selected` selected, at 4 intra-op threads.
fn screen(view: View, selected: usize, width: u16, height: u16) -> Screen {
    let ui = UiState { view, selected, run_threads: Some(4), ..UiState::default() };
    Screen::new(fixture::what_if::state(18), ui, width, height)
}

fn comparison(state: &MonitorState, id: usize) -> Comparison {
    comparisons(state).into_iter().find(|c| c.model == id).unwrap()
}

/// The models table's drawn rows, as (first cell text, what-if cell text), read by the
/// position of the `what-if` title (the column is right-aligned under it).
fn what_if_cells(s: &Screen) -> Vec<(String, String)> {
    let hit: TableHit = *s.ui.hits.table(TableId::Models).unwrap();
    let lines = s.lines();
    let header: Vec<char> = lines[usize::from(hit.body.y - 1)].chars().collect();
    let title: Vec<char> = "what-if".chars().collect();
    let start = header.windows(title.len()).position(|w| w == title.as_slice()).expect("no what-if column");
    let end = header[start..].iter().position(|c| *c == ' ' || *c == '│').map_or(header.len(), |n| start + n);
    (hit.body.y..hit.body.y + u16::try_from(hit.len).unwrap())
        .map(|y| {
            let line: Vec<char> = lines[usize::from(y)].chars().collect();
            // The name cell ends where two blanks start (names hold single ones).
            let row = inside(&lines[usize::from(y)], usize::from(hit.body.x), usize::from(hit.body.right()));
            let row = row.trim_start_matches('»').trim_start();
            let name = row.split("  ").next().unwrap_or_default();
            let cell: String = line[end - 11..end].iter().collect();
            (name.to_string(), cell.trim().to_string())
        })
        .collect()
}

/// A what-if cell's change in percent (`-14% ✓ fold` is −14); `None` for `…`, `✗ out`, blank.
fn change(cell: &str) -> Option<f64> {
    cell.split_whitespace().next()?.strip_suffix('%')?.parse().ok()
}

#[test]
fn a_variant_whose_output_differs_never_shows_as_faster_even_when_its_latency_is_lower() {
    for (width, height) in [(80, 24), (160, 48)] {
        let s = screen(View::Models, RESNET50, width, height);
        let p50 = |id: usize| s.state.models[id].latency.summary().unwrap().p50_ms;
        assert!(p50(CHANNELS_LAST) < p50(RESNET50) && p50(CHANNELS_LAST) < p50(FOLD_BN), "the fixture must tempt");
        assert_eq!(comparison(&s.state, CHANNELS_LAST).verdict, Verdict::Disagrees);
        let cells = what_if_cells(&s);
        let (name, cell) = &cells[CHANNELS_LAST];
        assert!(name.contains("⟨channels-last⟩"), "{name}");
        assert_eq!(cell, "✗ out", "at {width}x{height}");
        // The original names its best agreeing variant, not the lower latency that differs.
        let (_, original) = &cells[RESNET50];
        assert!(original.ends_with("✓ fold") && !original.contains("nhwc"), "{original}");
        for (name, cell) in &cells {
            assert!(!(cell.contains('✓') && name.contains("channels-last")), "{name}: {cell}");
        }
        let detail = screen(View::Detail, CHANNELS_LAST, width, height);
        let text = detail.text();
        assert!(text.contains("output differs"), "{text}");
        assert!(!text.contains("faster"), "a differing variant is called faster:\n{text}");
        if height >= 48 {
            assert!(text.contains("> 1e-4") && text.contains("no speed-up claimed"), "{text}");
        }
    }
}

#[test]
fn a_variant_that_could_not_be_checked_is_not_faster_either() {
    let mut state = MonitorState::new(&fixture::what_if::names());
    for mut event in fixture::what_if::events(18) {
        if let Event::ModelReady { model: FOLD_BN, info } = &mut event {
            info.variant.as_mut().unwrap().check = Err("the original failed to load".into());
        }
        state.apply(event);
    }
    let ui = UiState { selected: RESNET50, ..UiState::default() };
    let s = Screen::new(state, ui, 160, 48);
    assert_eq!(what_if_cells(&s)[FOLD_BN].1, "✗ n/a");
    assert!(!what_if_cells(&s)[RESNET50].1.contains('✓'), "no agreeing variant is faster now");
    let detail = screen(View::Detail, FOLD_BN, 160, 48);
    assert!(detail.text().contains("faster"), "before the change, fold-bn is faster");
}

#[test]
fn each_variant_shows_its_change_and_verdict_beside_its_original() {
    let s = screen(View::Models, RESNET50, 160, 48);
    let cells = what_if_cells(&s);
    for c in comparisons(&s.state) {
        let (name, cell) = &cells[c.model];
        assert!(name.starts_with('├') || name.starts_with('└'), "{name} reads as a branch of its original");
        assert!(name.contains(&format!("⟨{}⟩", c.variant)), "{name}");
        match c.verdict {
            Verdict::Faster => assert_eq!(change(cell), Some((c.delta_p50.unwrap() * 100.0).round()), "{cell}"),
            Verdict::Slower => assert!(change(cell).unwrap() > 0.0 && !cell.contains('✓'), "{cell}"),
            Verdict::Pending => assert_eq!(cell, "…"),
            Verdict::Disagrees => assert_eq!(cell, "✗ out"),
            Verdict::NoClearChange => assert!(cell.ends_with('±'), "{cell}"),
        }
        if c.verdict == Verdict::Faster {
            assert!(cell.ends_with('✓'), "{cell}");
        }
    }
    assert_eq!(comparison(&s.state, FOLD_BN).verdict, Verdict::Faster);
    assert_eq!(comparison(&s.state, THREADS_1).verdict, Verdict::Pending);
    // mobilenet's only variant is still loading; resnet18 has none.
    assert_eq!(cells[6].1, "…");
    assert_eq!(cells[0].1, "");
    assert_eq!(cells[7].0, "└ ⟨fold-bn⟩");
}

#[test]
fn s_sorts_by_the_what_if_change_largest_speed_up_first_and_s_reverses_it() {
    let mut s = screen(View::Models, RESNET50, 160, 48);
    s.press(KeyCode::Char('s'));
    assert_eq!(s.ui.sort, SortKey::WhatIf, "in a run with variants the what-if column comes first");
    for reversed in [false, true] {
        let cells = what_if_cells(&s);
        let expected: Vec<usize> = ordered_rows(&s.state, SortKey::WhatIf, reversed).iter().map(|r| r.id).collect();
        let names: Vec<&str> = cells.iter().map(|(n, _)| n.as_str()).collect();
        let known: Vec<f64> = cells.iter().map_while(|(_, c)| change(c)).collect();
        assert!(known.len() >= 3, "{cells:?}");
        assert!(cells[known.len()..].iter().all(|(_, c)| change(c).is_none()), "unknown last: {cells:?}");
        let sorted = known.windows(2).all(|w| if reversed { w[0] >= w[1] } else { w[0] <= w[1] });
        assert!(sorted, "reversed {reversed}: {cells:?}");
        // The variant whose output differs sorts among the unknowns, never among the speed-ups.
        let differs = expected.iter().position(|id| *id == CHANNELS_LAST).unwrap();
        assert!(differs >= known.len(), "{names:?}");
        assert!(names[differs].contains("resnet50 ⟨nhwc⟩"), "apart from its original: {names:?}");
        let title = s.find("Models · sorted by").1;
        let arrow = if reversed { '▼' } else { '▲' };
        assert!(title.contains(&format!("what-if Δp50 {arrow}")), "{title}");
        let hit = *s.ui.hits.table(TableId::Models).unwrap();
        assert!(s.lines()[usize::from(hit.body.y - 1)].contains(&format!("what-if{arrow}")));
        s.press(KeyCode::Char('S'));
    }
    // Unreversed again, the original comes first with its best variant right under it.
    assert!(!s.ui.sort_reversed);
    let cells = what_if_cells(&s);
    assert_eq!(cells[0].0, "resnet50");
    assert!(cells[1].0.ends_with("⟨fold-bn⟩") && cells[1].0.starts_with('├'), "{cells:?}");
}

#[test]
fn the_detail_view_compares_each_variant_and_names_the_best_thread_count() {
    let s = screen(View::Detail, RESNET50, 160, 48);
    let text = s.text();
    assert!(text.contains("what-if · 4 variants of resnet50"), "{text}");
    for c in comparisons(&s.state) {
        let (lo, hi) = c.delta_ci.unwrap_or((f64::NAN, f64::NAN));
        let line = s.find(&format!("⟨{}⟩ Δp50", c.variant)).1;
        let change = format!("{:+.1}%", c.delta_p50.unwrap() * 100.0);
        assert!(line.contains(&change), "{line}");
        if c.delta_ci.is_some() {
            assert!(line.contains(&format!("[{:+.1}, {:+.1}]", lo * 100.0, hi * 100.0)), "{line}");
        }
        assert!(line.contains(c.verdict.label()), "{line}");
    }
    let fold = comparison(&s.state, FOLD_BN);
    assert_eq!(fold.variant, Variant::FoldBn);
    assert!(s.find("⟨fold-bn⟩ Δp50").1.contains("shares BN -"), "the folded BatchNorm's share is gone");
    assert!(text.contains("roofline cmp"), "{text}");
    // threads=2 is slower than the original's 4 and threads=1 has no interval yet.
    assert!(text.contains("best thread count: the run's own 4"), "{text}");
}

#[test]
fn a_selected_variant_shows_its_own_comparison_at_80x24() {
    let s = screen(View::Detail, FOLD_BN, 80, 24);
    let (_, line) = s.find("Δp50");
    let fold = comparison(&s.state, FOLD_BN);
    assert!(line.contains(&format!("{:+.1}%", fold.delta_p50.unwrap() * 100.0)) && line.contains("faster"), "{line}");
    assert!(s.text().contains("output rel 3.1e-7 ≤ 1e-4"), "{}", s.text());
    assert!(s.find("what-if · resnet50 ⟨fold-bn⟩ vs resnet50").0 > 0);
    // The op table keeps its header and a row under the block.
    assert!(s.ui.hits.table(TableId::Ops).is_some_and(|t| t.body.height >= 1), "{}", s.text());
}

#[test]
fn a_run_without_variants_has_no_what_if_column_block_or_sort_step() {
    let ui = UiState { selected: 1, ..UiState::default() };
    let mut s = Screen::new(fixture::state(5, 40), ui, 160, 48);
    assert!(!s.text().contains("what-if"), "{}", s.text());
    s.press(KeyCode::Char('s'));
    assert_eq!(s.ui.sort, SortKey::Latency, "s skips the what-if column that is not there");
    s.ui.view = View::Detail;
    s.frame();
    assert!(!s.text().contains("what-if"), "{}", s.text());
    assert_eq!(SortKey::cycle(false).len() + 1, SortKey::cycle(true).len());
}

#[test]
fn an_original_whose_full_comparisons_do_not_fit_lists_each_variant_on_one_line() {
    let s = screen(View::Detail, RESNET50, 80, 30);
    let text = s.text();
    for c in comparisons(&s.state) {
        let line = s.find(&format!("⟨{}⟩ Δp50", c.variant)).1;
        assert!(line.contains(c.verdict.label()), "{line}");
    }
    assert!(!text.contains("more lines"), "{text}");
    assert!(text.contains("best ⟨fold-bn⟩"), "{text}");
}

#[test]
fn no_panic_at_any_size_whichever_row_is_selected_and_however_sorted() {
    let mut s = screen(View::Models, RESNET50, 80, 24);
    for (w, h) in [(60, 20), (61, 21), (80, 22), (80, 23), (99, 31), (160, 48), (300, 100), (20, 5)] {
        s.terminal.backend_mut().resize(w, h);
        for view in [View::Models, View::Detail] {
            for selected in 0..s.state.models.len() {
                for sort in [SortKey::Order, SortKey::WhatIf, SortKey::Latency] {
                    s.ui = UiState { view, selected, sort, sort_reversed: w % 2 == 0, ..s.ui.clone() };
                    s.frame();
                }
            }
        }
        assert_eq!((s.lines().len(), s.lines()[0].chars().count()), (usize::from(h), usize::from(w)));
    }
}

#[test]
fn help_explains_the_what_if_column_its_marks_and_the_detail_block() {
    let mut s = screen(View::Models, RESNET50, 80, 24);
    let mut help = String::new();
    s.press(KeyCode::Char('?'));
    for _ in 0..infertop::tui::render::help::ENTRIES.len() {
        help.push_str(&s.text());
        s.press(KeyCode::Down);
    }
    for term in ["what-if", "✓ ± ✗ out", "└ ⟨fold-bn⟩", "Δp50 [a, b]", "output rel", "shares pt", "roofline pt"]
    {
        assert!(help.contains(&format!("│ {term} ")), "help has no entry for {term}:\n{help}");
    }
    // The column's title is written as its help entry.
    s.press(KeyCode::Esc);
    let hit = *s.ui.hits.table(TableId::Models).unwrap();
    assert!(s.lines()[usize::from(hit.body.y - 1)].contains(" what-if "));
}

#[test]
fn the_marks_take_the_themes_good_and_bad_colours() {
    let s = screen(View::Models, 0, 160, 48);
    let theme = infertop::tui::theme::Theme::default();
    let fg = |needle: &str, mark: &str| {
        let (y, _) = s.find(needle);
        let x = s.column_of(y, mark);
        s.terminal.backend().buffer()[(x, y)].fg
    };
    assert_eq!(fg("⟨channels-last⟩", "✗"), theme.bad.fg.unwrap());
    assert_eq!(fg("⟨fold-bn⟩ ", "✓"), theme.good.fg.unwrap());
    assert_ne!(theme.good.fg, theme.bad.fg);
}
