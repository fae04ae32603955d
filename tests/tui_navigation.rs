//! Moving around the live screen as a person would, through the same path as the live loop
//! (keymap or mouse → `Action` → `UiState::apply` → a frame drawn into `TestBackend`): the
//! models table sorted on every key both ways, Enter and Esc, the detail tables scrolled,
//! sorted on every column both ways and filtered, clicks and the wheel, and no panic at any
//! size whatever was chosen.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap fails the test")]

#[path = "tui_fixture/state.rs"]
mod fixture;
#[path = "support/screen.rs"]
mod screen;

use std::fmt::Write as _;

use crossterm::event::{KeyCode, MouseEventKind};
use infertop::core::analysis::op_rows;
use infertop::core::state::MonitorState;
use infertop::tui::app::{UiState, View};
use infertop::tui::rows::{ordered_rows, SortKey};
use infertop::tui::tables::TableId;
use screen::{inside, Screen};

/// Five measured models, one failed, one loading; mobilenet (id 1) selected.
fn screen(view: View, width: u16, height: u16) -> Screen {
    Screen::new(fixture::state(5, 40), UiState { view, selected: 1, ..UiState::default() }, width, height)
}

/// The op table's names for `model` in its own order (self time, largest first), as shown.
fn op_names(state: &MonitorState, model: usize) -> Vec<String> {
    op_rows(&state.tree, &state.models[model], false)
        .iter()
        .map(|r| r.op.strip_prefix("aten::").unwrap_or(&r.op).to_string())
        .collect()
}

/// Each drawn row of a table, as its cells split at blanks.
fn table_rows(s: &Screen, table: TableId) -> Vec<Vec<String>> {
    let hit = *s.ui.hits.table(table).unwrap_or_else(|| panic!("{table:?} not drawn:\n{}", s.text()));
    let lines = s.lines();
    (hit.body.y..hit.body.bottom())
        .map(|y| inside(&lines[usize::from(y)], usize::from(hit.body.x), usize::from(hit.body.right())))
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}

fn first_cells(s: &Screen, table: TableId) -> Vec<String> {
    table_rows(s, table).into_iter().map(|r| r[0].trim_start_matches('»').to_string()).collect()
}

/// `names` as a column `shown` cuts them: each in full, or its start and end around `…`.
fn as_cut(names: &[String], shown: &[String]) -> Vec<String> {
    names
        .iter()
        .zip(shown)
        .map(|(name, cell)| {
            let Some((head, tail)) = cell.split_once('…') else { return name.clone() };
            if name.starts_with(head) && name.ends_with(tail) && name.len() > cell.len() - '…'.len_utf8() {
                cell.clone()
            } else {
                name.clone()
            }
        })
        .collect()
}

/// A number as the tables print it (`52.6`, `1.28G`, `81.5%`, `+18%`); `None` for `–`.
fn value(cell: &str) -> Option<f64> {
    let cell = cell.trim_end_matches('%').trim_start_matches('+');
    let (digits, scale) = match cell.chars().last()? {
        'k' => (&cell[..cell.len() - 1], 1e3),
        'M' => (&cell[..cell.len() - 1], 1e6),
        'G' => (&cell[..cell.len() - 1], 1e9),
        _ => (cell, 1.0),
    };
    digits.parse::<f64>().ok().map(|v| v * scale)
}

/// Whether `cells` run in the direction `ascending`, unknown values (`–`) last.
fn in_order(cells: &[String], ascending: bool) -> bool {
    let known: Vec<&String> = cells.iter().take_while(|c| *c != "–").collect();
    if cells[known.len()..].iter().any(|c| c != "–") {
        return false;
    }
    known.windows(2).all(|w| {
        let ordered = if let (Some(a), Some(b)) = (value(w[0]), value(w[1])) {
            a.total_cmp(&b)
        } else {
            readable(w[0]).cmp(&readable(w[1]))
        };
        ordered.is_eq() || ordered.is_lt() == ascending
    })
}

/// Text as it sorts when read: digit runs as numbers (padded to one width), the rest case-blind,
/// so shapes run `1x16x32x32`, `1x64x8x8`, `1x128x4x4`.
fn readable(text: &str) -> String {
    let mut out = String::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_digit() {
            run.push(c);
            continue;
        }
        if !run.is_empty() {
            let _ = write!(out, "{:0>20}", run.trim_start_matches('0'));
            run.clear();
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The header line of a table (the line above its rows).
fn header(s: &Screen, table: TableId) -> String {
    let hit = s.ui.hits.table(table).unwrap();
    let line = &s.lines()[usize::from(hit.body.y - 1)];
    inside(line, usize::from(hit.body.x), usize::from(hit.body.right()))
}

#[test]
fn the_models_table_sorts_on_every_key_in_both_directions() {
    let mut s = screen(View::Models, 160, 48);
    let names: Vec<String> = s.state.models.iter().map(|m| m.name.to_string()).collect();
    for _ in 1..SortKey::cycle(false).len() {
        s.press(KeyCode::Char('s'));
        for reversed in [false, true] {
            let expected: Vec<String> =
                ordered_rows(&s.state, s.ui.sort, reversed).iter().map(|r| names[r.id].clone()).collect();
            assert_eq!(first_cells(&s, TableId::Models), expected, "{:?} reversed {reversed}", s.ui.sort);
            let arrow = if s.ui.sort.ascending_by_default() == reversed { '▼' } else { '▲' };
            assert!(header(&s, TableId::Models).contains(arrow), "{:?}: {}", s.ui.sort, header(&s, TableId::Models));
            assert!(s.find("Models · sorted by").1.contains(&format!("{} {arrow}", s.ui.sort.label())));
            s.press(KeyCode::Char('S'));
        }
    }
    // Read off the screen, not from the same code: p50 descending, then ascending.
    s.ui.sort = SortKey::Latency;
    s.ui.sort_reversed = false;
    s.frame();
    let p50 = |s: &Screen| -> Vec<String> {
        let timed = |r: &&Vec<String>| r.len() > 5 && !r[1].starts_with("failed");
        table_rows(s, TableId::Models).iter().filter(timed).map(|r| r[3].clone()).collect()
    };
    assert!(in_order(&p50(&s), false), "{:?}", p50(&s));
    s.press(KeyCode::Char('S'));
    assert!(in_order(&p50(&s), true), "{:?}", p50(&s));
}

#[test]
fn enter_opens_the_selected_models_detail_and_esc_goes_back_where_it_was() {
    let mut s = screen(View::Models, 80, 24);
    s.press(KeyCode::Down);
    let chosen = s.state.models[s.ui.selected].name.to_string();
    s.press(KeyCode::Enter);
    assert_eq!(s.ui.view, View::Detail);
    assert!(s.lines()[1].contains(&format!("┌ {chosen} ·")), "{}", s.text());
    s.press(KeyCode::Esc);
    assert_eq!(s.ui.view, View::Models);
    // From the System view, back to the System view.
    let (_, tabs) = s.find("System");
    let x = s.column_of(0, "System");
    assert!(tabs.contains("System"));
    s.click(x + 1, 0);
    assert_eq!(s.ui.view, View::System);
    s.press(KeyCode::Enter);
    assert_eq!(s.ui.view, View::Detail);
    s.press(KeyCode::Esc);
    assert_eq!(s.ui.view, View::System);
    // Reached with Tab, any view goes back to Models.
    s.press(KeyCode::Esc);
    assert_eq!(s.ui.view, View::Models);
    for tabs in 1..View::ALL.len() {
        for _ in 0..tabs {
            s.press(KeyCode::Tab);
        }
        assert_ne!(s.ui.view, View::Models);
        s.press(KeyCode::Esc);
        assert_eq!(s.ui.view, View::Models, "after {tabs} Tab");
    }
}

#[test]
fn a_filter_and_a_scroll_do_not_follow_the_selection_to_another_model() {
    let mut s = screen(View::Models, 80, 24);
    s.press(KeyCode::Enter);
    s.press(KeyCode::Right); // the layer table
    assert_eq!(s.ui.table, TableId::Layers);
    s.press(KeyCode::Char('/'));
    s.type_text("conv");
    s.press(KeyCode::Enter);
    s.press(KeyCode::Down);
    let slot = TableId::Layers.slot().unwrap();
    assert_eq!((s.ui.tables[slot].filter.as_str(), s.ui.tables[slot].selected), ("conv", 1));
    s.ui.tables[slot].sort = Some(2);
    s.press(KeyCode::Esc);
    s.press(KeyCode::Down);
    s.press(KeyCode::Enter);
    let table = &s.ui.tables[slot];
    assert!(table.filter.is_empty() && table.selected == 0 && table.offset == 0, "{table:?}");
    assert_eq!(table.sort, Some(2), "the sort is a way of reading and stays");
    assert!(!s.text().contains("/conv"), "{}", s.text());
    // The same model again keeps what was typed.
    s.press(KeyCode::Char('/'));
    s.type_text("bn");
    s.press(KeyCode::Enter);
    s.press(KeyCode::Esc);
    s.press(KeyCode::Enter);
    assert_eq!(s.ui.tables[slot].filter, "bn");
}

#[test]
fn s_never_sorts_by_a_column_this_width_hides_and_the_front_table_is_lit() {
    for (width, height) in [(80, 24), (100, 30), (160, 48)] {
        let mut s = screen(View::Detail, width, height);
        for table in TableId::DETAIL {
            while s.ui.table != table {
                s.press(KeyCode::Right);
            }
            let hit = *s.ui.hits.table(table).unwrap();
            let border = s.terminal.backend().buffer()[(hit.body.x - 1, hit.body.y)].fg;
            for other in TableId::DETAIL.iter().filter(|t| **t != table) {
                let o = *s.ui.hits.table(*other).unwrap();
                let theirs = s.terminal.backend().buffer()[(o.body.x - 1, o.body.y)].fg;
                assert_ne!(border, theirs, "{width}x{height}: {table:?} in front, {other:?} looks the same");
            }
            let mut sorted = 0;
            loop {
                s.press(KeyCode::Char('s'));
                if s.ui.tables[table.slot().unwrap()].sort.is_none() {
                    break;
                }
                sorted += 1;
                let head = header(&s, table);
                assert!(head.contains('▲') || head.contains('▼'), "{width}x{height} {table:?}: no arrow in {head}");
                assert!(sorted < 20, "the cycle ends");
            }
            assert!(sorted >= 2, "{width}x{height} {table:?}: {sorted} sortable columns");
        }
    }
}

#[test]
fn the_op_table_scrolls_by_row_page_and_to_either_end() {
    let mut s = screen(View::Detail, 80, 24);
    let names = op_names(&s.state, 1);
    let visible = first_cells(&s, TableId::Ops).len();
    assert!(visible >= 3 && visible < names.len(), "the fixture's op table must need scrolling at 80x24");
    let shown = first_cells(&s, TableId::Ops);
    assert_eq!(shown, as_cut(&names[..visible], &shown));
    s.press(KeyCode::End);
    let shown = first_cells(&s, TableId::Ops);
    assert_eq!(shown, as_cut(&names[names.len() - visible..], &shown));
    let hit = *s.ui.hits.table(TableId::Ops).unwrap();
    assert_eq!(hit.selected, names.len() - 1);
    assert!(s.highlighted(2, hit.body.bottom() - 1), "the last row is selected and drawn so");
    s.press(KeyCode::PageUp);
    let selected = names.len() - 1 - visible;
    assert_eq!(s.ui.tables[1].selected, selected);
    // The row is the first shown (a long name as the column cuts it), drawn as selected.
    let shown = first_cells(&s, TableId::Ops);
    assert_eq!(shown[0], as_cut(&names[selected..=selected], &shown)[0]);
    let (y, _) = s.find(&format!("│{} ", shown[0]));
    assert!(s.highlighted(2, y));
    s.press(KeyCode::Home);
    let shown = first_cells(&s, TableId::Ops);
    assert_eq!(shown, as_cut(&names[..visible], &shown));
    s.press(KeyCode::PageDown);
    assert_eq!(s.ui.tables[1].selected, visible);
    for _ in 0..3 {
        s.press(KeyCode::Up);
    }
    assert_eq!(s.ui.tables[1].selected, visible - 3);
    // → moves the keys to the layers table, which scrolls on its own.
    s.press(KeyCode::Right);
    assert_eq!(s.ui.table, TableId::Layers);
    assert!(s.find("┌ ▸ top layers").1.contains("▸ top layers"));
    s.press(KeyCode::End);
    assert_eq!(s.ui.tables[1].selected, visible - 3, "the op table kept its place");
    assert_ne!(first_cells(&s, TableId::Layers)[0], "layer0.conv");
}

#[test]
fn every_detail_table_sorts_on_every_column_in_both_directions() {
    let mut s = screen(View::Detail, 160, 48);
    for (table, columns) in [(TableId::Conv, 5), (TableId::Ops, 7), (TableId::Layers, 7)] {
        while s.ui.table != table {
            s.press(KeyCode::Right);
        }
        let before = first_cells(&s, table).len();
        let mut sorted = Vec::new();
        loop {
            s.press(KeyCode::Char('s'));
            let Some(column) = s.ui.tables[table.slot().unwrap()].sort else { break };
            sorted.push(column);
            for _ in 0..2 {
                // The column is drawn (its arrow is on screen): its place among the drawn ones.
                let shown = s.ui.hits.table(table).unwrap().shown_columns;
                assert!(shown & (1 << column) != 0, "{table:?}: sorted by hidden column {column}");
                let place = (0..column).filter(|c| shown & (1 << c) != 0).count();
                let head = header(&s, table);
                let ascending = head.contains('▲');
                assert!(ascending != head.contains('▼'), "one arrow: {head}");
                let cells: Vec<String> = table_rows(&s, table).iter().map(|r| r[place].clone()).collect();
                assert_eq!(cells.len(), before, "sorting keeps every row");
                assert!(in_order(&cells, ascending), "{table:?} column {column} ascending {ascending}: {cells:?}");
                s.press(KeyCode::Char('S'));
            }
            assert!(sorted.len() <= columns, "the cycle ends");
        }
        assert!(sorted.windows(2).all(|w| w[0] < w[1]), "{table:?}: columns in order: {sorted:?}");
        assert!(sorted.len() + 1 >= columns, "{table:?}: at 160 columns at most one is left out: {sorted:?}");
    }
}

#[test]
fn a_filter_typed_after_slash_narrows_the_table_and_esc_clears_it() {
    let mut s = screen(View::Detail, 80, 24);
    let names = op_names(&s.state, 1);
    let conv: Vec<&String> = names.iter().filter(|n| n.contains("conv")).collect();
    s.press(KeyCode::Char('/'));
    assert!(s.ui.typing);
    s.type_text("Conv");
    assert!(s.find("┌ ▸ aten ops").1.contains("/Conv▏"), "the title shows what is typed");
    assert!(s.lines()[23].contains("Enter keep"), "the status line says how typing ends");
    s.press(KeyCode::Enter);
    assert!(!s.ui.typing);
    let title = s.find("┌ ▸ aten ops").1;
    assert!(title.contains(&format!("/Conv {} of {} ops", conv.len(), names.len())), "{title}");
    let shown = first_cells(&s, TableId::Ops);
    assert_eq!(shown.len(), conv.len().min(7));
    assert!(shown.iter().all(|n| n.contains("conv")), "{shown:?}");
    // q is text while typing, not quit; Esc drops the filter.
    s.press(KeyCode::Char('/'));
    s.type_text("q");
    assert_eq!(s.ui.tables[1].filter, "Convq");
    assert!(s.text().contains("no ops match /Convq"), "{}", s.text());
    s.press(KeyCode::Esc);
    assert!(!s.ui.typing && s.ui.tables[1].filter.is_empty());
    assert_eq!(first_cells(&s, TableId::Ops)[0], names[0]);
    assert_eq!(s.ui.view, View::Detail, "Esc while typing only clears");
}

#[test]
fn the_layer_filter_matches_a_layers_kind_and_kernel_path_and_shows_its_shape() {
    let mut s = screen(View::Detail, 160, 48);
    while s.ui.table != TableId::Layers {
        s.press(KeyCode::Right);
    }
    // The selected model's convolutions ran `_conv_depthwise2d`: no layer is named so.
    s.press(KeyCode::Char('/'));
    s.type_text("depthwise");
    s.press(KeyCode::Enter);
    let rows = table_rows(&s, TableId::Layers);
    let names: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(names, ["layer0.conv", "layer1.conv", "layer2.conv", "layer3.conv"], "{rows:?}");
    // A convolution layer names the kernel that computed it.
    assert!(rows[1][1].starts_with("_conv_dep") && rows[1][2] == "1x32x16x16", "kernel and shape: {rows:?}");
    // Esc while typing drops the filter.
    s.press(KeyCode::Char('/'));
    s.press(KeyCode::Esc);
    s.press(KeyCode::Char('/'));
    s.type_text("batchnorm");
    s.press(KeyCode::Enter);
    let kinds: Vec<String> = table_rows(&s, TableId::Layers).into_iter().map(|r| r[1].clone()).collect();
    assert!(kinds.len() == 4 && kinds.iter().all(|k| k == "BatchNorm"), "{kinds:?}");
}

#[test]
fn a_click_selects_a_tab_or_a_row_and_the_wheel_scrolls_the_table_under_it() {
    let mut s = screen(View::Models, 80, 24);
    for view in [View::Beyond, View::System, View::Detail, View::Models] {
        let x = s.column_of(0, view.label());
        s.click(x, 0);
        assert_eq!(s.ui.view, view);
    }
    let (y, _) = s.find("│  vgg11 ");
    s.click(20, y);
    assert_eq!(s.state.models[s.ui.selected].name.as_ref(), "vgg11");
    assert!(s.highlighted(2, y));
    s.mouse(MouseEventKind::ScrollDown, 20, y);
    assert_eq!(s.state.models[s.ui.selected].name.as_ref(), "xception", "the wheel moves 3 rows");

    let mut s = screen(View::Detail, 80, 24);
    let names = op_names(&s.state, 1);
    let ops = *s.ui.hits.table(TableId::Ops).unwrap();
    let layers_before = first_cells(&s, TableId::Layers);
    s.mouse(MouseEventKind::ScrollDown, ops.body.x + 3, ops.body.y + 1);
    assert_eq!(first_cells(&s, TableId::Ops)[0], names[3]);
    assert_eq!(first_cells(&s, TableId::Layers), layers_before, "only the table under the pointer scrolls");
    s.mouse(MouseEventKind::ScrollUp, ops.body.x + 3, ops.body.y + 1);
    assert_eq!(first_cells(&s, TableId::Ops)[0], names[0]);
    let layers = *s.ui.hits.table(TableId::Layers).unwrap();
    s.mouse(MouseEventKind::ScrollDown, layers.body.x + 2, layers.body.y);
    assert_ne!(first_cells(&s, TableId::Layers), layers_before);
    // A click on a layer row puts that table in front with the row selected.
    s.click(layers.body.x + 2, layers.body.y + 2);
    assert_eq!(s.ui.table, TableId::Layers);
    assert_eq!(s.ui.tables[2].selected, s.ui.tables[2].offset + 2);
    assert!(s.highlighted(layers.body.x + 1, layers.body.y + 2));
    assert!(!s.highlighted(ops.body.x + 1, ops.body.y), "only the table in front shows its selection");
    // Below the rows, on a border, or under the help: nothing happens.
    let before = s.ui.clone();
    s.click(layers.body.x + 2, layers.body.y - 1);
    s.click(0, 23);
    assert_eq!(s.ui, before);
    s.press(KeyCode::Char('?'));
    assert!(s.ui.hits.tables.is_empty() && s.ui.hits.tabs.is_empty(), "the help covers the view");
}

#[test]
fn no_panic_at_any_size_whatever_was_chosen() {
    let full = fixture::state(10, 45);
    let widths = [20, 23, 31, 47, 59, 60, 64, 80, 99, 120, 160, 201, 255, 300];
    let heights = [5, 7, 9, 13, 19, 20, 24, 31, 48, 64, 100];
    let keys = [
        KeyCode::End,
        KeyCode::Char('s'),
        KeyCode::Char('S'),
        KeyCode::Right,
        KeyCode::PageDown,
        KeyCode::Char('/'),
        KeyCode::Char('e'),
        KeyCode::Enter,
        KeyCode::Char('s'),
        KeyCode::Left,
        KeyCode::Char('/'),
        KeyCode::Char('z'),
        KeyCode::Char('?'),
    ];
    for view in View::ALL {
        for &w in &widths {
            for &h in &heights {
                let mut s = Screen::new(full.clone(), UiState { view, selected: 3, ..UiState::default() }, w, h);
                for (i, key) in keys.iter().enumerate() {
                    s.press(*key);
                    s.mouse(MouseEventKind::ScrollDown, w / 2, h / 2);
                    s.click(u16::try_from(i * 7).unwrap() % w, u16::try_from(i * 3).unwrap() % h);
                }
            }
        }
    }
}

/// What a sorted, filtered and scrolled screen looks like: the op table sorted by name
/// reversed and filtered, the layers table scrolled; the models table by p99 ascending.
#[test]
fn chosen_sorts_filters_and_scrolls_as_drawn() {
    let mut s = screen(View::Detail, 80, 24);
    s.press(KeyCode::Char('s'));
    s.press(KeyCode::Char('S'));
    s.press(KeyCode::Char('/'));
    s.type_text("norm");
    s.press(KeyCode::Enter);
    s.press(KeyCode::Right);
    s.press(KeyCode::End);
    insta::assert_snapshot!("detail_sorted_filtered_scrolled_80x24", s.text());
    let mut s = screen(View::Models, 160, 48);
    while s.ui.sort != SortKey::P99 {
        s.press(KeyCode::Char('s'));
    }
    s.press(KeyCode::Char('S'));
    insta::assert_snapshot!("models_by_p99_ascending_160x48", s.text());
}
