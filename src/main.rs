//! The `infertop` binary: parse the command line, run, turn the outcome into an exit code.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use infertop::core::common::one_line;
use infertop::Cli;

fn main() -> ExitCode {
    // First of all, so that every later allocation follows the same rules.
    infertop::core::machine::make_allocation_deterministic();
    let code = match Cli::try_parse() {
        // --help and --version.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            0
        }
        Err(e) => usage_error(&e.render().to_string()),
        Ok(cli) => match infertop::run(&cli) {
            Ok(()) => 0,
            Err(e) if e.downcast_ref::<infertop::UsageError>().is_some() => usage_error(&format!("{e:#}")),
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "infertop: error: {}", one_line(&format!("{e:#}")));
                1
            }
        },
    };
    exit(code)
}

/// Ends the process with `code`. While an engine thread is still inside an inference (the
/// user pressed Ctrl-C twice), ending the normal way would run libtorch's static destructors
/// under it, which can crash or hang: then the process ends at once, after flushing output.
fn exit(code: u8) -> ExitCode {
    if infertop::core::run::threads_running() > 0 {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        // SAFETY: _exit ends the process without touching any Rust or C++ state.
        unsafe { libc::_exit(i32::from(code)) };
    }
    ExitCode::from(code)
}

/// Prints a usage error as one line (clap's own start with `error: `) and gives exit code 2.
/// A first line ending in a colon (clap's "the following required arguments were not
/// provided:") takes the indented lines below it, so the one line still names them.
fn usage_error(text: &str) -> u8 {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let mut line = lines.next().unwrap_or("invalid arguments").trim_start_matches("error: ").trim_end().to_string();
    if line.ends_with(':') {
        let listed: Vec<&str> =
            lines.take_while(|l| l.starts_with(' ') && !l.trim().is_empty()).map(str::trim).collect();
        line = format!("{line} {}", listed.join(", "));
    }
    let _ = writeln!(std::io::stderr(), "infertop: {}", line.trim_end());
    2
}
