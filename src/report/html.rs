//! The HTML around the figures: escaping, the page shell with its style sheet, tables and
//! figures. No script and nothing loaded from elsewhere: the file is the whole report.

use std::fmt::Write as _;

/// `text` with the five HTML-special characters escaped.
#[must_use]
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;max-width:1200px;margin:1em auto;color:#222;background:#fff}\
h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}\
.grid{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0 0 12px 0}\
figcaption{font-size:.9em;color:#444;max-width:580px}\
table{border-collapse:collapse;font-size:.9em;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}\
td.num{text-align:right;font-variant-numeric:tabular-nums}.warning{color:#a33}.absent{color:#666;font-style:italic}";

/// A whole page: `title` and `body` (already HTML).
#[must_use]
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n",
        escape(title)
    )
}

/// A figure: the SVG inline, then its caption (HTML).
#[must_use]
pub fn figure(id: &str, kind: &str, svg: &str, caption: &str) -> String {
    // plotters starts its SVG with an XML declaration-free <svg ...>: it goes in as it is.
    format!(
        "<figure id=\"{}\" data-kind=\"{kind}\">\n{svg}\n<figcaption>{caption}</figcaption>\n</figure>\n",
        escape(id)
    )
}

/// A table of already-escaped cells; numbers (a digit after an optional sign) align right.
#[must_use]
pub fn table(class: &str, headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!("<table class=\"{class}\">\n<tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", escape(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let unsigned = cell.trim_start_matches(['-', '+']);
            let numeric = unsigned.starts_with(|c: char| c.is_ascii_digit()) && !cell.contains(" to ");
            let _ = write!(out, "<td{}>{cell}</td>", if numeric { " class=\"num\"" } else { "" });
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// `v` with `digits` decimals, or `n/a`.
#[must_use]
pub fn num(v: Option<f64>, digits: usize) -> String {
    v.filter(|v| v.is_finite()).map_or_else(|| "n/a".into(), |v| format!("{v:.digits$}"))
}

/// A paragraph saying that something is not in the snapshot and is not drawn.
#[must_use]
pub fn absent(text: &str) -> String {
    format!("<p class=\"absent\">{}</p>\n", escape(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">O'Neil & co</a>"),
            "&lt;a href=&quot;x&quot;&gt;O&#39;Neil &amp; co&lt;/a&gt;"
        );
    }

    #[test]
    fn numbers_align_right_and_words_do_not() {
        let t = table("t", &["a"], &[vec!["-1.5".into()], vec!["--headless".into()], vec!["n/a".into()]]);
        assert!(
            t.contains("<td class=\"num\">-1.5</td>")
                && t.contains("<td>--headless</td>")
                && t.contains("<td>n/a</td>"),
            "{t}"
        );
    }
}
