//! Graph → ONNX `ModelProto` bytes: initializers as little-endian raw data,
//! the opset import, the matching IR version, and metadata. The bytes are
//! streamed ([`write`]) so a model is never held twice in memory, and large
//! initializers can go to an external data file (past protobuf's 2 GB limit).

mod write;

pub use write::{initializer_bytes, write_model, ExternalSink, Written};

use crate::graph::{Attribute, Constant, Dim, ElemType, FloatType, Graph, Port};
use crate::onnx::{
    attribute_proto::AttributeType, tensor_proto::DataType, tensor_shape_proto, type_proto,
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
};

/// Lowest and highest default-domain opsets we emit (tract's tested range).
pub const OPSETS: std::ops::RangeInclusive<i64> = 13..=18;

/// The ONNX `DataType` code of an element type.
pub fn data_type(elem: ElemType) -> DataType {
    elem.onnx_type()
}

/// The lowest IR version that can carry `opset` (onnx's VERSION_TABLE: the
/// IR version of the first onnx release with that opset), for the widest
/// reader compatibility. Our own graphs use 13 to 18; the skl2onnx rewrite
/// keeps a graph's opset, from 9 on.
pub fn ir_version_for(opset: i64) -> i64 {
    match opset {
        ..=8 => 3,
        9 => 4,
        10 => 5,
        11 => 6,
        12..=14 => 7,
        15..=18 => 8,
        19..=20 => 9,
        21..=22 => 10,
        23 => 11,
        24 => 12,
        25..=27 => 13,
        _ => 14,
    }
}

fn dims_i64(shape: &[usize]) -> Vec<i64> {
    shape.iter().map(|&d| d as i64).collect()
}

/// A whole initializer as a `TensorProto` (raw data inline); the streaming
/// writer only uses it for string tensors, which cannot be raw.
fn tensor(name: &str, constant: &Constant, float: FloatType) -> TensorProto {
    let mut t = TensorProto {
        name: Some(name.to_string()),
        ..Default::default()
    };
    let generated;
    let constant = match constant {
        Constant::Transposed(t) => {
            generated = Constant::Float(t.to_array().into_dyn());
            &generated
        }
        other => other,
    };
    match constant {
        Constant::Float(a) => {
            t.dims = dims_i64(a.shape());
            let mut raw = Vec::with_capacity(a.len() * 8);
            match float {
                FloatType::F32 => {
                    t.data_type = Some(DataType::Float as i32);
                    for v in a.iter() {
                        raw.extend_from_slice(&(*v as f32).to_le_bytes());
                    }
                }
                FloatType::F64 => {
                    t.data_type = Some(DataType::Double as i32);
                    for v in a.iter() {
                        raw.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            t.raw_data = Some(raw);
        }
        Constant::Int64(a) => {
            t.dims = dims_i64(a.shape());
            t.data_type = Some(DataType::Int64 as i32);
            let mut raw = Vec::with_capacity(a.len() * 8);
            for v in a.iter() {
                raw.extend_from_slice(&v.to_le_bytes());
            }
            t.raw_data = Some(raw);
        }
        Constant::Str(a) => {
            // raw_data is not allowed for strings; use string_data.
            t.dims = dims_i64(a.shape());
            t.data_type = Some(DataType::String as i32);
            t.string_data = a.iter().map(|s| s.as_bytes().to_vec()).collect();
        }
        Constant::Transposed(_) => unreachable!("generated into a Float constant above"),
    }
    t
}

fn value_info(graph: &Graph, port: &Port) -> ValueInfoProto {
    let dims = port
        .dims
        .iter()
        .map(|d| tensor_shape_proto::Dimension {
            value: Some(match d {
                Dim::Batch => tensor_shape_proto::dimension::Value::DimParam("N".into()),
                Dim::Fixed(n) => tensor_shape_proto::dimension::Value::DimValue(*n as i64),
            }),
            denotation: None,
        })
        .collect();
    ValueInfoProto {
        name: Some(graph.name(port.value).to_string()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(data_type(port.elem) as i32),
                shape: Some(TensorShapeProto { dim: dims }),
            })),
            denotation: None,
        }),
        doc_string: None,
    }
}

fn attribute(a: &Attribute) -> AttributeProto {
    match a {
        Attribute::Int(name, v) => AttributeProto {
            name: Some((*name).to_string()),
            i: Some(*v),
            r#type: Some(AttributeType::Int as i32),
            ..Default::default()
        },
        Attribute::Ints(name, v) => AttributeProto {
            name: Some((*name).to_string()),
            ints: v.clone(),
            r#type: Some(AttributeType::Ints as i32),
            ..Default::default()
        },
    }
}

/// Builds the `ModelProto` for a graph, with every initializer inline.
pub fn model_proto(
    graph: &Graph,
    opset: i64,
    metadata: &[(String, String)],
    doc: &str,
) -> ModelProto {
    let initializers = graph
        .initializers
        .iter()
        .map(|(v, c)| tensor(graph.name(*v), c, graph.float))
        .collect();
    model_proto_with(graph, opset, metadata, doc, initializers)
}

/// Builds the `ModelProto` for a graph around the given initializer protos
/// (the streaming writer appends the raw-data ones itself).
fn model_proto_with(
    graph: &Graph,
    opset: i64,
    metadata: &[(String, String)],
    doc: &str,
    initializers: Vec<TensorProto>,
) -> ModelProto {
    let nodes = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| NodeProto {
            input: n
                .inputs
                .iter()
                .map(|v| graph.name(*v).to_string())
                .collect(),
            output: vec![graph.name(n.output).to_string()],
            name: Some(format!("{}_{i}", n.op)),
            op_type: Some(n.op.to_string()),
            attribute: n.attributes.iter().map(attribute).collect(),
            ..Default::default()
        })
        .collect();
    let graph_proto = GraphProto {
        node: nodes,
        name: Some("svm2onnx".into()),
        initializer: initializers,
        input: graph.inputs.iter().map(|p| value_info(graph, p)).collect(),
        output: graph.outputs.iter().map(|p| value_info(graph, p)).collect(),
        doc_string: Some(doc.to_string()),
        value_info: vec![],
    };
    ModelProto {
        ir_version: Some(ir_version_for(opset)),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(opset),
        }],
        producer_name: Some("svm2onnx".into()),
        producer_version: Some(env!("CARGO_PKG_VERSION").into()),
        domain: None,
        model_version: Some(1),
        doc_string: Some(doc.to_string()),
        graph: Some(graph_proto),
        metadata_props: metadata
            .iter()
            .map(|(k, v)| StringStringEntryProto {
                key: Some(k.clone()),
                value: Some(v.clone()),
            })
            .collect(),
    }
}

/// Encodes a graph as ONNX bytes, every initializer inline.
pub fn encode(graph: &Graph, opset: i64, metadata: &[(String, String)], doc: &str) -> Vec<u8> {
    let mut bytes = Vec::new();
    write_model(graph, opset, metadata, doc, &mut bytes, None)
        .expect("writing to a Vec cannot fail");
    bytes
}
