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
        self.sort = match self.sort {
            None => Some(0),
            Some(c) if c + 1 < columns => Some(c + 1),
            Some(_) => None,
        };
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
        (Some(SortValue::Text(x)), Some(SortValue::Text(y))) => x.to_lowercase().cmp(&y.to_lowercase()),
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
    fn the_window_keeps_the_selection_in_view_and_the_last_page_full() {
        assert_eq!(window(0, 5, 3, 2), (0, 0));
        assert_eq!(window(10, 4, 0, 0), (0, 0));
        assert_eq!(window(10, 4, 5, 0), (5, 2));
        assert_eq!(window(10, 4, 5, 9), (5, 5));
        assert_eq!(window(10, 4, 99, 0), (9, 6));
        assert_eq!(window(3, 10, 1, 2), (1, 0));
    }
}
