//! Every fixture's emitted graph has exactly the outputs its model's
//! contract (`Model::outputs`) states: the same names in the same order,
//! element types and shapes, under every label and precision option; and
//! its doc string names them with the methods they equal.

mod common;

use prost::Message;
use svm2onnx::model::{LabelType, OutputOptions, OutputShape, OutputType};
use svm2onnx::onnx::{tensor_proto::DataType, tensor_shape_proto, type_proto, ModelProto};
use svm2onnx::{compile, load_path, CompileOptions, FloatType, LoadedModel};

/// The committed JSON fixtures (every scikit-learn family) and LIBSVM
/// models (LIBSVM's conventions), with the shipped example.
fn models() -> Vec<(String, LoadedModel)> {
    let paths = common::committed_model_paths();
    paths
        .into_iter()
        .map(|p| {
            let loaded = load_path(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.display().to_string(), loaded)
        })
        .collect()
}

fn expected_type(ty: OutputType, float: FloatType) -> DataType {
    let float = match float {
        FloatType::F32 => DataType::Float,
        FloatType::F64 => DataType::Double,
    };
    match ty {
        OutputType::Float | OutputType::Label(LabelType::Float) => float,
        OutputType::Label(LabelType::Int64) => DataType::Int64,
        OutputType::Label(LabelType::Str) => DataType::String,
    }
}

/// An output's element type and dimensions as the graph declares them
/// (`None` for the symbolic batch dimension).
fn declared(vi: &svm2onnx::onnx::ValueInfoProto) -> (i32, Vec<Option<i64>>) {
    let Some(type_proto::Value::TensorType(t)) = vi.r#type.as_ref().and_then(|t| t.value.clone())
    else {
        panic!("{} is not a tensor", vi.name());
    };
    let elem = t.elem_type();
    let dims = t
        .shape
        .expect("outputs declare their shape")
        .dim
        .iter()
        .map(|d| match &d.value {
            Some(tensor_shape_proto::dimension::Value::DimValue(v)) => Some(*v),
            _ => None,
        })
        .collect();
    (elem, dims)
}

#[test]
fn emitted_outputs_are_the_models_contract() {
    let mut checked = 0;
    for (name, loaded) in models() {
        for (float, label_index) in [(FloatType::F32, false), (FloatType::F64, true)] {
            let options = CompileOptions {
                float,
                label_index,
                ..CompileOptions::default()
            };
            let specs = loaded.model.outputs(&OutputOptions { label_index });
            let bytes = compile(&loaded.model, &options).unwrap();
            let proto = ModelProto::decode(bytes.as_slice()).unwrap();
            let outputs = proto.graph.as_ref().unwrap().output.clone();
            let names: Vec<&str> = outputs.iter().map(|o| o.name()).collect();
            let want: Vec<&str> = specs.iter().map(|s| s.name()).collect();
            assert_eq!(names, want, "{name} {float:?}");
            for (spec, out) in specs.iter().zip(&outputs) {
                let (elem, dims) = declared(out);
                assert_eq!(
                    elem,
                    expected_type(spec.ty, float) as i32,
                    "{name} {float:?}: {} element type",
                    spec.name()
                );
                let want_dims = match spec.shape {
                    OutputShape::Rows => vec![None],
                    OutputShape::RowsBy(w) => vec![None, Some(w as i64)],
                };
                assert_eq!(dims, want_dims, "{name}: {} shape", spec.name());
            }
            // The doc string repeats the contract: each output with its method.
            let doc = proto.doc_string();
            for spec in &specs {
                let item = format!("`{}` (= {})", spec.name(), spec.method);
                assert!(doc.contains(&item), "{name}: {item} not in {doc:?}");
            }
            checked += 1;
        }
    }
    assert!(checked > 180, "checked only {checked} graphs");
}
