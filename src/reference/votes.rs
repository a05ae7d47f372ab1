//! One-vs-one votes and scikit-learn's ovr scores (§1.5, §1.6).

use ndarray::{Array2, ArrayView1, ArrayView2};

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

#[cfg(test)]
mod tests {
    use super::*;

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
