//! Decision values: `F = K·W + b` (§1.3), or `X·coef_ᵀ + b` for the linear
//! kernel (§1.8).

use super::kernel::kernel_block;
use crate::graph::{Graph, Value};
use crate::model::{Kernel, SvmModel};
use ndarray::{Array1, Array2, Axis};

/// Builds the decision values: N×1 in scikit-learn's public sign for binary
/// models (§1.4), N×P one-vs-one values in libsvm's sign otherwise (§1.3).
pub fn decision_values(g: &mut Graph, x: Value, model: &SvmModel) -> Value {
    let (weights, bias) = pair_coefficients(model);
    let out = if *model.kernel() == Kernel::Linear {
        // Collapse Σ_s w_s (x·s) into x·(Σ_s w_s s): one MatMul + Add (§1.8).
        let coef_t = model.support_vectors().t().dot(&weights);
        let coef_t = g.constant("coef_t", coef_t.into_dyn());
        let dot = g.matmul(x, coef_t);
        let bias = g.constant("intercept", bias.into_dyn());
        g.add(dot, bias)
    } else {
        let k = kernel_block(g, x, model);
        let w = g.constant("dual_coef_pairs", weights.into_dyn());
        let kw = g.matmul(k, w);
        let bias = g.constant("intercept", bias.into_dyn());
        g.add(kw, bias)
    };
    g.rename(out, "decision_values")
}

/// Per-output weights (S×P) and biases (P). Binary models use the public
/// `dual_coef_`/`intercept_` directly, so positive means `classes_[1]`.
fn pair_coefficients(model: &SvmModel) -> (Array2<f64>, Array1<f64>) {
    if model.n_classes() == 2 {
        let w = model.dual_coef().row(0).to_owned().insert_axis(Axis(1));
        (w, model.intercept().clone())
    } else {
        (model.pair_weights(), model.libsvm_intercept())
    }
}
