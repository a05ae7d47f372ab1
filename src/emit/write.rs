//! Streams a graph to ONNX bytes without building the whole message first.
//!
//! prost can only encode a message it holds in memory, and a `ModelProto`
//! with the support vectors as `raw_data` would hold them a second time (a
//! third with the encoded copy). Instead the small part of the model (nodes,
//! value infos, metadata, string tensors) is encoded by prost, and each
//! numeric initializer is written by hand as a length-delimited
//! `GraphProto.initializer` entry whose `raw_data` is converted from the
//! graph's constants chunk by chunk. Protobuf parsers accept fields in any
//! order and concatenate repeated fields, so the result is an ordinary model.
//!
//! With an external data sink, initializers of [`EXTERNAL_THRESHOLD`] bytes or
//! more are written there instead, each at an offset aligned to
//! [`EXTERNAL_ALIGNMENT`], and the tensor carries ONNX's `location`, `offset`
//! and `length` entries with `data_location = EXTERNAL`.

use super::{data_type, model_proto_with, tensor};
use crate::graph::{Constant, ElemType, FloatType, Graph};
use crate::onnx::{tensor_proto::DataLocation, StringStringEntryProto, TensorProto};
use prost::encoding::{encode_varint, encoded_len_varint};
use prost::Message;
use std::io::{self, Write};

/// Initializers at least this large go to the external data file when one is
/// used (onnx's own `convert_model_to_external_data` default).
pub const EXTERNAL_THRESHOLD: usize = 1024;

/// Offsets in the external data file are multiples of this, so runtimes can
/// map tensors straight from a page-aligned file.
pub const EXTERNAL_ALIGNMENT: u64 = 4096;

/// Where external tensor data goes: its file name relative to the model file
/// (written into each tensor's `location`) and the sink for its bytes.
pub struct ExternalSink<'a> {
    /// The data file's name, relative to the model file.
    pub location: &'a str,
    /// Where its bytes go.
    pub data: &'a mut dyn Write,
}

/// Byte counts of a written model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    /// Bytes of the `.onnx` file.
    pub model: u64,
    /// Bytes of the external data file (0 without one).
    pub external: u64,
}

// Wire tags (field number << 3 | length-delimited).
const MODEL_GRAPH_TAG: u64 = (7 << 3) | 2;
const GRAPH_INITIALIZER_TAG: u64 = (5 << 3) | 2;
const TENSOR_RAW_DATA_TAG: u64 = (9 << 3) | 2;

/// Bytes of a constant's `raw_data`, or `None` for string tensors (which
/// ONNX stores in `string_data`).
fn raw_len(constant: &Constant, float: FloatType) -> Option<usize> {
    match constant {
        Constant::Float(a) => Some(a.len() * float_bytes(float)),
        Constant::Transposed(t) => Some(t.len() * float_bytes(float)),
        Constant::Int64(a) => Some(a.len() * 8),
        Constant::Str(_) => None,
    }
}

fn float_bytes(float: FloatType) -> usize {
    match float {
        FloatType::F32 => 4,
        FloatType::F64 => 8,
    }
}

/// Rows of a generated matrix per block: about 2²⁰ values (8 MiB of f64)
/// whatever its width, so writing it costs a bounded buffer, not a copy.
fn rows_per_block(columns: usize) -> usize {
    ((1 << 20) / columns.max(1)).max(1)
}

/// Writes a constant's little-endian `raw_data`, converting in chunks.
fn write_raw(constant: &Constant, float: FloatType, out: &mut dyn Write) -> io::Result<()> {
    const CHUNK: usize = 8192;
    let mut buf = Vec::with_capacity(CHUNK * 8);
    let flush = |buf: &mut Vec<u8>, out: &mut dyn Write| -> io::Result<()> {
        out.write_all(buf)?;
        buf.clear();
        Ok(())
    };
    // A chunk at a time, one loop per precision: no call or branch per
    // element (this loop writes every weight of a big model).
    let put_floats = |values: &[f64], buf: &mut Vec<u8>, out: &mut dyn Write| -> io::Result<()> {
        for chunk in values.chunks(CHUNK) {
            match float {
                FloatType::F32 => chunk
                    .iter()
                    .for_each(|v| buf.extend_from_slice(&(*v as f32).to_le_bytes())),
                FloatType::F64 => chunk
                    .iter()
                    .for_each(|v| buf.extend_from_slice(&v.to_le_bytes())),
            }
            flush(buf, out)?;
        }
        Ok(())
    };
    match constant {
        Constant::Float(a) => match a.as_slice() {
            Some(values) => put_floats(values, &mut buf, out)?,
            None => put_floats(&a.iter().copied().collect::<Vec<_>>(), &mut buf, out)?,
        },
        Constant::Transposed(t) => {
            let [rows, columns] = t.shape();
            let step = rows_per_block(columns);
            let mut block = Vec::with_capacity(step * columns);
            for first in (0..rows).step_by(step) {
                block.clear();
                t.extend_rows(first..(first + step).min(rows), &mut block);
                put_floats(&block, &mut buf, out)?;
            }
        }
        Constant::Int64(a) => {
            for v in a.iter() {
                buf.extend_from_slice(&v.to_le_bytes());
                if buf.len() >= CHUNK * 4 {
                    flush(&mut buf, out)?;
                }
            }
        }
        Constant::Str(_) => unreachable!("string tensors are encoded by prost"),
    }
    flush(&mut buf, out)
}

/// The tensor's name, dims and type, without data.
fn header(name: &str, constant: &Constant, float: FloatType) -> TensorProto {
    let (dims, elem) = match constant {
        Constant::Float(a) => (a.shape(), float.elem()),
        Constant::Transposed(t) => (&t.shape()[..], float.elem()),
        Constant::Int64(a) => (a.shape(), ElemType::I64),
        Constant::Str(a) => (a.shape(), ElemType::Str),
    };
    TensorProto {
        name: Some(name.to_string()),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: Some(data_type(elem) as i32),
        ..Default::default()
    }
}

fn varint(v: u64, out: &mut dyn Write) -> io::Result<usize> {
    let mut buf = Vec::with_capacity(10);
    encode_varint(v, &mut buf);
    out.write_all(&buf)?;
    Ok(buf.len())
}

/// Length of a length-delimited field: tag, length prefix and payload.
fn field_len(tag: u64, payload: usize) -> usize {
    encoded_len_varint(tag) + encoded_len_varint(payload as u64) + payload
}

/// An initializer whose `raw_data` is streamed after its encoded header.
struct Inline<'g> {
    header: Vec<u8>,
    constant: &'g Constant,
    raw: usize,
}

impl Inline<'_> {
    fn tensor_len(&self) -> usize {
        self.header.len() + field_len(TENSOR_RAW_DATA_TAG, self.raw)
    }
}

/// Writes the model for `graph` to `out`, numeric initializers streamed; with
/// `external`, large initializers go to its data sink instead.
pub fn write_model(
    graph: &Graph,
    opset: i64,
    metadata: &[(String, String)],
    doc: &str,
    out: &mut dyn Write,
    mut external: Option<ExternalSink<'_>>,
) -> io::Result<Written> {
    let float = graph.float;
    let mut encoded_by_prost = Vec::new();
    let mut inline = Vec::new();
    let mut external_offset = 0u64;
    for (value, constant) in &graph.initializers {
        let name = graph.name(*value);
        let Some(raw) = raw_len(constant, float) else {
            encoded_by_prost.push(tensor(name, constant, float));
            continue;
        };
        match external.as_mut() {
            Some(sink) if raw >= EXTERNAL_THRESHOLD => {
                let padding =
                    external_offset.next_multiple_of(EXTERNAL_ALIGNMENT) - external_offset;
                sink.data.write_all(&vec![0u8; padding as usize])?;
                external_offset += padding;
                write_raw(constant, float, sink.data)?;
                let mut t = header(name, constant, float);
                let entry = |key: &str, value: String| StringStringEntryProto {
                    key: Some(key.into()),
                    value: Some(value),
                };
                t.external_data = vec![
                    entry("location", sink.location.to_string()),
                    entry("offset", external_offset.to_string()),
                    entry("length", raw.to_string()),
                ];
                t.data_location = Some(DataLocation::External as i32);
                external_offset += raw as u64;
                encoded_by_prost.push(t);
            }
            _ => inline.push(Inline {
                header: header(name, constant, float).encode_to_vec(),
                constant,
                raw,
            }),
        }
    }
    let mut model = model_proto_with(graph, opset, metadata, doc, encoded_by_prost);
    let graph_part = model.graph.take().expect("model_proto_with sets the graph");
    let model_part = model.encode_to_vec();
    let graph_part = graph_part.encode_to_vec();
    let graph_len = graph_part.len()
        + inline
            .iter()
            .map(|t| field_len(GRAPH_INITIALIZER_TAG, t.tensor_len()))
            .sum::<usize>();

    let mut written = model_part.len() + graph_part.len();
    out.write_all(&model_part)?;
    written += varint(MODEL_GRAPH_TAG, out)?;
    written += varint(graph_len as u64, out)?;
    out.write_all(&graph_part)?;
    for t in &inline {
        written += varint(GRAPH_INITIALIZER_TAG, out)?;
        written += varint(t.tensor_len() as u64, out)?;
        out.write_all(&t.header)?;
        written += t.header.len();
        written += varint(TENSOR_RAW_DATA_TAG, out)?;
        written += varint(t.raw as u64, out)?;
        write_raw(t.constant, float, out)?;
        written += t.raw;
    }
    Ok(Written {
        model: written as u64,
        external: external_offset,
    })
}

/// Total bytes of the numeric initializers: decides whether a model needs
/// external data (protobuf messages cannot exceed 2 GB).
pub fn initializer_bytes(graph: &Graph) -> u64 {
    graph
        .initializers
        .iter()
        .filter_map(|(_, c)| raw_len(c, graph.float))
        .map(|n| n as u64)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::{Dim, Graph};
    use crate::onnx::ModelProto;
    use ndarray::{ArrayD, IxDyn};

    /// A graph with a big and a small float constant, an int64 table and a
    /// string table: every kind of initializer the writer distinguishes.
    fn graph(float: FloatType) -> Graph {
        let mut g = Graph::new(float, 17);
        let x = g.input("X", float.elem(), vec![Dim::Batch, Dim::Fixed(3)]);
        let big = ArrayD::from_shape_fn(IxDyn(&[3, 200]), |i| {
            (i[0] * 1000 + i[1]) as f64 * 0.1 - 7.3
        });
        let w = g.constant("w", big);
        let y = g.op("MatMul", &[x, w], vec![]);
        let b = g.scalar("b", 0.25);
        let y = g.op("Add", &[y, b], vec![]);
        let idx = g.argmax(y, 1);
        let ints = g.constant_i64(
            "ints",
            ArrayD::from_shape_vec(IxDyn(&[200]), (0..200).collect()).unwrap(),
        );
        let i = g.gather(ints, idx);
        let names = g.constant_str(
            "names",
            ArrayD::from_shape_fn(IxDyn(&[200]), |i| format!("c{}", i[0])),
        );
        let label = g.gather(names, i);
        g.output(label, "label", ElemType::Str, vec![Dim::Batch]);
        g
    }

    /// A generated constant wide enough to be written in several blocks
    /// encodes to the bytes of the same matrix held eagerly.
    #[test]
    fn generated_constants_encode_like_eager_ones() {
        use crate::graph::TransposedAffine;
        use std::sync::Arc;
        let columns = 3 * (1 << 20) / 4; // one row per block
        let source = Arc::new(ndarray::Array2::from_shape_fn((columns, 2), |(s, j)| {
            (s as f64).sqrt() * if j == 0 { 1.5 } else { -0.7 }
        }));
        let t = TransposedAffine {
            source,
            scale: Some(0.8),
            shift: Some(ndarray::arr1(&[0.1, 0.2])),
            extra_rows: vec![ndarray::Array1::from_elem(columns, -0.4)],
            order: None,
        };
        assert_eq!(rows_per_block(columns), 1);
        for float in [FloatType::F32, FloatType::F64] {
            let mut generated = Vec::new();
            write_raw(&Constant::Transposed(t.clone()), float, &mut generated).unwrap();
            let mut eager = Vec::new();
            let array = Constant::Float(t.to_array().into_dyn());
            write_raw(&array, float, &mut eager).unwrap();
            assert_eq!(generated.len(), raw_len(&array, float).unwrap());
            assert!(generated == eager, "{float:?}");
        }
    }

    fn sorted(mut m: ModelProto) -> ModelProto {
        let g = m.graph.as_mut().unwrap();
        g.initializer.sort_by(|a, b| a.name.cmp(&b.name));
        m
    }

    #[test]
    fn streamed_bytes_decode_to_the_prost_model() {
        for float in [FloatType::F32, FloatType::F64] {
            let g = graph(float);
            let meta = vec![("k".to_string(), "v".to_string())];
            let expected = super::super::model_proto(&g, 17, &meta, "doc");
            let mut bytes = Vec::new();
            let written = write_model(&g, 17, &meta, "doc", &mut bytes, None).unwrap();
            assert_eq!(written.model as usize, bytes.len());
            assert_eq!(written.external, 0);
            // Same size as prost's own encoding: only the field order differs.
            assert_eq!(bytes.len(), expected.encoded_len());
            let decoded = ModelProto::decode(&bytes[..]).unwrap();
            assert_eq!(sorted(decoded), sorted(expected));
        }
    }

    #[test]
    fn external_data_holds_the_large_tensors_at_aligned_offsets() {
        let g = graph(FloatType::F64);
        let inline = ModelProto::decode(&super::super::encode(&g, 17, &[], "")[..]).unwrap();
        let mut model = Vec::new();
        let mut data = Vec::new();
        let sink = ExternalSink {
            location: "m.onnx.data",
            data: &mut data,
        };
        let written = write_model(&g, 17, &[], "", &mut model, Some(sink)).unwrap();
        assert_eq!(written.external as usize, data.len());
        let decoded = ModelProto::decode(&model[..]).unwrap();
        let tensors = &decoded.graph.as_ref().unwrap().initializer;
        let mut external = 0;
        for want in &inline.graph.as_ref().unwrap().initializer {
            let got = tensors.iter().find(|t| t.name == want.name).unwrap();
            let raw = want.raw_data.as_deref().unwrap_or_default();
            if raw.len() < EXTERNAL_THRESHOLD {
                assert_eq!(got, want, "small tensors stay inline");
                continue;
            }
            external += 1;
            assert_eq!(got.data_location, Some(DataLocation::External as i32));
            assert!(got.raw_data.is_none());
            let entry = |k: &str| {
                got.external_data
                    .iter()
                    .find(|e| e.key.as_deref() == Some(k))
                    .and_then(|e| e.value.clone())
                    .unwrap()
            };
            assert_eq!(entry("location"), "m.onnx.data");
            let offset: usize = entry("offset").parse().unwrap();
            let length: usize = entry("length").parse().unwrap();
            assert_eq!(offset as u64 % EXTERNAL_ALIGNMENT, 0);
            assert_eq!(&data[offset..offset + length], raw);
            assert_eq!((&got.dims, got.data_type), (&want.dims, want.data_type));
        }
        // The 3×200 f64 weights and the 200 int64 labels.
        assert_eq!(external, 2);
    }
}
