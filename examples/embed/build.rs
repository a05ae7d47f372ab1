//! Compiles ../iris_rbf.json into $OUT_DIR/iris_rbf.onnx at build time, the
//! way a project would ship a model inside its binary.

use std::path::PathBuf;
use svm2onnx::{convert_file, CompileOptions, FloatType};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let model = manifest.join("../iris_rbf.json");
    println!("cargo:rerun-if-changed={}", model.display());
    let options = CompileOptions {
        float: FloatType::F32,
        ..CompileOptions::default()
    };
    let onnx = match convert_file(&model, &options) {
        Ok(bytes) => bytes,
        Err(e) => {
            // A build script reports failure through a panic; keep it one line.
            panic!("svm2onnx: {}: {e}", model.display());
        }
    };
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("iris_rbf.onnx");
    std::fs::write(&out, onnx).expect("OUT_DIR is writable");
}
