//! Recognising an ONNX model by content: the one place that load (which
//! refuses ONNX graphs with a pointer to `convert`), the skl2onnx rewrite
//! and the CLI ask whether bytes are an ONNX graph and whether it has
//! `ai.onnx.ml` nodes.

use crate::onnx::ModelProto;
use prost::Message;

/// The domain of the traditional-ML operators.
pub const ML_DOMAIN: &str = "ai.onnx.ml";

/// A ModelProto whose graph has at least one node and one input, if the
/// bytes decode as one. A serialized ModelProto starts with field 1
/// (ir_version, varint), the byte 0x08, as onnx and skl2onnx write it.
pub fn decode(bytes: &[u8]) -> Option<ModelProto> {
    if bytes.first() != Some(&0x08) {
        return None;
    }
    let model = ModelProto::decode(bytes).ok()?;
    let graph = model.graph.as_ref()?;
    (!graph.node.is_empty() && !graph.input.is_empty()).then_some(model)
}

/// True when the bytes are an ONNX model (with or without ml ops).
pub fn recognise(bytes: &[u8]) -> bool {
    decode(bytes).is_some()
}

/// True when the model holds at least one `ai.onnx.ml` node.
pub fn has_ml_nodes(model: &ModelProto) -> bool {
    model
        .graph
        .as_ref()
        .is_some_and(|g| g.node.iter().any(|n| n.domain() == ML_DOMAIN))
}
