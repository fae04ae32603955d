//! A drawn screen (ratatui's `Buffer`) as an SVG picture, so the README can show what the live
//! screen looks like from a real frame instead of a hand-made mock-up that drifts from the code.
//!
//! Each row is one `<text>` whose `<tspan>`s are the row's runs of cells with the same
//! foreground, background and weight; backgrounds that differ from the screen's are `<rect>`s
//! under the text. The picture is laid out in cells: a cell is [`CELL_WIDTH`] by
//! [`CELL_HEIGHT`] units, every run starts at its cell's `x` and is stretched (`textLength`)
//! to exactly its cells, so columns line up whatever monospace font the viewer picks.

use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

// The report's escaping: its five entities are valid XML as well as HTML.
use crate::report::html::escape;

/// Width of one cell in SVG units: an integer, so a run's column is its `x` divided by it.
pub const CELL_WIDTH: u32 = 9;
/// Height of one cell (one terminal row) in SVG units.
pub const CELL_HEIGHT: u32 = 18;
/// The font size, a little under the row height as in a terminal with normal line spacing.
const FONT_SIZE: u32 = 15;
/// Where the text's baseline sits below a row's top.
const BASELINE: u32 = 14;

/// What the terminal would draw for `Color::Reset`: its own default colours.
#[derive(Clone, Copy, Debug)]
pub struct Defaults {
    pub fg: Color,
    pub bg: Color,
}

/// How a cell is drawn; runs of cells with the same look become one `<tspan>`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Look {
    fg: [u8; 3],
    bg: [u8; 3],
    bold: bool,
}

/// The whole buffer as an SVG document.
#[must_use]
pub fn svg(buffer: &Buffer, defaults: Defaults) -> String {
    let area = buffer.area;
    let width = u32::from(area.width) * CELL_WIDTH;
    let height = u32::from(area.height) * CELL_HEIGHT;
    let screen_bg = rgb(defaults.bg, [0, 0, 0]);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="'DejaVu Sans Mono', 'Liberation Mono', Menlo, Consolas, monospace" font-size="{FONT_SIZE}">"#
    );
    let _ = writeln!(out, r#"<rect width="{width}" height="{height}" fill="{}"/>"#, hex(screen_bg));
    let rows: Vec<Vec<(Look, &str)>> = (area.top()..area.bottom())
        .map(|y| (area.left()..area.right()).map(|x| cell(buffer, x, y, defaults)).collect())
        .collect();
    // Backgrounds first, so that text is drawn over them.
    out.push_str("<g shape-rendering=\"crispEdges\">\n");
    for (row, cells) in rows.iter().enumerate() {
        for (start, run) in runs(cells, |a, b| a.0.bg == b.0.bg) {
            let bg = run[0].0.bg;
            if bg != screen_bg {
                let _ = writeln!(
                    out,
                    r#"<rect x="{}" y="{}" width="{}" height="{CELL_HEIGHT}" fill="{}"/>"#,
                    start * CELL_WIDTH,
                    index(row) * CELL_HEIGHT,
                    index(run.len()) * CELL_WIDTH,
                    hex(bg)
                );
            }
        }
    }
    out.push_str("</g>\n");
    for (row, cells) in rows.iter().enumerate() {
        let _ = write!(
            out,
            r#"<text y="{}" xml:space="preserve" style="white-space:pre">"#,
            index(row) * CELL_HEIGHT + BASELINE
        );
        for (start, run) in runs(cells, |a, b| a.0 == b.0) {
            let text: String = run.iter().map(|(_, symbol)| *symbol).collect();
            // Blank runs draw nothing; their background is already a rect.
            if text.trim().is_empty() {
                continue;
            }
            let look = run[0].0;
            let _ = write!(
                out,
                r#"<tspan x="{}" textLength="{}" lengthAdjust="spacingAndGlyphs" fill="{}"{}>{}</tspan>"#,
                start * CELL_WIDTH,
                index(run.len()) * CELL_WIDTH,
                hex(look.fg),
                if look.bold { r#" font-weight="bold""# } else { "" },
                escape(&text)
            );
        }
        out.push_str("</text>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// A row or run length as an SVG coordinate factor (a screen is far below `u32::MAX` cells).
fn index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The look and symbol of the cell at (x, y).
fn cell(buffer: &Buffer, x: u16, y: u16, defaults: Defaults) -> (Look, &str) {
    let cell = &buffer[(x, y)];
    let text = rgb(defaults.fg, [255, 255, 255]);
    let page = rgb(defaults.bg, [0, 0, 0]);
    let mut fg = rgb(cell.fg, text);
    let mut bg = rgb(cell.bg, page);
    // A terminal draws reversed cells with the two colours exchanged.
    if cell.modifier.contains(Modifier::REVERSED) {
        std::mem::swap(&mut fg, &mut bg);
    }
    let symbol = if cell.symbol().is_empty() { " " } else { cell.symbol() };
    (Look { fg, bg, bold: cell.modifier.contains(Modifier::BOLD) }, symbol)
}

/// Maximal runs of neighbouring cells that `same` says belong together, with their first column.
fn runs<T>(cells: &[T], same: impl Fn(&T, &T) -> bool) -> Vec<(u32, &[T])> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=cells.len() {
        if i == cells.len() || !same(&cells[start], &cells[i]) {
            out.push((index(start), &cells[start..i]));
            start = i;
        }
    }
    out
}

/// A colour as red, green and blue; `Reset` is the terminal's default, given.
fn rgb(color: Color, reset: [u8; 3]) -> [u8; 3] {
    match color {
        Color::Reset => reset,
        Color::Rgb(r, g, b) => [r, g, b],
        Color::Indexed(i) => indexed(i),
        Color::Black => indexed(0),
        Color::Red => indexed(1),
        Color::Green => indexed(2),
        Color::Yellow => indexed(3),
        Color::Blue => indexed(4),
        Color::Magenta => indexed(5),
        Color::Cyan => indexed(6),
        Color::Gray => indexed(7),
        Color::DarkGray => indexed(8),
        Color::LightRed => indexed(9),
        Color::LightGreen => indexed(10),
        Color::LightYellow => indexed(11),
        Color::LightBlue => indexed(12),
        Color::LightMagenta => indexed(13),
        Color::LightCyan => indexed(14),
        Color::White => indexed(15),
    }
}

/// xterm's 256-colour palette: its 16 default system colours, the 6×6×6 colour cube and the
/// 24-step grey ramp. A real terminal may define the first 16 differently; these are the
/// common defaults.
fn indexed(i: u8) -> [u8; 3] {
    const SYSTEM: [[u8; 3]; 16] = [
        [0x00, 0x00, 0x00],
        [0xcd, 0x00, 0x00],
        [0x00, 0xcd, 0x00],
        [0xcd, 0xcd, 0x00],
        [0x00, 0x00, 0xee],
        [0xcd, 0x00, 0xcd],
        [0x00, 0xcd, 0xcd],
        [0xe5, 0xe5, 0xe5],
        [0x7f, 0x7f, 0x7f],
        [0xff, 0x00, 0x00],
        [0x00, 0xff, 0x00],
        [0xff, 0xff, 0x00],
        [0x5c, 0x5c, 0xff],
        [0xff, 0x00, 0xff],
        [0x00, 0xff, 0xff],
        [0xff, 0xff, 0xff],
    ];
    const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match i {
        0..=15 => SYSTEM[usize::from(i)],
        16..=231 => {
            let n = i - 16;
            [CUBE[usize::from(n / 36)], CUBE[usize::from(n / 6 % 6)], CUBE[usize::from(n % 6)]]
        }
        _ => {
            let level = 8 + 10 * (i - 232);
            [level, level, level]
        }
    }
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    const DEFAULTS: Defaults = Defaults { fg: Color::Rgb(0xd0, 0xd0, 0xd0), bg: Color::Rgb(0x1c, 0x1c, 0x1c) };

    fn tspans(svg: &str) -> Vec<&str> {
        svg.split("<tspan").skip(1).map(|t| t.split("</tspan>").next().unwrap()).collect()
    }

    #[test]
    fn cells_of_one_style_are_one_run_and_a_new_style_starts_another() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 12, 1));
        buffer.set_string(0, 0, "ab", Style::default().fg(Color::Rgb(1, 2, 3)));
        buffer.set_string(2, 0, "cd", Style::default().fg(Color::Rgb(1, 2, 3)).add_modifier(Modifier::BOLD));
        buffer.set_string(4, 0, "ef", Style::default().fg(Color::Rgb(1, 2, 3)).bg(Color::Indexed(196)));
        let svg = svg(&buffer, DEFAULTS);
        let spans = tspans(&svg);
        assert_eq!(spans.len(), 3, "{svg}");
        assert!(
            spans[0].starts_with(r##" x="0" textLength="18" lengthAdjust="spacingAndGlyphs" fill="#010203">ab"##),
            "{}",
            spans[0]
        );
        assert!(spans[1].contains(r#"x="18""#) && spans[1].contains(r#"font-weight="bold">cd"#), "{}", spans[1]);
        assert!(spans[2].contains(r#"x="36""#) && !spans[2].contains("bold"), "{}", spans[2]);
        // The red background of "ef" (palette 196 is pure red) is a rect under cells 4 and 5.
        assert!(svg.contains(r##"<rect x="36" y="0" width="18" height="18" fill="#ff0000"/>"##), "{svg}");
    }

    #[test]
    fn markup_characters_are_escaped() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 13, 1));
        buffer.set_string(0, 0, r#"a<b & "c">'d'"#, Style::default());
        let svg = svg(&buffer, DEFAULTS);
        assert!(svg.contains(">a&lt;b &amp; &quot;c&quot;&gt;&#39;d&#39;</tspan>"), "{svg}");
        assert!(!tspans(&svg)[0].contains("<b"), "{svg}");
    }

    #[test]
    fn reset_takes_the_defaults_and_the_screen_background_draws_no_rect() {
        let buffer = Buffer::with_lines(["x"]);
        let svg = svg(&buffer, DEFAULTS);
        assert!(svg.contains(r##"<rect width="9" height="18" fill="#1c1c1c"/>"##), "{svg}");
        assert!(svg.contains(r##"fill="#d0d0d0">x</tspan>"##), "{svg}");
        assert!(!svg.contains("<rect x="), "the default background is the page's: {svg}");
    }

    #[test]
    fn reversed_cells_swap_their_colours() {
        let mut buffer = Buffer::empty(Rect::new(0, 0, 1, 1));
        buffer.set_string(
            0,
            0,
            "r",
            Style::default().fg(Color::Black).bg(Color::White).add_modifier(Modifier::REVERSED),
        );
        let svg = svg(&buffer, DEFAULTS);
        assert!(svg.contains(r##"fill="#ffffff">r</tspan>"##), "{svg}");
        assert!(svg.contains(r##"width="9" height="18" fill="#000000"/>"##), "{svg}");
    }

    #[test]
    fn rows_are_placed_one_cell_height_apart_and_blank_runs_draw_no_text() {
        let buffer = Buffer::with_lines(["a  b", "    "]);
        let svg = svg(&buffer, DEFAULTS);
        let texts: Vec<&str> = svg.lines().filter(|l| l.starts_with("<text")).collect();
        assert_eq!(texts.len(), 2, "{svg}");
        assert!(texts[0].starts_with(r#"<text y="14""#) && texts[1].starts_with(r#"<text y="32""#), "{svg}");
        // One run, spaces inside it kept: the whole row has one look.
        assert_eq!(tspans(texts[0]).len(), 1);
        assert!(texts[0].contains(">a  b</tspan>"), "{svg}");
        assert!(tspans(texts[1]).is_empty(), "{svg}");
    }

    #[test]
    fn the_palette_cube_and_grey_ramp_follow_xterm() {
        assert_eq!(indexed(16), [0, 0, 0]);
        assert_eq!(indexed(21), [0, 0, 255]);
        assert_eq!(indexed(231), [255, 255, 255]);
        assert_eq!(indexed(232), [8, 8, 8]);
        assert_eq!(indexed(255), [238, 238, 238]);
        assert_eq!(rgb(Color::DarkGray, [0; 3]), [0x7f; 3]);
    }
}
