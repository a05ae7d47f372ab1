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

/// The default-domain opset and IR version of an ONNX file.
fn opset_and_ir(path: &Path) -> (Vec<i64>, i64) {
    use prost::Message;
    let bytes = std::fs::read(path).unwrap();
    let model = svm2onnx::onnx::ModelProto::decode(bytes.as_slice()).unwrap();
    let opsets = model
        .opset_import
        .iter()
        .filter(|o| o.domain().is_empty())
        .map(|o| o.version())
        .collect();
    (opsets, model.ir_version())
}

/// skl2onnx's `to_onnx(model, X)` with no options: opset 9 and ZipMap for
/// SVC with probabilities, SVR and OneClassSVM; opset 22 for LinearSVC. The
/// binary rewrites each at its own opset and says what became of ZipMap.
#[test]
fn convert_rewrites_skl2onnx_default_graphs_at_their_own_opset() {
    let dir = scratch_dir("onnxml-default-opsets");
    // (fixture, its opset, the IR version it declares, has a ZipMap): the
    // committed graphs are skl2onnx 1.20's, which writes IR 10 (onnx 1.16's)
    // without a target_opset and the first IR of the opset with one; the
    // rewrite keeps the IR version, which can carry the opset.
    let cases = [
        ("opsets/svc_proba_k3_default_zipmap", 9, 10, true),
        ("opsets/svc_bin_default_zipmap", 9, 10, true),
        ("opsets/svr_default", 9, 10, false),
        ("opsets/oneclass_default", 9, 10, false),
        ("opsets/svc_proba_k3_o9_zipmap", 9, 4, true),
        ("opsets/svc_proba_k3_o13_zipmap", 13, 7, true),
        ("opsets/linearsvc_k3_default", 22, 10, false),
    ];
    for (name, opset, ir_version, zipmap) in cases {
        let out = dir.join(format!("{}.onnx", name.replace('/', "_")));
        let o = run(&[
            "convert",
            fixture(name).to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ]);
        let err = stderr(&o);
        assert!(o.status.success(), "{name}: {err}");
        assert!(
            err.contains(&format!("at the graph's opset {opset}")),
            "{name}: {err}"
        );
        // ZipMap's sequence of maps cannot be built from standard ops: the
        // warning says the output is now a plain tensor.
        assert_eq!(
            err.contains("warning: output 'output_probability' (ZipMap")
                && err.contains("is now a float tensor [N, ")
                && err.contains("instead of a sequence of maps"),
            zipmap,
            "{name}: {err}"
        );
        assert_eq!(opset_and_ir(&fixture(name)).1, ir_version, "{name}");
        assert_eq!(opset_and_ir(&out), (vec![opset], ir_version), "{name}");
    }
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
