//! `svm2onnx convert` on skl2onnx graphs: the real binary rewrites them,
//! refuses what it cannot rewrite with one line naming the op, exit code 2
//! and no output file.

mod cli_common;
mod common;

use cli_common::{run, stderr};
use common::scratch_dir;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/onnxml/{name}.onnx"))
}

#[test]
fn convert_rewrites_an_skl2onnx_graph() {
    let dir = scratch_dir("onnxml-convert");
    let out = dir.join("portable.onnx");
    let o = run(&[
        "convert",
        fixture("pipe_standard_svc").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("ZipMap") && err.contains("warning"), "{err}");
    assert!(
        err.contains("SVMClassifier") && err.contains("f64"),
        "{err}"
    );
    let bytes = std::fs::read(&out).unwrap();
    // The rewritten graph has nothing left to convert.
    let again = run(&[
        "convert",
        out.to_str().unwrap(),
        "-o",
        dir.join("again.onnx").to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("nothing to convert"),
        "{}",
        stderr(&again)
    );
    assert!(!dir.join("again.onnx").exists());
    assert!(!bytes.is_empty());
    // f32 arithmetic on request.
    let o = run(&[
        "convert",
        fixture("svc_rbf_k3_str").to_str().unwrap(),
        "-o",
        dir.join("f32.onnx").to_str().unwrap(),
        "--dtype",
        "f32",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("f32"), "{}", stderr(&o));
}

#[test]
fn unsupported_ops_are_refused_in_one_line() {
    let dir = scratch_dir("onnxml-refuse");
    let out = dir.join("tree.onnx");
    let o = run(&[
        "convert",
        fixture("refuse_tree").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("TreeEnsembleClassifier"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(!out.exists());
    // Options that only make sense for models are refused for graphs.
    let o = run(&[
        "convert",
        fixture("svr_rbf").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--label-index",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--label-index"), "{}", stderr(&o));
    // inspect names the situation instead of misreading the bytes.
    let o = run(&["inspect", fixture("svr_rbf").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ai.onnx.ml"), "{}", stderr(&o));
}
