//! The command line as clap parses it: a literal record of the flags, with
//! their help text. Checking them is left to each command.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use svm2onnx::graph::FloatType;
use svm2onnx::LoadOptions;

#[derive(Parser)]
#[command(
    name = "svm2onnx",
    version,
    about = "Compile trained SVMs into exact ONNX graphs of standard ops",
    long_about = "Compile trained support vector machines (scikit-learn SVC, NuSVC, SVR, NuSVR, OneClassSVM, \
LinearSVC, LinearSVR, SGDClassifier, SGDRegressor, SGDOneClassSVM, pipelines and searches around them; pickle, joblib or svm2onnx JSON files; \
LIBSVM model files of every svm_type) \
into exact ONNX graphs made of standard ops only, checked by executing them with tract.\n\n\
Exit codes: 0 success, 1 validation mismatch, 2 bad input."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Compile a model into ONNX (or Keras 3), validate it with tract, then write it.
    ///
    /// The graph has input `X` [N, n_features]. SVC, NuSVC, LinearSVC and OneClassSVM
    /// output `label` [N] (= predict) and `scores` (= decision_function: [N] for binary
    /// models, [N, k] for ovr, [N, k(k-1)/2] for ovo), plus `probabilities` [N, k]
    /// (= predict_proba) when fitted with probabilities; CalibratedClassifierCV outputs
    /// `label` and `probabilities`; regressors output `prediction` [N]. `svm2onnx inspect
    /// MODEL` lists a model's outputs (docs/GRAPH.md has them all).
    /// Unless --no-validate is given, the graph is run on the
    /// samples recorded in the model file and on generated probes, and nothing is
    /// written if it disagrees with the reference or with scikit-learn.
    Convert(ConvertArgs),
    /// Run an ONNX file with tract and compare it with its source model.
    ///
    /// Compares every output with the f64 reference evaluator and, where the model
    /// file recorded them, with scikit-learn's outputs. Inputs: --data if given,
    /// otherwise the recorded samples plus generated probes (support vectors,
    /// midpoints between support vectors of different classes, random rows in
    /// their bounding box).
    Validate(ValidateArgs),
    /// Describe a model: estimator, kernel, classes, support vectors, graph outputs.
    ///
    /// An ONNX file svm2onnx wrote is described from its metadata (estimator,
    /// kernel, classes, dtype, preprocessing, ...) and its inputs and outputs.
    Inspect(InspectArgs),
}

#[derive(Args)]
pub struct ConvertArgs {
    /// The model file: pickle, joblib (any compression), svm2onnx JSON, LIBSVM,
    /// or an ONNX graph with ai.onnx.ml SVM ops (skl2onnx) to rewrite into standard ops.
    pub model: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Where to write the model: an ONNX file, or a Keras 3 model when the
    /// name ends in `.keras` (see --format).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Output format: onnx, or keras (a `.keras` file that
    /// `keras.saving.load_model` loads on every backend; string labels leave
    /// it as class indices). Default: keras when OUTPUT ends in `.keras`.
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Graph precision: f32 (TensorFlow, TFLite) or f64 (bit-level agreement).
    /// Default f32; for an ONNX graph with ai.onnx.ml ops, the precision of the
    /// rewritten ops, default f64 (onnxruntime's values to ~1e-6).
    #[arg(long)]
    pub dtype: Option<FloatType>,
    /// ONNX default-domain opset, 13 to 18.
    #[arg(long, default_value_t = 17)]
    pub opset: i64,
    /// Emit `label` as int64 class indices (class names go to metadata "classes").
    #[arg(long)]
    pub label_index: bool,
    /// Emit only these outputs (comma-separated: label, scores, probabilities,
    /// prediction); nodes only the others need are left out of the graph.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    pub outputs: Option<Vec<String>>,
    /// Write large initializers to `<output>.data` next to the model (ONNX
    /// external data). Automatic above 1.8 GB, protobuf's limit being 2 GB.
    #[arg(long)]
    pub external_data: bool,
    /// Write the graph without executing it first.
    #[arg(long)]
    pub no_validate: bool,
    /// Relative tolerance for validation (default 1e-9 for f64, 1e-4 for f32).
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// Validate on these input rows (a 2-D .npy file or a CSV file with an
    /// optional header line) instead of the recorded samples and generated probes.
    #[arg(long, conflicts_with = "no_validate")]
    pub data: Option<PathBuf>,
    /// Generated probe rows to validate on when no --data is given (default:
    /// 768 for small models, down to 256 for big ones).
    #[arg(long, conflicts_with_all = ["no_validate", "data"], value_parser = clap::value_parser!(u32).range(4..=1_000_000))]
    pub probes: Option<u32>,
    /// Print the validation report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// What `convert` writes.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// An ONNX model.
    Onnx,
    /// A Keras 3 `.keras` model.
    Keras,
}

#[derive(Args)]
pub struct ValidateArgs {
    /// The ONNX file to check.
    pub onnx: PathBuf,
    /// The model file it was compiled from.
    #[arg(long)]
    pub reference: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Input rows: a 2-D .npy file or a CSV file (an optional header line).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Generated probe rows when no --data is given (default: 768 for small
    /// models, down to 256 for big ones).
    #[arg(long, conflicts_with = "data", value_parser = clap::value_parser!(u32).range(4..=1_000_000))]
    pub probes: Option<u32>,
    /// Relative tolerance (default 1e-9 for f64 graphs, 1e-4 for f32 graphs).
    #[arg(long)]
    pub tolerance: Option<f64>,
    /// Print the report as JSON (for build tooling).
    #[arg(long)]
    pub json: bool,
}

#[derive(Args)]
pub struct InspectArgs {
    /// The model file, or an ONNX graph of standard ops.
    pub model: PathBuf,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Args)]
pub struct LoadArgs {
    /// LIBSVM models only: the number of input features, when the data has
    /// features beyond the largest index any support vector uses (they still
    /// count in RBF distances). At least that largest index.
    #[arg(long, value_name = "N")]
    pub n_features: Option<usize>,
}

impl LoadArgs {
    /// The loader options these flags give.
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            n_features: self.n_features,
        }
    }
}
