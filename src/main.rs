//! The `infertop` binary: parse the command line, run, turn the outcome into an exit code.

use std::process::ExitCode;

use clap::Parser;
use infertop::Cli;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return usage_error(&first_line(&e.render().to_string())),
    };
    if let Err(msg) = cli.validate() {
        return usage_error(&format!("error: {msg}"));
    }
    match infertop::run(&cli) {
        Ok(infertop::Outcome::Stopped) => ExitCode::SUCCESS,
        Err(e) => {
            if e.downcast_ref::<infertop::UsageError>().is_some() {
                return usage_error(&format!("error: {e:#}"));
            }
            eprintln!("infertop: error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn usage_error(line: &str) -> ExitCode {
    eprintln!("infertop: {}", line.trim_start_matches("error: ").trim_end());
    ExitCode::from(2)
}

fn first_line(text: &str) -> String {
    text.lines().find(|l| !l.trim().is_empty()).unwrap_or("invalid arguments").to_string()
}
