//! The `svm2onnx` command line: parse flags, call the library, report.
//! Exit codes: 0 success, 1 validation mismatch, 2 bad input or usage.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(cli::main_from(std::env::args_os()))
}
