//! Nystroem: the kernel against fitted basis rows, times the fitted
//! normalization, `K(x, components_) · normalization_ᵀ`. Changes the number
//! of features from the basis rows' width to their count.

use super::kernel::Kernel;
use super::ModelError;
use ndarray::{Array2, Axis};

/// A fitted `sklearn.kernel_approximation.Nystroem` with a kernel svm2onnx
/// has (rbf, poly, sigmoid, linear), its parameters resolved as
/// `pairwise_kernels` resolves them (gamma `None` → 1/n_features, coef0
/// `None` → 1, degree `None` → 3).
#[derive(Debug, Clone, PartialEq)]
pub struct Nystroem {
    /// The kernel with its resolved parameters.
    pub kernel: Kernel,
    /// `components_`, n_components × n_features (the basis rows).
    pub components: Array2<f64>,
    /// `normalization_`, n_components × n_components.
    pub normalization: Array2<f64>,
}

impl Nystroem {
    /// Input width (the basis rows' width).
    pub fn n_in(&self) -> usize {
        self.components.ncols()
    }

    /// Output width (`n_components`).
    pub fn n_out(&self) -> usize {
        self.components.nrows()
    }

    /// A one-line description for `inspect`.
    pub fn describe(&self) -> String {
        format!(
            "Nystroem(kernel='{}', n_components={})",
            self.kernel.name(),
            self.n_out()
        )
    }

    /// Checks shapes against the input width `n_in`, finiteness and the
    /// kernel's parameters; returns the output width.
    pub(crate) fn check(
        &self,
        field: &dyn Fn(&str) -> String,
        n_in: usize,
    ) -> Result<usize, ModelError> {
        let (m, d) = self.components.dim();
        if d != n_in {
            return Err(ModelError::new(
                field("components"),
                format!("has {d} columns, the step receives {n_in} features"),
            ));
        }
        if m == 0 {
            return Err(ModelError::new(field("components"), "has no rows"));
        }
        let finite = |name: &str, a: &Array2<f64>| -> Result<(), ModelError> {
            let w = a.ncols();
            match a.iter().position(|v| !v.is_finite()) {
                Some(i) => Err(ModelError::new(
                    format!("{}[{}][{}]", field(name), i / w, i % w),
                    "is not a finite number",
                )),
                None => Ok(()),
            }
        };
        finite("components", &self.components)?;
        if self.normalization.dim() != (m, m) {
            let (r, c) = self.normalization.dim();
            return Err(ModelError::new(
                field("normalization"),
                format!("is {r}×{c}, expected {m}×{m} (one row and column per component)"),
            ));
        }
        finite("normalization", &self.normalization)?;
        self.kernel
            .check()
            .map_err(|e| ModelError::new(field(&e.field), e.problem))?;
        Ok(m)
    }

    /// Per row, the size of what the step rounds
    /// (`Preprocess::magnitude`): each kernel value's rounding, `|K|` plus
    /// its slope times its argument's magnitude (`γ(‖x‖² + ‖s‖²)` for RBF's
    /// expansion, `γ‖x‖‖s‖` for the dot products), carried through
    /// `|normalization|ᵀ`, where an ill-conditioned basis amplifies it.
    pub(crate) fn magnitude(&self, x: &Array2<f64>) -> Vec<f64> {
        let s = &self.components;
        let xx = x.map_axis(Axis(1), |r| r.dot(&r));
        let ss = s.map_axis(Axis(1), |r| r.dot(&r));
        let k = {
            // The kernel values, from the same formulas as `apply`.
            let plain = Nystroem {
                kernel: self.kernel,
                components: s.clone(),
                normalization: Array2::eye(s.nrows()),
            };
            plain.apply(x)
        };
        let m = Array2::from_shape_fn(k.dim(), |(i, j)| {
            let kv = k[[i, j]];
            let slope_times_arg = match self.kernel {
                Kernel::Linear => (xx[i] * ss[j]).sqrt(),
                Kernel::Rbf { gamma } => kv.abs() * gamma * (xx[i] + ss[j]),
                Kernel::Poly {
                    gamma,
                    coef0,
                    degree,
                } => {
                    let base = (xx[i] * ss[j]).sqrt() * gamma + coef0.abs();
                    f64::from(degree) * base.powi(degree as i32)
                }
                Kernel::Sigmoid { gamma, coef0 } => {
                    (1.0 - kv * kv) * ((xx[i] * ss[j]).sqrt() * gamma + coef0.abs())
                }
            };
            kv.abs() + slope_times_arg
        })
        .dot(&self.normalization.mapv(f64::abs).t());
        super::magnitude::row_norms(m.view())
    }

    /// Applies the step in f64 with `pairwise_kernels`' formulas: RBF from
    /// `euclidean_distances`' expansion `‖x‖² − 2x·s + ‖s‖²` (summed in
    /// that order: `−2·dot`, then `+ ‖x‖²`, then `+ ‖s‖²`), clipped at 0,
    /// times `−gamma`, exponentiated; poly `(x·s·gamma + coef0)^degree`;
    /// sigmoid `tanh(x·s·gamma + coef0)`; then `· normalizationᵀ`.
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let s = &self.components;
        let dot = x.dot(&s.t());
        let k = match self.kernel {
            Kernel::Linear => dot,
            Kernel::Rbf { gamma } => {
                let xx = x.map_axis(Axis(1), |r| r.dot(&r));
                let ss = s.map_axis(Axis(1), |r| r.dot(&r));
                let mut k = dot * -2.0;
                for ((i, j), v) in k.indexed_iter_mut() {
                    *v = ((*v + xx[i]) + ss[j]).max(0.0) * -gamma;
                    *v = v.exp();
                }
                k
            }
            Kernel::Poly {
                gamma,
                coef0,
                degree,
            } => dot.mapv(|v| (v * gamma + coef0).powi(degree as i32)),
            Kernel::Sigmoid { gamma, coef0 } => dot.mapv(|v| (v * gamma + coef0).tanh()),
        };
        k.dot(&self.normalization.t())
    }

    /// Input rows for validation probes placed in the feature space: the
    /// map is not invertible, so each row is the mean of the basis rows
    /// weighted by the row's |values| (rows near the data), or the first
    /// basis row when they are all 0.
    pub fn invert(&self, z: &Array2<f64>) -> Array2<f64> {
        let mut x = Array2::zeros((z.nrows(), self.n_in()));
        for (r, row) in z.axis_iter(Axis(0)).enumerate() {
            let total: f64 = row.iter().map(|v| v.abs()).sum();
            if total > 0.0 && total.is_finite() {
                for (c, v) in row.iter().enumerate() {
                    x.row_mut(r)
                        .scaled_add(v.abs() / total, &self.components.row(c));
                }
            } else {
                x.row_mut(r).assign(&self.components.row(0));
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{check_steps, Preprocess};
    use ndarray::array;

    fn nystroem(kernel: Kernel) -> Nystroem {
        Nystroem {
            kernel,
            components: array![[0.0, 1.0], [2.0, -1.0]],
            normalization: array![[1.0, 0.5], [0.0, 2.0]],
        }
    }

    #[test]
    fn apply_is_the_kernel_times_the_normalization() {
        let x = array![[1.0, 1.0]];
        let z = nystroem(Kernel::Rbf { gamma: 0.5 }).apply(&x);
        // ‖x − s‖² = 1 and 5.
        let (k0, k1) = ((-0.5f64).exp(), (-2.5f64).exp());
        assert!((z[[0, 0]] - (k0 + 0.5 * k1)).abs() < 1e-15);
        assert!((z[[0, 1]] - 2.0 * k1).abs() < 1e-15);
        let z = nystroem(Kernel::Linear).apply(&x);
        assert_eq!(z, array![[1.0 + 0.5, 2.0]]);
        let z = nystroem(Kernel::Poly {
            gamma: 1.0,
            coef0: 1.0,
            degree: 2,
        })
        .apply(&x);
        assert_eq!(z, array![[4.0 + 0.5 * 4.0, 8.0]]);
        assert_eq!(nystroem(Kernel::Linear).invert(&z).dim(), (1, 2));
    }

    fn field_at_fault(step: Nystroem, estimator_width: usize) -> String {
        check_steps(&[Preprocess::Nystroem(step)], estimator_width)
            .unwrap_err()
            .field
    }

    #[test]
    fn invariants_name_the_field_at_fault() {
        let ok = nystroem(Kernel::Rbf { gamma: 0.5 });
        assert_eq!(check_steps(&[Preprocess::Nystroem(ok.clone())], 2), Ok(()));
        assert_eq!(field_at_fault(ok.clone(), 3), "preprocessing[0]");
        let mut s = ok.clone();
        s.normalization = array![[1.0]];
        assert_eq!(field_at_fault(s, 2), "preprocessing[0].normalization");
        let mut s = ok.clone();
        s.normalization[[1, 0]] = f64::NAN;
        assert_eq!(field_at_fault(s, 2), "preprocessing[0].normalization[1][0]");
        let mut s = ok.clone();
        s.components[[0, 1]] = f64::INFINITY;
        assert_eq!(field_at_fault(s, 2), "preprocessing[0].components[0][1]");
        let mut s = ok;
        s.kernel = Kernel::Rbf { gamma: -1.0 };
        assert_eq!(field_at_fault(s, 2), "preprocessing[0].gamma");
    }
}
