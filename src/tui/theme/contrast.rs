//! WCAG 2 contrast of a theme: every text style against the background it is drawn on.
//!
//! Named ANSI colours (`red`, `darkgray`…) have no fixed RGB; each terminal picks its own. They
//! are measured here as xterm's defaults, the closest thing to a standard; the built-in themes
//! avoid the question by using `#rrggbb` only. `reset` (the terminal's own colour) cannot be
//! measured at all.

use ratatui::style::{Color, Style};

use super::Theme;

/// Minimum contrast for text (WCAG 2, success criterion 1.4.3, level AA).
pub const TEXT_MIN: f64 = 4.5;
/// Minimum contrast for lines and bars that carry meaning (WCAG 2, 1.4.11).
pub const GRAPHIC_MIN: f64 = 3.0;

/// xterm's default RGB of the 16 ANSI colours, by index (black … white).
const XTERM_16: [[u8; 3]; 16] = [
    [0, 0, 0],
    [205, 0, 0],
    [0, 205, 0],
    [205, 205, 0],
    [0, 0, 238],
    [205, 0, 205],
    [0, 205, 205],
    [229, 229, 229],
    [127, 127, 127],
    [255, 0, 0],
    [0, 255, 0],
    [255, 255, 0],
    [92, 92, 255],
    [255, 0, 255],
    [0, 255, 255],
    [255, 255, 255],
];

/// The RGB a colour is drawn in: fixed for `#rrggbb`, the xterm palette for indexed and named
/// colours; `None` for `reset`.
#[must_use]
pub fn rgb(color: Color) -> Option<[u8; 3]> {
    let ansi = |i: usize| Some(XTERM_16[i]);
    match color {
        Color::Reset => None,
        Color::Rgb(r, g, b) => Some([r, g, b]),
        Color::Indexed(i) => Some(indexed(i)),
        Color::Black => ansi(0),
        Color::Red => ansi(1),
        Color::Green => ansi(2),
        Color::Yellow => ansi(3),
        Color::Blue => ansi(4),
        Color::Magenta => ansi(5),
        Color::Cyan => ansi(6),
        Color::Gray => ansi(7),
        Color::DarkGray => ansi(8),
        Color::LightRed => ansi(9),
        Color::LightGreen => ansi(10),
        Color::LightYellow => ansi(11),
        Color::LightBlue => ansi(12),
        Color::LightMagenta => ansi(13),
        Color::LightCyan => ansi(14),
        Color::White => ansi(15),
    }
}

/// xterm's 256-colour palette: 16 ANSI colours, a 6×6×6 cube, 24 greys.
fn indexed(i: u8) -> [u8; 3] {
    let level = |n: u8| if n == 0 { 0 } else { 55 + 40 * n };
    match i {
        0..=15 => XTERM_16[usize::from(i)],
        16..=231 => {
            let n = i - 16;
            [level(n / 36), level(n / 6 % 6), level(n % 6)]
        }
        _ => [8 + 10 * (i - 232); 3],
    }
}

/// WCAG 2 relative luminance of an sRGB colour.
#[must_use]
pub fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

/// WCAG 2 contrast ratio, from 1 (same) to 21 (black on white).
#[must_use]
pub fn ratio(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// One colour pair the theme draws: what it is, foreground, background, the minimum it needs.
struct Pair {
    what: &'static str,
    fg: Option<Color>,
    bg: Option<Color>,
    min: f64,
}

/// Every pair the screen draws. Styles other than `highlight` carry only a foreground and are
/// drawn on the theme's background (the frame is filled with it first); inside the selected
/// row `highlight` replaces every cell's colours, so other styles never meet its background.
fn pairs(theme: &Theme) -> Vec<Pair> {
    let bg = theme.text.bg;
    let on_bg = |what, style: Style, min| Pair { what, fg: style.fg, bg, min };
    vec![
        on_bg("text", theme.text, TEXT_MIN),
        on_bg("dim", theme.dim, TEXT_MIN),
        on_bg("title", theme.title, TEXT_MIN),
        on_bg("header", theme.header, TEXT_MIN),
        on_bg("good", theme.good, TEXT_MIN),
        on_bg("warn", theme.warn, TEXT_MIN),
        on_bg("bad", theme.bad, TEXT_MIN),
        Pair { what: "highlight", fg: theme.highlight.fg, bg: theme.highlight.bg, min: TEXT_MIN },
        // Glyphs read as values: sparkline blocks, scatter points.
        on_bg("sparkline", theme.sparkline, TEXT_MIN),
        on_bg("point", theme.point, TEXT_MIN),
        on_bg("selected-point", theme.selected_point, TEXT_MIN),
        on_bg("time-bar", theme.time_bar, GRAPHIC_MIN),
        on_bg("mac-bar", theme.mac_bar, GRAPHIC_MIN),
        on_bg("border", theme.border, GRAPHIC_MIN),
        on_bg("fit-line", theme.fit_line, GRAPHIC_MIN),
    ]
}

/// The pairs of `theme` below their minimum contrast, one line each; empty when it passes.
///
/// A theme whose every colour is the terminal's own (`reset`, as `mono` is) passes: it draws the
/// terminal's foreground on the terminal's background, a pair the user chose, and shows emphasis
/// by modifiers. A theme mixing `reset` with fixed colours fails, since nothing then says what
/// its fixed colours are drawn against.
#[must_use]
pub fn failures(theme: &Theme) -> Vec<String> {
    let pairs = pairs(theme);
    let terminal_default = |c: Option<Color>| c.is_none_or(|c| c == Color::Reset);
    if pairs.iter().all(|p| terminal_default(p.fg) && terminal_default(p.bg)) {
        return Vec::new();
    }
    pairs
        .iter()
        .filter_map(|p| {
            let (Some(fg), Some(bg)) = (p.fg.and_then(rgb), p.bg.and_then(rgb)) else {
                return Some(format!("{}: no fixed colour (foreground {:?} on {:?})", p.what, p.fg, p.bg));
            };
            let r = ratio(fg, bg);
            (r < p.min).then(|| format!("{}: contrast {r:.2}:1, needs {}:1", p.what, p.min))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::theme::{builtin, builtin_names, parse};

    #[test]
    fn ratios_match_the_wcag_reference_values() {
        assert!((ratio([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
        assert!((ratio([119, 119, 119], [255, 255, 255]) - 4.48).abs() < 0.01);
        assert_eq!(indexed(196), [255, 0, 0]);
        assert_eq!(indexed(244), [128, 128, 128]);
    }

    #[test]
    fn every_builtin_theme_meets_wcag_contrast() {
        for name in builtin_names() {
            let theme = builtin(name).unwrap();
            assert_eq!(failures(&theme), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn only_mono_leaves_the_colours_to_the_terminal() {
        for name in builtin_names() {
            let background = builtin(name).unwrap().text.bg;
            assert_eq!(background == Some(Color::Reset), name == "mono", "{name} sets its own background");
        }
    }

    /// The old light theme: grey text on a terminal background of unknown colour, and grey on
    /// white once it is fixed.
    #[test]
    fn low_contrast_themes_fail() {
        let light = include_str!("../../../themes/light.toml");
        let grey_on_white = light.replace("dim = \"#5f5f5f\"", "dim = \"gray\"");
        let errors = failures(&parse(&grey_on_white, "test").unwrap());
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].starts_with("dim: contrast 1.2"), "{errors:?}");
        let unknown_background = light.replace("background = \"#ffffff\"", "background = \"reset\"");
        let errors = failures(&parse(&unknown_background, "test").unwrap());
        assert!(errors.iter().any(|e| e.starts_with("text: no fixed colour")), "{errors:?}");
    }
}
