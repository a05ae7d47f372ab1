//! What a model file holds, as data: the `inspect` report.
//!
//! An [`Inspection`] is a list of (key, value) fields and the graph's inputs
//! and outputs ([`Port`]s), so bindings can hand it over as a dictionary;
//! [`Inspection::render`] gives the text `svm2onnx inspect` prints.
//!
//! Model files (pickle, joblib, JSON, LIBSVM) are described from the loaded
//! model and the graph `convert` would write for it. An ONNX graph made of
//! standard ops (such as svm2onnx's own output) is described from its
//! metadata and interface. An ONNX graph with `ai.onnx.ml` ops is refused by
//! the loader, naming `convert`, which rewrites it.

use crate::load::{load_bytes_with, LoadError, LoadOptions, LoadedModel, ModelFile};
use crate::model::{Kernel, LabelType, Model, OutputKind, OutputOptions, OutputType};
use crate::onnx::{tensor_proto::DataType, ValueInfoProto};
use crate::onnx::{tensor_shape_proto::dimension::Value as Dim, type_proto, ModelProto};
use std::path::Path;

/// Whether a port is a graph input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// A graph input (`X`).
    Input,
    /// A graph output (`label`, `scores`, …).
    Output,
}

impl Direction {
    /// `input` or `output`.
    pub fn name(self) -> &'static str {
        match self {
            Direction::Input => "input",
            Direction::Output => "output",
        }
    }
}

/// A graph input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    /// Input or output.
    pub direction: Direction,
    /// Its name in the graph.
    pub name: String,
    /// Such as `[N, 4]`; `N` is the batch.
    pub shape: String,
    /// Element type, when known.
    pub elem: Option<String>,
    /// What it computes, such as `= predict`.
    pub meaning: Option<String>,
}

/// The `inspect` report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Inspection {
    /// (key, value) pairs in report order.
    pub fields: Vec<(String, String)>,
    /// Graph inputs, then outputs.
    pub ports: Vec<Port>,
    /// Loader warnings (such as unknown fields); not part of [`render`](Self::render).
    pub warnings: Vec<String>,
}

impl Inspection {
    /// The value of a field.
    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn push(&mut self, key: &str, value: impl Into<String>) {
        self.fields.push((key.to_string(), value.into()));
    }

    fn port(&mut self, direction: Direction, name: &str, shape: &str, elem: Option<&str>) {
        self.ports.push(Port {
            direction,
            name: name.to_string(),
            shape: shape.to_string(),
            elem: elem.map(str::to_string),
            meaning: None,
        });
    }

    fn output(&mut self, name: &str, shape: &str, elem: Option<&str>, meaning: &str) {
        self.port(Direction::Output, name, shape, elem);
        self.ports.last_mut().unwrap().meaning = Some(meaning.to_string());
    }

    /// The report as text: one `key: value` line per field, then the graph.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (key, value) in &self.fields {
            out += &format!("{:<16} {value}\n", format!("{key}:"));
        }
        out += "graph:\n";
        for p in &self.ports {
            out += &format!("  {:<6} {:<6} {}", p.direction.name(), p.name, p.shape);
            if let Some(elem) = &p.elem {
                out += &format!(" {elem}");
            }
            if let Some(meaning) = &p.meaning {
                out += &format!(" ({meaning})");
            }
            out += "\n";
        }
        out
    }
}

/// Inspects a file: a model, or an ONNX graph of standard ops.
pub fn inspect_path(path: &Path, options: &LoadOptions) -> Result<Inspection, LoadError> {
    let file = ModelFile::open(path)?;
    inspect_with(file.bytes(), options, || file.load(options))
}

/// Inspects the bytes of a file: a model, or an ONNX graph of standard ops.
pub fn inspect_bytes(bytes: &[u8], options: &LoadOptions) -> Result<Inspection, LoadError> {
    inspect_with(bytes, options, || load_bytes_with(bytes, options))
}

fn inspect_with(
    bytes: &[u8],
    options: &LoadOptions,
    load: impl FnOnce() -> Result<LoadedModel, LoadError>,
) -> Result<Inspection, LoadError> {
    // With --n-features, the loader refuses ONNX input itself.
    if options.n_features.is_none() {
        if let Some(graph) = crate::onnxml::decode(bytes) {
            if !crate::onnxml::has_ml_nodes(&graph) {
                return Ok(describe_graph(&graph));
            }
        }
    }
    Ok(describe_model(&load()?))
}

fn kernel_text(kernel: &Kernel) -> String {
    let params = match *kernel {
        Kernel::Linear => String::new(),
        Kernel::Rbf { gamma } => format!(" (gamma={gamma})"),
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => format!(" (gamma={gamma}, coef0={coef0}, degree={degree})"),
        Kernel::Sigmoid { gamma, coef0 } => format!(" (gamma={gamma}, coef0={coef0})"),
    };
    format!("{}{params}", kernel.name())
}

/// Describes a loaded model and the graph `convert` writes for it.
pub fn describe_model(loaded: &LoadedModel) -> Inspection {
    let model = &loaded.model;
    let mut r = Inspection {
        warnings: loaded.warnings.clone(),
        ..Inspection::default()
    };
    r.push("estimator", model.name());
    if let Some(kernel) = model.kernel() {
        r.push("kernel", kernel_text(kernel));
    }
    r.push("features", model.n_features().to_string());
    if let Some(names) = &loaded.feature_names {
        let json = serde_json::to_string(names).expect("strings serialise");
        r.push("feature names", json);
    }
    if !model.preprocessing().is_empty() {
        let steps: Vec<String> = model.preprocessing().iter().map(|p| p.describe()).collect();
        r.push(
            "pipeline",
            format!("{} -> {}", steps.join(" -> "), model.name()),
        );
    }
    if let Some(classes) = model.label_classes() {
        r.push(
            "classes",
            format!("{} {}", classes.len(), classes.to_json()),
        );
    }
    for (key, value) in model.details() {
        r.push(key, value);
    }
    if let Some(v) = model.sklearn_version() {
        r.push("scikit-learn", v);
    }
    if let Some(s) = &loaded.samples {
        r.push("recorded rows", s.x.nrows().to_string());
    }
    model_ports(&mut r, model);
    r
}

/// The input and outputs `convert` gives the model's graph, read from the
/// model's output contract ([`Model::outputs`]).
fn model_ports(r: &mut Inspection, model: &Model) {
    let input = format!("[N, {}]", model.n_features());
    r.port(Direction::Input, "X", &input, Some("float"));
    r.ports.last_mut().unwrap().meaning = Some("f32 or f64 by --dtype".into());
    for spec in model.outputs(&OutputOptions::default()) {
        let elem = match spec.ty {
            OutputType::Float => "float",
            OutputType::Label(LabelType::Int64) => "I64",
            OutputType::Label(LabelType::Float) => "F32",
            OutputType::Label(LabelType::Str) => "Str",
        };
        let meaning = match spec.kind {
            OutputKind::Label => format!("= {}; int64 indices with --label-index", spec.method),
            _ => format!("= {}", spec.method),
        };
        r.output(spec.name(), &spec.shape.to_string(), Some(elem), &meaning);
    }
}

/// Describes an ONNX graph of standard ops from its metadata and interface.
pub fn describe_graph(model: &ModelProto) -> Inspection {
    let mut r = Inspection::default();
    let opset = model
        .opset_import
        .iter()
        .find(|o| matches!(o.domain(), "" | "ai.onnx"))
        .map_or("?".to_string(), |o| o.version().to_string());
    r.push(
        "format",
        format!(
            "ONNX graph of standard ops by {} {}, opset {opset}",
            model.producer_name(),
            model.producer_version()
        ),
    );
    for p in &model.metadata_props {
        let (key, value) = (p.key(), p.value());
        match serde_json::from_str::<Vec<serde_json::Value>>(value) {
            Ok(list) if key == crate::compile::meta::CLASSES => {
                r.push(key, format!("{} {value}", list.len()))
            }
            _ => r.push(key, value),
        }
    }
    if !model.doc_string().is_empty() {
        r.push("doc", model.doc_string());
    }
    let graph = model.graph.clone().unwrap_or_default();
    let mut ops: Vec<&str> = Vec::new();
    for n in &graph.node {
        if !ops.contains(&n.op_type()) {
            ops.push(n.op_type());
        }
    }
    r.push(
        "nodes",
        format!("{} ({})", graph.node.len(), ops.join(", ")),
    );
    let external: Vec<&str> = graph
        .initializer
        .iter()
        .filter(|t| t.data_location == Some(1))
        .filter_map(|t| t.external_data.iter().find(|e| e.key() == "location"))
        .map(|e| e.value())
        .collect();
    let mut constants = graph.initializer.len().to_string();
    if let Some(first) = external.first() {
        constants += &format!(" ({} in external data {first})", external.len());
    }
    r.push("constants", constants);
    let ours = model.metadata_props.iter().any(|p| p.key() == "estimator");
    let libsvm = model.metadata_props.iter().any(|p| p.key() == "convention");
    for vi in &graph.input {
        let (shape, elem) = value_type(vi);
        r.port(Direction::Input, vi.name(), &shape, elem.as_deref());
    }
    for vi in &graph.output {
        let (shape, elem) = value_type(vi);
        r.port(Direction::Output, vi.name(), &shape, elem.as_deref());
        if ours {
            r.ports.last_mut().unwrap().meaning = meaning(vi.name(), libsvm).map(str::to_string);
        }
    }
    r
}

/// What an output of an svm2onnx graph computes.
fn meaning(output: &str, libsvm: bool) -> Option<&'static str> {
    Some(match (output, libsvm) {
        ("label" | "prediction", _) => "= predict",
        ("scores", false) => "= decision_function",
        ("scores", true) => "= svm_predict_values, LIBSVM sign",
        ("probabilities", false) => "= predict_proba",
        ("probabilities", true) => "= svm_predict_probability",
        ("probability_label", _) => "= the label svm-predict -b 1 prints",
        _ => return None,
    })
}

/// A value's shape (`[N, 4]`) and element type name.
fn value_type(vi: &ValueInfoProto) -> (String, Option<String>) {
    let Some(type_proto::Value::TensorType(t)) = vi.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return ("?".into(), None);
    };
    let shape = match &t.shape {
        None => "?".to_string(),
        Some(s) => {
            let dims: Vec<String> = s
                .dim
                .iter()
                .map(|d| match &d.value {
                    Some(Dim::DimValue(v)) => v.to_string(),
                    Some(Dim::DimParam(p)) => p.clone(),
                    None => "?".into(),
                })
                .collect();
            format!("[{}]", dims.join(", "))
        }
    };
    let elem = t.elem_type.map(|code| match DataType::try_from(code) {
        Ok(DataType::Float) => "float".to_string(),
        Ok(DataType::Double) => "double".to_string(),
        Ok(DataType::Int64) => "int64".to_string(),
        Ok(DataType::String) => "string".to_string(),
        Ok(DataType::Bool) => "bool".to_string(),
        Ok(other) => other.as_str_name().to_lowercase(),
        Err(_) => format!("type {code}"),
    });
    (shape, elem)
}
