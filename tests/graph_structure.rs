//! The emitted ONNX: standard ops only, opset/IR pairs, interface, metadata.

mod common;

use prost::Message;
use svm2onnx::onnx::ModelProto;
use svm2onnx::{compile, CompileOptions, FloatType};

/// Ops of the default `ai.onnx` domain that the lowering may use; all run in
/// tract, onnxruntime and onnx2tf (ONNX_AND_RUST.md §2, §5).
const STANDARD_OPS: &[&str] = &[
    "MatMul",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Abs",
    "Exp",
    "Tanh",
    "Relu",
    "Less",
    "Greater",
    "Not",
    "Cast",
    "ArgMax",
    "Gather",
    "ReduceSum",
    "Reshape",
    "Identity",
    "Sqrt",
    "Max",
    "Min",
    "Where",
    "ReduceMax",
    "Neg",
    "Concat",
    "Equal",
    "Cos",
];

#[test]
fn graphs_use_only_standard_ops_and_declare_their_interface() {
    for (name, loaded) in common::fixtures() {
        for (float, opset) in [(FloatType::F32, 17), (FloatType::F64, 13)] {
            let bytes = compile(
                &loaded.model,
                &CompileOptions {
                    float,
                    opset,
                    ..Default::default()
                },
            )
            .unwrap();
            let model = ModelProto::decode(bytes.as_slice()).unwrap();
            assert_eq!(model.opset_import.len(), 1, "{name}");
            assert_eq!(model.opset_import[0].domain.as_deref(), Some(""));
            assert_eq!(model.opset_import[0].version, Some(opset));
            assert_eq!(model.ir_version, Some(if opset <= 14 { 7 } else { 8 }));
            let graph = model.graph.as_ref().unwrap();
            for node in &graph.node {
                let op = node.op_type.as_deref().unwrap();
                assert!(STANDARD_OPS.contains(&op), "{name}: non-standard op {op}");
                assert!(
                    node.domain.as_deref().unwrap_or("").is_empty(),
                    "{name}: {op} has a domain"
                );
            }
            let inputs: Vec<_> = graph
                .input
                .iter()
                .map(|i| i.name.clone().unwrap())
                .collect();
            assert_eq!(inputs, ["X"], "{name}");
            let outputs: Vec<_> = graph
                .output
                .iter()
                .map(|o| o.name.clone().unwrap())
                .collect();
            let mut expected = match (&loaded.model, loaded.model.task()) {
                (_, svm2onnx::model::Task::Regress) => vec!["prediction"],
                (svm2onnx::model::Model::Calibrated(_), _) => vec!["label", "probabilities"],
                _ => vec!["label", "scores"],
            };
            // SGDClassifier: exactly when scikit-learn had a predict_proba to record.
            let sgd_proba = matches!(loaded.model, svm2onnx::model::Model::Linear(_))
                && loaded
                    .samples
                    .as_ref()
                    .is_some_and(|s| s.predict_proba.is_some());
            if loaded.model.svc().is_some_and(|m| m.platt().is_some()) || sgd_proba {
                expected.push("probabilities");
            }
            assert_eq!(outputs, expected, "{name}");
            let meta: std::collections::HashMap<_, _> = model
                .metadata_props
                .iter()
                .map(|p| (p.key.clone().unwrap(), p.value.clone().unwrap()))
                .collect();
            assert_eq!(meta["estimator"], loaded.model.name());
            if let Some(classes) = loaded.model.label_classes() {
                assert_eq!(meta["classes"], classes.to_json());
            }
            assert_eq!(meta["dtype"], float.name());
            assert_eq!(
                meta["sklearn_version"],
                loaded.model.sklearn_version().unwrap()
            );
            assert_eq!(model.producer_name.as_deref(), Some("svm2onnx"));
        }
    }
}

#[test]
fn linear_kernel_collapses_to_one_matmul() {
    let (_, loaded) = common::fixtures()
        .into_iter()
        .find(|(n, l)| n.contains("linear") && l.model.svc().is_some_and(|m| m.n_classes() == 2))
        .unwrap();
    let bytes = compile(&loaded.model, &CompileOptions::default()).unwrap();
    let model = ModelProto::decode(bytes.as_slice()).unwrap();
    let matmuls = model
        .graph
        .unwrap()
        .node
        .iter()
        .filter(|n| n.op_type.as_deref() == Some("MatMul"))
        .count();
    assert_eq!(matmuls, 1);
}

#[test]
fn f32_rbf_centres_on_a_float32_mean() {
    // §6: μ must be representable in the graph dtype so that x − μ in the
    // graph and s − μ offline use the same value.
    let (_, loaded) = common::fixtures()
        .into_iter()
        .find(|(n, _)| n == "svc_rbf_unscaled_k3")
        .unwrap();
    let bytes = compile(&loaded.model, &CompileOptions::default()).unwrap();
    let model = ModelProto::decode(bytes.as_slice()).unwrap();
    let graph = model.graph.unwrap();
    let mean = graph
        .initializer
        .iter()
        .find(|t| t.name.as_deref() == Some("support_vector_mean"))
        .unwrap();
    assert_eq!(mean.data_type, Some(1), "float32 initializer");
    let raw = mean.raw_data.as_ref().unwrap();
    let mu: Vec<f32> = raw
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert!(
        mu.iter().all(|m| *m > 5e3),
        "centred on the data, not on 0: {mu:?}"
    );
}
