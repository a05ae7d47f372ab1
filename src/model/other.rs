//! The rest of the SVM family (SVM_SEMANTICS.md §2, §3): single-output dual
//! models (SVR, NuSVR, OneClassSVM) and primal linear models (LinearSVC,
//! LinearSVR).

use super::{check_finite, Classes, Convention, Kernel, ModelError, Preprocess};
use ndarray::{Array1, Array2};
use std::sync::Arc;

/// Which estimator a [`DualModel`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DualKind {
    Svr,
    NuSvr,
    OneClassSvm,
}

/// SVR, NuSVR or OneClassSVM: `f(x) = Σ_s dual_coef[s]·K(x, s) + intercept`.
#[derive(Debug, Clone)]
pub struct DualModel {
    pub kind: DualKind,
    pub n_features: usize,
    pub kernel: Kernel,
    /// Shared with the graph's weight constants (see `SvmParts`).
    pub support_vectors: Arc<Array2<f64>>,
    /// `dual_coef_[0]` (no sign flip for these estimators, §2).
    pub dual_coef: Array1<f64>,
    pub intercept: f64,
    pub preprocessing: Vec<Preprocess>,
    pub sklearn_version: Option<String>,
    /// scikit-learn's or LIBSVM's conventions; they differ only in the
    /// LIBSVM extras below (SVM_SEMANTICS.md §7).
    pub convention: Convention,
    /// LIBSVM ≥ 3.30 one-class `prob_density_marks` (`-b 1`): the ten
    /// decision values that bin an inlier probability.
    pub density_marks: Option<[f64; DENSITY_MARKS]>,
    /// LIBSVM SVR `probA`: the Laplace σ of `-b 1` regression models. It
    /// changes no prediction, so it is only carried to metadata.
    pub svr_sigma: Option<f64>,
}

/// Number of one-class probability marks LIBSVM writes.
pub const DENSITY_MARKS: usize = 10;

impl DualModel {
    pub fn name(&self) -> &'static str {
        match (self.convention, self.kind) {
            (Convention::Sklearn, DualKind::Svr) => "SVR",
            (Convention::Sklearn, DualKind::NuSvr) => "NuSVR",
            (Convention::Sklearn, DualKind::OneClassSvm) => "OneClassSVM",
            (Convention::Libsvm, DualKind::Svr) => "LIBSVM epsilon_svr",
            (Convention::Libsvm, DualKind::NuSvr) => "LIBSVM nu_svr",
            (Convention::Libsvm, DualKind::OneClassSvm) => "LIBSVM one_class",
        }
    }

    /// Checks the invariants the lowering and the reference rely on.
    pub fn check(&self) -> Result<(), ModelError> {
        self.kernel.check()?;
        let (s, d) = self.support_vectors.dim();
        if s == 0 {
            return Err(ModelError::new("support_vectors", "is empty"));
        }
        if d != self.n_features {
            return Err(ModelError::new(
                "support_vectors",
                format!(
                    "rows have {d} features but n_features_in is {}",
                    self.n_features
                ),
            ));
        }
        if self.dual_coef.len() != s {
            return Err(ModelError::new(
                "dual_coef",
                format!(
                    "has {} values for {s} support vectors",
                    self.dual_coef.len()
                ),
            ));
        }
        check_finite("support_vectors", self.support_vectors.iter(), d)?;
        check_finite("dual_coef", self.dual_coef.iter(), 1)?;
        check_finite("intercept", [self.intercept].iter(), 1)?;
        if let Some(marks) = &self.density_marks {
            if self.kind != DualKind::OneClassSvm {
                return Err(ModelError::new(
                    "prob_density_marks",
                    "only a one-class model has density marks",
                ));
            }
            check_finite("prob_density_marks", marks.iter(), 1)?;
        }
        if let Some(sigma) = self.svr_sigma {
            check_finite("probA", [sigma].iter(), 1)?;
        }
        for (i, step) in self.preprocessing.iter().enumerate() {
            step.check(i, self.n_features)?;
        }
        Ok(())
    }
}

/// LinearSVC (`classes` present) or LinearSVR: `X·coefᵀ + intercept`.
#[derive(Debug, Clone)]
pub struct LinearModel {
    pub classes: Option<Classes>,
    /// rows × d: one row for LinearSVR and binary LinearSVC, k rows otherwise.
    pub coef: Array2<f64>,
    pub intercept: Array1<f64>,
    pub preprocessing: Vec<Preprocess>,
    pub sklearn_version: Option<String>,
}

impl LinearModel {
    pub fn name(&self) -> &'static str {
        if self.classes.is_some() {
            "LinearSVC"
        } else {
            "LinearSVR"
        }
    }

    pub fn n_features(&self) -> usize {
        self.coef.ncols()
    }

    pub fn check(&self) -> Result<(), ModelError> {
        let (rows, d) = self.coef.dim();
        if d == 0 {
            return Err(ModelError::new("coef", "has no features"));
        }
        let expected = match &self.classes {
            None => 1,
            Some(c) if c.len() < 2 => {
                return Err(ModelError::new(
                    "classes",
                    format!("needs at least 2 classes, found {}", c.len()),
                ))
            }
            Some(c) if c.len() == 2 => 1,
            Some(c) => c.len(),
        };
        if rows != expected {
            return Err(ModelError::new(
                "coef",
                format!("has {rows} rows, expected {expected}"),
            ));
        }
        if self.intercept.len() != rows {
            return Err(ModelError::new(
                "intercept",
                format!("has {} values, expected {rows}", self.intercept.len()),
            ));
        }
        if let Some(c) = &self.classes {
            c.check_unique()?;
        }
        check_finite("coef", self.coef.iter(), d)?;
        check_finite("intercept", self.intercept.iter(), 1)?;
        for (i, step) in self.preprocessing.iter().enumerate() {
            step.check(i, d)?;
        }
        Ok(())
    }
}
