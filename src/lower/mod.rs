//! SvmModel → [`Graph`] of standard ONNX ops.
//!
//! One job per file: `kernel` builds the N×S kernel block, `decision` the
//! decision values, `votes` turns one-vs-one values into scikit-learn's ovr
//! scores and libsvm's predicted class. This module wires them to the graph's
//! outputs, named and shaped like scikit-learn's methods.

mod calibration;
pub(crate) mod decision;
pub(crate) mod kernel;
mod preprocess;
pub(crate) mod probability;
pub(crate) mod votes;

use crate::graph::{Dim, ElemType, FloatType, Graph, Value};
use crate::model::{Classes, Convention, DecisionShape, DualKind, Model, SvmModel};
use ndarray::{Array1, Axis};
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

/// Name of the label `svm-predict -b 1` prints for a LIBSVM model with
/// probabilities: argmax of `probabilities`, first maximum (§7).
pub const PROBABILITY_LABEL: &str = "probability_label";

/// Name of the regression output (scikit-learn's `predict` of a regressor).
pub const PREDICTION: &str = "prediction";

/// The element type of the `label` output.
pub fn label_elem(classes: &Classes, options: &LowerOptions) -> ElemType {
    if options.label_index {
        return ElemType::I64;
    }
    match classes {
        Classes::Int(_) => ElemType::I64,
        Classes::Float(_) => options.float.elem(),
        Classes::Str(_) => ElemType::Str,
    }
}

/// Number of columns of `scores`, or `None` when it is 1-D.
pub fn scores_width(model: &Model) -> Option<usize> {
    match model {
        Model::Svc(m) => svc_scores_width(m),
        Model::Linear(m) => match m.coef.nrows() {
            1 => None,
            rows => Some(rows),
        },
        Model::Dual(_) | Model::Calibrated(_) => None,
    }
}

fn svc_scores_width(m: &SvmModel) -> Option<usize> {
    match (m.n_classes(), m.decision_shape()) {
        (2, _) => None,
        (k, DecisionShape::Ovr) => Some(k),
        (_, DecisionShape::Ovo) => Some(m.n_pairs()),
    }
}

/// Builds the graph: input `X` [N, d]; outputs as scikit-learn's methods.
pub fn lower(model: &Model, options: &LowerOptions) -> Graph {
    let mut g = Graph::new(options.float, options.opset);
    let float = options.float.elem();
    let x = g.input(
        INPUT,
        float,
        vec![Dim::Batch, Dim::Fixed(model.n_features())],
    );
    let x = preprocess::apply(&mut g, x, model.preprocessing());
    match model {
        Model::Calibrated(m) => {
            let (proba, index) = calibration::calibrated(&mut g, x, m);
            let classes = m.classes.clone();
            let label = if options.label_index {
                index
            } else {
                class_label(&mut g, &classes, index)
            };
            g.output(
                label,
                LABEL,
                label_elem(&classes, options),
                vec![Dim::Batch],
            );
            g.output(
                proba,
                PROBABILITIES,
                float,
                vec![Dim::Batch, Dim::Fixed(classes.len())],
            );
        }
        Model::Svc(m) => lower_svc(&mut g, x, m, options),
        Model::Dual(m) => {
            let weights = m.dual_coef.clone().insert_axis(Axis(1));
            let bias = Array1::from(vec![m.intercept]);
            let value =
                decision::dual_values(&mut g, x, &m.kernel, &m.support_vectors, weights, bias);
            // OneClassSVM: +1 iff decision > 0 strictly; an exact 0 is −1 (§2).
            single_value_outputs(
                &mut g,
                model,
                options,
                value,
                m.kind == DualKind::OneClassSvm,
            );
            if let Some(marks) = &m.density_marks {
                let p = probability::one_class(&mut g, value, marks);
                g.output(
                    p,
                    PROBABILITIES,
                    options.float.elem(),
                    vec![Dim::Batch, Dim::Fixed(2)],
                );
            }
        }
        Model::Linear(m) => {
            let value = decision::linear_values(&mut g, x, m);
            match m.coef.nrows() {
                // LinearSVC binary: classes_[1] iff decision > 0 strictly (§3).
                1 => single_value_outputs(&mut g, model, options, value, m.classes.is_some()),
                _ => {
                    // Multiclass: argmax of the decision values, first maximum.
                    let index = g.argmax(value, 1);
                    emit_label_and_scores(
                        &mut g,
                        model.label_classes(),
                        scores_width(model),
                        options,
                        index,
                        value,
                    );
                }
            }
        }
    }
    g
}

/// A single decision column N×1: `label` (index 1 iff > 0) and `scores`
/// when `labelled`, else a regressor's `prediction`.
fn single_value_outputs(
    g: &mut Graph,
    model: &Model,
    options: &LowerOptions,
    value: Value,
    labelled: bool,
) {
    let value = g.reshape(value, &[-1]);
    if labelled {
        let index = votes::strictly_positive(g, value);
        emit_label_and_scores(
            g,
            model.label_classes(),
            scores_width(model),
            options,
            index,
            value,
        );
    } else {
        g.output(value, PREDICTION, options.float.elem(), vec![Dim::Batch]);
    }
}

fn emit_label_and_scores(
    g: &mut Graph,
    classes: Option<Classes>,
    width: Option<usize>,
    options: &LowerOptions,
    index: Value,
    scores: Value,
) {
    let classes = classes.expect("a classifier has labels");
    label_output(g, &classes, options, index, LABEL);
    let dims = match width {
        None => vec![Dim::Batch],
        Some(w) => vec![Dim::Batch, Dim::Fixed(w)],
    };
    let float = options.float.elem();
    g.output(scores, SCORES, float, dims);
}

fn lower_svc(g: &mut Graph, x: Value, model: &SvmModel, options: &LowerOptions) {
    if model.convention() == Convention::Libsvm {
        return lower_libsvm_svc(g, x, model, options);
    }
    let decision = decision::decision_values(g, x, model);
    let (scores, class_index) = if model.n_classes() == 2 {
        let scores = g.reshape(decision, &[-1]);
        (scores, votes::binary_class(g, scores))
    } else {
        votes::multiclass(g, decision, model)
    };
    let classes = Some(model.classes().clone());
    emit_label_and_scores(
        g,
        classes,
        svc_scores_width(model),
        options,
        class_index,
        scores,
    );
    if model.platt().is_some() {
        // libsvm-signed pair values: binary decision values are negated (§1.4).
        let pairwise = if model.n_classes() == 2 {
            g.op("Neg", &[decision], vec![])
        } else {
            decision
        };
        let p = probability::probabilities(g, pairwise, model);
        let float = options.float.elem();
        g.output(
            p,
            PROBABILITIES,
            float,
            vec![Dim::Batch, Dim::Fixed(model.n_classes())],
        );
    }
}

/// An official LIBSVM classifier (§7): `scores` are `svm_predict_values`'
/// pairwise values in LIBSVM's sign (`[N]` for two classes), `label` is
/// `svm_predict`'s vote; with probabilities, `probabilities` is
/// `svm_predict_probability` and `probability_label` the label it returns.
fn lower_libsvm_svc(g: &mut Graph, x: Value, model: &SvmModel, options: &LowerOptions) {
    let pairwise = decision::decision_values(g, x, model);
    let (scores, class_index) = if model.n_classes() == 2 {
        let scores = g.reshape(pairwise, &[-1]);
        (scores, votes::libsvm_binary_class(g, scores))
    } else {
        // decision_shape is Ovo for every LIBSVM model: ovo scores, libsvm vote.
        votes::multiclass(g, pairwise, model)
    };
    let classes = model.classes().clone();
    emit_label_and_scores(
        g,
        Some(classes.clone()),
        svc_scores_width(model),
        options,
        class_index,
        scores,
    );
    if model.platt().is_some() {
        let p = if model.n_classes() == 2 {
            probability::libsvm_binary(g, pairwise, model)
        } else {
            probability::probabilities(g, pairwise, model)
        };
        let float = options.float.elem();
        g.output(
            p,
            PROBABILITIES,
            float,
            vec![Dim::Batch, Dim::Fixed(model.n_classes())],
        );
        // svm_predict_probability's label: the first maximal probability.
        let index = g.argmax(p, 1);
        label_output(g, &classes, options, index, PROBABILITY_LABEL);
    }
}

/// A label output `name` [N]: the class indices themselves with
/// `--label-index`, else `classes_[index]`.
fn label_output(
    g: &mut Graph,
    classes: &Classes,
    options: &LowerOptions,
    index: Value,
    name: &str,
) {
    let label = if options.label_index {
        index
    } else {
        class_label(g, classes, index)
    };
    g.output(label, name, label_elem(classes, options), vec![Dim::Batch]);
}

/// `classes_[index]` by Gather on a constant table.
pub(crate) fn class_label(g: &mut Graph, classes: &Classes, index: Value) -> Value {
    let k = classes.len();
    let table = match classes {
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
