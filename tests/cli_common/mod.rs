//! Running the real `svm2onnx` binary (the CLI tests share these).

#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;
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

/// `svm2onnx convert MODEL -o OUT` with `extra` flags after them.
pub fn convert(model: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "convert",
        model.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    run(&args)
}
