//! The `svm2onnx` command line: parse flags, call the library, report.
//! Exit codes: 0 success, 1 validation mismatch, 2 bad input or usage.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::args::Cli::parse();
    match cli::run(&args) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(cli::Mismatch)) => ExitCode::from(1),
        Err(e) => {
            // One line: the context chain joined with ': '.
            let line = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {line}");
            ExitCode::from(2)
        }
    }
}
