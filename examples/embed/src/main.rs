//! Prints the interface of the ONNX model compiled into this binary at build
//! time. Hand `MODEL` to any ONNX runtime (onnxruntime, tract, …).

use prost::Message;
use svm2onnx::onnx::ModelProto;

/// The compiled iris RBF SVC, embedded at build time.
pub static MODEL: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/iris_rbf.onnx"));

fn names(values: &[svm2onnx::onnx::ValueInfoProto]) -> Vec<String> {
    values.iter().filter_map(|v| v.name.clone()).collect()
}

fn main() {
    let model = ModelProto::decode(MODEL).expect("build.rs wrote a valid model");
    let graph = model.graph.unwrap_or_default();
    println!(
        "embedded {} bytes: inputs {:?}, outputs {:?}, {} nodes",
        MODEL.len(),
        names(&graph.input),
        names(&graph.output),
        graph.node.len()
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_model_has_the_svc_interface() {
        let model = ModelProto::decode(MODEL).unwrap();
        let graph = model.graph.unwrap();
        assert_eq!(names(&graph.input), ["X"]);
        assert_eq!(names(&graph.output), ["label", "scores"]);
        let estimator = model
            .metadata_props
            .iter()
            .find(|p| p.key.as_deref() == Some("estimator"));
        assert_eq!(estimator.and_then(|p| p.value.as_deref()), Some("SVC"));
    }
}
