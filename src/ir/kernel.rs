//! Kernel functions and their parameters (SVM_SEMANTICS.md §1.2).

use super::ModelError;

/// A kernel with its resolved parameters. `gamma` is scikit-learn's resolved
/// `_gamma` ('scale' and 'auto' are resolved at fit time, §1.2).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// `x·s`
    Linear,
    /// `exp(-gamma · ‖x − s‖²)`
    #[allow(missing_docs)] // gamma: scikit-learn's resolved `_gamma`
    Rbf { gamma: f64 },
    /// `(gamma · x·s + coef0)^degree`, libsvm's integer power by repeated squaring.
    #[allow(missing_docs)] // gamma, coef0, degree as scikit-learn stores them
    Poly { gamma: f64, coef0: f64, degree: u32 },
    /// `tanh(gamma · x·s + coef0)` (libsvm's sigmoid is tanh, not the logistic function).
    #[allow(missing_docs)] // gamma, coef0 as scikit-learn stores them
    Sigmoid { gamma: f64, coef0: f64 },
}

impl Kernel {
    /// scikit-learn's kernel name.
    pub fn name(&self) -> &'static str {
        match self {
            Kernel::Linear => "linear",
            Kernel::Rbf { .. } => "rbf",
            Kernel::Poly { .. } => "poly",
            Kernel::Sigmoid { .. } => "sigmoid",
        }
    }

    /// Builds a kernel from scikit-learn's name and parameters. Kernels that
    /// need the training set at prediction time are refused.
    pub fn from_parts(
        name: &str,
        gamma: f64,
        coef0: f64,
        degree: i64,
    ) -> Result<Kernel, ModelError> {
        let kernel = match name {
            "linear" => Kernel::Linear,
            "rbf" => Kernel::Rbf { gamma },
            "poly" => {
                let degree = u32::try_from(degree).map_err(|_| {
                    ModelError::new("degree", format!("{degree} is not a valid polynomial degree"))
                })?;
                Kernel::Poly { gamma, coef0, degree }
            }
            "sigmoid" => Kernel::Sigmoid { gamma, coef0 },
            "precomputed" | "callable" => {
                return Err(ModelError::new(
                    "kernel",
                    format!(
                        "'{name}' kernels are not supported: predictions need the kernel against the training set, which the model does not contain"
                    ),
                ))
            }
            other => {
                return Err(ModelError::new(
                    "kernel",
                    format!("unknown kernel '{other}' (expected linear, rbf, poly or sigmoid)"),
                ))
            }
        };
        kernel.check()?;
        Ok(kernel)
    }

    pub(crate) fn check(&self) -> Result<(), ModelError> {
        let (gamma, coef0) = match *self {
            Kernel::Linear => return Ok(()),
            Kernel::Rbf { gamma } => (gamma, 0.0),
            Kernel::Poly {
                gamma,
                coef0,
                degree,
            } => {
                if degree == 0 {
                    return Err(ModelError::new(
                        "degree",
                        "a degree-0 polynomial kernel is constant; refusing a degenerate model",
                    ));
                }
                if degree > 64 {
                    return Err(ModelError::new(
                        "degree",
                        format!("{degree} is too large (at most 64)"),
                    ));
                }
                (gamma, coef0)
            }
            Kernel::Sigmoid { gamma, coef0 } => (gamma, coef0),
        };
        if !gamma.is_finite() {
            return Err(ModelError::new(
                "gamma",
                format!("{gamma} is not a finite number"),
            ));
        }
        if gamma < 0.0 {
            // libsvm's svm_check_parameter refuses it; scikit-learn's
            // parameter validation admits only gamma >= 0 (§1.2).
            return Err(ModelError::new(
                "gamma",
                format!("{gamma} is negative (libsvm and scikit-learn require gamma >= 0)"),
            ));
        }
        if !coef0.is_finite() {
            return Err(ModelError::new(
                "coef0",
                format!("{coef0} is not a finite number"),
            ));
        }
        Ok(())
    }

    /// The resolved gamma, where the kernel has one.
    pub fn gamma(&self) -> Option<f64> {
        match *self {
            Kernel::Linear => None,
            Kernel::Rbf { gamma } | Kernel::Poly { gamma, .. } | Kernel::Sigmoid { gamma, .. } => {
                Some(gamma)
            }
        }
    }
}
