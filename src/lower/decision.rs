//! Decision values: `F = K·W + b` (§1.3), or `X·coef_ᵀ + b` for the linear
//! kernel (§1.8).

use super::kernel::kernel_block;
use super::summation::summation_order;
use crate::graph::{FloatType, Graph, Value};
use crate::ir::Kernel;
use ndarray::{Array1, Array2, Axis};
use std::sync::Arc;

/// A linear model's decision values `X·coef_ᵀ + intercept_`, N×rows.
pub fn linear_values(
    g: &mut Graph,
    x: Value,
    coef: &Array2<f64>,
    intercept: &Array1<f64>,
) -> Value {
    let coef_t = g.constant("coef_t", coef.t().to_owned().into_dyn());
    let dot = g.matmul(x, coef_t);
    let bias = g.constant("intercept", intercept.clone().into_dyn());
    let value = g.add(dot, bias);
    g.rename(value, "decision_values")
}

/// `K(X, SV)·W + b` for any dual model, N×P.
pub fn dual_values(
    g: &mut Graph,
    x: Value,
    kernel: &Kernel,
    svs: &Arc<Array2<f64>>,
    weights: Array2<f64>,
    bias: Array1<f64>,
) -> Value {
    let out = if let Some(quadratic) = QuadraticForm::of(kernel, svs, &weights, &bias) {
        quadratic.lower(g, x)
    } else if *kernel == Kernel::Linear {
        // Collapse Σ_s w_s (x·s) into x·(Σ_s w_s s): one MatMul + Add (§1.8).
        let coef_t = svs.t().dot(&weights);
        let coef_t = g.constant("coef_t", coef_t.into_dyn());
        let dot = g.matmul(x, coef_t);
        let bias = g.constant("intercept", bias.into_dyn());
        g.add(dot, bias)
    } else {
        // A float32 graph sums the terms with their signs interleaved
        // (`summation`). A float64 graph keeps libsvm's stored order: f64
        // has the headroom, and the same order keeps its rounding closest to
        // scikit-learn's own (rbf_bin: 2.5e-13 from the reference, against
        // 1.5e-12 interleaved).
        let order = match g.float {
            FloatType::F32 => summation_order(&weights),
            FloatType::F64 => None,
        };
        let weights = match &order {
            Some(order) => weights.select(Axis(0), order),
            None => weights,
        };
        let k = kernel_block(g, x, kernel, svs, order.as_deref());
        let w = g.constant("dual_coef_pairs", weights.into_dyn());
        let kw = g.matmul(k, w);
        let bias = g.constant("intercept", bias.into_dyn());
        g.add(kw, bias)
    };
    g.rename(out, "decision_values")
}

/// A degree-2 polynomial kernel collapsed into its primal quadratic form
/// (the degree-2 analogue of `coef_`, §1.8):
/// Σ_s w_s (γ x·s + c)² = xᵀ(γ² Σ w_s s sᵀ)x + (2γc Σ w_s s)·x + c² Σ w_s.
///
/// Models with large dual coefficients (NuSVC often has |w| in the
/// thousands) cancel heavily in Σ w_s K(x, s); in float32 that cancellation
/// costs more than the tolerance. The primal coefficients are summed once,
/// offline in f64, so the graph only evaluates a well-scaled polynomial.
struct QuadraticForm {
    /// d × (P·d): column p·d + j holds A_p[:, j].
    quadratic: Array2<f64>,
    /// d × P
    linear: Array2<f64>,
    /// P
    constant: Array1<f64>,
    pairs: usize,
}

impl QuadraticForm {
    /// The primal form, when the kernel is a degree-2 polynomial and the
    /// P·d² coefficients are not much larger than the kernel form's.
    fn of(
        kernel: &Kernel,
        svs: &Array2<f64>,
        weights: &Array2<f64>,
        bias: &Array1<f64>,
    ) -> Option<QuadraticForm> {
        let Kernel::Poly {
            gamma,
            coef0,
            degree: 2,
        } = *kernel
        else {
            return None;
        };
        let (s, d) = svs.dim();
        let p = weights.ncols();
        let primal = d.checked_mul(d)?.checked_mul(p)?;
        if primal > 2 * s * (d + p) + 65_536 {
            return None;
        }
        let mut quadratic = Array2::<f64>::zeros((d, p * d));
        for pair in 0..p {
            for (sv, w) in svs.outer_iter().zip(weights.column(pair)) {
                if *w == 0.0 {
                    continue;
                }
                for i in 0..d {
                    let wi = w * sv[i];
                    for j in 0..d {
                        quadratic[[i, pair * d + j]] += wi * sv[j];
                    }
                }
            }
        }
        quadratic.mapv_inplace(|a| gamma * gamma * a);
        let linear = svs.t().dot(weights).mapv(|b| 2.0 * gamma * coef0 * b);
        let constant = weights.sum_axis(Axis(0)).mapv(|w| coef0 * coef0 * w) + bias;
        Some(QuadraticForm {
            quadratic,
            linear,
            constant,
            pairs: p,
        })
    }

    fn lower(self, g: &mut Graph, x: Value) -> Value {
        let d = self.quadratic.nrows() as i64;
        let a = g.constant("poly2_quadratic", self.quadratic.into_dyn());
        let xa = g.matmul(x, a);
        let xa = g.reshape(xa, &[-1, self.pairs as i64, d]);
        let x3 = g.reshape(x, &[-1, 1, d]);
        let terms = g.mul(xa, x3);
        let quadratic = g.reduce_sum(terms, &[2], false);
        let b = g.constant("poly2_linear", self.linear.into_dyn());
        let linear = g.matmul(x, b);
        let c = g.constant("poly2_constant", self.constant.into_dyn());
        let sum = g.add(quadratic, linear);
        g.add(sum, c)
    }
}
