//! Every error a user sees is one line: the status bar, a CSV `error` field, a headless line and
//! stderr all take it from [`one_line`], so a libtorch failure never shows up as 5 KB of C++
//! frames in one place and as a useless first sentence in another.

/// The longest line an error is shown as, in characters.
pub const MAX_CHARS: usize = 200;

/// Reduces a message to one line of at most [`MAX_CHARS`] characters that keeps its cause.
///
/// libtorch messages end in a C++ backtrace (`Exception raised from ...`, `frame #0: ...`),
/// dropped here. `TorchScript` errors open with a generic sentence and a traceback and name the
/// cause last (`builtins.RuntimeError: boom`): the last line that reads like an exception
/// (`SomethingError: ...`) is the cause. Any other message keeps its lines, joined with `; `.
#[must_use]
pub fn one_line(text: &str) -> String {
    let text = text.split("Exception raised from").next().unwrap_or(text);
    // tch's wrapper sentence says nothing the rest does not.
    let text = text.trim_start().trim_start_matches("Internal torch error: ");
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with("frame #")).collect();
    let line = match lines.iter().rev().find_map(|l| exception_cause(l)) {
        Some(cause) => cause.to_string(),
        None if lines.is_empty() => "unknown error".to_string(),
        None => lines.join("; "),
    };
    shorten(&line)
}

/// One line for an error and its chain of sources (`outer: inner`), as `{:#}` shows them,
/// each part reduced by [`one_line`] on its own so the outer context survives.
#[must_use]
pub fn error_line(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        // thiserror's `transparent` and `{0}` variants repeat their source's text.
        if !text.contains(&inner_text) {
            text = format!("{}: {}", one_line(&text), one_line(&inner_text));
        }
        source = inner.source();
    }
    one_line(&text)
}

/// `RuntimeError: boom` from `builtins.RuntimeError: boom` (or from the same line without the
/// module); `None` when the line does not name an exception type.
fn exception_cause(line: &str) -> Option<&str> {
    let (head, rest) = line.split_once(": ")?;
    let name = head.rsplit('.').next().unwrap_or(head);
    let is_type = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && (name.ends_with("Error") || name.ends_with("Exception"));
    (is_type && !rest.trim().is_empty()).then(|| &line[head.len() - name.len()..])
}

/// Cuts `line` to [`MAX_CHARS`] characters, ending in `…` when it was longer.
fn shorten(line: &str) -> String {
    if line.chars().count() <= MAX_CHARS {
        return line.to_string();
    }
    let mut out: String = line.chars().take(MAX_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Shaped like what libtorch 2.13 returns for a `TorchScript` module that raises.
    const SCRIPTED: &str = "The following operation failed in the TorchScript interpreter.\n\
        Traceback of TorchScript, serialized code (most recent call last):\n  \
        File \"code/__torch__.py\", line 8, in forward\n    \
        ops.prim.RaiseException(\"boom\", \"builtins.RuntimeError\")\n    ~~~~ <--- HERE\n\
        builtins.RuntimeError: boom\n";

    #[test]
    fn a_scripted_exception_keeps_its_cause() {
        assert_eq!(one_line(SCRIPTED), "RuntimeError: boom");
    }

    #[test]
    fn cpp_frames_are_dropped_and_the_first_sentence_kept() {
        let text = "Given groups=1, weight of size [8, 3, 3, 3], expected input[1, 5, 32, 32] to have 3 \
                    channels, but got 5 channels instead\nException raised from check_shape_forward at \
                    /pytorch/aten/src/ATen/native/Convolution.cpp:1234 (most recent call first):\n\
                    frame #0: c10::Error::Error(...) + 0x90 (0x7f in libc10.so)\n\
                    frame #1: at::native::conv (0x7f in libtorch_cpu.so)\n";
        let line = one_line(text);
        assert!(line.starts_with("Given groups=1, weight of size [8, 3, 3, 3]"), "{line}");
        assert!(line.ends_with("but got 5 channels instead"), "{line}");
    }

    #[test]
    fn long_messages_are_cut_to_the_limit() {
        let line = one_line(&"x".repeat(5000));
        assert_eq!(line.chars().count(), MAX_CHARS);
        assert!(line.ends_with('…'));
    }

    #[test]
    fn lines_without_a_cause_are_joined() {
        assert_eq!(one_line("first\n\n  second  \n"), "first; second");
        assert_eq!(one_line("\n \n"), "unknown error");
        // A sentence with a colon is not an exception.
        assert_eq!(one_line("cannot open file: no such file"), "cannot open file: no such file");
    }

    #[test]
    fn error_chains_are_joined_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot write x.csv")]
        struct Outer(#[source] std::io::Error);
        let io = std::io::Error::other("disk on fire");
        assert_eq!(error_line(&Outer(io)), "cannot write x.csv: disk on fire");
    }
}
