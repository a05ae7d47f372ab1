//! `convert --outputs` (only the asked-for outputs, dead nodes removed) and
//! `--external-data` (large initializers in `<output>.data`), through the
//! real binary: both must still validate against scikit-learn's outputs.

mod cli_common;
mod common;

use cli_common::{convert, run, stderr};
use common::scratch_dir;
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::Output;
use svm2onnx::onnx::ModelProto;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}.json"))
}

fn decode(path: &Path) -> ModelProto {
    ModelProto::decode(&std::fs::read(path).unwrap()[..]).unwrap()
}

fn output_names(m: &ModelProto) -> Vec<String> {
    let g = m.graph.as_ref().unwrap();
    g.output.iter().map(|o| o.name.clone().unwrap()).collect()
}

/// `convert` to an f64 graph.
fn convert_f64(model: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--dtype", "f64"];
    args.extend_from_slice(extra);
    convert(model, out, &args)
}

#[test]
fn outputs_keeps_only_what_is_asked_and_still_validates() {
    let dir = scratch_dir("outputs");
    let model = fixture("svc_rbf_wine_k3_ovr_proba");
    let full = dir.join("full.onnx");
    let o = convert_f64(&model, &full, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let full = decode(&full);
    assert_eq!(output_names(&full), ["label", "scores", "probabilities"]);
    let full_nodes = full.graph.as_ref().unwrap().node.len();

    for (asked, expect) in [
        ("label", vec!["label"]),
        ("scores", vec!["scores"]),
        ("probabilities,label", vec!["label", "probabilities"]),
    ] {
        let out = dir.join(format!("{}.onnx", asked.replace(',', "_")));
        let o = convert_f64(&model, &out, &["--outputs", asked]);
        assert!(o.status.success(), "{asked}: {}", stderr(&o));
        // Validation ran on the outputs that are left, against scikit-learn.
        assert!(stderr(&o).contains("PASSED"), "{}", stderr(&o));
        let m = decode(&out);
        assert_eq!(output_names(&m), expect);
        let g = m.graph.as_ref().unwrap();
        // Nothing dangling: every node feeds an output (directly or not).
        assert!(g.node.len() < full_nodes, "{asked}: nodes were pruned");
        let consumed: std::collections::HashSet<&str> = g
            .node
            .iter()
            .flat_map(|n| n.input.iter().map(String::as_str))
            .chain(g.output.iter().map(|o| o.name.as_deref().unwrap()))
            .collect();
        for n in &g.node {
            assert!(
                consumed.contains(n.output[0].as_str()),
                "{asked}: dead node"
            );
        }
        for t in &g.initializer {
            assert!(
                consumed.contains(t.name.as_deref().unwrap()),
                "{asked}: dead constant"
            );
        }
        // Without probabilities the unrolled coupling (most of the graph) is gone.
        if !asked.contains("probabilities") {
            assert!(
                2 * g.node.len() < full_nodes,
                "{asked}: {} of {full_nodes} nodes",
                g.node.len()
            );
        }
    }

    // An output the model does not have is refused, naming what it has.
    let out = dir.join("bad.onnx");
    let o = convert(
        &fixture("svc_rbf_iris_k3_ovr_str"),
        &out,
        &["--outputs", "probabilities"],
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("no output `probabilities`") && e.contains("label, scores"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(!out.exists());
}

#[test]
fn external_data_goes_next_to_the_model_and_validates() {
    let dir = scratch_dir("external");
    let model = fixture("svc_rbf_unscaled_k3");
    let out = dir.join("m.onnx");
    let o = convert_f64(&model, &out, &["--external-data"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("PASSED"), "{}", stderr(&o));
    let data = dir.join("m.onnx.data");
    assert!(data.exists());
    // Exactly the model and its data; the staging directory is gone.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 2);

    let m = decode(&out);
    let g = m.graph.as_ref().unwrap();
    let external: Vec<_> = g
        .initializer
        .iter()
        .filter(|t| t.data_location == Some(1))
        .collect();
    assert!(!external.is_empty());
    let data_len = std::fs::metadata(&data).unwrap().len();
    for t in external {
        assert!(t.raw_data.is_none());
        let entry = |k: &str| {
            t.external_data
                .iter()
                .find(|e| e.key.as_deref() == Some(k))
                .and_then(|e| e.value.clone())
                .unwrap()
        };
        assert_eq!(entry("location"), "m.onnx.data");
        let end: u64 =
            entry("offset").parse::<u64>().unwrap() + entry("length").parse::<u64>().unwrap();
        assert!(end <= data_len);
    }

    // `validate` reads the data file relative to the model.
    let o = run(&[
        "validate",
        out.to_str().unwrap(),
        "--reference",
        model.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Moved away from its data, the model is refused with one line, exit 2.
    let lonely = scratch_dir("external-lonely").join("m.onnx");
    std::fs::copy(&out, &lonely).unwrap();
    let o = run(&[
        "validate",
        lonely.to_str().unwrap(),
        "--reference",
        model.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));

    // A failed validation leaves neither file behind.
    let dir = scratch_dir("external-fail");
    let out = dir.join("m.onnx");
    let o = convert(&model, &out, &["--external-data", "--tolerance", "0"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
