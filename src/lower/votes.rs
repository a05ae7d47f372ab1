//! From decision values to scikit-learn's `predict` and ovr
//! `decision_function`, with constant matrices instead of loops (§1.5, §1.6).

use crate::graph::{ElemType, Graph, Value};
use crate::ir::DecisionShape;
use ndarray::{Array1, Array2};

/// Binary predict: `classes_[1]` iff `decision ≥ 0`; an exact zero goes to
/// `classes_[1]` (§1.6). Returns int64 class indices.
pub fn binary_class(g: &mut Graph, scores: Value) -> Value {
    let zero = g.scalar("zero", 0.0);
    let negative = g.less(scores, zero);
    let positive_or_zero = g.not(negative);
    let index = g.cast(positive_or_zero, ElemType::I64);
    g.rename(index, "class_index")
}

/// LIBSVM's binary vote (§7, §1.6): class 0 iff its one pairwise value is
/// > 0 strictly, so an exact zero goes to class 1. Returns int64 indices.
pub fn libsvm_binary_class(g: &mut Graph, pairwise: Value) -> Value {
    let zero = g.scalar("zero", 0.0);
    let first_wins = g.greater(pairwise, zero);
    let second_wins = g.not(first_wins);
    let index = g.cast(second_wins, ElemType::I64);
    g.rename(index, "class_index")
}

/// Index 1 iff `value > 0` strictly, else 0 (OneClassSVM and LinearSVC's
/// binary rule: an exact zero goes to the first label, §2, §3).
pub fn strictly_positive(g: &mut Graph, value: Value) -> Value {
    let zero = g.scalar("zero", 0.0);
    let positive = g.greater(value, zero);
    let index = g.cast(positive, ElemType::I64);
    g.rename(index, "class_index")
}

/// The vote matrix `M` (P×k, +1 for the first class of the pair, −1 for the
/// second) and the count of pairs in which each class is second, for `k`
/// classes and their pairs (shared with the onnxruntime rewrite, whose
/// vote is the same count).
pub(crate) fn vote_matrices_for(k: usize, pairs: &[(usize, usize)]) -> (Array2<f64>, Array1<f64>) {
    let mut m = Array2::<f64>::zeros((pairs.len(), k));
    let mut second = Array1::<f64>::zeros(k);
    for (p, &(i, j)) in pairs.iter().enumerate() {
        m[[p, i]] = 1.0;
        m[[p, j]] = -1.0;
        second[j] += 1.0;
    }
    (m, second)
}

/// Multiclass (`break_ties` only where it applies, k > 2): returns (`scores` as `decision_function` returns them, int64
/// predicted class indices).
pub fn multiclass(
    g: &mut Graph,
    pairwise: Value,
    k: usize,
    pairs: &[(usize, usize)],
    shape: DecisionShape,
    break_ties: bool,
) -> (Value, Value) {
    let (m, second) = vote_matrices_for(k, pairs);
    let m = g.constant("pair_vote_matrix", m.into_dyn());
    let second = g.constant("pairs_as_second_class", second.into_dyn());
    let float = g.float.elem();
    let zero = g.scalar("zero", 0.0);

    // ovr (§1.5): votes where F ≥ 0 (an exact 0 votes for the first class
    // here, unlike libsvm's predict) plus conf / (3(|conf| + 1)).
    let need_ovr = break_ties || shape == DecisionShape::Ovr;
    let ovr = need_ovr.then(|| {
        let negative = g.less(pairwise, zero);
        let first_wins = g.not(negative);
        let first_wins = g.cast(first_wins, float);
        let won = g.matmul(first_wins, m);
        let votes = g.add(won, second);
        let votes = g.rename(votes, "ovr_votes");
        let confidence = g.matmul(pairwise, m);
        let confidence = g.rename(confidence, "ovr_confidence");
        let magnitude = g.abs(confidence);
        let one = g.scalar("one", 1.0);
        let three = g.scalar("three", 3.0);
        let shifted = g.add(magnitude, one);
        let denominator = g.mul(three, shifted);
        let bounded = g.div(confidence, denominator);
        let ovr = g.add(votes, bounded);
        g.rename(ovr, "ovr_decision")
    });

    let class_index = match ovr {
        // break_ties: argmax of the ovr scores, first maximum (§1.6).
        Some(ovr) if break_ties => g.argmax(ovr, 1),
        _ => {
            // libsvm: pair (i, j) votes for i iff F > 0 strictly, else for j;
            // ArgMax returns the first maximum, the lowest class index (§1.6).
            let first_wins = g.greater(pairwise, zero);
            let first_wins = g.cast(first_wins, float);
            let won = g.matmul(first_wins, m);
            let votes = g.add(won, second);
            let votes = g.rename(votes, "pair_votes");
            g.argmax(votes, 1)
        }
    };
    let class_index = g.rename(class_index, "class_index");
    let scores = match shape {
        DecisionShape::Ovr => ovr.expect("ovr built for decision_function_shape='ovr'"),
        DecisionShape::Ovo => pairwise,
    };
    (scores, class_index)
}
