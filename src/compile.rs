//! Model + options → ONNX bytes: lowering, metadata, encoding.

use crate::emit;
use crate::graph::{FloatType, Graph};
use crate::ir::{describe_outputs, LabelType, OutputOptions, OutputType};
use crate::keras;
use crate::lower::LowerOptions;
use crate::model::Model;

/// Options for [`compile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileOptions {
    /// Precision of input, constants and float outputs (default f32).
    pub float: FloatType,
    /// Default-domain opset, 13 to 18 (default 17).
    pub opset: i64,
    /// Emit `label` as int64 class indices; class names go to metadata.
    pub label_index: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            float: FloatType::F32,
            opset: 17,
            label_index: false,
        }
    }
}

/// Why a model could not be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// `--outputs` named an output the model's graph does not have.
    #[error("the model has no output `{missing}` (its outputs: {available})")]
    Output {
        /// The name asked for.
        missing: String,
        /// The model's outputs, comma-separated.
        available: String,
    },
    /// The opset is outside [`emit::OPSETS`].
    #[error("opset {0} is not supported (choose {lo} to {hi})", lo = emit::OPSETS.start(), hi = emit::OPSETS.end())]
    Opset(i64),
    /// The graph has no Keras equivalent.
    #[error(transparent)]
    Keras(#[from] KerasError),
}

pub use crate::emit::{ExternalSink, Written, OPSETS};
pub use crate::facts::meta;
pub use crate::keras::KerasError;

/// The metadata_props of a compiled model.
pub fn metadata(model: &Model, options: &CompileOptions) -> Vec<(String, String)> {
    model.metadata(options.float.name(), options.label_index)
}

/// A lowered model with its metadata, ready to be written.
#[derive(Debug, Clone)]
pub struct Compiled {
    /// The lowered graph.
    pub graph: Graph,
    /// Its default-domain opset.
    pub opset: i64,
    /// Its metadata_props, in order.
    pub metadata: Vec<(String, String)>,
    /// Its doc string (the model and its outputs).
    pub doc: String,
}

/// Above this many bytes of initializers a model is written with external
/// data even when not asked to: protobuf cannot encode messages of 2 GiB or
/// more, and the rest of the model needs some headroom.
pub const AUTO_EXTERNAL_BYTES: u64 = 1_800_000_000;

impl Compiled {
    /// Bytes of numeric constants in the graph.
    pub fn initializer_bytes(&self) -> u64 {
        emit::initializer_bytes(&self.graph)
    }

    /// Whether the model must be written with external data.
    pub fn needs_external_data(&self) -> bool {
        self.initializer_bytes() > AUTO_EXTERNAL_BYTES
    }

    /// Streams the model to `out`; with `external`, large initializers go to
    /// its data sink (ONNX external data).
    pub fn write(
        &self,
        out: &mut dyn std::io::Write,
        external: Option<emit::ExternalSink<'_>>,
    ) -> std::io::Result<emit::Written> {
        emit::write_model(
            &self.graph,
            self.opset,
            &self.metadata,
            &self.doc,
            out,
            external,
        )
    }

    /// Keeps only the named outputs (`--outputs`) and drops the nodes only
    /// the others needed.
    pub fn keep_outputs(&mut self, names: &[&str]) -> Result<(), CompileError> {
        let available: Vec<String> = self
            .graph
            .outputs
            .iter()
            .map(|p| self.graph.name(p.value).to_string())
            .collect();
        match self.graph.keep_outputs(names).first() {
            Some(missing) => Err(CompileError::Output {
                missing: missing.clone(),
                available: available.join(", "),
            }),
            None => Ok(()),
        }
    }

    /// Records the input's column names (a DataFrame-fitted model's
    /// `feature_names_in_`, see [`crate::LoadedModel::feature_names`]) in
    /// the metadata, as a JSON array under `feature_names`. The graph's
    /// input stays the one matrix `X`, its columns in this order.
    pub fn record_feature_names(&mut self, names: &[String]) {
        let json = serde_json::to_string(names).expect("strings serialise");
        self.metadata.push((meta::FEATURE_NAMES.to_string(), json));
    }

    /// The model as bytes, every initializer inline.
    pub fn to_bytes(&self) -> Vec<u8> {
        emit::encode(&self.graph, self.opset, &self.metadata, &self.doc)
    }

    /// The same graph as the bytes of a Keras 3 `.keras` file
    /// (docs/KERAS.md); its metadata goes to the file's metadata.json.
    pub fn to_keras(&self) -> Result<Vec<u8>, KerasError> {
        keras::keras_bytes(&self.graph, &self.metadata)
    }
}

/// The options a Keras model is compiled with: a Keras model cannot hold
/// strings, so string class labels leave it as class indices (the names
/// are in its metadata under `classes`). The flag says whether that
/// changed anything.
pub fn keras_options(model: &Model, options: &CompileOptions) -> (CompileOptions, bool) {
    let has_strings = model
        .outputs(&OutputOptions {
            label_index: options.label_index,
        })
        .iter()
        .any(|o| o.ty == OutputType::Label(LabelType::Str));
    let options = CompileOptions {
        label_index: options.label_index || has_strings,
        ..*options
    };
    (options, has_strings)
}

/// Compiles a model into the bytes of a Keras 3 `.keras` file, string
/// labels as class indices ([`keras_options`]).
pub fn compile_keras(model: &Model, options: &CompileOptions) -> Result<Vec<u8>, CompileError> {
    let (options, _) = keras_options(model, options);
    Ok(lower_model(model, &options)?.to_keras()?)
}

/// Compiles a model into ONNX bytes.
pub fn compile(model: &Model, options: &CompileOptions) -> Result<Vec<u8>, CompileError> {
    Ok(lower_model(model, options)?.to_bytes())
}

/// Lowers a model into a graph with its metadata, to be written in memory
/// ([`Compiled::to_bytes`]) or streamed ([`Compiled::write`]).
pub fn lower_model(model: &Model, options: &CompileOptions) -> Result<Compiled, CompileError> {
    if !emit::OPSETS.contains(&options.opset) {
        return Err(CompileError::Opset(options.opset));
    }
    let graph = model.lower(&LowerOptions {
        float: options.float,
        label_index: options.label_index,
        opset: options.opset,
    });
    let specs = model.outputs(&OutputOptions {
        label_index: options.label_index,
    });
    let doc = format!(
        "{} compiled by svm2onnx {}: {}",
        model.describe(),
        env!("CARGO_PKG_VERSION"),
        describe_outputs(&specs)
    );
    Ok(Compiled {
        graph,
        opset: options.opset,
        metadata: metadata(model, options),
        doc,
    })
}
