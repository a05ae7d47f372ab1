//! The float32 error model: per row, how far a float32 graph's decision
//! value may honestly lie from the f64 reference (docs/PRECISION.md,
//! "The float32 bound").
//!
//! A float32 graph rounds three things the f64 reference does not: its
//! input (and the preprocessing steps' arithmetic), every kernel value
//! (the argument's norms and cross-products, then the exponential or
//! power), and the dual sum over thousands of terms. To first order each
//! rounding contributes unit roundoff times the magnitude it acts on, so the
//! error float32 explains on row x is
//!
//! ```text
//! SAFETY · [ Σ_j |α_j|·δK_j(x) + u·(Σ_j |α_j·K_j(x)| + |b|) ]
//! δK_j(x) = u·|K_j| + |K'_j|·δarg_j(x)
//! ```
//!
//! where `δarg_j` is the rounding of the kernel's argument: for RBF (which
//! the graph computes through the centred expansion, §6)
//! `γ·(u·(‖x−μ‖² + ‖s_j−μ‖²) + 2‖x−s_j‖·δx)`, and for the dot-product
//! kernels `γ·‖s_j‖·(u·‖x‖ + δx) + u·|coef0|`; `δx` is the input's own error (its
//! rounding to float32, carried through the pipeline's steps).
//!
//! `SAFETY` stands for the growth of rounding errors along a sum. The worst
//! case grows with the number of terms (n·u), which for 8,458 support vectors
//! would explain errors 10⁴ times larger than any measured and so catch
//! nothing; rounding errors of mixed sign grow like √n and the graph's
//! interleaved dual sum (`lower::summation`) keeps partial sums small. The
//! bound is therefore a first-order, statistical one: `tests/f32_bound.rs`
//! holds every float32 fixture's error under it, and a coefficient perturbed
//! by 1e-3 far above it.

use crate::ir::Kernel;
use ndarray::{Array1, ArrayView1, ArrayView2};

/// Unit roundoff of float32, 2⁻²⁴.
pub const UNIT_ROUNDOFF_F32: f64 = f32::EPSILON as f64 / 2.0;

/// The growth factor of rounding errors along the graph's sums (see the
/// module documentation).
pub const SAFETY: f64 = 8.0;

/// Per support vector, the error of its kernel value in float32.
#[derive(Debug, Clone)]
pub(crate) struct KernelErrors {
    kernel: Kernel,
    /// μ, the support vectors' mean (RBF's centre, §6); empty otherwise.
    centre: Array1<f64>,
    /// ‖s_j − μ‖² for RBF, ‖s_j‖ for the dot-product kernels.
    sv_norms: Vec<f64>,
}

impl KernelErrors {
    /// The per-model part of the error model.
    pub(crate) fn new(kernel: &Kernel, svs: ArrayView2<f64>) -> KernelErrors {
        match kernel {
            Kernel::Rbf { .. } => {
                let centre = svs
                    .mean_axis(ndarray::Axis(0))
                    .unwrap_or_else(|| Array1::zeros(svs.ncols()));
                let sv_norms = svs
                    .outer_iter()
                    .map(|s| squared_distance(s, centre.view()))
                    .collect();
                KernelErrors {
                    kernel: *kernel,
                    centre,
                    sv_norms,
                }
            }
            _ => KernelErrors {
                kernel: *kernel,
                centre: Array1::zeros(0),
                sv_norms: svs.outer_iter().map(|s| s.dot(&s).sqrt()).collect(),
            },
        }
    }

    /// `out[j] = δK_j(x)` for one row, given the kernel values `values` and
    /// the sums they were finished from (`‖x−s‖²` for RBF, `x·s` otherwise),
    /// and the row's input error `dx` (a norm).
    pub(crate) fn row(
        &self,
        x: ArrayView1<f64>,
        dx: f64,
        values: &[f64],
        sums: &[f64],
        out: &mut [f64],
    ) {
        let u = UNIT_ROUNDOFF_F32;
        match self.kernel {
            Kernel::Rbf { gamma } => {
                let x_norm = squared_distance(x, self.centre.view());
                for (((o, &k), &sum), &s_norm) in
                    out.iter_mut().zip(values).zip(sums).zip(&self.sv_norms)
                {
                    let arg = gamma * (u * (x_norm + s_norm) + 2.0 * sum.max(0.0).sqrt() * dx);
                    *o = k * (u + arg);
                }
            }
            Kernel::Linear => {
                let x_norm = x.dot(&x).sqrt();
                for ((o, &k), &s_norm) in out.iter_mut().zip(values).zip(&self.sv_norms) {
                    *o = u * k.abs() + s_norm * (u * x_norm + dx);
                }
            }
            Kernel::Poly {
                gamma,
                coef0,
                degree,
            } => {
                let x_norm = x.dot(&x).sqrt();
                for (((o, &k), &sum), &s_norm) in
                    out.iter_mut().zip(values).zip(sums).zip(&self.sv_norms)
                {
                    let base = gamma * sum + coef0;
                    let slope = f64::from(degree)
                        * super::kernel::powi(base.abs(), degree.saturating_sub(1));
                    let arg = gamma * s_norm * (u * x_norm + dx) + u * coef0.abs();
                    *o = u * k.abs() + slope * arg;
                }
            }
            Kernel::Sigmoid { gamma, coef0 } => {
                let x_norm = x.dot(&x).sqrt();
                for ((o, &k), &s_norm) in out.iter_mut().zip(values).zip(&self.sv_norms) {
                    let slope = 1.0 - k * k;
                    let arg = gamma * s_norm * (u * x_norm + dx) + u * coef0.abs();
                    *o = u * k.abs() + slope * arg;
                }
            }
        }
    }
}

/// The bound of one dual sum `Σ_j α_j·K_j + b` over `terms`: `(α_j, K_j,
/// δK_j)` triples.
pub(crate) fn dual_sum_bound(terms: impl Iterator<Item = (f64, f64, f64)>, intercept: f64) -> f64 {
    let (mut magnitude, mut kernel_error) = (intercept.abs(), 0.0);
    for (a, k, dk) in terms {
        magnitude += (a * k).abs();
        kernel_error += a.abs() * dk;
    }
    SAFETY * (kernel_error + UNIT_ROUNDOFF_F32 * magnitude)
}

/// The bound of an affine output `w·x + b` whose input carries error `dx`.
pub(crate) fn affine_bound(w: ArrayView1<f64>, x: ArrayView1<f64>, intercept: f64, dx: f64) -> f64 {
    let mut magnitude = intercept.abs();
    let mut w_norm = 0.0;
    for (a, b) in w.iter().zip(x) {
        magnitude += (a * b).abs();
        w_norm += a * a;
    }
    SAFETY * (UNIT_ROUNDOFF_F32 * magnitude + w_norm.sqrt() * dx)
}

/// The bound of scikit-learn's ovr scores (§1.5) given the pairwise values
/// and their bounds: each confidence term moves by at most a third of the
/// pairwise errors it sums, a pairwise value within its bound of zero may
/// flip a vote (a whole unit), and the graph rounds the confidence sum and
/// the score itself (votes up to k − 1 plus the squashed confidence).
pub(crate) fn ovr_bound(pairwise: ArrayView1<f64>, bounds: ArrayView1<f64>, k: usize) -> Vec<f64> {
    let mut out = vec![0.0; k];
    let mut confidence = vec![0.0; k];
    let mut p = 0;
    for i in 0..k {
        for j in i + 1..k {
            let mut b = bounds[p] / 3.0;
            if pairwise[p].abs() <= bounds[p] {
                b += 1.0;
            }
            out[i] += b;
            out[j] += b;
            confidence[i] += pairwise[p].abs();
            confidence[j] += pairwise[p].abs();
            p += 1;
        }
    }
    for (o, c) in out.iter_mut().zip(confidence) {
        *o += SAFETY * UNIT_ROUNDOFF_F32 * (k as f64 + c);
    }
    out
}

/// Per row, the error of the input as the estimator sees it: float32
/// rounding of each feature, `u·‖x‖`.
pub(crate) fn input_rounding(x: ArrayView2<f64>) -> Vec<f64> {
    crate::ir::row_norms(x)
        .into_iter()
        .map(|n| UNIT_ROUNDOFF_F32 * n)
        .collect()
}

fn squared_distance(a: ArrayView1<f64>, b: ArrayView1<f64>) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}
