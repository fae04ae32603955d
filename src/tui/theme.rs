//! Colour themes in two layers: [`ThemeFile`] mirrors the TOML exactly (unknown keys are
//! errors), [`Theme`] holds validated ratatui styles. Built-ins are compiled in; a file is
//! checked completely before the terminal is touched, and every mistake is one line naming the
//! file, the key, the value and what is valid.

pub mod contrast;

use std::path::Path;
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::core::common::one_line;

/// Built-in themes, name and TOML, in the order `t` cycles through them.
const BUILTINS: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    ("mono", include_str!("../../themes/mono.toml")),
];

const VALID_COLORS: &str = "a name (black, red, green, yellow, blue, magenta, cyan, gray, darkgray, \
     lightred, lightgreen, lightyellow, lightblue, lightmagenta, lightcyan, white, reset), \"#rrggbb\" or \"0\"..\"255\"";
const VALID_MODIFIERS: &str = "bold, dim, italic, underlined, reversed, crossed-out";

/// A theme that cannot be used; the message is one line that names the file (or the flag),
/// the key and the bad value, and says what is valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("--theme: unknown theme '{name}'; use {valid} or a path to a .toml file")]
    UnknownName { name: String, valid: String },
    #[error("--theme: cannot read '{path}': no such file")]
    NoSuchFile { path: String },
    #[error("{origin}: cannot read: {reason}")]
    Unreadable { origin: String, reason: String },
    /// Invalid TOML, or a key serde rejects; `detail` says where (line, key) and what.
    #[error("{origin}: {detail}")]
    Invalid { origin: String, detail: String },
    #[error("{origin}: colors.{key} = \"{value}\" is not a colour; use {VALID_COLORS}")]
    BadColor { origin: String, key: String, value: String },
    #[error("{origin}: modifiers.{key} contains \"{value}\", which is not a modifier; use {VALID_MODIFIERS}")]
    BadModifier { origin: String, key: String, value: String },
}

/// The TOML file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ThemeFile {
    name: String,
    colors: ColorsFile,
    #[serde(default)]
    modifiers: ModifiersFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ColorsFile {
    text: String,
    background: String,
    dim: String,
    border: String,
    title: String,
    header: String,
    highlight_fg: String,
    highlight_bg: String,
    time_bar: String,
    mac_bar: String,
    good: String,
    warn: String,
    bad: String,
    sparkline: String,
    point: String,
    selected_point: String,
    fit_line: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
struct ModifiersFile {
    title: Vec<String>,
    header: Vec<String>,
    highlight: Vec<String>,
    dim: Vec<String>,
}

/// Validated styles, ready to draw with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme {
    pub name: String,
    /// Plain text on the background; every other style is patched onto it.
    pub text: Style,
    pub dim: Style,
    pub border: Style,
    pub title: Style,
    pub header: Style,
    /// The selected row and the active tab.
    pub highlight: Style,
    /// Bars of time shares.
    pub time_bar: Style,
    /// Bars of MAC shares.
    pub mac_bar: Style,
    pub good: Style,
    pub warn: Style,
    pub bad: Style,
    pub sparkline: Style,
    pub point: Style,
    pub selected_point: Style,
    pub fit_line: Style,
}

impl Default for Theme {
    #[expect(
        clippy::expect_used,
        reason = "the dark theme is text compiled into the binary, parsed by a test of every built-in theme"
    )]
    fn default() -> Self {
        builtin("dark").expect("the built-in dark theme is valid (tested)")
    }
}

/// Names of the built-in themes.
#[must_use]
pub fn builtin_names() -> Vec<&'static str> {
    BUILTINS.iter().map(|(name, _)| *name).collect()
}

/// A built-in theme by name.
#[must_use]
pub fn builtin(name: &str) -> Option<Theme> {
    let (_, text) = BUILTINS.iter().find(|(n, _)| *n == name)?;
    parse(text, &format!("built-in theme '{name}'")).ok()
}

/// The theme to start with: `--theme` (a built-in name or a file path) when given, else mono
/// when `NO_COLOR` is set (an explicit `--theme` wins over it, as no-color.org asks), else dark.
///
/// # Errors
/// An unknown name, an unreadable file or an invalid theme.
pub fn resolve(choice: Option<&str>, no_color: bool) -> Result<Theme, ThemeError> {
    let Some(choice) = choice else {
        return Ok(builtin(if no_color { "mono" } else { "dark" }).unwrap_or_default());
    };
    let path = Path::new(choice);
    if path.is_file() {
        return load(path);
    }
    if let Some(theme) = builtin(choice) {
        return Ok(theme);
    }
    let looks_like_path = choice.contains(std::path::MAIN_SEPARATOR)
        || Path::new(choice).extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    Err(if looks_like_path {
        ThemeError::NoSuchFile { path: choice.to_string() }
    } else {
        ThemeError::UnknownName { name: choice.to_string(), valid: builtin_names().join(", ") }
    })
}

/// Themes for `t` to cycle through: the starting one, then the built-ins it is not.
#[must_use]
pub fn cycle_from(first: Theme) -> Vec<Theme> {
    let mut themes = vec![first];
    for name in builtin_names() {
        if themes.iter().all(|t| t.name != name) {
            themes.extend(builtin(name));
        }
    }
    themes
}

/// Reads and validates a theme file.
///
/// # Errors
/// When the file cannot be read or is not a valid theme.
pub fn load(path: &Path) -> Result<Theme, ThemeError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| ThemeError::Unreadable { origin: origin.clone(), reason: one_line(&e.to_string()) })?;
    parse(&text, &origin)
}

/// Parses and validates theme TOML; `origin` names it in errors.
///
/// # Errors
/// Invalid TOML, unknown or missing keys, wrong types, bad colours or modifiers.
pub fn parse(text: &str, origin: &str) -> Result<Theme, ThemeError> {
    let file: ThemeFile = toml::from_str(text)
        .map_err(|e| ThemeError::Invalid { origin: origin.to_string(), detail: describe_toml_error(&e, text) })?;
    file.validate(origin)
}

impl ThemeFile {
    fn validate(self, origin: &str) -> Result<Theme, ThemeError> {
        let c = &self.colors;
        let color = |key: &str, value: &str| {
            Color::from_str(value).map_err(|_| ThemeError::BadColor {
                origin: origin.to_string(),
                key: key.to_string(),
                value: value.to_string(),
            })
        };
        let mods = |key: &str, values: &[String]| modifiers(values, origin, key);
        let fg = |key: &str, value: &str| color(key, value).map(|c| Style::new().fg(c));
        let text = Style::new().fg(color("text", &c.text)?).bg(color("background", &c.background)?);
        Ok(Theme {
            name: self.name.clone(),
            text,
            dim: fg("dim", &c.dim)?.add_modifier(mods("dim", &self.modifiers.dim)?),
            border: fg("border", &c.border)?,
            title: fg("title", &c.title)?.add_modifier(mods("title", &self.modifiers.title)?),
            header: fg("header", &c.header)?.add_modifier(mods("header", &self.modifiers.header)?),
            highlight: Style::new()
                .fg(color("highlight-fg", &c.highlight_fg)?)
                .bg(color("highlight-bg", &c.highlight_bg)?)
                .add_modifier(mods("highlight", &self.modifiers.highlight)?),
            time_bar: fg("time-bar", &c.time_bar)?,
            mac_bar: fg("mac-bar", &c.mac_bar)?,
            good: fg("good", &c.good)?,
            warn: fg("warn", &c.warn)?,
            bad: fg("bad", &c.bad)?,
            sparkline: fg("sparkline", &c.sparkline)?,
            point: fg("point", &c.point)?,
            selected_point: fg("selected-point", &c.selected_point)?,
            fit_line: fg("fit-line", &c.fit_line)?,
        })
    }
}

fn modifiers(values: &[String], origin: &str, key: &str) -> Result<Modifier, ThemeError> {
    values.iter().try_fold(Modifier::empty(), |acc, value| {
        let m = match value.as_str() {
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" => Modifier::UNDERLINED,
            "reversed" => Modifier::REVERSED,
            "crossed-out" => Modifier::CROSSED_OUT,
            _ => {
                return Err(ThemeError::BadModifier {
                    origin: origin.to_string(),
                    key: key.to_string(),
                    value: value.clone(),
                })
            }
        };
        Ok(acc | m)
    })
}

/// One line from a TOML or serde error: where (the dotted key when the error points at one,
/// else the line) and what.
fn describe_toml_error(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().lines().next().unwrap_or("invalid theme").trim();
    let Some(at) = e.span().map(|s| s.start.min(text.len())) else {
        return message.to_string();
    };
    let line_no = text[..at].matches('\n').count() + 1;
    match key_at(text, at) {
        Some(key) => format!("line {line_no}: {key}: {message}"),
        None => format!("line {line_no}: {message}"),
    }
}

/// The dotted key (`colors.title`) of the `key = value` line holding byte `at`, or the table
/// name when `at` is on a `[table]` line.
fn key_at(text: &str, at: usize) -> Option<String> {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let table = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('[') && !l.starts_with("[["))
        .map(|l| l.trim_matches(['[', ']']).trim().to_string());
    if line.starts_with('[') {
        return Some(line.trim_matches(['[', ']']).trim().to_string());
    }
    let key = line.split_once('=')?.0.trim().trim_matches('"');
    if key.is_empty() {
        return None;
    }
    Some(match table {
        Some(t) => format!("{t}.{key}"),
        None => key.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_is_valid() {
        for (name, text) in BUILTINS {
            let theme = parse(text, name).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn no_color_picks_mono_unless_a_theme_is_asked_for() {
        assert_eq!(resolve(None, true).unwrap().name, "mono");
        assert_eq!(resolve(None, false).unwrap().name, "dark");
        assert_eq!(resolve(Some("light"), true).unwrap().name, "light");
    }

    #[test]
    fn the_cycle_starts_with_the_chosen_theme_and_has_no_duplicates() {
        let names: Vec<String> = cycle_from(builtin("light").unwrap()).into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["light", "dark", "mono"]);
    }
}
