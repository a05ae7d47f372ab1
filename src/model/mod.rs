//! The intermediate representation: one fitted SVM, independent of the file
//! format it came from and of ONNX.
//!
//! [`SvmModel::new`] is the only constructor and checks every invariant the
//! lowering and the reference evaluator rely on, so downstream code can index
//! without re-checking.

mod calibrated;
mod classes;
mod kernel;
mod other;
mod preprocess;
mod samples;

pub use calibrated::{CalibratedMember, CalibratedModel, Calibration, Calibrator};
pub use classes::{Classes, Label};
pub use kernel::Kernel;
pub use other::{DualKind, DualModel, LinearModel, DENSITY_MARKS};
pub use preprocess::{Norm, Preprocess, TINY};
pub use samples::Samples;

use ndarray::{Array1, Array2};
use std::fmt;
use std::sync::Arc;

/// Which scikit-learn estimator produced the model. NuSVC differs from SVC only
/// in training; inference is identical (SVM_SEMANTICS.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    Svc,
    NuSvc,
}

impl Estimator {
    /// scikit-learn's class name.
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Svc => "SVC",
            Estimator::NuSvc => "NuSVC",
        }
    }

    /// Parses scikit-learn's class name.
    pub fn from_name(name: &str) -> Option<Estimator> {
        match name {
            "SVC" => Some(Estimator::Svc),
            "NuSVC" => Some(Estimator::NuSvc),
            _ => None,
        }
    }
}

/// Whose inference conventions a dual model's outputs follow.
///
/// scikit-learn and official LIBSVM run the same kernel sums but expose them
/// differently (SVM_SEMANTICS.md §7): LIBSVM keeps its own sign for binary
/// decision values (no §1.4 flip), its scores are always the k(k−1)/2
/// pairwise values, and since LIBSVM 3.22 binary probabilities are the
/// clipped Platt value without the coupling iteration sklearn still runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Convention {
    /// scikit-learn's `SVC`/`NuSVC`/`SVR`/`OneClassSVM` methods.
    #[default]
    Sklearn,
    /// Official LIBSVM (≥ 3.22; ≥ 3.30 for one-class probabilities):
    /// `svm_predict_values`, `svm_predict` and `svm_predict_probability`.
    Libsvm,
}

/// `decision_function_shape` of a multiclass SVC (SVM_SEMANTICS.md §1.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionShape {
    Ovr,
    Ovo,
}

impl DecisionShape {
    pub fn name(self) -> &'static str {
        match self {
            DecisionShape::Ovr => "ovr",
            DecisionShape::Ovo => "ovo",
        }
    }
}

/// libsvm's Platt parameters, one per class pair (SVM_SEMANTICS.md §1.7).
#[derive(Debug, Clone, PartialEq)]
pub struct PlattParameters {
    pub prob_a: Array1<f64>,
    pub prob_b: Array1<f64>,
}

/// Everything needed to build an [`SvmModel`]; public signs as scikit-learn
/// exposes them (`dual_coef_`, `intercept_`).
#[derive(Debug, Clone)]
pub struct SvmParts {
    pub estimator: Estimator,
    pub n_features: usize,
    pub kernel: Kernel,
    pub classes: Classes,
    pub n_support: Vec<usize>,
    /// Shared, so the graph's weight matrices can be generated from it while
    /// they are written instead of being copied (issue 6: converter memory).
    pub support_vectors: Arc<Array2<f64>>,
    pub dual_coef: Array2<f64>,
    pub intercept: Array1<f64>,
    pub decision_shape: DecisionShape,
    pub break_ties: bool,
    pub platt: Option<PlattParameters>,
    pub sklearn_version: Option<String>,
    /// Pipeline steps applied to the input before the SVM, in order.
    pub preprocessing: Vec<Preprocess>,
    /// scikit-learn's or LIBSVM's output conventions.
    pub convention: Convention,
}

/// A fitted SVC or NuSVC whose invariants have been checked.
#[derive(Debug, Clone)]
pub struct SvmModel {
    parts: SvmParts,
    /// First support-vector index of each class, plus the total at the end.
    class_starts: Vec<usize>,
}

/// A violated model invariant, naming the field at fault.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct ModelError {
    pub field: String,
    pub problem: String,
}

impl ModelError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        ModelError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

pub(crate) fn check_finite<'a>(
    field: &str,
    values: impl IntoIterator<Item = &'a f64>,
    columns: usize,
) -> Result<(), ModelError> {
    for (flat, v) in values.into_iter().enumerate() {
        if !v.is_finite() {
            let at = if columns > 1 {
                format!("[{}][{}]", flat / columns, flat % columns)
            } else {
                format!("[{flat}]")
            };
            return Err(ModelError::new(
                format!("{field}{at}"),
                format!("{v} is not a finite number"),
            ));
        }
    }
    Ok(())
}

impl SvmModel {
    /// Checks every invariant and builds the model.
    pub fn new(parts: SvmParts) -> Result<SvmModel, ModelError> {
        let k = parts.classes.len();
        if k < 2 {
            return Err(ModelError::new(
                "classes",
                format!("needs at least 2 classes, found {k}"),
            ));
        }
        parts.classes.check_unique()?;
        parts.kernel.check()?;
        if parts.n_features == 0 {
            return Err(ModelError::new("n_features_in", "must be at least 1"));
        }
        if parts.n_support.len() != k {
            return Err(ModelError::new(
                "n_support",
                format!(
                    "has {} entries but there are {k} classes",
                    parts.n_support.len()
                ),
            ));
        }
        let (s, d) = parts.support_vectors.dim();
        let total = parts
            .n_support
            .iter()
            .try_fold(0usize, |acc, &n| acc.checked_add(n));
        let Some(total) = total else {
            return Err(ModelError::new(
                "n_support",
                format!("does not sum to the {s} rows of support_vectors (it overflows)"),
            ));
        };
        if total != s {
            return Err(ModelError::new(
                "n_support",
                format!("sums to {total} but support_vectors has {s} rows"),
            ));
        }
        if s == 0 {
            return Err(ModelError::new("support_vectors", "is empty"));
        }
        if d != parts.n_features {
            return Err(ModelError::new(
                "support_vectors",
                format!(
                    "rows have {d} features but n_features_in is {}",
                    parts.n_features
                ),
            ));
        }
        if parts.dual_coef.dim() != (k - 1, s) {
            let (r, c) = parts.dual_coef.dim();
            return Err(ModelError::new(
                "dual_coef",
                format!(
                    "has shape {r}x{c}, expected {}x{s} (classes-1 x support vectors)",
                    k - 1
                ),
            ));
        }
        let pairs = k * (k - 1) / 2;
        if parts.intercept.len() != pairs {
            return Err(ModelError::new(
                "intercept",
                format!(
                    "has {} entries, expected {pairs} (one per class pair)",
                    parts.intercept.len()
                ),
            ));
        }
        // Standard-layout slices: a tight loop over millions of values.
        match parts.support_vectors.as_slice() {
            Some(v) => check_finite("support_vectors", v, d)?,
            None => check_finite("support_vectors", parts.support_vectors.iter(), d)?,
        }
        check_finite("dual_coef", parts.dual_coef.iter(), s)?;
        check_finite("intercept", parts.intercept.iter(), 1)?;
        if let Some(platt) = &parts.platt {
            for (name, v) in [("prob_a", &platt.prob_a), ("prob_b", &platt.prob_b)] {
                if v.len() != pairs {
                    return Err(ModelError::new(
                        name,
                        format!(
                            "has {} entries, expected {pairs} (one per class pair)",
                            v.len()
                        ),
                    ));
                }
                check_finite(name, v.iter(), 1)?;
            }
        }
        if parts.convention == Convention::Libsvm
            && (parts.break_ties || parts.decision_shape != DecisionShape::Ovo)
        {
            // LIBSVM has neither ovr scores nor break_ties (§7).
            return Err(ModelError::new(
                "decision_function_shape",
                "a LIBSVM model has only one-vs-one decision values and no break_ties",
            ));
        }
        if parts.break_ties && k > 2 && parts.decision_shape == DecisionShape::Ovo {
            // scikit-learn raises ValueError in predict for this combination (§1.6).
            return Err(ModelError::new(
                "break_ties",
                "break_ties=true needs decision_function_shape 'ovr' (scikit-learn refuses 'ovo')",
            ));
        }
        for (i, step) in parts.preprocessing.iter().enumerate() {
            step.check(i, parts.n_features)?;
        }
        let mut class_starts = Vec::with_capacity(k + 1);
        let mut acc = 0;
        for n in &parts.n_support {
            class_starts.push(acc);
            acc += n;
        }
        class_starts.push(acc);
        Ok(SvmModel {
            parts,
            class_starts,
        })
    }

    pub fn estimator(&self) -> Estimator {
        self.parts.estimator
    }
    pub fn convention(&self) -> Convention {
        self.parts.convention
    }
    /// The estimator's name: scikit-learn's class name, or LIBSVM's svm_type.
    pub fn name(&self) -> &'static str {
        match (self.parts.convention, self.parts.estimator) {
            (Convention::Sklearn, e) => e.name(),
            (Convention::Libsvm, Estimator::Svc) => "LIBSVM c_svc",
            (Convention::Libsvm, Estimator::NuSvc) => "LIBSVM nu_svc",
        }
    }
    pub fn n_features(&self) -> usize {
        self.parts.n_features
    }
    pub fn kernel(&self) -> &Kernel {
        &self.parts.kernel
    }
    pub fn classes(&self) -> &Classes {
        &self.parts.classes
    }
    pub fn n_classes(&self) -> usize {
        self.parts.classes.len()
    }
    /// Number of one-vs-one class pairs, `k(k-1)/2`.
    pub fn n_pairs(&self) -> usize {
        let k = self.n_classes();
        k * (k - 1) / 2
    }
    pub fn n_support(&self) -> &[usize] {
        &self.parts.n_support
    }
    pub fn support_vectors(&self) -> &Arc<Array2<f64>> {
        &self.parts.support_vectors
    }
    /// scikit-learn's public `dual_coef_` (negated w.r.t. libsvm when k = 2).
    pub fn dual_coef(&self) -> &Array2<f64> {
        &self.parts.dual_coef
    }
    /// scikit-learn's public `intercept_` (negated w.r.t. libsvm when k = 2).
    pub fn intercept(&self) -> &Array1<f64> {
        &self.parts.intercept
    }
    pub fn decision_shape(&self) -> DecisionShape {
        self.parts.decision_shape
    }
    /// Whether predict uses argmax of the ovr scores; only meaningful for k > 2 (§1.6).
    pub fn break_ties(&self) -> bool {
        self.parts.break_ties && self.n_classes() > 2
    }
    pub fn platt(&self) -> Option<&PlattParameters> {
        self.parts.platt.as_ref()
    }
    pub fn sklearn_version(&self) -> Option<&str> {
        self.parts.sklearn_version.as_deref()
    }

    /// Pipeline steps in front of the SVM.
    pub fn preprocessing(&self) -> &[Preprocess] {
        &self.parts.preprocessing
    }

    /// Support-vector row range of class `c` (SVs are grouped by class, §1.1).
    pub fn class_range(&self, c: usize) -> std::ops::Range<usize> {
        self.class_starts[c]..self.class_starts[c + 1]
    }

    /// Class pairs `(i, j)`, `i < j`, in libsvm's lexicographic order (§1.3).
    pub fn pairs(&self) -> Vec<(usize, usize)> {
        let k = self.n_classes();
        let mut pairs = Vec::with_capacity(self.n_pairs());
        for i in 0..k {
            for j in i + 1..k {
                pairs.push((i, j));
            }
        }
        pairs
    }

    /// libsvm's own `sv_coef` (scikit-learn's `_dual_coef_`): the public
    /// matrix with the binary sign flip undone (§1.4).
    pub fn libsvm_dual_coef(&self) -> Array2<f64> {
        if self.n_classes() == 2 {
            -&self.parts.dual_coef
        } else {
            self.parts.dual_coef.clone()
        }
    }

    /// libsvm's `-rho` per pair (scikit-learn's `_intercept_`, §1.4).
    pub fn libsvm_intercept(&self) -> Array1<f64> {
        if self.n_classes() == 2 {
            -&self.parts.intercept
        } else {
            self.parts.intercept.clone()
        }
    }

    /// The dense S×P coefficient matrix `W` in libsvm signs (§1.3):
    /// column p = (i, j) holds `_dual_coef_[j-1, s]` for s in SV(i) and
    /// `_dual_coef_[i, s]` for s in SV(j), zero elsewhere.
    pub fn pair_weights(&self) -> Array2<f64> {
        let coef = self.libsvm_dual_coef();
        let s_total = self.support_vectors().nrows();
        let mut w = Array2::<f64>::zeros((s_total, self.n_pairs()));
        for (p, (i, j)) in self.pairs().into_iter().enumerate() {
            for s in self.class_range(i) {
                w[[s, p]] = coef[[j - 1, s]];
            }
            for s in self.class_range(j) {
                w[[s, p]] = coef[[i, s]];
            }
        }
        w
    }

    /// A short description for error context and reports.
    pub fn describe(&self) -> String {
        format!(
            "{} ({} kernel, {} classes, {} support vectors, {} features)",
            self.name(),
            self.kernel().name(),
            self.n_classes(),
            self.support_vectors().nrows(),
            self.n_features()
        )
    }
}

impl fmt::Display for SvmModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Any model svm2onnx compiles.
// One Model exists per conversion; boxing the larger variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Model {
    /// SVC and NuSVC (one-vs-one classifiers).
    Svc(SvmModel),
    /// SVR, NuSVR and OneClassSVM.
    Dual(DualModel),
    /// LinearSVC and LinearSVR.
    Linear(LinearModel),
    /// CalibratedClassifierCV.
    Calibrated(CalibratedModel),
}

/// What a model's graph computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// `label` and `scores` (and `probabilities` when fitted with them).
    Classify,
    /// `label` (+1 / −1) and `scores`.
    Novelty,
    /// `prediction`.
    Regress,
}

impl From<SvmModel> for Model {
    fn from(m: SvmModel) -> Model {
        Model::Svc(m)
    }
}

impl Model {
    /// Checks a dual single-output model.
    pub fn dual(m: DualModel) -> Result<Model, ModelError> {
        m.check()?;
        Ok(Model::Dual(m))
    }

    /// Checks a calibrated classifier.
    pub fn calibrated(m: CalibratedModel) -> Result<Model, ModelError> {
        m.check()?;
        Ok(Model::Calibrated(m))
    }

    /// Checks a linear model.
    pub fn linear(m: LinearModel) -> Result<Model, ModelError> {
        m.check()?;
        Ok(Model::Linear(m))
    }

    /// scikit-learn's class name.
    pub fn name(&self) -> &'static str {
        match self {
            Model::Svc(m) => m.name(),
            Model::Dual(m) => m.name(),
            Model::Linear(m) => m.name(),
            Model::Calibrated(_) => "CalibratedClassifierCV",
        }
    }

    pub fn task(&self) -> Task {
        match self {
            Model::Svc(_) => Task::Classify,
            Model::Dual(m) if m.kind == DualKind::OneClassSvm => Task::Novelty,
            Model::Dual(_) => Task::Regress,
            Model::Linear(m) if m.classes.is_some() => Task::Classify,
            Model::Linear(_) => Task::Regress,
            Model::Calibrated(_) => Task::Classify,
        }
    }

    /// The SVC/NuSVC model, if that is what this is.
    pub fn svc(&self) -> Option<&SvmModel> {
        match self {
            Model::Svc(m) => Some(m),
            _ => None,
        }
    }

    pub fn n_features(&self) -> usize {
        match self {
            Model::Svc(m) => m.n_features(),
            Model::Dual(m) => m.n_features,
            Model::Linear(m) => m.n_features(),
            Model::Calibrated(m) => m.members[0].base.n_features(),
        }
    }

    pub fn kernel(&self) -> Option<&Kernel> {
        match self {
            Model::Svc(m) => Some(m.kernel()),
            Model::Dual(m) => Some(&m.kernel),
            Model::Linear(_) => None,
            Model::Calibrated(m) => m.members[0].base.kernel(),
        }
    }

    pub fn preprocessing(&self) -> &[Preprocess] {
        match self {
            Model::Svc(m) => m.preprocessing(),
            Model::Dual(m) => &m.preprocessing,
            Model::Linear(m) => &m.preprocessing,
            // Each member applies its own pipeline steps.
            Model::Calibrated(_) => &[],
        }
    }

    pub fn sklearn_version(&self) -> Option<&str> {
        match self {
            Model::Svc(m) => m.sklearn_version(),
            Model::Dual(m) => m.sklearn_version.as_deref(),
            Model::Linear(m) => m.sklearn_version.as_deref(),
            Model::Calibrated(m) => m.sklearn_version.as_deref(),
        }
    }

    /// The labels `label` takes: `classes_`, or [−1, 1] for OneClassSVM.
    pub fn label_classes(&self) -> Option<Classes> {
        match self {
            Model::Svc(m) => Some(m.classes().clone()),
            Model::Dual(m) if m.kind == DualKind::OneClassSvm => Some(Classes::Int(vec![-1, 1])),
            Model::Dual(_) => None,
            Model::Linear(m) => m.classes.clone(),
            Model::Calibrated(m) => Some(m.classes.clone()),
        }
    }

    /// Points around which validation probes are placed (support vectors,
    /// or the coefficient rows of a linear model), with a group per row.
    pub fn anchor_points(&self) -> (Arc<Array2<f64>>, Vec<usize>) {
        match self {
            Model::Svc(m) => {
                let mut groups = Vec::with_capacity(m.support_vectors().nrows());
                for c in 0..m.n_classes() {
                    groups.extend(m.class_range(c).map(|_| c));
                }
                (m.support_vectors().clone(), groups)
            }
            Model::Dual(m) => (
                m.support_vectors.clone(),
                vec![0; m.support_vectors.nrows()],
            ),
            Model::Linear(m) => {
                // The unit ball scaled by the coefficients' reach: rows ±1 per feature.
                let d = m.n_features();
                let mut pts = Array2::<f64>::zeros((2 * d, d));
                for f in 0..d {
                    pts[[2 * f, f]] = 1.0;
                    pts[[2 * f + 1, f]] = -1.0;
                }
                (pts.into(), (0..2 * d).map(|r| r % 2).collect())
            }
            Model::Calibrated(m) => {
                // Anchors of the first member, in input space of that member.
                let base = &m.members[0].base;
                let (pts, groups) = base.anchor_points();
                let mut pts = Arc::unwrap_or_clone(pts);
                for step in base.preprocessing().iter().rev() {
                    step.invert(&mut pts);
                }
                (pts.into(), groups)
            }
        }
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Model::Svc(m) => m.describe(),
            Model::Dual(m) => format!(
                "{} ({} kernel, {} support vectors, {} features)",
                m.name(),
                m.kernel.name(),
                m.support_vectors.nrows(),
                m.n_features
            ),
            Model::Linear(m) => match &m.classes {
                Some(c) => format!(
                    "LinearSVC ({} classes, {} features)",
                    c.len(),
                    m.n_features()
                ),
                None => format!("LinearSVR ({} features)", m.n_features()),
            },
            Model::Calibrated(m) => format!(
                "CalibratedClassifierCV ({}, {} calibrated {} around {})",
                m.method,
                m.members.len(),
                if m.members.len() == 1 {
                    "classifier"
                } else {
                    "classifiers"
                },
                m.members[0].base.describe()
            ),
        }
    }
}
