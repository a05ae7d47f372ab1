//! SVR, NuSVR and OneClassSVM (SVM_SEMANTICS.md §2): one kernel sum,
//! `f(x) = Σ_s dual_coef[s]·K(x, s) + intercept`, in scikit-learn's or
//! official LIBSVM's conventions (§7).

use super::{
    check_finite, label_type, Classes, Convention, Family, Kernel, ModelError, OutputKind,
    OutputOptions, OutputShape, OutputSpec, OutputType, Preprocess, Task,
};
use crate::facts::meta;
pub use crate::facts::DENSITY_MARKS;
use crate::graph::{Graph, Value};
use crate::lower::{decision, probability, votes, OutputSink};
use crate::reference::bound::{dual_sum_bound, KernelErrors};
use crate::reference::{
    for_each_kernel_row_with_sums, one_class_probability, single_output, Evaluation, F32Bound,
};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use std::sync::Arc;

/// Which estimator a [`DualModel`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DualKind {
    /// epsilon-SVR.
    Svr,
    /// nu-SVR.
    NuSvr,
    /// One-class SVM (novelty detection).
    OneClassSvm,
}

impl DualKind {
    /// Every kind, in scikit-learn's order.
    pub const ALL: [DualKind; 3] = [DualKind::Svr, DualKind::NuSvr, DualKind::OneClassSvm];

    /// scikit-learn's class name.
    pub fn sklearn_name(self) -> &'static str {
        match self {
            DualKind::Svr => "SVR",
            DualKind::NuSvr => "NuSVR",
            DualKind::OneClassSvm => "OneClassSVM",
        }
    }

    /// The kind scikit-learn's class `name` is, if it is one.
    pub fn from_sklearn_name(name: &str) -> Option<DualKind> {
        DualKind::ALL.into_iter().find(|k| k.sklearn_name() == name)
    }
}

/// Everything needed to build a [`DualModel`], as scikit-learn exposes it.
#[derive(Debug, Clone)]
pub struct DualParts {
    /// Which estimator.
    pub kind: DualKind,
    /// Input width.
    pub n_features: usize,
    /// The kernel.
    pub kernel: Kernel,
    /// Shared with the graph's weight constants (see `SvmParts`).
    pub support_vectors: Arc<Array2<f64>>,
    /// `dual_coef_[0]` (no sign flip for these estimators, §2).
    pub dual_coef: Array1<f64>,
    /// `intercept_[0]`.
    pub intercept: f64,
    /// Pipeline steps applied to the input first, in order.
    pub preprocessing: Vec<Preprocess>,
    /// The scikit-learn version that pickled it, when known.
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

/// A fitted SVR, NuSVR or OneClassSVM whose invariants have been checked.
#[derive(Debug, Clone)]
pub struct DualModel {
    parts: DualParts,
}

impl DualModel {
    /// Checks every invariant the lowering and the reference rely on.
    pub fn new(parts: DualParts) -> Result<DualModel, ModelError> {
        parts.kernel.check()?;
        let (s, d) = parts.support_vectors.dim();
        if parts.n_features == 0 {
            return Err(ModelError::new("n_features_in", "must be at least 1"));
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
        if parts.dual_coef.len() != s {
            return Err(ModelError::new(
                "dual_coef",
                format!(
                    "has {} values for {s} support vectors",
                    parts.dual_coef.len()
                ),
            ));
        }
        check_finite("support_vectors", parts.support_vectors.iter(), d)?;
        check_finite("dual_coef", parts.dual_coef.iter(), 1)?;
        check_finite("intercept", [parts.intercept].iter(), 1)?;
        if let Some(marks) = &parts.density_marks {
            if parts.kind != DualKind::OneClassSvm {
                return Err(ModelError::new(
                    "prob_density_marks",
                    "only a one-class model has density marks",
                ));
            }
            check_finite("prob_density_marks", marks.iter(), 1)?;
        }
        if let Some(sigma) = parts.svr_sigma {
            check_finite("probA", [sigma].iter(), 1)?;
        }
        crate::ir::check_steps(&parts.preprocessing, parts.n_features)?;
        Ok(DualModel { parts })
    }

    /// Which estimator this is.
    pub fn kind(&self) -> DualKind {
        self.parts.kind
    }
    /// scikit-learn's or LIBSVM's conventions.
    pub fn convention(&self) -> Convention {
        self.parts.convention
    }
    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.parts.kernel
    }
    /// The support vectors, S×d.
    pub fn support_vectors(&self) -> &Arc<Array2<f64>> {
        &self.parts.support_vectors
    }
    /// `dual_coef_[0]`.
    pub fn dual_coef(&self) -> &Array1<f64> {
        &self.parts.dual_coef
    }
    /// `intercept_[0]`.
    pub fn intercept(&self) -> f64 {
        self.parts.intercept
    }
    /// LIBSVM one-class density marks (`-b 1`), if any.
    pub fn density_marks(&self) -> Option<&[f64; DENSITY_MARKS]> {
        self.parts.density_marks.as_ref()
    }
    /// LIBSVM SVR's Laplace σ (`-b 1`), if any.
    pub fn svr_sigma(&self) -> Option<f64> {
        self.parts.svr_sigma
    }
    fn one_class(&self) -> bool {
        self.parts.kind == DualKind::OneClassSvm
    }
}

impl Family for DualModel {
    fn name(&self) -> &'static str {
        match (self.parts.convention, self.parts.kind) {
            (Convention::Sklearn, kind) => kind.sklearn_name(),
            (Convention::Libsvm, DualKind::Svr) => "LIBSVM epsilon_svr",
            (Convention::Libsvm, DualKind::NuSvr) => "LIBSVM nu_svr",
            (Convention::Libsvm, DualKind::OneClassSvm) => "LIBSVM one_class",
        }
    }
    fn describe(&self) -> String {
        format!(
            "{} ({} kernel, {} support vectors, {} features)",
            self.name(),
            self.parts.kernel.name(),
            self.parts.support_vectors.nrows(),
            self.parts.n_features
        )
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
        if self.one_class() {
            Task::Novelty
        } else {
            Task::Regress
        }
    }
    fn label_classes(&self) -> Option<Classes> {
        self.one_class().then(|| Classes::Int(vec![-1, 1]))
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        let m = &self.parts;
        let mut d = vec![("support vectors", m.support_vectors.nrows().to_string())];
        if self.one_class() && m.convention == Convention::Sklearn {
            let offset = -m.intercept;
            d.push((
                "offset",
                format!("{offset} (score_samples = scores + offset)"),
            ));
        }
        if m.density_marks.is_some() {
            let text = "yes (LIBSVM >= 3.30 one-class density marks)";
            d.push(("probabilities", text.to_string()));
        }
        if let Some(sigma) = m.svr_sigma {
            d.push((
                "laplace sigma",
                format!("{sigma} (LIBSVM -b 1; metadata only)"),
            ));
        }
        d
    }

    fn outputs(&self, options: &OutputOptions) -> Vec<OutputSpec> {
        let libsvm = self.parts.convention == Convention::Libsvm;
        if !self.one_class() {
            return vec![OutputSpec {
                kind: OutputKind::Prediction,
                ty: OutputType::Float,
                shape: OutputShape::Rows,
                method: if libsvm { "svm_predict" } else { "predict" },
            }];
        }
        let classes = Classes::Int(vec![-1, 1]);
        let mut specs = vec![
            OutputSpec {
                kind: OutputKind::Label,
                ty: OutputType::Label(label_type(&classes, options.label_index)),
                shape: OutputShape::Rows,
                method: if libsvm { "svm_predict" } else { "predict" },
            },
            OutputSpec {
                kind: OutputKind::Scores,
                ty: OutputType::Float,
                shape: OutputShape::Rows,
                method: if libsvm {
                    "svm_predict_values"
                } else {
                    "decision_function"
                },
            },
        ];
        if self.parts.density_marks.is_some() {
            specs.push(OutputSpec {
                kind: OutputKind::Probabilities,
                ty: OutputType::Float,
                shape: OutputShape::RowsBy(2),
                method: "[p, 1 - p], p = LIBSVM's one-class probability",
            });
        }
        specs
    }

    fn metadata(&self) -> Vec<(&'static str, String)> {
        let libsvm = self.parts.convention == Convention::Libsvm;
        let mut m = Vec::new();
        if libsvm {
            m.push((meta::CONVENTION, "libsvm".to_string()));
        }
        if let Some(sigma) = self.parts.svr_sigma {
            m.push((meta::SVR_LAPLACE_SIGMA, format!("{sigma:?}")));
        }
        if self.one_class() && !libsvm {
            // score_samples = scores + offset (offset_ = −intercept_, §2).
            m.push((meta::OFFSET, format!("{:?}", -self.parts.intercept)));
        }
        m
    }

    fn anchor_points(&self) -> (Arc<Array2<f64>>, Vec<usize>) {
        let svs = self.parts.support_vectors.clone();
        let groups = vec![0; svs.nrows()];
        (svs, groups)
    }

    fn lower(&self, g: &mut Graph, x: Value, out: &mut OutputSink<'_>) {
        let weights = self.parts.dual_coef.clone().insert_axis(Axis(1));
        let bias = Array1::from(vec![self.parts.intercept]);
        let value = decision::dual_values(
            g,
            x,
            &self.parts.kernel,
            &self.parts.support_vectors,
            weights,
            bias,
        );
        let flat = g.reshape(value, &[-1]);
        if !self.one_class() {
            out.emit(g, OutputKind::Prediction, flat);
            return;
        }
        // OneClassSVM: +1 iff decision > 0 strictly; an exact 0 is −1 (§2).
        let index = votes::strictly_positive(g, flat);
        out.emit(g, OutputKind::Label, index);
        out.emit(g, OutputKind::Scores, flat);
        if let Some(marks) = &self.parts.density_marks {
            let p = probability::one_class(g, value, marks);
            out.emit(g, OutputKind::Probabilities, p);
        }
    }

    fn evaluate(&self, x: ArrayView2<f64>) -> Evaluation {
        self.evaluate_with(x, None)
    }

    fn evaluate_bounded(&self, x: ArrayView2<f64>, input_error: &[f64]) -> Evaluation {
        self.evaluate_with(x, Some(input_error))
    }
}

impl DualModel {
    /// The reference, with the float32 bound of the decision values when
    /// `input_error` is given (`bound`).
    fn evaluate_with(&self, x: ArrayView2<f64>, input_error: Option<&[f64]>) -> Evaluation {
        // libsvm's single-output sum: Σ_s coef_s·K(x, s), then − rho (§2).
        let m = &self.parts;
        let mut values = Vec::with_capacity(x.nrows());
        let errors = input_error.map(|_| KernelErrors::new(&m.kernel, m.support_vectors.view()));
        let mut bounds = Vec::new();
        let mut dk = vec![0.0; m.support_vectors.nrows()];
        let svs = m.support_vectors.view();
        for_each_kernel_row_with_sums(&m.kernel, x, svs, |n, kvalue, sums| {
            let mut sum = 0.0;
            for (k, c) in kvalue.iter().zip(m.dual_coef.iter()) {
                sum += c * k;
            }
            values.push(sum + m.intercept);
            if let (Some(errors), Some(input_error)) = (&errors, input_error) {
                errors.row(x.row(n), input_error[n], kvalue, sums, &mut dk);
                let terms = m.dual_coef.iter().zip(kvalue).zip(&dk);
                let terms = terms.map(|((&a, &k), &e)| (a, k, e));
                bounds.push(dual_sum_bound(terms, m.intercept));
            }
        });
        let probabilities = m.density_marks.as_ref().map(|marks| {
            let mut p = Array2::<f64>::zeros((values.len(), 2));
            for (r, &dec) in values.iter().enumerate() {
                p[[r, 0]] = one_class_probability(marks, dec);
                p[[r, 1]] = 1.0 - p[[r, 0]];
            }
            p
        });
        let mut eval = single_output(values, self.one_class());
        eval.probabilities = probabilities;
        if errors.is_some() {
            let n = bounds.len();
            let bounds = Array2::from_shape_vec((n, 1), bounds).expect("one bound per row");
            eval.f32_bound = Some(F32Bound::of_scores(bounds));
        }
        eval
    }
}
