//! The order in which a graph sums a dual model's terms Σ_s w_s·K(x, s).
//!
//! scikit-learn and LIBSVM store support vectors class by class, so every
//! term of one sign comes first, then every term of the other: a running
//! sum climbs to about half of Σ|w_s K| before it cancels back down to the
//! decision value. A float32 MatMul accumulates in that order and loses
//! about ε32 times that peak. On the 8,502-support-vector × 300-feature RBF
//! benchmark model (docs/PRECISION.md) that was 2.2e-4 absolute error in
//! onnxruntime; with the signs interleaved the running sums stay near zero
//! and the same MatMul is 4.5e-6 from scikit-learn, about the kernel
//! values' own float32 error. The sum is mathematically the same in any
//! order, and the reordering costs nothing at run time: the support
//! vectors and the weight rows are written permuted. Float64 graphs keep
//! the stored order (`decision::dual_values`).

use ndarray::Array2;
use std::collections::HashMap;

/// The order of the support vectors (rows of `weights`, S×P) in the graph,
/// or `None` when the stored order is already as good.
///
/// Support vectors are grouped by the signs of their weights across the P
/// outputs (in one-vs-one models that is, in effect, their class), and the
/// groups are interleaved in proportion to their sizes: the i-th member of
/// a group of n sits at position (i + ½)/n of the whole order. Every
/// output's terms then alternate between its positive and negative groups
/// along the sum, whatever the number of classes.
pub fn summation_order(weights: &Array2<f64>) -> Option<Vec<usize>> {
    let mut groups: HashMap<Vec<i8>, Vec<usize>> = HashMap::new();
    for (s, row) in weights.outer_iter().enumerate() {
        let signs: Vec<i8> = row.iter().map(|&w| sign(w)).collect();
        groups.entry(signs).or_default().push(s);
    }
    if groups.len() < 2 {
        return None;
    }
    let mut keyed: Vec<(f64, usize)> = groups
        .into_values()
        .flat_map(|members| {
            let n = members.len() as f64;
            members
                .into_iter()
                .enumerate()
                .map(move |(i, s)| ((i as f64 + 0.5) / n, s))
        })
        .collect();
    // Ties between groups break on the stored index: deterministic output.
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Some(keyed.into_iter().map(|(_, s)| s).collect())
}

fn sign(w: f64) -> i8 {
    if w > 0.0 {
        1
    } else if w < 0.0 {
        -1
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_sign_keeps_the_stored_order() {
        assert_eq!(summation_order(&array![[1.0], [2.0], [0.5]]), None);
    }

    #[test]
    fn class_sorted_signs_alternate() {
        let w = array![[1.0], [1.0], [1.0], [-1.0], [-1.0], [-1.0]];
        let order = summation_order(&w).unwrap();
        let signs: Vec<f64> = order.iter().map(|&s| w[[s, 0]]).collect();
        assert_eq!(signs, vec![1.0, -1.0, 1.0, -1.0, 1.0, -1.0]);
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..6).collect::<Vec<_>>(), "a permutation");
    }

    #[test]
    fn running_sums_stay_small_for_unequal_groups() {
        // 300 positive terms then 100 negative ones three times larger.
        let mut w = Array2::zeros((400, 1));
        for s in 0..300 {
            w[[s, 0]] = 1.0;
        }
        for s in 300..400 {
            w[[s, 0]] = -3.0;
        }
        let order = summation_order(&w).unwrap();
        let mut run = 0.0f64;
        let mut peak = 0.0f64;
        for s in order {
            run += w[[s, 0]];
            peak = peak.max(run.abs());
        }
        assert!(peak <= 3.0, "peak running sum {peak}");
    }
}
