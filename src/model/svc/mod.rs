//! SVC and NuSVC: one-vs-one classifiers (SVM_SEMANTICS.md §1), in
//! scikit-learn's or official LIBSVM's conventions (§7). The struct and its
//! invariants are here; its graph in `lower.rs`, its f64 reference in
//! `reference.rs`.

mod lower;
mod reference;

pub(crate) use lower::{decision_values, multiclass};

use super::{
    check_finite, class_pairs, label_type, Classes, Convention, DecisionShape, Estimator, Family,
    Kernel, ModelError, OutputKind, OutputOptions, OutputShape, OutputSpec, OutputType,
    PlattParameters, Preprocess, Task,
};
use crate::facts::meta;
use crate::graph::{Graph, Value};
use crate::lower::OutputSink;
use crate::reference::Evaluation;
use ndarray::{Array1, Array2, ArrayView2};
use std::fmt;
use std::sync::Arc;

/// Everything needed to build an [`SvmModel`]; public signs as scikit-learn
/// exposes them (`dual_coef_`, `intercept_`).
#[derive(Debug, Clone)]
pub struct SvmParts {
    /// SVC or NuSVC.
    pub estimator: Estimator,
    /// `n_features_in_`.
    pub n_features: usize,
    /// The kernel with its resolved parameters.
    pub kernel: Kernel,
    /// `classes_`.
    pub classes: Classes,
    /// `n_support_`: support vectors per class, grouped by class (§1.1).
    pub n_support: Vec<usize>,
    /// Shared, so the graph's weight matrices can be generated from it while
    /// they are written instead of being copied (issue 6: converter memory).
    pub support_vectors: Arc<Array2<f64>>,
    /// `dual_coef_`, (k−1) × S.
    pub dual_coef: Array2<f64>,
    /// `intercept_`, one per class pair.
    pub intercept: Array1<f64>,
    /// `decision_function_shape`.
    pub decision_shape: DecisionShape,
    /// `break_ties`.
    pub break_ties: bool,
    /// `probA_`/`probB_` when fitted with probabilities.
    pub platt: Option<PlattParameters>,
    /// The scikit-learn version that pickled it, when known.
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

impl SvmModel {
    /// Checks every invariant and builds the model.
    pub fn new(parts: SvmParts) -> Result<SvmModel, ModelError> {
        check_classes(&parts)?;
        check_shapes(&parts)?;
        check_values(&parts)?;
        check_conventions(&parts)?;
        crate::ir::check_steps(&parts.preprocessing, parts.n_features)?;
        let mut class_starts = Vec::with_capacity(parts.n_support.len() + 1);
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

    /// SVC or NuSVC.
    pub fn estimator(&self) -> Estimator {
        self.parts.estimator
    }
    /// scikit-learn's or LIBSVM's conventions.
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
    /// Input width, before any pipeline step.
    pub fn n_features(&self) -> usize {
        self.parts.n_features
    }
    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.parts.kernel
    }
    /// `classes_`.
    pub fn classes(&self) -> &Classes {
        &self.parts.classes
    }
    /// Number of classes, k.
    pub fn n_classes(&self) -> usize {
        self.parts.classes.len()
    }
    /// Number of one-vs-one class pairs, `k(k-1)/2`.
    pub fn n_pairs(&self) -> usize {
        let k = self.n_classes();
        k * (k - 1) / 2
    }
    /// Support vectors per class.
    pub fn n_support(&self) -> &[usize] {
        &self.parts.n_support
    }
    /// The support vectors, S × d, grouped by class.
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
    /// `decision_function_shape`.
    pub fn decision_shape(&self) -> DecisionShape {
        self.parts.decision_shape
    }
    /// Whether predict uses argmax of the ovr scores; only meaningful for k > 2 (§1.6).
    pub fn break_ties(&self) -> bool {
        self.parts.break_ties && self.n_classes() > 2
    }
    /// The Platt parameters, when fitted with probabilities.
    pub fn platt(&self) -> Option<&PlattParameters> {
        self.parts.platt.as_ref()
    }
    /// The scikit-learn version that pickled it, when known.
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
        class_pairs(self.n_classes())
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

/// Classes, kernel and input width (§1.1, §1.2).
fn check_classes(parts: &SvmParts) -> Result<(), ModelError> {
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
    Ok(())
}

/// Support vectors grouped by class, coefficients and intercepts whose
/// shapes agree with the classes (§1.1, §1.3).
fn check_shapes(parts: &SvmParts) -> Result<(), ModelError> {
    let k = parts.classes.len();
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
    Ok(())
}

/// Every number finite; Platt parameters one per pair (§1.7).
fn check_values(parts: &SvmParts) -> Result<(), ModelError> {
    let (s, d) = parts.support_vectors.dim();
    let k = parts.classes.len();
    let pairs = k * (k - 1) / 2;
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
    Ok(())
}

/// Option combinations scikit-learn or LIBSVM refuse (§1.6, §7).
fn check_conventions(parts: &SvmParts) -> Result<(), ModelError> {
    let k = parts.classes.len();
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
    Ok(())
}

impl fmt::Display for SvmModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Family for SvmModel {
    fn name(&self) -> &'static str {
        SvmModel::name(self)
    }
    fn describe(&self) -> String {
        SvmModel::describe(self)
    }
    fn n_features(&self) -> usize {
        crate::ir::pipeline_input_width(&self.parts.preprocessing, self.parts.n_features)
    }
    fn kernel(&self) -> Option<&Kernel> {
        Some(&self.parts.kernel)
    }
    fn preprocessing(&self) -> &[Preprocess] {
        &self.parts.preprocessing
    }
    fn sklearn_version(&self) -> Option<&str> {
        self.parts.sklearn_version.as_deref()
    }
    fn task(&self) -> Task {
        Task::Classify
    }
    fn label_classes(&self) -> Option<Classes> {
        Some(self.parts.classes.clone())
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        let n_sv = self.support_vectors().nrows();
        let mut d = vec![(
            "support vectors",
            format!("{n_sv} (per class: {:?})", self.n_support()),
        )];
        if self.n_classes() > 2 {
            let ties = if self.break_ties() {
                ", break_ties"
            } else {
                ""
            };
            d.push((
                "decision shape",
                format!("{}{ties}", self.decision_shape().name()),
            ));
        }
        let p = match (self.platt().is_some(), self.convention()) {
            (false, _) => "no",
            (true, Convention::Sklearn) => "yes (libsvm Platt scaling + pairwise coupling)",
            (true, Convention::Libsvm) if self.n_classes() == 2 => {
                "yes (LIBSVM >= 3.22: Platt scaling, no coupling for two classes)"
            }
            (true, Convention::Libsvm) => "yes (LIBSVM Platt scaling + pairwise coupling)",
        };
        d.push(("probabilities", p.to_string()));
        d
    }

    fn outputs(&self, options: &OutputOptions) -> Vec<OutputSpec> {
        let libsvm = self.convention() == Convention::Libsvm;
        let label = OutputType::Label(label_type(self.classes(), options.label_index));
        let k = self.n_classes();
        let scores_shape = match (k, self.decision_shape()) {
            (2, _) => OutputShape::Rows,
            (k, DecisionShape::Ovr) => OutputShape::RowsBy(k),
            (_, DecisionShape::Ovo) => OutputShape::RowsBy(self.n_pairs()),
        };
        let (predict, decision, proba) = if libsvm {
            (
                "svm_predict",
                "svm_predict_values, LIBSVM sign",
                "svm_predict_probability",
            )
        } else {
            ("predict", "decision_function", "predict_proba")
        };
        let mut specs = vec![
            OutputSpec {
                kind: OutputKind::Label,
                ty: label,
                shape: OutputShape::Rows,
                method: predict,
            },
            OutputSpec {
                kind: OutputKind::Scores,
                ty: OutputType::Float,
                shape: scores_shape,
                method: decision,
            },
        ];
        if self.platt().is_some() {
            specs.push(OutputSpec {
                kind: OutputKind::Probabilities,
                ty: OutputType::Float,
                shape: OutputShape::RowsBy(k),
                method: proba,
            });
            if libsvm {
                specs.push(OutputSpec {
                    kind: OutputKind::ProbabilityLabel,
                    ty: label,
                    shape: OutputShape::Rows,
                    method: "the label svm-predict -b 1 prints",
                });
            }
        }
        specs
    }

    fn metadata(&self) -> Vec<(&'static str, String)> {
        let mut m = vec![
            (
                meta::DECISION_FUNCTION_SHAPE,
                self.decision_shape().name().to_string(),
            ),
            (meta::BREAK_TIES, self.break_ties().to_string()),
        ];
        if self.convention() == Convention::Libsvm {
            m.push((meta::CONVENTION, "libsvm".to_string()));
        }
        m
    }

    fn anchor_points(&self) -> (Arc<Array2<f64>>, Vec<usize>) {
        let mut groups = Vec::with_capacity(self.support_vectors().nrows());
        for c in 0..self.n_classes() {
            groups.extend(self.class_range(c).map(|_| c));
        }
        (self.support_vectors().clone(), groups)
    }

    fn lower(&self, g: &mut Graph, x: Value, out: &mut OutputSink<'_>) {
        lower::lower(self, g, x, out)
    }

    fn evaluate(&self, x: ArrayView2<f64>) -> Evaluation {
        reference::evaluate(self, x)
    }

    fn evaluate_bounded(&self, x: ArrayView2<f64>, input_error: &[f64]) -> Evaluation {
        reference::evaluate_bounded(self, x, Some(input_error))
    }
}
