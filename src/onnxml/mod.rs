//! Rewrites an ONNX graph that uses `ai.onnx.ml` SVM ops (as skl2onnx writes
//! them) into a graph of standard ops with the same inputs, outputs and
//! values as onnxruntime computes for the original (docs/ONNX_ML.md).
//!
//! Standard-domain nodes are copied unchanged; each `ai.onnx.ml` node is
//! replaced by a fragment built with the [`Graph`] builder whose inputs and
//! outputs carry the node's own value names, and whose internal names are
//! prefixed so they cannot collide with the host graph's. The fragments
//! follow onnxruntime's CPU kernels, not scikit-learn: that is what the
//! original graph computes wherever it runs today.

mod attrs;
mod kernel;
mod linear;
mod svm;
mod transform;

use crate::graph::{FloatType, Graph};
use crate::onnx::{
    tensor_proto::DataType, tensor_shape_proto, type_proto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorShapeProto, TypeProto, ValueInfoProto,
};
use prost::Message;

pub use crate::format::{decode, has_ml_nodes, recognise, ML_DOMAIN};

/// The ops this module rewrites.
pub const SUPPORTED_OPS: [&str; 8] = [
    "SVMClassifier",
    "SVMRegressor",
    "LinearClassifier",
    "LinearRegressor",
    "Scaler",
    "Normalizer",
    "ArrayFeatureExtractor",
    "ZipMap",
];

/// Lowest default-domain opset of a graph we rewrite. The fragments are
/// built for the graph's own opset (the builder writes reduction axes,
/// ArgMax and float equality as that opset defines them), so copied nodes
/// keep their meaning; `Where`, which the fragments need, exists from 9.
pub const MIN_OPSET: i64 = 9;

/// Why an ONNX graph could not be rewritten.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OnnxMlError {
    /// The bytes do not decode as an ONNX model.
    #[error("not a readable ONNX model: {0}")]
    Decode(String),
    /// The graph has no ai.onnx.ml node.
    #[error("no ai.onnx.ml SVM node; nothing to convert (the graph has no ai.onnx.ml op: it already uses standard ops only)")]
    NothingToConvert,
    #[error("node '{node}': op {domain}::{op} is not supported (svm2onnx rewrites ai.onnx.ml SVMClassifier, SVMRegressor, LinearClassifier, LinearRegressor, Scaler, Normalizer, ArrayFeatureExtractor and ZipMap)")]
    /// A node of a domain or op type we do not rewrite.
    UnsupportedOp {
        /// The node's name.
        node: String,
        /// Its domain.
        domain: String,
        /// Its op type.
        op: String,
    },
    #[error("node '{node}' ({op}): attribute `{attribute}`: {problem}")]
    /// An attribute of a node is missing or inconsistent.
    Attribute {
        /// The node's name.
        node: String,
        /// Its op type.
        op: String,
        /// The attribute.
        attribute: String,
        /// What is wrong.
        problem: String,
    },
    #[error("node '{node}' ({op}): {problem}")]
    /// A node cannot be rewritten as it is.
    Node {
        /// The node's name.
        node: String,
        /// Its op type.
        op: String,
        /// What is wrong.
        problem: String,
    },
    /// The graph's default-domain opset is below [`MIN_OPSET`].
    #[error("default-domain opset {0} is not supported: graphs with opset {MIN_OPSET} or later can be rewritten")]
    Opset(i64),
}

/// How to rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvertOptions {
    /// Precision of the arithmetic inside the replacement fragments. f64
    /// (default) rounds to float32 exactly where onnxruntime's kernels store
    /// float32 and sums in double where they do (docs/ONNX_ML.md §2–§3);
    /// f32 computes in float32 throughout, for TensorFlow/TFLite, which have
    /// no float64. Inputs and outputs keep the original graph's types.
    pub float: FloatType,
}

impl Default for ConvertOptions {
    fn default() -> Self {
        ConvertOptions {
            float: FloatType::F64,
        }
    }
}

/// A rewritten graph.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The ONNX bytes.
    pub onnx: Vec<u8>,
    /// What changed in the interface (ZipMap outputs become tensors).
    pub warnings: Vec<String>,
    /// The ml ops that were replaced, in graph order.
    pub replaced: Vec<String>,
    /// The default-domain opset of the rewritten graph: the original's
    /// (the fragments are written in its form).
    pub opset: i64,
}

fn default_opset(model: &ModelProto) -> Option<i64> {
    model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain(), "" | "ai.onnx"))
        .map(|o| o.version())
}

/// Rewrites ONNX bytes: every `ai.onnx.ml` node becomes standard ops.
pub fn convert(bytes: &[u8], options: &ConvertOptions) -> Result<Converted, OnnxMlError> {
    let model = ModelProto::decode(bytes).map_err(|e| OnnxMlError::Decode(e.to_string()))?;
    let graph = model
        .graph
        .clone()
        .ok_or_else(|| OnnxMlError::Decode("the model has no graph".into()))?;
    if !has_ml_nodes(&model) {
        return Err(OnnxMlError::NothingToConvert);
    }
    // A graph made only of ml ops may import no default domain at all; the
    // fragments then define it.
    let opset = default_opset(&model).unwrap_or(17);
    if opset < MIN_OPSET {
        return Err(OnnxMlError::Opset(opset));
    }

    let mut nodes = Vec::with_capacity(graph.node.len());
    let mut initializers = graph.initializer.clone();
    let mut warnings = Vec::new();
    let mut replaced = Vec::new();
    let mut zipmaps: Vec<(String, usize)> = Vec::new();
    for (index, node) in graph.node.iter().enumerate() {
        refuse_subgraphs(node)?;
        match node.domain() {
            "" | "ai.onnx" => nodes.push(node.clone()),
            ML_DOMAIN => {
                let fragment = lower_node(node, options.float, opset, &mut warnings)?;
                if node.op_type() == "ZipMap" {
                    let columns = transform::zipmap_width(node)?;
                    zipmaps.extend(node.output.iter().map(|o| (o.clone(), columns)));
                }
                replaced.push(node.op_type().to_string());
                splice(fragment, index, node, opset, &mut nodes, &mut initializers);
            }
            other => {
                return Err(OnnxMlError::UnsupportedOp {
                    node: node.name().to_string(),
                    domain: other.to_string(),
                    op: node.op_type().to_string(),
                })
            }
        }
    }

    let rewritten = rewritten_model(model, graph, nodes, initializers, &zipmaps, opset);
    Ok(Converted {
        onnx: rewritten.encode_to_vec(),
        warnings,
        replaced,
        opset,
    })
}

/// The rewritten model: the original's graph with `nodes` and
/// `initializers`, ZipMap outputs turned into probability tensors, the
/// default domain at `opset` only, and a `converted_from` metadata entry.
fn rewritten_model(
    model: ModelProto,
    graph: crate::onnx::GraphProto,
    nodes: Vec<NodeProto>,
    initializers: Vec<crate::onnx::TensorProto>,
    zipmaps: &[(String, usize)],
    opset: i64,
) -> ModelProto {
    let outputs = graph
        .output
        .iter()
        .map(|o| {
            match zipmaps
                .iter()
                .find(|(name, _)| Some(name) == o.name.as_ref())
            {
                Some((_, k)) => probability_tensor(o, *k),
                None => name_dimensions(o),
            }
        })
        .collect();
    let inputs = graph.input.iter().map(name_dimensions).collect();
    let new_graph = crate::onnx::GraphProto {
        input: inputs,
        node: nodes,
        initializer: initializers,
        output: outputs,
        // Shape hints of the original may describe replaced values
        // (ZipMap's sequence of maps); tools re-infer them.
        value_info: vec![],
        ..graph
    };
    let mut metadata = model.metadata_props.clone();
    metadata.push(StringStringEntryProto {
        key: Some("converted_from".into()),
        value: Some(format!(
            "{} {} (ai.onnx.ml ops rewritten by svm2onnx with onnxruntime's semantics)",
            model.producer_name(),
            model.producer_version()
        )),
    });
    ModelProto {
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(opset),
        }],
        producer_name: Some("svm2onnx".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        graph: Some(new_graph),
        metadata_props: metadata,
        ir_version: Some(model.ir_version().max(crate::emit::ir_version_for(opset))),
        ..model
    }
}

/// A node with a graph-valued attribute (If, Loop, Scan) cannot be copied
/// faithfully: its body might hold ml ops, and our schema subset does not
/// carry every field a body can use.
fn refuse_subgraphs(node: &NodeProto) -> Result<(), OnnxMlError> {
    match node
        .attribute
        .iter()
        .find(|a| a.g.is_some() || !a.graphs.is_empty())
    {
        Some(a) => Err(OnnxMlError::Attribute {
            node: node.name().to_string(),
            op: node.op_type().to_string(),
            attribute: a.name().to_string(),
            problem: "subgraphs are not supported".into(),
        }),
        None => Ok(()),
    }
}

fn lower_node(
    node: &NodeProto,
    float: FloatType,
    opset: i64,
    warnings: &mut Vec<String>,
) -> Result<Graph, OnnxMlError> {
    let g = Graph::new(float, opset);
    match node.op_type() {
        "SVMClassifier" => svm::classifier(g, node),
        "SVMRegressor" => svm::regressor(g, node),
        "LinearClassifier" => linear::classifier(g, node),
        "LinearRegressor" => linear::regressor(g, node),
        "Scaler" => transform::scaler(g, node),
        "Normalizer" => transform::normalizer(g, node),
        "ArrayFeatureExtractor" => transform::array_feature_extractor(g, node),
        "ZipMap" => transform::zipmap(g, node, warnings),
        other => Err(OnnxMlError::UnsupportedOp {
            node: node.name().to_string(),
            domain: ML_DOMAIN.to_string(),
            op: other.to_string(),
        }),
    }
}

/// Appends a fragment's nodes and initializers to the host graph. Its
/// internal values and node names get a prefix unique to the replaced node.
fn splice(
    mut fragment: Graph,
    index: usize,
    node: &NodeProto,
    opset: i64,
    nodes: &mut Vec<NodeProto>,
    initializers: &mut Vec<crate::onnx::TensorProto>,
) {
    let prefix = format!("svm2onnx_{index}_{}/", node.op_type());
    fragment.prefix_internal_names(&prefix);
    let proto = crate::emit::model_proto(&fragment, opset, &[], "");
    let body = proto.graph.unwrap_or_default();
    nodes.extend(body.node.into_iter().map(|mut n| {
        n.name = Some(format!("{prefix}{}", n.name()));
        n
    }));
    initializers.extend(body.initializer);
}

/// skl2onnx leaves the batch dimension unnamed (neither a value nor a
/// name); tract cannot type a graph input like that. Unnamed dimensions get
/// names: `N` for the first axis (shared by inputs and outputs, as it is
/// the same batch), `dim{axis}` for others. Types and known sizes are kept.
fn name_dimensions(vi: &ValueInfoProto) -> ValueInfoProto {
    let mut vi = vi.clone();
    if let Some(type_proto::Value::TensorType(t)) =
        vi.r#type.as_mut().and_then(|t| t.value.as_mut())
    {
        if let Some(shape) = t.shape.as_mut() {
            for (axis, d) in shape.dim.iter_mut().enumerate() {
                if d.value.is_none() {
                    d.value = Some(tensor_shape_proto::dimension::Value::DimParam(
                        if axis == 0 {
                            "N".into()
                        } else {
                            format!("dim{axis}")
                        },
                    ));
                }
            }
        }
    }
    vi
}

/// The value info of a ZipMap output once it is a float tensor [N, k].
fn probability_tensor(original: &ValueInfoProto, k: usize) -> ValueInfoProto {
    let dim = |value| tensor_shape_proto::Dimension {
        value: Some(value),
        denotation: None,
    };
    ValueInfoProto {
        name: original.name.clone(),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(DataType::Float as i32),
                shape: Some(TensorShapeProto {
                    dim: vec![
                        dim(tensor_shape_proto::dimension::Value::DimParam("N".into())),
                        dim(tensor_shape_proto::dimension::Value::DimValue(k as i64)),
                    ],
                }),
            })),
            denotation: None,
        }),
        doc_string: original.doc_string.clone(),
    }
}
