//! The N×S kernel block K(X, SV) for the non-linear kernels (§1.2).

use crate::graph::{Graph, Value};
use crate::model::Kernel;
use ndarray::Array2;
use ndarray::{Array1, Axis};

/// Builds `K[n, s] = kernel(x_n, sv_s)`. The linear kernel never reaches here:
/// it collapses into the `coef_` form (see `decision`).
pub fn kernel_block(g: &mut Graph, x: Value, kernel: &Kernel, svs: &Array2<f64>) -> Value {
    match *kernel {
        Kernel::Linear => {
            let svt = g.constant("support_vectors_t", svs.t().to_owned().into_dyn());
            g.matmul(x, svt)
        }
        Kernel::Rbf { gamma } => rbf(g, x, svs, gamma),
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => {
            let base = scaled_dot(g, x, svs, gamma, coef0);
            powi(g, base, degree)
        }
        Kernel::Sigmoid { gamma, coef0 } => {
            let base = scaled_dot(g, x, svs, gamma, coef0);
            g.tanh(base)
        }
    }
}

/// `gamma · (x·s) + coef0`, libsvm's operation order.
pub(crate) fn scaled_dot(
    g: &mut Graph,
    x: Value,
    svs: &Array2<f64>,
    gamma: f64,
    coef0: f64,
) -> Value {
    let svt = g.constant("support_vectors_t", svs.t().to_owned().into_dyn());
    let dot = g.matmul(x, svt);
    let gamma = g.scalar("gamma", gamma);
    let scaled = g.mul(dot, gamma);
    // Full width [S], not a [1] scalar: onnx2tf folds this Add into a TFLite
    // FULLY_CONNECTED bias, which must have one value per output column.
    let coef0 = g.constant("coef0", Array1::from_elem(svs.nrows(), coef0).into_dyn());
    g.add(scaled, coef0)
}

/// libsvm's `powi` as a chain of Mul nodes (repeated squaring), so the graph
/// performs the same multiplications as libsvm and needs no Pow op (§1.2).
pub(crate) fn powi(g: &mut Graph, base: Value, degree: u32) -> Value {
    let mut result: Option<Value> = None;
    let mut square = base;
    let mut t = degree;
    while t > 0 {
        if t % 2 == 1 {
            result = Some(match result {
                None => square,
                Some(r) => g.mul(r, square),
            });
        }
        t /= 2;
        if t > 0 {
            square = g.mul(square, square);
        }
    }
    result.expect("degree >= 1 is a model invariant")
}

/// RBF through the centred expansion (§6):
/// ‖x−s‖² = ‖x−μ‖² − 2(x−μ)·(s−μ) + ‖s−μ‖², with μ the support-vector mean
/// rounded to the graph precision first, so the in-graph `x − μ` and the
/// offline `s − μ` use the same μ. Centring removes the cancellation that
/// makes the plain expansion useless on unscaled data; the sum is clamped at
/// 0 before the Exp.
fn rbf(g: &mut Graph, x: Value, svs: &Array2<f64>, gamma: f64) -> Value {
    let sq_dist = squared_distances(g, x, svs);
    let neg_gamma = g.scalar("neg_gamma", -gamma);
    let scaled = g.mul(sq_dist, neg_gamma);
    let k = g.exp(scaled);
    g.rename(k, "kernel")
}

/// ‖x − s‖² for every row and support vector, N×S, by the centred expansion
/// described on [`rbf`].
pub(crate) fn squared_distances(g: &mut Graph, x: Value, svs: &Array2<f64>) -> Value {
    let float = g.float;
    let mean: Array1<f64> = svs
        .mean_axis(Axis(0))
        .expect("at least one support vector")
        .mapv(|m| float.round(m));
    let centred = svs - &mean;
    let sv_norms = centred.map_axis(Axis(1), |row| row.iter().map(|v| v * v).sum::<f64>());
    // −2·(s−μ)ᵀ: the factor 2 is exact in binary floating point.
    let cross_weights = centred.t().mapv(|v| -2.0 * v);

    let mu = g.constant("support_vector_mean", mean.into_dyn());
    let xc = g.sub(x, mu);
    let xc = g.rename(xc, "x_centred");
    let xc_sq = g.mul(xc, xc);
    let x_norms = g.reduce_sum(xc_sq, &[1], true);
    let w = g.constant(
        "centred_support_vectors_t_x_minus2",
        cross_weights.into_dyn(),
    );
    let cross = g.matmul(xc, w);
    let sv_norms = g.constant(
        "centred_support_vector_norms",
        sv_norms.insert_axis(Axis(0)).into_dyn(),
    );
    let partial = g.add(x_norms, cross);
    let sq_dist = g.add(partial, sv_norms);
    let sq_dist = g.relu(sq_dist);
    g.rename(sq_dist, "squared_distance")
}
