//! The executable specification: scikit-learn's (and LIBSVM's) inference
//! in f64, following SVM_SEMANTICS.md operation by operation (libsvm's
//! summation order included), independent of the ONNX lowering. This module
//! holds the building blocks, mirroring `crate::lower`: kernel values,
//! votes, probabilities. Each family's evaluation is in its own module
//! (`crate::model`), reached through `Model::evaluate`.
//!
//! Tests hold both this evaluator and the emitted graphs against outputs
//! recorded from scikit-learn itself.

pub mod bound;
mod kernel;
mod probability;
mod votes;

pub(crate) use kernel::for_each_kernel_row_with_sums;
pub use kernel::{for_each_kernel_row, kernel_row, kernel_rows, kernel_value};
pub use probability::{
    couple, logistic_ovr, modified_huber_ovr, one_class_probability, pairwise_probabilities,
    predict_proba, sigmoid_predict, Coupling,
};
pub use votes::{first_max, ovr_scores, vote};

use ndarray::Array2;

/// The outputs of one batch, as scikit-learn's methods return them.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// libsvm-signed one-vs-one decision values, N×P (§1.3); SVC/NuSVC only
    /// (N×0 for other estimators).
    pub pairwise: Array2<f64>,
    /// `decision_function`: N×1 for binary (public sign), N×k for ovr, N×P
    /// for ovo; a regressor's `predict` as N×1.
    pub scores: Array2<f64>,
    /// Per row, the distance from a label flip in decision-value units.
    pub tie_margins: Vec<f64>,
    /// `predict` as class indices into `classes_`.
    pub label_index: Vec<usize>,
    /// `predict_proba` (N×k) when the model has Platt parameters; for a
    /// LIBSVM one-class model with density marks, `[p, 1 − p]` (§7).
    pub probabilities: Option<Array2<f64>>,
    /// LIBSVM models with probabilities: the label `svm-predict -b 1`
    /// prints, argmax of the probabilities (first maximum), as class indices.
    pub probability_label: Option<Vec<usize>>,
    /// The error float32 arithmetic explains (`bound`), when the family has
    /// an error model and it was asked for (`Model::evaluate_bounded`).
    pub f32_bound: Option<F32Bound>,
}

/// The float32 error model's verdict on one batch (`bound`).
#[derive(Debug, Clone)]
pub struct F32Bound {
    /// Per row and column of `scores`: the absolute error a float32 graph
    /// may carry.
    pub scores: Array2<f64>,
    /// Per row: the error of the margin a label is decided on, in
    /// `tie_margins` units (for one-vs-one votes the largest bound over the
    /// row's pairwise values).
    pub ties: Vec<f64>,
}

impl F32Bound {
    /// A bound whose label margins are the scores' own: one decision value
    /// per row (the label is its sign: the margin's error is the value's), or
    /// a label taken by argmax of the scores (the gap between two of them:
    /// twice the largest bound).
    pub(crate) fn of_scores(scores: Array2<f64>) -> F32Bound {
        let factor = if scores.ncols() == 1 { 1.0 } else { 2.0 };
        let ties = scores
            .outer_iter()
            .map(|r| factor * r.iter().fold(0.0f64, |m, v| m.max(*v)))
            .collect();
        F32Bound { scores, ties }
    }
}

/// Per row, the first maximum's column and its lead over the runner-up
/// (the distance from a label flip).
pub(crate) fn argmax_rows(values: &Array2<f64>) -> (Vec<usize>, Vec<f64>) {
    values
        .outer_iter()
        .map(|r| {
            let mut sorted = r.to_vec();
            sorted.sort_by(|a, b| b.total_cmp(a));
            (first_max(r.iter().copied()), sorted[0] - sorted[1])
        })
        .unzip()
}

/// One decision value per row; with `labels`, index 1 iff it is > 0.
pub(crate) fn single_output(values: Vec<f64>, labels: bool) -> Evaluation {
    let n = values.len();
    let label_index = if labels {
        values.iter().map(|&v| usize::from(v > 0.0)).collect()
    } else {
        Vec::new()
    };
    let tie_margins = values.iter().map(|v| v.abs()).collect();
    Evaluation {
        pairwise: Array2::zeros((n, 0)),
        scores: Array2::from_shape_vec((n, 1), values).expect("n values"),
        tie_margins,
        label_index,
        probabilities: None,
        probability_label: None,
        f32_bound: None,
    }
}
