//! Rows recorded together with scikit-learn's outputs on them, carried by a
//! model file so `validate` can check a graph against scikit-learn itself.

use super::classes::Label;
use ndarray::Array2;

/// Input rows and scikit-learn's outputs on them.
#[derive(Debug, Clone)]
pub struct Samples {
    /// Input rows, N×d.
    pub x: Array2<f64>,
    /// `predict(X)`.
    pub predict: Option<Vec<Label>>,
    /// `decision_function(X)`, N×1 for binary models.
    pub decision_function: Option<Array2<f64>>,
    /// `predict_proba(X)`, N×k.
    pub predict_proba: Option<Array2<f64>>,
}
