//! SVC/NuSVC as graph ops: the decision values, then scikit-learn's (or
//! LIBSVM's) labels, scores and probabilities (§1.3–§1.7, §7).

use super::SvmModel;
use crate::graph::{Graph, Value};
use crate::ir::{Convention, OutputKind};
use crate::lower::{decision, probability, votes, OutputSink};
use ndarray::{Array1, Array2, Axis};

/// Per-output weights (S×P) and biases (P). Binary scikit-learn models use
/// the public `dual_coef_`/`intercept_` directly, so positive means
/// `classes_[1]`; LIBSVM models keep LIBSVM's own sign for every k (§7).
fn pair_coefficients(model: &SvmModel) -> (Array2<f64>, Array1<f64>) {
    if model.n_classes() == 2 && model.convention() == Convention::Sklearn {
        let w = model.dual_coef().row(0).to_owned().insert_axis(Axis(1));
        (w, model.intercept().clone())
    } else {
        (model.pair_weights(), model.libsvm_intercept())
    }
}

/// The decision values: N×1 in scikit-learn's public sign for binary
/// scikit-learn models (§1.4), N×P one-vs-one values in libsvm's sign
/// otherwise (§1.3, §7).
pub(crate) fn decision_values(g: &mut Graph, x: Value, model: &SvmModel) -> Value {
    let (weights, bias) = pair_coefficients(model);
    decision::dual_values(g, x, model.kernel(), model.support_vectors(), weights, bias)
}

/// Multiclass scores as `decision_function` returns them, and the
/// predicted class indices.
pub(crate) fn multiclass(g: &mut Graph, pairwise: Value, model: &SvmModel) -> (Value, Value) {
    votes::multiclass(
        g,
        pairwise,
        model.n_classes(),
        &model.pairs(),
        model.decision_shape(),
        model.break_ties(),
    )
}

pub(super) fn lower(model: &SvmModel, g: &mut Graph, x: Value, out: &mut OutputSink<'_>) {
    if model.convention() == Convention::Libsvm {
        return lower_libsvm(model, g, x, out);
    }
    let decision = decision_values(g, x, model);
    let (scores, class_index) = if model.n_classes() == 2 {
        let scores = g.reshape(decision, &[-1]);
        (scores, votes::binary_class(g, scores))
    } else {
        multiclass(g, decision, model)
    };
    out.emit(g, OutputKind::Label, class_index);
    out.emit(g, OutputKind::Scores, scores);
    if let Some(platt) = model.platt() {
        // libsvm-signed pair values: binary decision values are negated (§1.4).
        let pairwise = if model.n_classes() == 2 {
            g.op("Neg", &[decision], vec![])
        } else {
            decision
        };
        let p = probability::coupled_probabilities(
            g,
            pairwise,
            model.n_classes(),
            &model.pairs(),
            platt,
        );
        out.emit(g, OutputKind::Probabilities, p);
    }
}

/// An official LIBSVM classifier (§7): `scores` are `svm_predict_values`'
/// pairwise values in LIBSVM's sign (`[N]` for two classes), `label` is
/// `svm_predict`'s vote; with probabilities, `probabilities` is
/// `svm_predict_probability` and `probability_label` the label it returns.
fn lower_libsvm(model: &SvmModel, g: &mut Graph, x: Value, out: &mut OutputSink<'_>) {
    let pairwise = decision_values(g, x, model);
    let (scores, class_index) = if model.n_classes() == 2 {
        let scores = g.reshape(pairwise, &[-1]);
        (scores, votes::libsvm_binary_class(g, scores))
    } else {
        // decision_shape is Ovo for every LIBSVM model: ovo scores, libsvm vote.
        multiclass(g, pairwise, model)
    };
    out.emit(g, OutputKind::Label, class_index);
    out.emit(g, OutputKind::Scores, scores);
    if let Some(platt) = model.platt() {
        let p = if model.n_classes() == 2 {
            probability::libsvm_binary(g, pairwise, platt)
        } else {
            probability::coupled_probabilities(
                g,
                pairwise,
                model.n_classes(),
                &model.pairs(),
                platt,
            )
        };
        out.emit(g, OutputKind::Probabilities, p);
        // svm_predict_probability's label: the first maximal probability.
        let index = g.argmax(p, 1);
        out.emit(g, OutputKind::ProbabilityLabel, index);
    }
}
