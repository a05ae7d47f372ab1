//! Running the real `svm2onnx` binary (the CLI tests share these).

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_svm2onnx");

/// Runs the binary with `args` and collects its output.
pub fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
