//! SvmModel → [`Graph`] of standard ONNX ops.
//!
//! One job per file: `kernel` builds the N×S kernel block, `decision` the
//! decision values, `votes` turns one-vs-one values into scikit-learn's ovr
//! scores and libsvm's predicted class. This module wires them to the graph's
//! outputs, named and shaped like scikit-learn's methods.

mod decision;
mod kernel;
mod preprocess;
mod probability;
mod votes;

use crate::graph::{Dim, ElemType, FloatType, Graph, Value};
use crate::model::{Classes, DecisionShape, SvmModel};
use ndarray::{ArrayD, IxDyn};

/// How to lower a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowerOptions {
    /// Precision of the input, constants and float outputs.
    pub float: FloatType,
    /// Emit `label` as int64 class indices instead of the class labels.
    pub label_index: bool,
    /// Default-domain opset of the graph.
    pub opset: i64,
}

impl Default for LowerOptions {
    fn default() -> Self {
        LowerOptions {
            float: FloatType::F32,
            label_index: false,
            opset: 17,
        }
    }
}

/// Name of the graph input.
pub const INPUT: &str = "X";
/// Name of the predicted-label output (scikit-learn's `predict`).
pub const LABEL: &str = "label";
/// Name of the decision-value output (scikit-learn's `decision_function`).
pub const SCORES: &str = "scores";
/// Name of the probability output (scikit-learn's `predict_proba`).
pub const PROBABILITIES: &str = "probabilities";

/// Outer iterations of libsvm's pairwise coupling unrolled into the graph
/// (§1.7); `tests/coupling_evidence.rs` shows how many are ever needed.
pub const COUPLING_ITERATIONS: usize = 8;

/// The element type of the `label` output.
pub fn label_elem(model: &SvmModel, options: &LowerOptions) -> ElemType {
    if options.label_index {
        return ElemType::I64;
    }
    match model.classes() {
        Classes::Int(_) => ElemType::I64,
        Classes::Float(_) => options.float.elem(),
        Classes::Str(_) => ElemType::Str,
    }
}

/// Number of columns of `scores`, or `None` when it is 1-D (binary, §1.4).
pub fn scores_width(model: &SvmModel) -> Option<usize> {
    match (model.n_classes(), model.decision_shape()) {
        (2, _) => None,
        (k, DecisionShape::Ovr) => Some(k),
        (_, DecisionShape::Ovo) => Some(model.n_pairs()),
    }
}

/// Builds the graph: input `X` [N, d]; outputs `label` [N] and `scores`.
pub fn lower(model: &SvmModel, options: &LowerOptions) -> Graph {
    let mut g = Graph::new(options.float, options.opset);
    let float = options.float.elem();
    let x = g.input(
        INPUT,
        float,
        vec![Dim::Batch, Dim::Fixed(model.n_features())],
    );
    let x = preprocess::apply(&mut g, x, model.preprocessing());
    let decision = decision::decision_values(&mut g, x, model);
    let (scores, class_index) = if model.n_classes() == 2 {
        let scores = g.reshape(decision, &[-1]);
        (scores, votes::binary_class(&mut g, scores))
    } else {
        votes::multiclass(&mut g, decision, model)
    };
    let label = if options.label_index {
        class_index
    } else {
        class_label(&mut g, model, class_index)
    };
    g.output(label, LABEL, label_elem(model, options), vec![Dim::Batch]);
    let scores_dims = match scores_width(model) {
        None => vec![Dim::Batch],
        Some(w) => vec![Dim::Batch, Dim::Fixed(w)],
    };
    g.output(scores, SCORES, float, scores_dims);
    if model.platt().is_some() {
        // libsvm-signed pair values: binary decision values are negated (§1.4).
        let pairwise = if model.n_classes() == 2 {
            g.op("Neg", &[decision], vec![])
        } else {
            decision
        };
        let p = probability::probabilities(&mut g, pairwise, model);
        g.output(
            p,
            PROBABILITIES,
            float,
            vec![Dim::Batch, Dim::Fixed(model.n_classes())],
        );
    }
    g
}

/// `classes_[index]` by Gather on a constant table.
fn class_label(g: &mut Graph, model: &SvmModel, index: Value) -> Value {
    let k = model.n_classes();
    let table = match model.classes() {
        Classes::Int(v) => g.constant_i64(
            "classes",
            ArrayD::from_shape_vec(IxDyn(&[k]), v.clone()).expect("k labels"),
        ),
        Classes::Float(v) => g.constant(
            "classes",
            ArrayD::from_shape_vec(IxDyn(&[k]), v.clone()).expect("k labels"),
        ),
        Classes::Str(v) => g.constant_str(
            "classes",
            ArrayD::from_shape_vec(IxDyn(&[k]), v.clone()).expect("k labels"),
        ),
    };
    g.gather(table, index)
}
