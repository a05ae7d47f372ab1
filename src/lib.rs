//! # svm2onnx
//!
//! Compiles trained support vector machines into exact ONNX graphs made of
//! standard operators only (MatMul, Add, Exp, Tanh, ArgMax, Gather, …), so
//! they run in onnxruntime, tract, TensorFlow/Keras and TFLite (through
//! onnx2tf), and on mobile and embedded runtimes that lack the `ai.onnx.ml`
//! domain.
//!
//! The pipeline: a model file is [loaded](load) into a [`Model`], one of
//! the estimator families in [`model`], each of which checks its invariants
//! when built, states its graph's outputs once ([`Model::outputs`]), lowers
//! itself to a small [`graph::Graph`] of standard ops and evaluates itself in
//! f64 ([`Model::evaluate`], the executable spec built from the blocks in
//! [`mod@reference`]). [`compile()`] encodes the graph as ONNX bytes. With the
//! `tract` feature (on by default), [`validate`] executes the graph and
//! compares it with the reference and with the outputs scikit-learn recorded.
//! docs/ARCHITECTURE.md describes the layers.
//!
//! ```
//! use svm2onnx::{compile, load_path, CompileOptions, FloatType};
//!
//! let loaded = load_path("examples/iris_rbf.json".as_ref())?;
//! let options = CompileOptions { float: FloatType::F64, ..CompileOptions::default() };
//! let onnx: Vec<u8> = compile(&loaded.model, &options)?;
//! assert!(!onnx.is_empty());
//!
//! # #[cfg(feature = "tract")]
//! # {
//! // Execute the graph with tract on the recorded samples and probes.
//! let report = svm2onnx::validate_onnx(&onnx, &loaded, None, None)?;
//! assert!(report.passed, "{}", report.render());
//! # }
//! # Ok::<(), svm2onnx::Error>(())
//! ```
//!
//! Build scripts that only need the compiler can depend on the crate with
//! `default-features = false`, which leaves tract and the CLI out.

#![warn(missing_docs)]

pub mod onnx {
    //! Rust types for the project's subset of the ONNX schema (`proto/onnx.proto`).
    #![allow(clippy::all, missing_docs)]
    include!(concat!(env!("OUT_DIR"), "/onnx.rs"));
}
pub mod compile;
pub mod data;
pub(crate) mod emit;
pub mod facts;
pub mod format;
pub mod graph;
pub mod inspect;
pub mod ir;
pub(crate) mod keras;
pub mod load;
pub(crate) mod lower;
pub mod model;
pub mod onnxml;
#[cfg(feature = "tract")]
pub(crate) mod probes;
pub mod publish;
pub mod reference;
#[cfg(feature = "tract")]
pub mod run;
#[cfg(feature = "tract")]
pub mod smoke;
#[cfg(feature = "tract")]
pub mod validate;

pub use compile::{
    compile, compile_keras, keras_options, lower_model, CompileError, CompileOptions, Compiled,
    KerasError,
};
pub use graph::FloatType;
pub use load::{
    load_bytes, load_bytes_with, load_path, load_path_with, load_pickle_with_buffers, LoadError,
    LoadOptions, LoadedModel, ModelFile,
};
pub use model::{Model, ModelError, SvmModel};

/// Any error of the convenience API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model file could not be read.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The model could not be compiled with these options.
    #[error(transparent)]
    Compile(#[from] CompileError),
    /// Input rows could not be read.
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// An skl2onnx graph could not be rewritten.
    #[error(transparent)]
    OnnxMl(#[from] onnxml::OnnxMlError),
    /// The graph could not be run or compared.
    #[cfg(feature = "tract")]
    #[error(transparent)]
    Validate(#[from] validate::ValidateError),
}

/// Loads a model file and compiles it: the whole `convert` without
/// validation, for build scripts.
pub fn convert_file(path: &std::path::Path, options: &CompileOptions) -> Result<Vec<u8>, Error> {
    let loaded = load_path(path)?;
    let mut compiled = lower_model(&loaded.model, options)?;
    if let Some(names) = &loaded.feature_names {
        compiled.record_feature_names(names);
    }
    Ok(compiled.to_bytes())
}

/// Loads a model file and compiles it into a Keras 3 `.keras` file's
/// bytes (string labels as class indices), without validation: for build
/// scripts.
pub fn convert_file_to_keras(
    path: &std::path::Path,
    options: &CompileOptions,
) -> Result<Vec<u8>, Error> {
    let loaded = load_path(path)?;
    let (options, _) = keras_options(&loaded.model, options);
    let mut compiled = lower_model(&loaded.model, &options)?;
    if let Some(names) = &loaded.feature_names {
        compiled.record_feature_names(names);
    }
    Ok(compiled.to_keras().map_err(CompileError::from)?)
}

/// Runs ONNX bytes with tract and compares them with the model: on `data`
/// when given, otherwise on the recorded samples and generated probes.
/// `tolerance` defaults to 1e-9 for f64 graphs and 1e-4 for f32 graphs.
#[cfg(feature = "tract")]
pub fn validate_onnx(
    onnx: &[u8],
    loaded: &LoadedModel,
    data: Option<ndarray::Array2<f64>>,
    tolerance: Option<f64>,
) -> Result<validate::Report, Error> {
    let runner = run::Runner::new(onnx).map_err(validate::ValidateError::from)?;
    validate_with(&runner, loaded, data.into(), tolerance, None)
}

/// [`validate_onnx`] for a model file, which may use ONNX external data.
#[cfg(feature = "tract")]
pub fn validate_onnx_path(
    path: &std::path::Path,
    loaded: &LoadedModel,
    data: Option<ndarray::Array2<f64>>,
    tolerance: Option<f64>,
) -> Result<validate::Report, Error> {
    let runner = run::Runner::from_path(path).map_err(validate::ValidateError::from)?;
    validate_with(&runner, loaded, data.into(), tolerance, None)
}

/// [`validate_onnx_path`], telling `progress(rows_done, rows_in_all)` after
/// each block of rows (the CLI draws its progress bar from it).
#[cfg(feature = "tract")]
pub fn validate_onnx_path_reporting(
    path: &std::path::Path,
    loaded: &LoadedModel,
    rows: impl Into<validate::Rows>,
    tolerance: Option<f64>,
    progress: validate::Progress<'_>,
) -> Result<validate::Report, Error> {
    let runner = run::Runner::from_path(path).map_err(validate::ValidateError::from)?;
    validate_with(&runner, loaded, rows.into(), tolerance, Some(progress))
}

/// [`validate_onnx_path_reporting`] on `batches` whose reference is being
/// evaluated elsewhere ([`validate::Expected::compute`] in a thread started
/// before the graph was written): `pending` is waited for once tract has
/// loaded and run the graph.
#[cfg(feature = "tract")]
pub fn validate_onnx_path_expecting(
    path: &std::path::Path,
    loaded: &LoadedModel,
    (batches, pending): (&[validate::Batch], validate::Pending<'_>),
    tolerance: Option<f64>,
    progress: validate::Progress<'_>,
) -> Result<validate::Report, Error> {
    let runner = run::Runner::from_path(path).map_err(validate::ValidateError::from)?;
    validate_pending(
        &runner,
        loaded,
        (batches, pending),
        tolerance,
        Some(progress),
    )
}

/// [`validate_onnx`] on `batches` whose reference is being evaluated
/// elsewhere (see [`validate_onnx_path_expecting`]).
#[cfg(feature = "tract")]
pub fn validate_onnx_expecting(
    onnx: &[u8],
    loaded: &LoadedModel,
    (batches, pending): (&[validate::Batch], validate::Pending<'_>),
    tolerance: Option<f64>,
) -> Result<validate::Report, Error> {
    let runner = run::Runner::new(onnx).map_err(validate::ValidateError::from)?;
    validate_pending(&runner, loaded, (batches, pending), tolerance, None)
}

#[cfg(feature = "tract")]
fn validate_pending(
    runner: &run::Runner,
    loaded: &LoadedModel,
    (batches, pending): (&[validate::Batch], validate::Pending<'_>),
    tolerance: Option<f64>,
    progress: Option<validate::Progress<'_>>,
) -> Result<validate::Report, Error> {
    let tolerance = validate::Tolerance::given_or_default(tolerance, runner.info().input_elem);
    Ok(validate::validate_expecting(
        runner,
        &loaded.model,
        batches,
        Some(pending),
        tolerance,
        progress,
    )?)
}

#[cfg(feature = "tract")]
fn validate_with(
    runner: &run::Runner,
    loaded: &LoadedModel,
    rows: validate::Rows,
    tolerance: Option<f64>,
    progress: Option<validate::Progress<'_>>,
) -> Result<validate::Report, Error> {
    let tolerance = validate::Tolerance::given_or_default(tolerance, runner.info().input_elem);
    let batches = rows.batches(&loaded.model, loaded.samples.as_ref());
    Ok(validate::validate_expecting(
        runner,
        &loaded.model,
        &batches,
        None,
        tolerance,
        progress,
    )?)
}
