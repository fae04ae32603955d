//! Tables drawn as padded text lines: columns that do not fit the width are dropped by
//! priority (so 80 columns show the essentials and 160 show everything), a row may be a single
//! message spanning the rest of the line (a failed model's error), and the selected row stays
//! in view.

use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::Frame;

use super::units::{fit, fit_front, fit_middle};

/// How a column aligns its cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One column: its title, width (the minimum, for a growing column), alignment, and priority
/// (0 is always shown; higher numbers are dropped first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    pub title: String,
    pub width: u16,
    pub align: Align,
    pub priority: u8,
    /// Takes the width left over by the others.
    pub grow: bool,
    /// Shown only when every other column fits (it repeats what another column says).
    pub spare: bool,
    /// Where a long cell is cut.
    pub cut: Cut,
}

/// Where a cell too long for its column loses characters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Cut {
    /// At the end: plain names and numbers.
    #[default]
    End,
    /// In the middle, keeping the start and the end (op names whose end tells them apart).
    Middle,
    /// At the front, keeping the end (layer paths: block and leaf).
    Front,
}

impl Column {
    #[must_use]
    pub fn left(title: &str, width: u16, priority: u8) -> Self {
        Self { title: title.into(), width, align: Align::Left, priority, grow: false, spare: false, cut: Cut::End }
    }

    #[must_use]
    pub fn right(title: &str, width: u16, priority: u8) -> Self {
        Self { title: title.into(), width, align: Align::Right, priority, grow: false, spare: false, cut: Cut::End }
    }

    #[must_use]
    pub fn growing(mut self) -> Self {
        self.grow = true;
        self
    }

    /// Cuts long cells in the middle, keeping the start and the end.
    #[must_use]
    pub fn cut_middle(mut self) -> Self {
        self.cut = Cut::Middle;
        self
    }

    /// Cuts long cells at the front, keeping the end.
    #[must_use]
    pub fn cut_front(mut self) -> Self {
        self.cut = Cut::Front;
        self
    }

    /// Marks the column as shown only when all the others fit.
    #[must_use]
    pub fn spare(mut self) -> Self {
        self.spare = true;
        self
    }

    /// The width it takes at least: never less than its title, so no title is cut.
    #[must_use]
    pub fn min_width(&self) -> u16 {
        self.width.max(u16::try_from(self.title.chars().count()).unwrap_or(u16::MAX))
    }
}

/// The columns that fit in `width`, in table order, with their final widths. Columns are
/// taken by priority, one space between neighbours, each at least as wide as its title; a
/// spare column only once all the others are in; a growing column gets what is left.
#[must_use]
pub fn layout(columns: &[Column], width: u16) -> Vec<(usize, u16)> {
    let mut order: Vec<usize> = (0..columns.len()).collect();
    order.sort_by_key(|&i| (columns[i].spare, columns[i].priority, i));
    let mut used: u16 = 0;
    let mut shown = vec![false; columns.len()];
    let mut all_fit = true;
    for i in order {
        let need = columns[i].min_width() + u16::from(used > 0);
        if columns[i].spare && !all_fit {
            continue;
        }
        if used.saturating_add(need) <= width {
            used += need;
            shown[i] = true;
        } else {
            all_fit = false;
        }
    }
    let spare = width - used;
    let growing = (0..columns.len()).find(|&i| shown[i] && columns[i].grow);
    (0..columns.len())
        .filter(|&i| shown[i])
        .map(|i| (i, columns[i].min_width() + if Some(i) == growing { spare } else { 0 }))
        .collect()
}

/// A cell padded (or cut) to `width` according to the column's alignment and cut.
fn pad(text: &str, width: u16, column: &Column) -> String {
    let width = usize::from(width);
    let text = match column.cut {
        Cut::End => fit(text, width),
        Cut::Middle => fit_middle(text, width),
        Cut::Front => fit_front(text, width),
    };
    match column.align {
        Align::Left => format!("{text:<width$}"),
        Align::Right => format!("{text:>width$}"),
    }
}

/// The header line of the shown columns.
#[must_use]
pub fn header(columns: &[Column], shown: &[(usize, u16)], style: Style) -> Line<'static> {
    let cells = shown.iter().map(|&(i, _)| Span::raw(columns[i].title.clone())).collect::<Vec<_>>();
    row(columns, shown, &cells).style(style)
}

/// A line of cells, one per column of the table (cells of hidden columns are dropped). Each
/// cell keeps its style.
#[must_use]
pub fn row(columns: &[Column], shown: &[(usize, u16)], cells: &[Span<'static>]) -> Line<'static> {
    let mut spans = Vec::with_capacity(shown.len() * 2);
    let full = cells.len() == columns.len();
    for (n, &(i, width)) in shown.iter().enumerate() {
        let cell = if full { cells.get(i) } else { cells.get(n) };
        let (text, style) = cell.map_or((String::new(), Style::new()), |c| (c.content.to_string(), c.style));
        if n > 0 {
            spans.push(Span::raw(" "));
        }
        spans.push(Span::styled(pad(&text, width, &columns[i]), style));
    }
    Line::from(spans)
}

/// A line that fills the first shown column normally and then spans the rest with `message`.
#[must_use]
pub fn spanning(columns: &[Column], shown: &[(usize, u16)], first: &str, message: Span<'static>) -> Line<'static> {
    let Some(&(i, width)) = shown.first() else { return Line::default() };
    Line::from(vec![Span::raw(pad(first, width, &columns[i])), Span::raw(" "), message])
}

/// Draws a header and rows into `area`, scrolled so that row `selected` is visible, and
/// patches `highlight` over the selected row. Returns the first row drawn.
pub fn draw(
    frame: &mut Frame,
    area: Rect,
    header: Line<'static>,
    rows: Vec<Line<'static>>,
    selected: Option<usize>,
    highlight: Style,
) -> usize {
    let visible = usize::from(area.height.saturating_sub(1));
    let offset = selected.map_or(0, |s| (s + 1).saturating_sub(visible));
    draw_from(frame, area, header, rows, selected, offset, highlight);
    offset
}

/// Draws a header and the rows from `offset` on into `area`, and patches `highlight` over
/// the selected row if it is in view.
pub fn draw_from(
    frame: &mut Frame,
    area: Rect,
    header: Line<'static>,
    rows: Vec<Line<'static>>,
    selected: Option<usize>,
    offset: usize,
    highlight: Style,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    frame.render_widget(header, Rect { height: 1, ..area });
    let body = Rect { y: area.y + 1, height: area.height - 1, ..area };
    let visible = usize::from(body.height);
    for (n, line) in rows.into_iter().skip(offset).take(visible).enumerate() {
        let y = body.y + u16::try_from(n).unwrap_or(u16::MAX);
        let rect = Rect { y, height: 1, ..body };
        frame.render_widget(line, rect);
        if selected == Some(n + offset) {
            frame.buffer_mut().set_style(rect, highlight);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_dropped_by_priority_and_the_growing_one_takes_the_rest() {
        let cols = [
            Column::left("name", 6, 0),
            Column::right("a", 4, 2),
            Column::right("b", 4, 1),
            Column::left("spark", 3, 3).growing(),
        ];
        assert_eq!(layout(&cols, 11), vec![(0, 6), (2, 4)]);
        assert_eq!(layout(&cols, 30), vec![(0, 6), (1, 4), (2, 4), (3, 13)]);
        assert_eq!(layout(&cols, 0), vec![]);
        let shown = layout(&cols, 16);
        let line = row(&cols, &shown, &["resnet18".into(), "1".into(), "2".into(), "x".into()]);
        assert_eq!(line.to_string(), "resne…    1    2");
    }

    #[test]
    fn a_title_widens_its_column_and_a_spare_column_needs_all_others_in() {
        let cols = [Column::left("name", 4, 0), Column::right("longer", 2, 1), Column::right("x", 3, 2).spare()];
        assert_eq!(layout(&cols, 11), vec![(0, 4), (1, 6)]);
        assert_eq!(layout(&cols, 15), vec![(0, 4), (1, 6), (2, 3)]);
        // "longer" does not fit, so the spare column stays out although it would.
        assert_eq!(layout(&cols, 9), vec![(0, 4)]);
    }
}
