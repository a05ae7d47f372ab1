//! The executable specification: scikit-learn's SVC inference in f64,
//! following SVM_SEMANTICS.md §1.2–1.6 operation by operation (libsvm's
//! summation order included), independent of the ONNX lowering.
//!
//! Tests hold both this evaluator and the emitted graphs against outputs
//! recorded from scikit-learn itself.

use crate::model::{DecisionShape, Kernel, SvmModel};
use ndarray::{Array2, ArrayView1, ArrayView2};

/// The outputs of one batch, as scikit-learn's methods return them.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// libsvm-signed one-vs-one decision values, N×P (§1.3).
    pub pairwise: Array2<f64>,
    /// `decision_function`: N×1 for binary (public sign), N×k for ovr, N×P for ovo.
    pub scores: Array2<f64>,
    /// `predict` as class indices into `classes_`.
    pub label_index: Vec<usize>,
}

/// libsvm's dense dot product: a plain left-to-right sum.
fn dot(x: ArrayView1<f64>, s: ArrayView1<f64>) -> f64 {
    let mut sum = 0.0;
    for (a, b) in x.iter().zip(s.iter()) {
        sum += a * b;
    }
    sum
}

/// libsvm's `powi`: integer power by repeated squaring (§1.2).
pub(crate) fn powi(base: f64, times: u32) -> f64 {
    let (mut tmp, mut ret) = (base, 1.0);
    let mut t = times;
    while t > 0 {
        if t % 2 == 1 {
            ret *= tmp;
        }
        tmp *= tmp;
        t /= 2;
    }
    ret
}

/// `K(x, s)` exactly as libsvm evaluates it at predict time. RBF uses the
/// direct difference, not the ‖x‖²+‖s‖²−2x·s expansion (§1.2).
pub fn kernel_value(kernel: &Kernel, x: ArrayView1<f64>, s: ArrayView1<f64>) -> f64 {
    match *kernel {
        Kernel::Linear => dot(x, s),
        Kernel::Rbf { gamma } => {
            let mut sum = 0.0;
            for (a, b) in x.iter().zip(s.iter()) {
                let d = a - b;
                sum += d * d;
            }
            (-gamma * sum).exp()
        }
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => powi(gamma * dot(x, s) + coef0, degree),
        Kernel::Sigmoid { gamma, coef0 } => (gamma * dot(x, s) + coef0).tanh(),
    }
}

/// One-vs-one decision values in libsvm signs, N×P (§1.3): for pair (i, j),
/// the class-i terms are summed first, then the class-j terms, then `-rho`.
pub fn pairwise_decision(model: &SvmModel, x: ArrayView2<f64>) -> Array2<f64> {
    let coef = model.libsvm_dual_coef();
    let intercept = model.libsvm_intercept();
    let svs = model.support_vectors();
    let pairs = model.pairs();
    let mut out = Array2::<f64>::zeros((x.nrows(), pairs.len()));
    let mut kvalue = vec![0.0; svs.nrows()];
    for (n, row) in x.outer_iter().enumerate() {
        for (s, sv) in svs.outer_iter().enumerate() {
            kvalue[s] = kernel_value(model.kernel(), row, sv);
        }
        for (p, &(i, j)) in pairs.iter().enumerate() {
            let mut sum = 0.0;
            for s in model.class_range(i) {
                sum += coef[[j - 1, s]] * kvalue[s];
            }
            for s in model.class_range(j) {
                sum += coef[[i, s]] * kvalue[s];
            }
            out[[n, p]] = sum + intercept[p];
        }
    }
    out
}

/// scikit-learn's `_ovr_decision_function(F < 0, -F, k)` (§1.5), in its own
/// loop order: votes with `F ≥ 0` for the first class, plus the bounded
/// confidence term `conf / (3(|conf| + 1))`.
pub fn ovr_scores(pairwise: ArrayView2<f64>, k: usize) -> Array2<f64> {
    let n = pairwise.nrows();
    let mut votes = Array2::<f64>::zeros((n, k));
    let mut confidence = Array2::<f64>::zeros((n, k));
    for r in 0..n {
        let mut p = 0;
        for i in 0..k {
            for j in i + 1..k {
                let f = pairwise[[r, p]];
                // sklearn: sum_of_confidences[:, i] -= -f; [:, j] += -f.
                confidence[[r, i]] -= -f;
                confidence[[r, j]] += -f;
                if f < 0.0 {
                    votes[[r, j]] += 1.0;
                } else {
                    votes[[r, i]] += 1.0;
                }
                p += 1;
            }
        }
    }
    let transformed = confidence.mapv(|c| c / (3.0 * (c.abs() + 1.0)));
    votes + transformed
}

/// libsvm's one-vs-one vote (§1.6): pair (i, j) votes for i iff `f > 0`
/// strictly; the most votes win, ties to the lowest class index.
pub fn vote(pairwise: ArrayView1<f64>, k: usize) -> usize {
    let mut votes = vec![0usize; k];
    let mut p = 0;
    for i in 0..k {
        for j in i + 1..k {
            if pairwise[p] > 0.0 {
                votes[i] += 1;
            } else {
                votes[j] += 1;
            }
            p += 1;
        }
    }
    first_max(votes.iter().map(|&v| v as f64))
}

/// Index of the first maximum (numpy's argmax tie rule).
pub fn first_max(values: impl IntoIterator<Item = f64>) -> usize {
    let mut best = 0;
    let mut best_value = f64::NEG_INFINITY;
    for (i, v) in values.into_iter().enumerate() {
        if i == 0 || v > best_value {
            best = i;
            best_value = v;
        }
    }
    best
}

/// Evaluates `decision_function` and `predict` on a batch.
pub fn evaluate(model: &SvmModel, x: ArrayView2<f64>) -> Evaluation {
    let k = model.n_classes();
    let pairwise = if model.preprocessing().is_empty() {
        pairwise_decision(model, x)
    } else {
        let mut transformed = x.to_owned();
        for step in model.preprocessing() {
            step.apply(&mut transformed);
        }
        pairwise_decision(model, transformed.view())
    };
    if k == 2 {
        // §1.4: sklearn returns -f0; an exact zero goes to classes_[1].
        let scores = pairwise.mapv(|f| -f);
        let label_index = scores
            .column(0)
            .iter()
            .map(|&d| usize::from(d >= 0.0))
            .collect();
        return Evaluation {
            pairwise,
            scores,
            label_index,
        };
    }
    let ovr = ovr_scores(pairwise.view(), k);
    let label_index = if model.break_ties() {
        ovr.outer_iter()
            .map(|row| first_max(row.iter().copied()))
            .collect()
    } else {
        pairwise.outer_iter().map(|row| vote(row, k)).collect()
    };
    let scores = match model.decision_shape() {
        DecisionShape::Ovr => ovr,
        DecisionShape::Ovo => pairwise.clone(),
    };
    Evaluation {
        pairwise,
        scores,
        label_index,
    }
}

/// How far a row is from a label flip, in decision-value units: the smallest
/// |pairwise value| (a pair that could change its vote) and, when predict
/// takes argmax of the ovr scores, the gap between the two best scores.
pub fn tie_margin(model: &SvmModel, eval: &Evaluation, row: usize) -> f64 {
    let mut margin = eval
        .pairwise
        .row(row)
        .iter()
        .fold(f64::INFINITY, |m, f| m.min(f.abs()));
    if model.break_ties() {
        let ovr = ovr_scores(
            eval.pairwise.slice(ndarray::s![row..row + 1, ..]),
            model.n_classes(),
        );
        let mut sorted: Vec<f64> = ovr.row(0).to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        margin = margin.min(sorted[0] - sorted[1]);
    }
    margin
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powi_matches_repeated_multiplication() {
        for d in 1..10u32 {
            let want = (0..d).fold(1.0, |acc, _| acc * 1.5);
            assert!((powi(1.5, d) - want).abs() <= 1e-12 * want);
        }
        assert_eq!(powi(-2.0, 3), -8.0);
        assert_eq!(powi(7.0, 0), 1.0);
    }

    #[test]
    fn vote_ties_go_to_lowest_index_and_zero_votes_for_j() {
        // §1.6: F = [0, 1, 1] → pair (0,1) votes 1, (0,2) votes 0, (1,2) votes 1.
        let f = ndarray::arr1(&[0.0, 1.0, 1.0]);
        assert_eq!(vote(f.view(), 3), 1);
        // Three-way tie: (0,1)→0, (0,2)→2, (1,2)→1 → lowest index 0.
        let f = ndarray::arr1(&[1.0, -1.0, 1.0]);
        assert_eq!(vote(f.view(), 3), 0);
    }

    #[test]
    fn ovr_uses_greater_or_equal_for_votes() {
        // Same F as above: the ovr vote counts zero as a vote for class 0 (§1.5).
        let f = ndarray::arr2(&[[0.0, 1.0, 1.0]]);
        let ovr = ovr_scores(f.view(), 3);
        assert_eq!(first_max(ovr.row(0).iter().copied()), 0);
    }
}
