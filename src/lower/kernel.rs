//! The N×S kernel block K(X, SV) for the non-linear kernels (§1.2).

use crate::graph::{Attribute, FloatType, Graph, TransposedAffine, Value};
use crate::ir::Kernel;
use ndarray::{Array1, Array2, Axis};
use std::sync::Arc;

/// Builds `K[n, c] = kernel(x_n, sv_order[c])`: column `c` is support
/// vector `order[c]` (the summation order, `summation`), or `c` without an
/// order. The linear kernel never reaches here: it collapses into the
/// `coef_` form (see `decision`).
pub fn kernel_block(
    g: &mut Graph,
    x: Value,
    kernel: &Kernel,
    svs: &Arc<Array2<f64>>,
    order: Option<&[usize]>,
) -> Value {
    match *kernel {
        Kernel::Linear => {
            let svt = TransposedAffine::transpose(svs).in_order(order);
            let svt = g.constant_transposed("support_vectors_t", svt);
            g.matmul(x, svt)
        }
        Kernel::Rbf { gamma } => rbf(g, x, svs, order, gamma),
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => {
            let base = scaled_dot(g, x, svs, order, gamma, coef0);
            powi(g, base, degree)
        }
        Kernel::Sigmoid { gamma, coef0 } => {
            let base = scaled_dot(g, x, svs, order, gamma, coef0);
            g.tanh(base)
        }
    }
}

/// `gamma · (x·s) + coef0`, libsvm's operation order (the onnxruntime
/// rewrite relies on it too: with γ folded into the support vectors, float32
/// degree-3 kernels drift from onnxruntime by 4e-5).
fn scaled_dot(
    g: &mut Graph,
    x: Value,
    svs: &Arc<Array2<f64>>,
    order: Option<&[usize]>,
    gamma: f64,
    coef0: f64,
) -> Value {
    let svt = TransposedAffine::transpose(svs).in_order(order);
    let svt = g.constant_transposed("support_vectors_t", svt);
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

/// The support-vector mean μ rounded to the graph precision, and each
/// ‖s − μ‖² summed left to right in f64: the offline half of the centred
/// expansion shared by [`rbf`] and [`squared_distances`].
fn centring(svs: &Array2<f64>, float: FloatType) -> (Array1<f64>, Array1<f64>) {
    let mean: Array1<f64> = svs
        .mean_axis(Axis(0))
        .expect("at least one support vector")
        .mapv(|m| float.round(m));
    let sv_norms: Array1<f64> = svs
        .outer_iter()
        .map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(v, m)| (v - m) * (v - m))
                .sum::<f64>()
        })
        .collect();
    (mean, sv_norms)
}

/// The in-graph half: `x − μ` [N, d] and its squared norm ‖x − μ‖² [N, 1].
fn centred_input(g: &mut Graph, x: Value, mean: Array1<f64>) -> (Value, Value) {
    let mu = g.constant("support_vector_mean", mean.into_dyn());
    let xc = g.sub(x, mu);
    let xc = g.rename(xc, "x_centred");
    let xc_sq = g.mul(xc, xc);
    let x_norms = g.reduce_sum(xc_sq, &[1], true);
    (xc, x_norms)
}

/// RBF through the centred expansion (§6):
/// ‖x−s‖² = ‖x−μ‖² − 2(x−μ)·(s−μ) + ‖s−μ‖², with μ the support-vector mean
/// rounded to the graph precision first, so the in-graph `x − μ` and the
/// offline `s − μ` use the same μ. Centring removes the cancellation that
/// makes the plain expansion useless on unscaled data.
///
/// The whole exponent −γ‖x−s‖² comes out of ONE MatMul: the input row is
/// augmented with its own squared norm and a 1, `[x−μ, ‖x−μ‖², 1]`, and the
/// weights with matching rows, `[2γ(s−μ); −γ; −γ‖s−μ‖²]`. The only
/// elementwise pass over the N×S block is the Exp, which keeps the graph at
/// matrix-multiply speed (issue 6). The bias rides in the product rather
/// than in an Add: onnxruntime fuses MatMul+Add into a Gemm that first
/// fills the N×S output with the bias and then reads it back, ~10 % of the
/// product's time at d = 300. There is no clamp at 0: a squared distance that rounds
/// below 0 is off by the same few ulps of ‖x−μ‖²+‖s−μ‖² as any other
/// distance, and a clamp would cost a full N×S pass.
fn rbf(
    g: &mut Graph,
    x: Value,
    svs: &Arc<Array2<f64>>,
    order: Option<&[usize]>,
    gamma: f64,
) -> Value {
    let (mean, sv_norms) = centring(svs, g.float);
    let sv_norms = match order {
        Some(order) => sv_norms.select(Axis(0), order),
        None => sv_norms,
    };
    // Never materialising a centred copy: the weight matrix below is
    // generated from the shared support vectors while it is written.
    let n_sv = svs.nrows();
    let bias = sv_norms.mapv(|n| -gamma * n);
    // [2γ(s−μ); −γ; −γ‖s−μ‖²], element by element 2γ·(s_j − μ_j).
    let weights = TransposedAffine {
        source: Arc::clone(svs),
        scale: Some(2.0 * gamma),
        shift: Some(mean.clone()),
        extra_rows: vec![Array1::from_elem(n_sv, -gamma), bias],
        order: order.map(Arc::from),
    };

    let (xc, x_norms) = centred_input(g, x, mean);
    // The column of ones, N×1 for any batch size without shape ops (which
    // not every runtime folds): ‖x−μ‖²·0 + 1. Only a non-finite input row
    // makes it NaN, and such a row's distances are NaN already.
    let zero = g.scalar("zero", 0.0);
    let one = g.scalar("one", 1.0);
    let zeros = g.mul(x_norms, zero);
    let ones = g.add(zeros, one);
    let augmented = g.op(
        "Concat",
        &[xc, x_norms, ones],
        vec![Attribute::Int("axis", 1)],
    );
    let w = g.constant_transposed("rbf_weights", weights);
    let exponent = g.matmul(augmented, w);
    let exponent = g.rename(exponent, "neg_gamma_squared_distance");
    let k = g.exp(exponent);
    g.rename(k, "kernel")
}

/// ‖x − s‖² for every row and support vector, N×S, by the same centred
/// expansion as [`rbf`] but as a separate tensor, clamped at 0: the
/// ONNX-ML rewrite needs the distances themselves to follow onnxruntime's
/// kernel (docs/ONNX_ML.md).
pub(crate) fn squared_distances(g: &mut Graph, x: Value, svs: &Array2<f64>) -> Value {
    let (mean, sv_norms) = centring(svs, g.float);
    // −2·(s−μ)ᵀ: the factor 2 is exact in binary floating point.
    let cross_weights = Array2::from_shape_fn((svs.ncols(), svs.nrows()), |(j, s)| {
        -2.0 * (svs[[s, j]] - mean[j])
    });
    let (xc, x_norms) = centred_input(g, x, mean);
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
