//! What the person chose for each table (selection, scroll offset, sort column and direction,
//! filter) and how a table's rows are filtered, sorted and windowed by it. Drawing stays in
//! `render/`; this holds the choices and the pure arithmetic both the keys and the frame use.

use std::cmp::Ordering;

use ratatui::text::Span;

/// The tables that scroll, sort and filter on their own.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum TableId {
    /// The models table (its sort is [`crate::tui::rows::SortKey`]; rows are models).
    Models,
    /// Inside `Conv2D`, top right of the detail view.
    Conv,
    /// The op table, bottom left of the detail view.
    #[default]
    Ops,
    /// The leaf layers, bottom right of the detail view.
    Layers,
}

impl TableId {
    /// The detail view's tables in the order ←/→ move through them.
    pub const DETAIL: [TableId; 3] = [TableId::Conv, TableId::Ops, TableId::Layers];

    /// Index into [`crate::tui::app::UiState::tables`]; the models table has none.
    #[must_use]
    pub fn slot(self) -> Option<usize> {
        Self::DETAIL.iter().position(|t| *t == self)
    }

    /// The neighbour in the detail view (`by` = ±1), wrapping around.
    #[must_use]
    pub fn beside(self, by: isize) -> Self {
        let n = Self::DETAIL.len();
        let i = self.slot().unwrap_or(1);
        Self::DETAIL[(i + n).saturating_add_signed(by.rem_euclid(3)) % n]
    }
}

/// One table's selection, scroll, sort and filter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TableState {
    /// Selected row among the rows shown (after filter and sort).
    pub selected: usize,
    /// First row drawn.
    pub offset: usize,
    /// The column sorted by; `None` is the table's own order (its natural column).
    pub sort: Option<usize>,
    /// Against the column's natural direction (numbers largest first, names A to Z).
    pub reversed: bool,
    /// Rows whose name (or [`TableRow::also_matches`]) contains this (any case) are shown;
    /// empty shows all.
    pub filter: String,
}

impl TableState {
    /// The next sort column of a table with `columns` columns: each in turn, then its own order.
    pub fn next_sort(&mut self, columns: usize) {
        self.next_sort_among(columns, None);
    }

    /// The next sort column among those the last frame drew (`shown`, a bit per column; `None`
    /// when it drew none: all count), so `s` never sorts by a column hidden at this width,
    /// which would leave no ▲/▼ on screen to say what the order is.
    pub fn next_sort_among(&mut self, columns: usize, shown: Option<u64>) {
        let drawn = |c: usize| shown.is_none_or(|mask| c >= 64 || mask & (1 << c) != 0);
        let from = self.sort.map_or(0, |c| c + 1);
        self.sort = (from..columns).find(|c| drawn(*c));
        self.reversed = false;
    }

    /// Moves the selection by `by` rows (clamped to the rows when the next frame draws).
    pub fn step(&mut self, by: isize) {
        self.selected = self.selected.saturating_add_signed(by);
    }
}

/// What a column sorts by.
#[derive(Clone, Debug, PartialEq)]
pub enum SortValue {
    Num(f64),
    Text(String),
    /// Unknown: sorts last in either direction.
    None,
}

/// A row of cells with the value each column sorts by.
#[derive(Clone, Debug)]
pub struct TableRow {
    pub cells: Vec<Span<'static>>,
    pub keys: Vec<SortValue>,
    /// More text the filter matches besides the first cell (a layer's kind and kernel path).
    pub also_matches: String,
}

/// The rows a table shows: those whose first cell (or extra text) contains the filter, sorted
/// by the chosen
/// column (else `natural`) in the chosen direction. Returns the rows and the sort column and
/// whether it runs ascending.
#[must_use]
pub fn arrange(mut rows: Vec<TableRow>, table: &TableState, natural: usize) -> (Vec<TableRow>, usize, bool) {
    let needle = table.filter.to_lowercase();
    if !needle.is_empty() {
        rows.retain(|r| {
            r.cells.first().is_some_and(|c| c.content.to_lowercase().contains(&needle))
                || r.also_matches.to_lowercase().contains(&needle)
        });
    }
    let column = table.sort.unwrap_or(natural);
    let text = rows.iter().any(|r| matches!(r.keys.get(column), Some(SortValue::Text(_))));
    // Names read A to Z, numbers largest first.
    let ascending = text != table.reversed;
    rows.sort_by(|a, b| compare(a.keys.get(column), b.keys.get(column), ascending));
    (rows, column, ascending)
}

/// Orders two sort values; unknown ones last whatever the direction. Stable for ties.
fn compare(a: Option<&SortValue>, b: Option<&SortValue>, ascending: bool) -> Ordering {
    let order = match (a, b) {
        (Some(SortValue::Num(x)), Some(SortValue::Num(y))) => x.total_cmp(y),
        (Some(SortValue::Text(x)), Some(SortValue::Text(y))) => natural_order(x, y),
        (None | Some(SortValue::None), None | Some(SortValue::None)) => return Ordering::Equal,
        (None | Some(SortValue::None), _) => return Ordering::Greater,
        (_, None | Some(SortValue::None)) => return Ordering::Less,
        (Some(SortValue::Num(_)), _) => Ordering::Less,
        (_, Some(SortValue::Num(_))) => Ordering::Greater,
    };
    if ascending {
        order
    } else {
        order.reverse()
    }
}

/// Text in the order a person reads it: runs of digits compare as numbers (`1x120x8x8` before
/// `1x120x16x16`, `layer2` before `layer10`), the rest case-blind.
fn natural_order(left: &str, right: &str) -> Ordering {
    let (mut left, mut right) = (left.chars().peekable(), right.chars().peekable());
    loop {
        match (left.peek().copied(), right.peek().copied()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(l), Some(r)) if l.is_ascii_digit() && r.is_ascii_digit() => {
                let (l, r) = (digits(&mut left), digits(&mut right));
                // Without leading zeros, a longer run is the larger number.
                let (l, r) = (l.trim_start_matches('0'), r.trim_start_matches('0'));
                let order = l.len().cmp(&r.len()).then_with(|| l.cmp(r));
                if order != Ordering::Equal {
                    return order;
                }
            }
            (Some(l), Some(r)) => {
                let order = l.to_lowercase().cmp(r.to_lowercase());
                if order != Ordering::Equal {
                    return order;
                }
                left.next();
                right.next();
            }
        }
    }
}

fn digits(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut run = String::new();
    while let Some(c) = chars.next_if(char::is_ascii_digit) {
        run.push(c);
    }
    run
}

/// The selection and offset a frame draws with: the selection inside the `len` rows, and the
/// offset moved as little as needed to show it in `visible` rows, never past the last page.
#[must_use]
pub fn window(len: usize, visible: usize, selected: usize, offset: usize) -> (usize, usize) {
    if len == 0 || visible == 0 {
        return (0, 0);
    }
    let selected = selected.min(len - 1);
    let offset = offset.min(selected).max((selected + 1).saturating_sub(visible));
    (selected, offset.min(len.saturating_sub(visible)))
}

/// The arrow that marks the sort column's title.
#[must_use]
pub fn arrow(ascending: bool) -> char {
    if ascending {
        '▲'
    } else {
        '▼'
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str, v: Option<f64>) -> TableRow {
        TableRow {
            cells: vec![Span::raw(name.to_string())],
            keys: vec![SortValue::Text(name.into()), v.map_or(SortValue::None, SortValue::Num)],
            also_matches: format!("kind-of-{name}"),
        }
    }

    fn names(rows: &[TableRow]) -> Vec<String> {
        rows.iter().map(|r| r.cells[0].content.to_string()).collect()
    }

    #[test]
    fn rows_filter_and_sort_both_ways_with_unknowns_last() {
        let rows = vec![row("b", Some(1.0)), row("A", None), row("c", Some(3.0))];
        let mut table = TableState::default();
        let (sorted, column, ascending) = arrange(rows.clone(), &table, 1);
        assert_eq!((names(&sorted), column, ascending), (vec!["c".into(), "b".into(), "A".into()], 1, false));
        table.reversed = true;
        assert_eq!(names(&arrange(rows.clone(), &table, 1).0), ["b", "c", "A"]);
        table.next_sort(2);
        assert_eq!(names(&arrange(rows.clone(), &table, 1).0), ["A", "b", "c"]);
        table.filter = "B".into();
        assert_eq!(names(&arrange(rows.clone(), &table, 1).0), ["b"]);
        table.filter = "KIND-OF-c".into();
        assert_eq!(names(&arrange(rows, &table, 1).0), ["c"], "the extra text matches too");
    }

    #[test]
    fn shapes_and_numbered_names_sort_by_their_numbers() {
        let rows = ["1x120x16x16", "1x120x8x8", "layer10", "Layer2", "1x24x32x32"].map(|n| row(n, None)).to_vec();
        let (sorted, _, ascending) = arrange(rows, &TableState::default(), 0);
        assert!(ascending);
        assert_eq!(names(&sorted), ["1x24x32x32", "1x120x8x8", "1x120x16x16", "Layer2", "layer10"]);
        assert_eq!(natural_order("a007", "a7"), Ordering::Equal);
        assert_eq!(natural_order("a7b", "a7c"), Ordering::Less);
    }

    #[test]
    fn sorting_skips_the_columns_the_frame_did_not_draw() {
        let mut table = TableState::default();
        let shown = Some(0b1_0101);
        let mut seen = Vec::new();
        for _ in 0..4 {
            table.next_sort_among(6, shown);
            seen.push(table.sort);
        }
        assert_eq!(seen, [Some(0), Some(2), Some(4), None]);
        table.next_sort_among(3, None);
        assert_eq!(table.sort, Some(0), "without a frame every column counts");
    }

    #[test]
    fn the_window_keeps_the_selection_in_view_and_the_last_page_full() {
        assert_eq!(window(0, 5, 3, 2), (0, 0));
        assert_eq!(window(10, 4, 0, 0), (0, 0));
        assert_eq!(window(10, 4, 5, 0), (5, 2));
        assert_eq!(window(10, 4, 5, 9), (5, 5));
        assert_eq!(window(10, 4, 99, 0), (9, 6));
        assert_eq!(window(3, 10, 1, 2), (1, 0));
    }
}
