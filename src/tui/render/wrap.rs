//! Lines wrapped at words with a hanging indent: a labelled line (`throttle now yes · …`)
//! continues under its text, not under its label, so the label column stays readable.
//! ratatui's `Paragraph` wraps too, but always back to the first column.

use ratatui::text::{Line, Span};

/// `line` broken at spaces into lines at most `width` columns wide, every line after the
/// first starting with `indent` spaces. A word wider than a whole line is cut where it must be.
/// Styles stay with their text.
#[must_use]
pub fn hanging(line: Line<'static>, width: u16, indent: u16) -> Vec<Line<'static>> {
    let width = usize::from(width);
    let indent = usize::from(indent).min(width / 2);
    if width == 0 || line.width() <= width {
        return vec![line];
    }
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for span in line.spans {
        for word in span.content.split_inclusive(' ') {
            let mut word = word.to_string();
            let mut word_width = Span::raw(word.as_str()).width();
            // The trailing space may hang past the edge; the word itself must fit.
            let fits = |used: usize, w: &str, ww: usize| used + ww - usize::from(w.ends_with(' ')) <= width;
            if !fits(used, &word, word_width) && used > indent {
                out.push(Line::from(std::mem::take(&mut current)).style(line.style));
                current.push(Span::raw(" ".repeat(indent)));
                used = indent;
            }
            while !fits(used, &word, word_width) {
                let (head, tail) = split_at_width(&word, width - used);
                if head.is_empty() {
                    break;
                }
                current.push(Span::styled(head, span.style));
                out.push(Line::from(std::mem::take(&mut current)).style(line.style));
                current.push(Span::raw(" ".repeat(indent)));
                used = indent;
                word = tail;
                word_width = Span::raw(word.as_str()).width();
            }
            used += word_width;
            current.push(Span::styled(word, span.style));
        }
    }
    if current.iter().any(|s| !s.content.trim().is_empty()) {
        out.push(Line::from(current).style(line.style));
    }
    out
}

/// The longest head of `text` at most `width` columns wide, and the rest.
fn split_at_width(text: &str, width: usize) -> (String, String) {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        let w = Span::raw(c.to_string()).width();
        if used + w > width {
            return (text[..i].to_string(), text[i..].to_string());
        }
        used += w;
    }
    (text.to_string(), String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Style};

    fn text(lines: &[Line<'static>]) -> Vec<String> {
        lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect()
    }

    #[test]
    fn a_line_that_fits_is_left_alone() {
        let line = Line::from("throttle now no");
        assert_eq!(hanging(line.clone(), 20, 9), vec![line]);
    }

    #[test]
    fn a_long_line_continues_under_its_text_and_keeps_every_word() {
        let red = Style::default().fg(Color::Red);
        let line = Line::from(vec![
            Span::raw("throttle "),
            Span::styled("now yes", red),
            Span::raw(" · this run yes · since boot yes (from firmware, cooling, trips)"),
        ]);
        let wrapped = hanging(line.clone(), 30, 9);
        let rows = text(&wrapped);
        assert!(rows.len() > 1, "{rows:?}");
        for row in &rows {
            assert!(Span::raw(row.as_str()).width() <= 30, "{row:?} is wider than 30");
        }
        for row in &rows[1..] {
            assert!(row.starts_with("         ") && !row[9..].starts_with(' '), "hangs under the text: {row:?}");
        }
        let words = |s: &str| s.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        let original: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
        assert_eq!(words(&rows.join(" ")), words(&original), "no word lost or cut");
        let styled: Vec<&Span> = wrapped.iter().flat_map(|l| &l.spans).filter(|s| s.style == red).collect();
        assert_eq!(styled.iter().map(|s| s.content.as_ref()).collect::<String>(), "now yes");
    }

    #[test]
    fn a_word_wider_than_a_line_is_cut_not_lost() {
        let rows = text(&hanging(Line::from("label    abcdefghijklmnopqrstuvwxyz"), 12, 2));
        assert!(rows.iter().all(|r| r.chars().count() <= 12), "{rows:?}");
        assert_eq!(rows.concat().replace(' ', ""), "labelabcdefghijklmnopqrstuvwxyz");
    }
}
