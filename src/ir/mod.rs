//! The vocabulary of the intermediate representation: kernels, class
//! labels, pipeline steps, calibrators, recorded samples, the graph's output
//! contract and the error every invariant check returns. The estimator
//! families in [`crate::model`] are built from these parts.

mod calibrator;
mod classes;
mod imputer;
mod kernel;
mod magnitude;
mod nystroem;
mod outputs;
mod polynomial;
mod preprocess;
mod projection;
mod random_features;
mod samples;
mod selection;

pub use calibrator::{Calibration, Calibrator};
pub use classes::{Classes, Label};
pub use imputer::{Imputer, Missing};
pub use kernel::Kernel;
pub(crate) use magnitude::{row_norms, steps_magnitude};
pub use nystroem::Nystroem;
pub(crate) use outputs::describe_outputs;
pub use outputs::label_type;
pub use outputs::{LabelType, OutputKind, OutputOptions, OutputShape, OutputSpec, OutputType};
pub use polynomial::{Polynomial, MAX_DEGREE};
pub(crate) use preprocess::check_steps;
pub use preprocess::{pipeline_input_width, Branch, Norm, Preprocess, Union, TINY};
pub use projection::{Projection, ProjectionKind};
pub use random_features::RandomFeatures;
pub use samples::Samples;
pub use selection::Selection;

use ndarray::Array1;

/// Which scikit-learn estimator produced the model. NuSVC differs from SVC only
/// in training; inference is identical (SVM_SEMANTICS.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// C-SVC.
    Svc,
    /// nu-SVC.
    NuSvc,
}

impl Estimator {
    /// scikit-learn's class name.
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Svc => "SVC",
            Estimator::NuSvc => "NuSVC",
        }
    }

    /// Parses scikit-learn's class name.
    pub fn from_name(name: &str) -> Option<Estimator> {
        match name {
            "SVC" => Some(Estimator::Svc),
            "NuSVC" => Some(Estimator::NuSvc),
            _ => None,
        }
    }
}

/// Whose inference conventions a dual model's outputs follow.
///
/// scikit-learn and official LIBSVM run the same kernel sums but expose them
/// differently (SVM_SEMANTICS.md §7): LIBSVM keeps its own sign for binary
/// decision values (no §1.4 flip), its scores are always the k(k−1)/2
/// pairwise values, and since LIBSVM 3.22 binary probabilities are the
/// clipped Platt value without the coupling iteration sklearn still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Convention {
    /// scikit-learn's `SVC`/`NuSVC`/`SVR`/`OneClassSVM` methods.
    #[default]
    Sklearn,
    /// Official LIBSVM (≥ 3.22; ≥ 3.30 for one-class probabilities):
    /// `svm_predict_values`, `svm_predict` and `svm_predict_probability`.
    Libsvm,
}

/// `decision_function_shape` of a multiclass SVC (SVM_SEMANTICS.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionShape {
    /// One column per class (scikit-learn's default).
    Ovr,
    /// One column per class pair.
    Ovo,
}

impl DecisionShape {
    /// `ovr` or `ovo`.
    pub fn name(self) -> &'static str {
        match self {
            DecisionShape::Ovr => "ovr",
            DecisionShape::Ovo => "ovo",
        }
    }
}

/// libsvm's Platt parameters, one per class pair (SVM_SEMANTICS.md §1.7).
#[derive(Debug, Clone, PartialEq)]
pub struct PlattParameters {
    /// `probA_`, one per pair.
    pub prob_a: Array1<f64>,
    /// `probB_`, one per pair.
    pub prob_b: Array1<f64>,
}

/// A violated model invariant, naming the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ModelError {
    /// The field at fault, with its index (`support_vectors[3][1]`).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl ModelError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ModelError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

pub(crate) fn check_finite<'a>(
    field: &str,
    values: impl IntoIterator<Item = &'a f64>,
    columns: usize,
) -> Result<(), ModelError> {
    for (flat, v) in values.into_iter().enumerate() {
        if !v.is_finite() {
            let at = if columns > 1 {
                format!("[{}][{}]", flat / columns, flat % columns)
            } else {
                format!("[{flat}]")
            };
            return Err(ModelError::new(
                format!("{field}{at}"),
                format!("{v} is not a finite number"),
            ));
        }
    }
    Ok(())
}

/// What a model's graph computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `label` and `scores` (and `probabilities` when fitted with them).
    Classify,
    /// `label` (+1 / −1) and `scores`.
    Novelty,
    /// `prediction`.
    Regress,
}

/// Class pairs `(i, j)`, `i < j`, in libsvm's lexicographic order (§1.3):
/// the columns of one-vs-one decision values.
pub fn class_pairs(k: usize) -> Vec<(usize, usize)> {
    let mut pairs = Vec::with_capacity(k * k.saturating_sub(1) / 2);
    for i in 0..k {
        for j in i + 1..k {
            pairs.push((i, j));
        }
    }
    pairs
}
