//! The kernel block K(X, SV) rounded where onnxruntime stores float32
//! (docs/ONNX_ML.md §2): its SVM kernels compute K in float32 and only then
//! combine it with the coefficients. An f64 fragment computes each kernel's
//! inner product or distance in f64, rounds it to float32, applies the
//! kernel's function in float32 as onnxruntime does, and widens the result
//! again; an f32 fragment is float32 throughout.

use crate::graph::{ElemType, FloatType, Graph, Value};
use crate::lower::kernel::{powi, squared_distances};
use crate::model::Kernel;
use ndarray::Array2;

/// `v` as a float32 tensor.
fn as_f32(g: &mut Graph, v: Value) -> Value {
    match g.float {
        FloatType::F32 => v,
        FloatType::F64 => g.cast(v, ElemType::F32),
    }
}

/// A float32 tensor back at the fragment's precision.
fn widen(g: &mut Graph, v: Value) -> Value {
    match g.float {
        FloatType::F32 => v,
        FloatType::F64 => g.cast(v, ElemType::F64),
    }
}

/// K[n, s] = kernel(x_n, sv_s) as onnxruntime holds it, N×S, at the
/// fragment's precision.
pub fn kernel_values(g: &mut Graph, x: Value, kernel: &Kernel, svs: &Array2<f64>) -> Value {
    let k = kernel_float32(g, x, kernel, svs);
    let k = widen(g, k);
    g.rename(k, "kernel")
}

/// The same kernel values as a float32 tensor.
pub fn kernel_float32(g: &mut Graph, x: Value, kernel: &Kernel, svs: &Array2<f64>) -> Value {
    match *kernel {
        Kernel::Linear => float32_gemm(g, x, svs, None),
        Kernel::Poly {
            gamma,
            coef0,
            degree,
        } => {
            let base = float32_gemm(g, x, svs, Some((gamma, coef0)));
            powi(g, base, degree)
        }
        Kernel::Sigmoid { gamma, coef0 } => {
            let base = float32_gemm(g, x, svs, Some((gamma, coef0)));
            g.tanh(base)
        }
        Kernel::Rbf { gamma } => {
            // exp(−γ·d²) with γ, d² and the product in float32.
            let d2 = squared_distances(g, x, svs);
            let d2 = as_f32(g, d2);
            let neg_gamma = constant_f32(g, "neg_gamma", ndarray::arr1(&[-gamma]).into_dyn());
            let scaled = g.mul(d2, neg_gamma);
            g.exp(scaled)
        }
    }
}

/// onnxruntime's GEMM in float32: `x·s`, or `gamma·(x·s) + coef0` for the
/// poly and sigmoid kernels. The input holds float32 values already (the
/// kernels cast it first), so the Cast to float32 is exact. The large
/// terms of a polynomial kernel amplify any difference in this base, so it
/// is rounded where onnxruntime rounds it, not computed in f64.
fn float32_gemm(g: &mut Graph, x: Value, svs: &Array2<f64>, affine: Option<(f64, f64)>) -> Value {
    let x = as_f32(g, x);
    let svt = constant_f32(g, "support_vectors_t", svs.t().to_owned().into_dyn());
    let dot = g.matmul(x, svt);
    match affine {
        None => dot,
        Some((gamma, coef0)) => {
            let gamma = constant_f32(g, "gamma", ndarray::arr1(&[gamma]).into_dyn());
            let scaled = g.mul(dot, gamma);
            let coef0 = constant_f32(
                g,
                "coef0",
                ndarray::Array1::from_elem(svs.nrows(), coef0).into_dyn(),
            );
            g.add(scaled, coef0)
        }
    }
}

/// A float constant as a float32 tensor (folded by runtimes).
pub fn constant_f32(g: &mut Graph, name: &str, data: ndarray::ArrayD<f64>) -> Value {
    let c = g.constant(name, data);
    as_f32(g, c)
}
