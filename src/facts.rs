//! Shared vocabulary with no dependencies: the names of the graph's
//! interface, the metadata keys every model carries, and the constants of
//! libsvm's semantics that both the lowering and the reference evaluator
//! follow. Every other module may import this one; it imports nothing.

/// Name of the graph input.
pub const INPUT: &str = "X";
/// Name of the predicted-label output (scikit-learn's `predict`).
pub const LABEL: &str = "label";
/// Name of the decision-value output (scikit-learn's `decision_function`).
pub const SCORES: &str = "scores";
/// Name of the probability output (scikit-learn's `predict_proba`).
pub const PROBABILITIES: &str = "probabilities";
/// Name of the label `svm-predict -b 1` prints for a LIBSVM model with
/// probabilities: argmax of `probabilities`, first maximum (§7).
pub const PROBABILITY_LABEL: &str = "probability_label";
/// Name of the regression output (scikit-learn's `predict` of a regressor).
pub const PREDICTION: &str = "prediction";

/// libsvm's minimum pairwise probability (`min_prob`, SVM_SEMANTICS.md §1.7
/// step 3): a fact of the semantics, read by the lowering and the reference.
pub const MIN_PROB: f64 = 1e-7;

/// Outer iterations of libsvm's pairwise coupling unrolled into the graph
/// (§1.7); `tests/coupling_evidence.rs` shows how many are ever needed.
pub const COUPLING_ITERATIONS: usize = 8;

/// Number of one-class probability marks LIBSVM ≥ 3.30 writes (§7).
pub const DENSITY_MARKS: usize = 10;

/// Metadata keys written into every model (docs/GRAPH.md lists when each
/// is present).
pub mod meta {
    /// scikit-learn's class name, or `LIBSVM <svm_type>`.
    pub const ESTIMATOR: &str = "estimator";
    /// The kernel's name, for kernel models.
    pub const KERNEL: &str = "kernel";
    /// The class labels as a JSON array, for models with a `label` output.
    pub const CLASSES: &str = "classes";
    /// `float32` or `float64`: the graph's precision.
    pub const DTYPE: &str = "dtype";
    /// `class` (labels) or `index` (`--label-index`).
    pub const LABEL_OUTPUT: &str = "label_output";
    /// `ovr` or `ovo`, for SVC and NuSVC.
    pub const DECISION_FUNCTION_SHAPE: &str = "decision_function_shape";
    /// `true` or `false`, for SVC and NuSVC.
    pub const BREAK_TIES: &str = "break_ties";
    /// The scikit-learn version that pickled the model, when known.
    pub const SKLEARN_VERSION: &str = "sklearn_version";
    /// The pipeline steps in front of the estimator.
    pub const PREPROCESSING: &str = "preprocessing";
    /// OneClassSVM's `offset_` (score_samples = scores + offset).
    pub const OFFSET: &str = "offset";
    /// SGDClassifier's and SGDRegressor's `loss`.
    pub const LOSS: &str = "loss";
    /// `libsvm` for models read from LIBSVM files (their outputs follow
    /// LIBSVM's conventions, docs/LIBSVM.md); absent for scikit-learn.
    pub const CONVENTION: &str = "convention";
    /// LIBSVM SVR `-b 1`: the Laplace σ of the residuals (no output uses it).
    pub const SVR_LAPLACE_SIGMA: &str = "svr_laplace_sigma";
    /// The input's column names, as a JSON array of strings, for models
    /// fitted on a pandas DataFrame (scikit-learn's `feature_names_in_`).
    pub const FEATURE_NAMES: &str = "feature_names";
    /// Every key above.
    pub const ALL: [&str; 14] = [
        ESTIMATOR,
        KERNEL,
        CLASSES,
        DTYPE,
        LABEL_OUTPUT,
        DECISION_FUNCTION_SHAPE,
        BREAK_TIES,
        SKLEARN_VERSION,
        PREPROCESSING,
        OFFSET,
        LOSS,
        CONVENTION,
        SVR_LAPLACE_SIGMA,
        FEATURE_NAMES,
    ];
}
