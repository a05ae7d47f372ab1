//! Model files → [`crate::model::Model`]. One folder per source format; the format is
//! recognised by content, not by file extension.

mod file;
mod json;
mod libsvm;
pub mod pickle;

use crate::model::{Model, ModelError, Samples};
pub use file::{ModelFile, MAP_AT_BYTES};
use std::ops::Range;
use std::path::Path;

/// A model read from a file, with the samples it recorded and any warnings
/// (such as unknown fields).
#[derive(Debug, Clone)]
pub struct LoadedModel {
    /// The model, checked.
    pub model: Model,
    /// Sample inputs and outputs recorded in the file (JSON only).
    pub samples: Option<Samples>,
    /// Problems that did not stop loading (such as unknown fields).
    pub warnings: Vec<String>,
    /// The input's column names when the model was fitted on a pandas
    /// DataFrame (pickles: `feature_names_in_`), one per feature.
    pub feature_names: Option<Vec<String>>,
}

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    // The cause is the error's `source()`, not part of its text: the CLI
    // prints the chain, which printed the OS message twice.
    /// The file could not be read.
    #[error("cannot read {path}")]
    Io {
        /// The file's path as given.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The JSON text does not parse.
    #[error("invalid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// A field of the model (JSON, or a pickled estimator's attribute) is
    /// missing or wrong.
    #[error("field `{field}`: {problem}")]
    Field {
        /// The field's path, e.g. `Pipeline.steps[1].SVC.dual_coef_`.
        field: String,
        /// What is wrong with it, and what to do when there is advice.
        problem: String,
    },
    /// The bytes are no model format svm2onnx reads.
    #[error("unrecognised model format: {0}")]
    Format(String),
    /// The file is an ONNX graph: it is rewritten op by op, not loaded
    /// as a model.
    #[error("{0}")]
    OnnxGraph(String),
    /// The pickle stream was refused by the VM.
    #[error("{stream} byte offset {offset}: {message}")]
    Pickle {
        /// `pickle`, or which decompressed stream.
        stream: String,
        /// Byte offset of the refused opcode in that stream.
        offset: usize,
        /// Why it was refused.
        message: String,
    },
    /// A LIBSVM model file line is wrong.
    #[error("LIBSVM model line {line}, `{field}`: {problem}")]
    Libsvm {
        /// 1-based line number.
        line: usize,
        /// The header keyword or section.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// A load option does not apply to the file (e.g. `n_features` for a
    /// format that stores its feature count).
    #[error("{0}")]
    Options(String),
}

/// How to read a model file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// LIBSVM only: the number of input features, when the data has more
    /// than the largest feature index any support vector uses (LIBSVM's
    /// sparse format omits zeros, yet those features still count in RBF
    /// distances). Refused for other formats, whose feature count is stored.
    pub n_features: Option<usize>,
}

impl From<ModelError> for LoadError {
    fn from(e: ModelError) -> Self {
        LoadError::Field {
            field: e.field,
            problem: e.problem,
        }
    }
}

/// Reads a model file, recognising its format by content.
pub fn load_path(path: &Path) -> Result<LoadedModel, LoadError> {
    load_path_with(path, &LoadOptions::default())
}

/// [`load_path`] with options.
pub fn load_path_with(path: &Path, options: &LoadOptions) -> Result<LoadedModel, LoadError> {
    ModelFile::open(path)?.load(options)
}

/// Reads a model from bytes, recognising its format by content.
pub fn load_bytes(bytes: &[u8]) -> Result<LoadedModel, LoadError> {
    load_bytes_with(bytes, &LoadOptions::default())
}

/// [`load_bytes`] with options.
pub fn load_bytes_with(bytes: &[u8], options: &LoadOptions) -> Result<LoadedModel, LoadError> {
    load_bytes_releasing(bytes, options, None)
}

/// Reads a model from a protocol-5 pickle stream written with a
/// `buffer_callback` and its out-of-band buffers, in the order the callback
/// received them (`pickle.dumps(model, protocol=5, buffer_callback=...)`):
/// the large arrays are read where they lie instead of being copied into
/// the stream first. Nothing in it is executed, as with [`load_bytes`].
/// `options.n_features` applies to LIBSVM files only and is refused here.
pub fn load_pickle_with_buffers(
    stream: &[u8],
    buffers: &[&[u8]],
    options: &LoadOptions,
) -> Result<LoadedModel, LoadError> {
    stored_feature_count(options)?;
    pickle::load_with_buffers(stream, buffers)
}

/// Only LIBSVM model files lack a feature count; every other format stores it.
fn stored_feature_count(options: &LoadOptions) -> Result<(), LoadError> {
    match options.n_features {
        Some(n) => Err(LoadError::Options(format!(
            "n_features {n} applies only to LIBSVM model files; this model stores its feature count"
        ))),
        None => Ok(()),
    }
}

/// [`load_bytes_with`]; `release` is told which byte ranges of `bytes` the
/// loader is done with (decoded array blocks), see [`ModelFile`].
fn load_bytes_releasing(
    bytes: &[u8],
    options: &LoadOptions,
    release: Option<&dyn Fn(Range<usize>)>,
) -> Result<LoadedModel, LoadError> {
    if libsvm::recognise(bytes) {
        return libsvm::load(bytes, options.n_features);
    }
    stored_feature_count(options)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if pickle::recognise(bytes) {
        return pickle::load(bytes, release);
    }
    if let Some(model) = crate::format::decode(bytes) {
        // An ONNX graph is rewritten, not loaded into the IR (docs/ONNX_ML.md).
        return Err(LoadError::OnnxGraph(
            if crate::format::has_ml_nodes(&model) {
                "an ONNX graph with ai.onnx.ml ops is rewritten op by op, not loaded as a model: use `svm2onnx convert` (library: svm2onnx::onnxml::convert)".into()
            } else {
                "no ai.onnx.ml SVM node; nothing to convert (the graph has no ai.onnx.ml op: it already uses standard ops only)".into()
            },
        ));
    }
    match first {
        Some(b'{') => json::load(bytes),
        None => Err(LoadError::Format("the file is empty".into())),
        Some(&b) => {
            Err(LoadError::Format(format!(
            "first byte 0x{b:02x} at offset {} is not the start of an svm2onnx JSON model ('{{'), a pickle (0x80), a joblib file, a LIBSVM model (`svm_type`) or an ONNX model (0x08)",
            bytes.iter().position(|x| !x.is_ascii_whitespace()).unwrap_or(0)
        )))
        }
    }
}
