//! `predict_proba` as a static graph (§1.7): Platt scaling per pair with
//! libsvm's clip, then libsvm's pairwise-coupling iteration unrolled for a
//! fixed number of outer iterations with a sticky per-row stop flag, so no
//! Loop op is needed (tract and onnx2tf cannot run Loop).
//!
//! Every update is multiplied by `active` (0 once a row has met the stopping
//! test), which leaves p, Qp and pQp unchanged: rows stop exactly where
//! libsvm stops.

use crate::facts::{COUPLING_ITERATIONS, DENSITY_MARKS, MIN_PROB};
use crate::graph::{Graph, Value};
use crate::ir::PlattParameters;
use ndarray::Array2;

/// Constant matrices that scatter per-pair products into Q (k×k, flattened).
struct Scatter {
    /// r_ij² → Q[j][j]
    r_squared: Array2<f64>,
    /// r_ji² → Q[i][i]
    s_squared: Array2<f64>,
    /// −r_ij·r_ji → Q[i][j] and Q[j][i]
    cross: Array2<f64>,
}

fn scatter(k: usize, pairs: &[(usize, usize)]) -> Scatter {
    let mut s = Scatter {
        r_squared: Array2::zeros((pairs.len(), k * k)),
        s_squared: Array2::zeros((pairs.len(), k * k)),
        cross: Array2::zeros((pairs.len(), k * k)),
    };
    for (p, &(i, j)) in pairs.iter().enumerate() {
        s.r_squared[[p, j * k + j]] = 1.0;
        s.s_squared[[p, i * k + i]] = 1.0;
        s.cross[[p, i * k + j]] = -1.0;
        s.cross[[p, j * k + i]] = -1.0;
    }
    s
}

/// Selects entries of the flattened Q: column `c` of the result is entry
/// `index(c)` of the row. Exact: one product by 1, zeros elsewhere.
fn selector(k: usize, columns: usize, index: impl Fn(usize) -> usize) -> Array2<f64> {
    let mut m = Array2::zeros((k * k, columns));
    for c in 0..columns {
        m[[index(c), c]] = 1.0;
    }
    m
}

/// Platt per pair, r = 1 / (1 + e^{A·f + B}) (= libsvm's stable
/// sigmoid_predict), clipped to [1e-7, 1 − 1e-7] (§1.7 steps 2–3): [N, P].
/// Shared with the onnxruntime rewrite, docs/ONNX_ML.md §3.
fn platt_probability(g: &mut Graph, pairwise: Value, platt: &PlattParameters) -> Value {
    let a = g.constant("prob_a", platt.prob_a.clone().into_dyn());
    let b = g.constant("prob_b", platt.prob_b.clone().into_dyn());
    let fa = g.mul(pairwise, a);
    let z = g.add(fa, b);
    let sigmoid = one_over_one_plus_exp(g, z);
    let lo = g.scalar("min_prob", MIN_PROB);
    let hi = g.scalar("max_prob", 1.0 - MIN_PROB);
    let r = g.max(sigmoid, lo);
    let r = g.min(r, hi);
    g.rename(r, "pairwise_probability")
}

/// `1 / (1 + e^z)`: Platt's sigmoid on `z = A·f + B` (libsvm's stable
/// sigmoid_predict, §1.7) and scikit-learn's sigmoid calibrator on
/// `z = a·f + b` (`expit(−z)`).
pub(crate) fn one_over_one_plus_exp(g: &mut Graph, z: Value) -> Value {
    let e = g.exp(z);
    let one = g.scalar("one", 1.0);
    let denominator = g.add(one, e);
    g.div(one, denominator)
}

/// LIBSVM ≥ 3.22's binary probabilities (§7): `[r_01, 1 − r_01]` with no
/// coupling iteration.
pub fn libsvm_binary(g: &mut Graph, pairwise: Value, platt: &PlattParameters) -> Value {
    let r = platt_probability(g, pairwise, platt);
    let p = with_complement(g, r);
    g.rename(p, "binary_probabilities")
}

/// `[p, 1 − p]` [N, 2] from p [N, 1], exactly: `p·[1, −1] + [0, 1]` is one
/// product by ±1 per entry, and `1 + (−p)` rounds as `1 − p`.
fn with_complement(g: &mut Graph, p: Value) -> Value {
    let spread = g.constant(
        "binary_probability_spread",
        ndarray::arr2(&[[1.0, -1.0]]).into_dyn(),
    );
    let offset = g.constant(
        "binary_probability_offset",
        ndarray::arr1(&[0.0, 1.0]).into_dyn(),
    );
    let signed = g.matmul(p, spread);
    g.add(signed, offset)
}

/// LIBSVM ≥ 3.30 one-class probabilities from the density marks (§7),
/// `[p, 1 − p]` [N, 2], from decision values [N, 1].
///
/// LIBSVM tests, in order: dec < m0 → 0.001; dec > m9 → 0.999; the first
/// i in 1..9 with dec < m_i → i/10; none → 0.0 (dec exactly m9). The graph
/// evaluates those 11 tests as one Less against a threshold row (dec > m9
/// as −dec < −m9) plus an always-true 12th column, then ArgMax picks the
/// first test that holds and Gather its value: the same order, so the
/// marks need not be sorted.
pub fn one_class(g: &mut Graph, dec: Value, marks: &[f64; DENSITY_MARKS]) -> Value {
    let dec = g.reshape(dec, &[-1, 1]);
    let mut signs = vec![1.0; DENSITY_MARKS + 2];
    let mut thresholds = Vec::with_capacity(DENSITY_MARKS + 2);
    let mut values = Vec::with_capacity(DENSITY_MARKS + 2);
    thresholds.push(marks[0]);
    values.push(0.001);
    signs[1] = -1.0;
    thresholds.push(-marks[DENSITY_MARKS - 1]);
    values.push(0.999);
    for (i, &m) in marks.iter().enumerate().skip(1) {
        thresholds.push(m);
        values.push(i as f64 / DENSITY_MARKS as f64);
    }
    // Always true: 0·dec = 0 < 1 (dec is finite).
    signs[DENSITY_MARKS + 1] = 0.0;
    thresholds.push(1.0);
    values.push(0.0);
    let signs = ndarray::Array2::from_shape_vec((1, signs.len()), signs).expect("one row");
    let signs = g.constant("density_mark_signs", signs.into_dyn());
    let thresholds = g.constant(
        "density_mark_thresholds",
        ndarray::Array1::from(thresholds).into_dyn(),
    );
    let values = g.constant(
        "density_mark_values",
        ndarray::Array1::from(values).into_dyn(),
    );
    let signed = g.matmul(dec, signs);
    let holds = g.less(signed, thresholds);
    let float = g.float.elem();
    let holds = g.cast(holds, float);
    let first = g.argmax(holds, 1);
    let p = g.gather(values, first);
    let p = g.reshape(p, &[-1, 1]);
    let out = with_complement(g, p);
    g.rename(out, "one_class_probabilities")
}

/// Platt scaling and pairwise coupling for `k` classes whose pairs (i < j,
/// lexicographic) give the columns of `pairwise` (positive favours i). Shared
/// with the onnxruntime path, whose kernel computes the same iteration
/// (docs/ONNX_ML.md §3).
// One function of ~90 lines on purpose: it is libsvm's
// multiclass_probability unrolled, and its state (p, Qp, pQp, the stop flag)
// threads through every statement in libsvm's order; split, that order
// would be spread over helpers passing five values back and forth.
pub fn coupled_probabilities(
    g: &mut Graph,
    pairwise: Value,
    k: usize,
    pairs: &[(usize, usize)],
    platt: &PlattParameters,
) -> Value {
    let r = platt_probability(g, pairwise, platt);
    let one = g.scalar("one", 1.0);
    let s = g.sub(one, r);

    // Q, flattened [N, k·k], its rows and its diagonal.
    let sc = scatter(k, pairs);
    let rr = g.mul(r, r);
    let ss = g.mul(s, s);
    let rs = g.mul(r, s);
    let d_r = g.constant("coupling_scatter_r2", sc.r_squared.into_dyn());
    let d_s = g.constant("coupling_scatter_s2", sc.s_squared.into_dyn());
    let d_x = g.constant("coupling_scatter_cross", sc.cross.into_dyn());
    let q_r = g.matmul(rr, d_r);
    let q_s = g.matmul(ss, d_s);
    let q_x = g.matmul(rs, d_x);
    let q = g.add(q_r, q_s);
    let q = g.add(q, q_x);
    let q = g.rename(q, "coupling_q");
    let q3 = g.reshape(q, &[-1, k as i64, k as i64]);
    let diag_sel = g.constant(
        "coupling_diagonal",
        selector(k, k, |c| c * k + c).into_dyn(),
    );
    let q_diag = g.matmul(q, diag_sel);
    let mut q_rows = Vec::with_capacity(k);
    let mut units = Vec::with_capacity(k);
    let mut unit_rows = Vec::with_capacity(k);
    for t in 0..k {
        let sel = g.constant("coupling_row", selector(k, k, |c| t * k + c).into_dyn());
        q_rows.push(g.matmul(q, sel));
        let mut e_t = Array2::<f64>::zeros((k, 1));
        e_t[[t, 0]] = 1.0;
        units.push(g.constant("unit_column", e_t.clone().into_dyn()));
        unit_rows.push(g.constant("unit_row", e_t.reversed_axes().into_dyn()));
    }
    let q_tt: Vec<Value> = units.iter().map(|&u| g.matmul(q_diag, u)).collect();

    // Start: p = 1/k, not done.
    let zero = g.scalar("zero", 0.0);
    let blank = g.mul(q_diag, zero);
    let uniform = g.scalar("uniform", 1.0 / k as f64);
    let mut p = g.add(blank, uniform);
    let mut done = g.matmul(blank, units[0]);
    let eps = g.scalar("coupling_eps", 0.005 / k as f64);
    let two = g.scalar("two", 2.0);

    for _ in 0..COUPLING_ITERATIONS {
        // Recompute Qp and pQp from scratch, then the stopping test.
        let p3 = g.reshape(p, &[-1, k as i64, 1]);
        let qp3 = g.matmul(q3, p3);
        let mut qp = g.reshape(qp3, &[-1, k as i64]);
        let p_qp = g.mul(p, qp);
        let mut pqp = g.reduce_sum(p_qp, &[1], true);
        let gap = g.sub(qp, pqp);
        let gap = g.abs(gap);
        let max_error = g.reduce_max(gap, &[1], true);
        let converged = g.less(max_error, eps);
        let float = g.float.elem();
        let converged = g.cast(converged, float);
        done = g.max(done, converged);
        let active = g.sub(one, done);
        for t in 0..k {
            let qp_t = g.matmul(qp, units[t]);
            let num = g.sub(pqp, qp_t);
            let diff = g.div(num, q_tt[t]);
            let diff = g.mul(diff, active);
            let step = g.mul(diff, unit_rows[t]);
            p = g.add(p, step);
            let one_plus = g.add(one, diff);
            // pQp ← (pQp + δ(δ·Q_tt + 2·Qp_t)) / (1+δ) / (1+δ)
            let dq = g.mul(diff, q_tt[t]);
            let twice = g.mul(two, qp_t);
            let inner = g.add(dq, twice);
            let inner = g.mul(diff, inner);
            let sum = g.add(pqp, inner);
            let once = g.div(sum, one_plus);
            pqp = g.div(once, one_plus);
            // Qp ← (Qp + δ·Q[t,:]) / (1+δ);  p ← p / (1+δ)
            let dr = g.mul(diff, q_rows[t]);
            let qp_sum = g.add(qp, dr);
            qp = g.div(qp_sum, one_plus);
            p = g.div(p, one_plus);
        }
    }
    g.rename(p, "coupled_probabilities")
}

/// SGDClassifier(loss='log_loss')'s `predict_proba` (docs/SEMANTICS_ADDENDUM.md
/// "SGD") for `k` classes, from decision values [N, 1] (two classes) or
/// [N, k]: the logistic `1 / (1 + e^{−d})` of each column; binary
/// `[1 − p, p]`, else each row divided by its sum (a row of zeros becomes
/// uniform).
pub fn logistic_ovr(g: &mut Graph, dec: Value, k: usize) -> Value {
    let minus_one = g.scalar("minus_one", -1.0);
    let z = g.mul(dec, minus_one);
    let p = one_over_one_plus_exp(g, z);
    let out = ovr_from_positive(g, p, k);
    g.rename(out, "logistic_probabilities")
}

/// SGDClassifier(loss='modified_huber')'s `predict_proba` for `k` classes,
/// from decision values [N, 1] (two classes) or [N, k]:
/// `(clip(d, −1, 1) + 1) / 2` per column; binary `[1 − p, p]`, else each
/// row divided by its sum (a row of zeros, every d ≤ −1, becomes uniform).
pub fn modified_huber_ovr(g: &mut Graph, dec: Value, k: usize) -> Value {
    let lo = g.scalar("minus_one", -1.0);
    let one = g.scalar("one", 1.0);
    let half = g.scalar("half", 0.5);
    let clipped = g.max(dec, lo);
    let clipped = g.min(clipped, one);
    let shifted = g.add(clipped, one);
    // Halving is exact, as scikit-learn's division by 2.
    let p = g.mul(shifted, half);
    let out = ovr_from_positive(g, p, k);
    g.rename(out, "modified_huber_probabilities")
}

/// scikit-learn's one-vs-rest probabilities from each class's positive
/// probability `p` (all ≥ 0): for two classes `[1 − p, p]`; otherwise
/// `p / Σp` per row, except that a row summing to exactly 0 becomes `1/k`
/// each. The graph computes `(p + z) / (Σp + k·z)` with `z` = 1 on such rows
/// and 0 elsewhere: adding zeros leaves the other rows' division exact.
fn ovr_from_positive(g: &mut Graph, p: Value, k: usize) -> Value {
    if k == 2 {
        let spread = g.constant(
            "ovr_binary_spread",
            ndarray::arr2(&[[-1.0, 1.0]]).into_dyn(),
        );
        let offset = g.constant("ovr_binary_offset", ndarray::arr1(&[1.0, 0.0]).into_dyn());
        // One product by ±1 per entry; −p + 1 rounds as 1 − p.
        let signed = g.matmul(p, spread);
        return g.add(signed, offset);
    }
    let sum = g.reduce_sum(p, &[1], true);
    let zero = g.scalar("zero", 0.0);
    let positive = g.greater(sum, zero);
    let all_zero = g.not(positive);
    let float = g.float.elem();
    let z = g.cast(all_zero, float);
    let numerator = g.add(p, z);
    let k = g.scalar("class_count", k as f64);
    let kz = g.mul(z, k);
    let denominator = g.add(sum, kz);
    g.div(numerator, denominator)
}
