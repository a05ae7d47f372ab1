//! Platt scaling, libsvm's pairwise coupling (§1.7) and LIBSVM's one-class
//! probabilities (§7).

use crate::facts::MIN_PROB;
use crate::ir::PlattParameters;
use ndarray::{Array2, ArrayView1, ArrayView2};

/// libsvm's `sigmoid_predict`, its numerically stable branch (§1.7 step 2):
/// `1 / (1 + e^{A·f + B})`.
pub fn sigmoid_predict(f: f64, a: f64, b: f64) -> f64 {
    let z = f * a + b;
    if z >= 0.0 {
        (-z).exp() / (1.0 + (-z).exp())
    } else {
        1.0 / (1.0 + z.exp())
    }
}

/// The outcome of libsvm's pairwise coupling on one row.
#[derive(Debug, Clone)]
pub struct Coupling {
    /// The class probabilities.
    pub probabilities: Vec<f64>,
    /// Outer iterations that made updates (0 when the start point already
    /// satisfies the stopping test).
    pub updates: usize,
}

/// Wu, Lin & Weng's "method 2" exactly as sklearn's bundled libsvm runs it
/// (`multiclass_probability`, §1.7 step 4), including the stopping test
/// before any update and the two successive divisions by (1 + δ).
pub fn couple(k: usize, r: &[Vec<f64>]) -> Coupling {
    let mut q = vec![vec![0.0; k]; k];
    for t in 0..k {
        for j in 0..k {
            if j != t {
                q[t][t] += r[j][t] * r[j][t];
                q[t][j] = -r[j][t] * r[t][j];
            }
        }
    }
    let mut p = vec![1.0 / k as f64; k];
    let mut qp = vec![0.0; k];
    let eps = 0.005 / k as f64;
    let max_iter = 100.max(k);
    let mut updates = 0;
    for _ in 0..max_iter {
        let mut pqp = 0.0;
        for t in 0..k {
            qp[t] = 0.0;
            for j in 0..k {
                qp[t] += q[t][j] * p[j];
            }
            pqp += p[t] * qp[t];
        }
        let max_error = (0..k).fold(0.0f64, |m, t| m.max((qp[t] - pqp).abs()));
        if max_error < eps {
            break;
        }
        updates += 1;
        for t in 0..k {
            let diff = (-qp[t] + pqp) / q[t][t];
            p[t] += diff;
            pqp = (pqp + diff * (diff * q[t][t] + 2.0 * qp[t])) / (1.0 + diff) / (1.0 + diff);
            for j in 0..k {
                qp[j] = (qp[j] + diff * q[t][j]) / (1.0 + diff);
                p[j] /= 1.0 + diff;
            }
        }
    }
    Coupling {
        probabilities: p,
        updates,
    }
}

/// The clipped pairwise probabilities `r[i][j]` of one row (§1.7 steps
/// 2–3), for `k` classes whose `pairs` give the columns of `pairwise`;
/// `None` without Platt parameters.
pub fn pairwise_probabilities(
    k: usize,
    pairs: &[(usize, usize)],
    platt: Option<&PlattParameters>,
    pairwise: ArrayView1<f64>,
) -> Option<Vec<Vec<f64>>> {
    let platt = platt?;
    let mut r = vec![vec![0.0; k]; k];
    for (p, &(i, j)) in pairs.iter().enumerate() {
        let s = sigmoid_predict(pairwise[p], platt.prob_a[p], platt.prob_b[p]);
        let s = s.clamp(MIN_PROB, 1.0 - MIN_PROB);
        r[i][j] = s;
        r[j][i] = 1.0 - s;
    }
    Some(r)
}

/// `predict_proba` on a batch, with the coupling's update counts (None
/// without Platt parameters).
pub fn predict_proba(
    k: usize,
    pairs: &[(usize, usize)],
    platt: Option<&PlattParameters>,
    pairwise: ArrayView2<f64>,
) -> Option<(Array2<f64>, Vec<usize>)> {
    let mut out = Array2::<f64>::zeros((pairwise.nrows(), k));
    let mut updates = Vec::with_capacity(pairwise.nrows());
    for (n, row) in pairwise.outer_iter().enumerate() {
        let r = pairwise_probabilities(k, pairs, platt, row)?;
        let c = couple(k, &r);
        for (t, v) in c.probabilities.into_iter().enumerate() {
            out[[n, t]] = v;
        }
        updates.push(c.updates);
    }
    Some((out, updates))
}

/// LIBSVM ≥ 3.30 `predict_one_class_probability` (§7): 0.001 below the
/// first mark, 0.999 above the last, else i/10 for the first of marks 1..9
/// the value lies below. A value exactly on the last mark matches none of
/// those tests and keeps LIBSVM's initial 0.0.
pub fn one_class_probability(marks: &[f64; 10], dec: f64) -> f64 {
    if dec < marks[0] {
        0.001
    } else if dec > marks[9] {
        0.999
    } else {
        (1..10)
            .find(|&i| dec < marks[i])
            .map_or(0.0, |i| i as f64 / 10.0)
    }
}

/// SGDClassifier(loss='log_loss')'s `predict_proba` (scikit-learn's
/// `_predict_proba_lr`): `expit(d) = 1 / (1 + e^{−d})` per column, then
/// `ovr_from_positive`.
pub fn logistic_ovr(dec: ArrayView2<f64>) -> Array2<f64> {
    ovr_from_positive(dec.mapv(|d| 1.0 / (1.0 + (-d).exp())))
}

/// SGDClassifier(loss='modified_huber')'s `predict_proba`:
/// `(clip(d, −1, 1) + 1) / 2` per column, then `ovr_from_positive`.
pub fn modified_huber_ovr(dec: ArrayView2<f64>) -> Array2<f64> {
    ovr_from_positive(dec.mapv(|d| (d.clamp(-1.0, 1.0) + 1.0) / 2.0))
}

/// One column (two classes): `[1 − p, p]`. Several: each row divided by its
/// sum, except a row summing to exactly 0, which becomes uniform.
fn ovr_from_positive(p: Array2<f64>) -> Array2<f64> {
    let (n, k) = p.dim();
    if k == 1 {
        let mut out = Array2::zeros((n, 2));
        for r in 0..n {
            out[[r, 0]] = 1.0 - p[[r, 0]];
            out[[r, 1]] = p[[r, 0]];
        }
        return out;
    }
    let mut out = p;
    for mut row in out.rows_mut() {
        let sum: f64 = row.sum();
        if sum == 0.0 {
            row.fill(1.0 / k as f64);
        } else {
            row.mapv_inplace(|v| v / sum);
        }
    }
    out
}
