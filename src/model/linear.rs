//! The primal linear models (SVM_SEMANTICS.md §3, docs/SEMANTICS_ADDENDUM.md
//! "SGD"): LinearSVC, LinearSVR and the SGD-trained SGDClassifier,
//! SGDRegressor and SGDOneClassSVM. All compute `X·coef_ᵀ + intercept_`;
//! they differ in what they derive from it (labels, probabilities, the
//! one-class sign rule).

use super::{
    check_finite, label_type, Classes, Family, Kernel, ModelError, OutputKind, OutputOptions,
    OutputShape, OutputSpec, OutputType, Preprocess, Task,
};
use crate::facts::meta;
use crate::graph::{Graph, Value};
use crate::lower::{decision, probability, votes, OutputSink};
use crate::reference::bound::affine_bound;
use crate::reference::{
    argmax_rows, logistic_ovr, modified_huber_ovr, single_output, Evaluation, F32Bound,
};
use ndarray::{Array1, Array2, ArrayView2};
use std::sync::Arc;

/// Which scikit-learn estimator a [`LinearModel`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinearEstimator {
    /// LinearSVC (liblinear).
    LinearSvc,
    /// LinearSVR (liblinear).
    LinearSvr,
    /// SGDClassifier with its `loss`.
    SgdClassifier(SgdLoss),
    /// SGDRegressor with its `loss` (a regression loss).
    SgdRegressor(SgdLoss),
    /// SGDOneClassSVM: `intercept` holds `−offset_`, so that the decision
    /// `X·coef_ − offset_` is the same sum as the other models'.
    SgdOneClassSvm,
}

impl LinearEstimator {
    /// scikit-learn's class name.
    pub fn sklearn_name(self) -> &'static str {
        match self {
            LinearEstimator::LinearSvc => "LinearSVC",
            LinearEstimator::LinearSvr => "LinearSVR",
            LinearEstimator::SgdClassifier(_) => "SGDClassifier",
            LinearEstimator::SgdRegressor(_) => "SGDRegressor",
            LinearEstimator::SgdOneClassSvm => "SGDOneClassSVM",
        }
    }
    /// scikit-learn's class names of the linear models.
    pub const SKLEARN_NAMES: [&'static str; 5] = [
        "LinearSVC",
        "LinearSVR",
        "SGDClassifier",
        "SGDRegressor",
        "SGDOneClassSVM",
    ];

    /// The estimator of scikit-learn class `name` (one of
    /// [`Self::SKLEARN_NAMES`]) with `loss`, the SGD models' `loss`
    /// parameter (ignored by the others): an unknown or missing loss, or a
    /// classification loss for SGDRegressor, is an error naming it.
    pub fn from_sklearn(name: &str, loss: Option<&str>) -> Result<LinearEstimator, ModelError> {
        let sgd_loss = || {
            let loss = loss.ok_or_else(|| ModelError::new("loss", "is missing"))?;
            SgdLoss::from_sklearn_name(loss).ok_or_else(|| {
                let known: Vec<&str> = SgdLoss::ALL.iter().map(|l| l.name()).collect();
                ModelError::new(
                    "loss",
                    format!(
                        "'{loss}' is not supported (supported: {})",
                        known.join(", ")
                    ),
                )
            })
        };
        Ok(match name {
            "LinearSVC" => LinearEstimator::LinearSvc,
            "LinearSVR" => LinearEstimator::LinearSvr,
            "SGDClassifier" => LinearEstimator::SgdClassifier(sgd_loss()?),
            "SGDRegressor" => LinearEstimator::SgdRegressor(sgd_loss()?),
            "SGDOneClassSVM" => LinearEstimator::SgdOneClassSvm,
            other => {
                return Err(ModelError::new(
                    "estimator",
                    format!("'{other}' is not a linear model"),
                ))
            }
        })
    }

    fn task(self) -> Task {
        match self {
            LinearEstimator::LinearSvc | LinearEstimator::SgdClassifier(_) => Task::Classify,
            LinearEstimator::LinearSvr | LinearEstimator::SgdRegressor(_) => Task::Regress,
            LinearEstimator::SgdOneClassSvm => Task::Novelty,
        }
    }
    /// The loss of an SGD model.
    pub fn loss(self) -> Option<SgdLoss> {
        match self {
            LinearEstimator::SgdClassifier(l) | LinearEstimator::SgdRegressor(l) => Some(l),
            _ => None,
        }
    }
}

/// SGDClassifier's and SGDRegressor's `loss` parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SgdLoss {
    /// `hinge`: a linear SVM.
    Hinge,
    /// `log_loss` (`log` before scikit-learn 1.3): logistic regression.
    LogLoss,
    /// `modified_huber`.
    ModifiedHuber,
    /// `squared_hinge`.
    SquaredHinge,
    /// `perceptron`.
    Perceptron,
    /// `squared_error` (`squared_loss` before 1.2).
    SquaredError,
    /// `huber`.
    Huber,
    /// `epsilon_insensitive`.
    EpsilonInsensitive,
    /// `squared_epsilon_insensitive`.
    SquaredEpsilonInsensitive,
}

impl SgdLoss {
    /// Every loss, in scikit-learn's documentation order.
    pub const ALL: [SgdLoss; 9] = [
        SgdLoss::Hinge,
        SgdLoss::LogLoss,
        SgdLoss::ModifiedHuber,
        SgdLoss::SquaredHinge,
        SgdLoss::Perceptron,
        SgdLoss::SquaredError,
        SgdLoss::Huber,
        SgdLoss::EpsilonInsensitive,
        SgdLoss::SquaredEpsilonInsensitive,
    ];

    /// scikit-learn's (current) name of the loss.
    pub fn name(self) -> &'static str {
        match self {
            SgdLoss::Hinge => "hinge",
            SgdLoss::LogLoss => "log_loss",
            SgdLoss::ModifiedHuber => "modified_huber",
            SgdLoss::SquaredHinge => "squared_hinge",
            SgdLoss::Perceptron => "perceptron",
            SgdLoss::SquaredError => "squared_error",
            SgdLoss::Huber => "huber",
            SgdLoss::EpsilonInsensitive => "epsilon_insensitive",
            SgdLoss::SquaredEpsilonInsensitive => "squared_epsilon_insensitive",
        }
    }

    /// The loss a pickled `loss` string names, older spellings included
    /// (`log` until scikit-learn 1.2, `squared_loss` until 1.1).
    pub fn from_sklearn_name(name: &str) -> Option<SgdLoss> {
        match name {
            "log" => Some(SgdLoss::LogLoss),
            "squared_loss" => Some(SgdLoss::SquaredError),
            _ => SgdLoss::ALL.into_iter().find(|l| l.name() == name),
        }
    }

    /// Whether SGDRegressor accepts it.
    pub fn is_regression(self) -> bool {
        matches!(
            self,
            SgdLoss::SquaredError
                | SgdLoss::Huber
                | SgdLoss::EpsilonInsensitive
                | SgdLoss::SquaredEpsilonInsensitive
        )
    }

    /// Whether SGDClassifier has `predict_proba` with it (scikit-learn
    /// raises AttributeError for the others).
    pub fn has_probabilities(self) -> bool {
        matches!(self, SgdLoss::LogLoss | SgdLoss::ModifiedHuber)
    }
}

/// Everything needed to build a [`LinearModel`], as scikit-learn exposes it.
#[derive(Debug, Clone)]
pub struct LinearParts {
    /// Which estimator it is.
    pub estimator: LinearEstimator,
    /// `classes_` for the classifiers; `None` for the others.
    pub classes: Option<Classes>,
    /// rows × d: one row for the regressors, SGDOneClassSVM and binary
    /// classifiers, k rows otherwise.
    pub coef: Array2<f64>,
    /// One value per row of `coef` (`−offset_` for SGDOneClassSVM).
    pub intercept: Array1<f64>,
    /// Pipeline steps applied to the input first, in order.
    pub preprocessing: Vec<Preprocess>,
    /// The scikit-learn version that pickled it, when known.
    pub sklearn_version: Option<String>,
}

/// A fitted linear model whose invariants have been checked.
#[derive(Debug, Clone)]
pub struct LinearModel {
    parts: LinearParts,
}

impl LinearModel {
    /// Checks every invariant the lowering and the reference rely on.
    pub fn new(parts: LinearParts) -> Result<LinearModel, ModelError> {
        let (rows, d) = parts.coef.dim();
        if d == 0 {
            return Err(ModelError::new("coef", "has no features"));
        }
        let name = parts.estimator.sklearn_name();
        if let LinearEstimator::SgdRegressor(loss) = parts.estimator {
            if !loss.is_regression() {
                return Err(ModelError::new(
                    "loss",
                    format!("'{}' is not a loss of SGDRegressor", loss.name()),
                ));
            }
        }
        let classifier = parts.estimator.task() == Task::Classify;
        let expected = match &parts.classes {
            None if classifier => {
                return Err(ModelError::new("classes", format!("{name} needs classes")))
            }
            Some(_) if !classifier => {
                return Err(ModelError::new("classes", format!("{name} has no classes")))
            }
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
        if parts.intercept.len() != rows {
            return Err(ModelError::new(
                "intercept",
                format!("has {} values, expected {rows}", parts.intercept.len()),
            ));
        }
        if let Some(c) = &parts.classes {
            c.check_unique()?;
        }
        check_finite("coef", parts.coef.iter(), d)?;
        check_finite("intercept", parts.intercept.iter(), 1)?;
        crate::ir::check_steps(&parts.preprocessing, d)?;
        Ok(LinearModel { parts })
    }

    /// Which estimator it is.
    pub fn estimator(&self) -> LinearEstimator {
        self.parts.estimator
    }
    /// `classes_` for the classifiers; `None` for the others.
    pub fn classes(&self) -> Option<&Classes> {
        self.parts.classes.as_ref()
    }
    /// `coef_`, rows × d.
    pub fn coef(&self) -> &Array2<f64> {
        &self.parts.coef
    }
    /// `intercept_` (`−offset_` for SGDOneClassSVM).
    pub fn intercept(&self) -> &Array1<f64> {
        &self.parts.intercept
    }

    /// The decision values `X·coef_ᵀ + intercept_`, N×rows.
    pub(crate) fn decision_values(&self, g: &mut Graph, x: Value) -> Value {
        decision::linear_values(g, x, &self.parts.coef, &self.parts.intercept)
    }

    /// SGDClassifier's `predict_proba` rule, when its loss has one.
    fn probability_loss(&self) -> Option<SgdLoss> {
        match self.parts.estimator {
            LinearEstimator::SgdClassifier(loss) if loss.has_probabilities() => Some(loss),
            _ => None,
        }
    }

    /// SGDOneClassSVM's `offset_`.
    fn offset(&self) -> Option<f64> {
        (self.parts.estimator == LinearEstimator::SgdOneClassSvm).then(|| -self.parts.intercept[0])
    }
}

impl Family for LinearModel {
    fn name(&self) -> &'static str {
        self.parts.estimator.sklearn_name()
    }
    fn describe(&self) -> String {
        let loss = match self.parts.estimator.loss() {
            Some(loss) => format!("loss={}, ", loss.name()),
            None => String::new(),
        };
        match &self.parts.classes {
            Some(c) => format!(
                "{} ({loss}{} classes, {} features)",
                self.name(),
                c.len(),
                self.parts.coef.ncols()
            ),
            None => format!(
                "{} ({loss}{} features)",
                self.name(),
                self.parts.coef.ncols()
            ),
        }
    }
    fn n_features(&self) -> usize {
        crate::ir::pipeline_input_width(&self.parts.preprocessing, self.parts.coef.ncols())
    }
    fn kernel(&self) -> Option<&Kernel> {
        None
    }
    fn preprocessing(&self) -> &[Preprocess] {
        &self.parts.preprocessing
    }
    fn sklearn_version(&self) -> Option<&str> {
        self.parts.sklearn_version.as_deref()
    }
    fn task(&self) -> Task {
        self.parts.estimator.task()
    }
    fn label_classes(&self) -> Option<Classes> {
        match self.task() {
            Task::Novelty => Some(Classes::Int(vec![-1, 1])),
            _ => self.parts.classes.clone(),
        }
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        let (rows, d) = self.parts.coef.dim();
        let mut lines = vec![("coefficients", format!("{rows} x {d}"))];
        if let Some(loss) = self.parts.estimator.loss() {
            lines.push(("loss", loss.name().to_string()));
        }
        if let LinearEstimator::SgdClassifier(loss) = self.parts.estimator {
            let p = match loss {
                SgdLoss::LogLoss => "yes (logistic, one-vs-rest normalised)",
                SgdLoss::ModifiedHuber => "yes ((clip(d, -1, 1) + 1) / 2, one-vs-rest normalised)",
                _ => "no (scikit-learn has no predict_proba for this loss)",
            };
            lines.push(("probabilities", p.to_string()));
        }
        if let Some(offset) = self.offset() {
            lines.push((
                "offset",
                format!("{offset} (score_samples = scores + offset)"),
            ));
        }
        lines
    }

    fn outputs(&self, options: &OutputOptions) -> Vec<OutputSpec> {
        let Some(classes) = self.label_classes() else {
            return vec![OutputSpec {
                kind: OutputKind::Prediction,
                ty: OutputType::Float,
                shape: OutputShape::Rows,
                method: "predict",
            }];
        };
        let scores = match self.parts.coef.nrows() {
            1 => OutputShape::Rows,
            rows => OutputShape::RowsBy(rows),
        };
        let mut specs = vec![
            OutputSpec {
                kind: OutputKind::Label,
                ty: OutputType::Label(label_type(&classes, options.label_index)),
                shape: OutputShape::Rows,
                method: "predict",
            },
            OutputSpec {
                kind: OutputKind::Scores,
                ty: OutputType::Float,
                shape: scores,
                method: "decision_function",
            },
        ];
        if self.probability_loss().is_some() {
            specs.push(OutputSpec {
                kind: OutputKind::Probabilities,
                ty: OutputType::Float,
                shape: OutputShape::RowsBy(classes.len()),
                method: "predict_proba",
            });
        }
        specs
    }

    fn metadata(&self) -> Vec<(&'static str, String)> {
        let mut m = Vec::new();
        if let Some(loss) = self.parts.estimator.loss() {
            m.push((meta::LOSS, loss.name().to_string()));
        }
        if let Some(offset) = self.offset() {
            // score_samples = scores + offset_.
            m.push((meta::OFFSET, format!("{offset:?}")));
        }
        m
    }

    fn anchor_points(&self) -> (Arc<Array2<f64>>, Vec<usize>) {
        // The unit ball scaled by the coefficients' reach: rows ±1 per feature.
        let d = self.parts.coef.ncols();
        let mut pts = Array2::<f64>::zeros((2 * d, d));
        for f in 0..d {
            pts[[2 * f, f]] = 1.0;
            pts[[2 * f + 1, f]] = -1.0;
        }
        (pts.into(), (0..2 * d).map(|r| r % 2).collect())
    }

    fn lower(&self, g: &mut Graph, x: Value, out: &mut OutputSink<'_>) {
        let value = self.decision_values(g, x);
        let binary = self.parts.coef.nrows() == 1;
        let flat = if binary {
            g.reshape(value, &[-1])
        } else {
            value
        };
        let index = match (self.task(), binary) {
            (Task::Regress, _) => {
                out.emit(g, OutputKind::Prediction, flat);
                return;
            }
            // SGDOneClassSVM: +1 iff decision ≥ 0; an exact 0 is +1.
            (Task::Novelty, _) => votes::binary_class(g, flat),
            // Binary classifiers: classes_[1] iff decision > 0 strictly (§3).
            (Task::Classify, true) => votes::strictly_positive(g, flat),
            // Multiclass: argmax of the decision values, first maximum.
            (Task::Classify, false) => g.argmax(flat, 1),
        };
        out.emit(g, OutputKind::Label, index);
        out.emit(g, OutputKind::Scores, flat);
        let k = self.parts.classes.as_ref().map_or(0, |c| c.len());
        match self.probability_loss() {
            Some(SgdLoss::LogLoss) => {
                let p = probability::logistic_ovr(g, value, k);
                out.emit(g, OutputKind::Probabilities, p);
            }
            Some(_) => {
                let p = probability::modified_huber_ovr(g, value, k);
                out.emit(g, OutputKind::Probabilities, p);
            }
            None => {}
        }
    }

    fn evaluate_bounded(&self, x: ArrayView2<f64>, input_error: &[f64]) -> Evaluation {
        let mut eval = self.evaluate(x);
        let (coef, intercept) = (&self.parts.coef, &self.parts.intercept);
        let bounds = Array2::from_shape_fn((x.nrows(), coef.nrows()), |(r, c)| {
            affine_bound(coef.row(c), x.row(r), intercept[c], input_error[r])
        });
        eval.f32_bound = Some(F32Bound::of_scores(bounds));
        eval
    }

    fn evaluate(&self, x: ArrayView2<f64>) -> Evaluation {
        let dec = x.dot(&self.parts.coef.t()) + &self.parts.intercept;
        let mut eval = match (self.task(), dec.ncols()) {
            (Task::Regress, _) => single_output(dec.column(0).to_vec(), false),
            (Task::Novelty, _) => {
                let mut eval = single_output(dec.column(0).to_vec(), false);
                // SGDOneClassSVM: +1 (index 1) iff decision ≥ 0.
                eval.label_index = dec
                    .column(0)
                    .iter()
                    .map(|&v| usize::from(v >= 0.0))
                    .collect();
                eval
            }
            // Binary: classes_[1] iff decision > 0 strictly (§3).
            (Task::Classify, 1) => single_output(dec.column(0).to_vec(), true),
            (Task::Classify, _) => {
                let (label_index, tie_margins) = argmax_rows(&dec);
                Evaluation {
                    pairwise: Array2::zeros((dec.nrows(), 0)),
                    scores: dec.clone(),
                    tie_margins,
                    label_index,
                    probabilities: None,
                    probability_label: None,
                    f32_bound: None,
                }
            }
        };
        eval.probabilities = match self.probability_loss() {
            Some(SgdLoss::LogLoss) => Some(logistic_ovr(dec.view())),
            Some(_) => Some(modified_huber_ovr(dec.view())),
            None => None,
        };
        eval
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(estimator: LinearEstimator, classes: Option<Classes>, rows: usize) -> LinearParts {
        LinearParts {
            estimator,
            classes,
            coef: Array2::ones((rows, 2)),
            intercept: Array1::zeros(rows),
            preprocessing: Vec::new(),
            sklearn_version: None,
        }
    }

    #[test]
    fn losses_are_read_by_name_with_older_spellings() {
        let read = |name, loss| LinearEstimator::from_sklearn(name, loss);
        assert_eq!(
            read("SGDClassifier", Some("log")).unwrap(),
            LinearEstimator::SgdClassifier(SgdLoss::LogLoss)
        );
        assert_eq!(
            read("SGDRegressor", Some("squared_loss")).unwrap(),
            LinearEstimator::SgdRegressor(SgdLoss::SquaredError)
        );
        for loss in SgdLoss::ALL {
            assert_eq!(SgdLoss::from_sklearn_name(loss.name()), Some(loss));
        }
        let e = read("SGDClassifier", Some("hinge2")).unwrap_err();
        assert_eq!(e.field, "loss");
        assert!(e
            .problem
            .starts_with("'hinge2' is not supported (supported: hinge, log_loss"));
        assert_eq!(
            read("SGDClassifier", None).unwrap_err().problem,
            "is missing"
        );
        // SGDOneClassSVM's loss is fixed; LinearSVC has none.
        assert_eq!(
            read("SGDOneClassSVM", Some("anything")).unwrap(),
            LinearEstimator::SgdOneClassSvm
        );
    }

    #[test]
    fn the_estimator_decides_which_parts_are_required() {
        let two = Some(Classes::Int(vec![0, 1]));
        let hinge = LinearEstimator::SgdClassifier(SgdLoss::Hinge);
        assert!(LinearModel::new(parts(hinge, two.clone(), 1)).is_ok());
        let e = LinearModel::new(parts(hinge, None, 1)).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.problem.as_str()),
            ("classes", "SGDClassifier needs classes")
        );
        let one_class = LinearEstimator::SgdOneClassSvm;
        let e = LinearModel::new(parts(one_class, two, 1)).unwrap_err();
        assert_eq!(e.problem, "SGDOneClassSVM has no classes");
        let e = LinearModel::new(parts(LinearEstimator::SgdOneClassSvm, None, 2)).unwrap_err();
        assert_eq!(e.problem, "has 2 rows, expected 1");
        let regressor = LinearEstimator::SgdRegressor(SgdLoss::LogLoss);
        let e = LinearModel::new(parts(regressor, None, 1)).unwrap_err();
        assert_eq!(e.problem, "'log_loss' is not a loss of SGDRegressor");
    }

    #[test]
    fn probabilities_follow_the_all_zero_row_rules() {
        use ndarray::arr2;
        // modified_huber: every d <= -1 gives a zero row -> uniform.
        let m = modified_huber_ovr(arr2(&[[-1.0, -3.0, -1.5], [1.0, -1.0, 0.0]]).view());
        assert_eq!(m.row(0).to_vec(), vec![1.0 / 3.0; 3]);
        assert_eq!(m.row(1).to_vec(), vec![1.0 / 1.5, 0.0, 0.5 / 1.5]);
        // log_loss: expit underflows to exactly 0 below about -745.
        let l = logistic_ovr(arr2(&[[-800.0, -900.0, -1000.0]]).view());
        assert_eq!(l.row(0).to_vec(), vec![1.0 / 3.0; 3]);
        // Binary: [1 - p, p].
        let b = modified_huber_ovr(arr2(&[[0.5], [-2.0]]).view());
        assert_eq!(b, arr2(&[[0.25, 0.75], [1.0, 0.0]]));
    }
}
