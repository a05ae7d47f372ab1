//! CalibratedClassifierCV around SVC, NuSVC, LinearSVC or a Pipeline ending
//! in one (scikit-learn's sklearn/calibration.py, read for 1.9.1; the
//! calibration maps and their rules are in `crate::ir::Calibrator`).

use super::{
    label_type, Calibration, Classes, DecisionShape, Family, Kernel, Model, ModelError, OutputKind,
    OutputOptions, OutputShape, OutputSpec, OutputType, Preprocess, Task,
};
use crate::graph::{Graph, Value};
use crate::lower::{calibration, preprocess, OutputSink};
use crate::reference::{argmax_rows, Evaluation};
use ndarray::{Array2, ArrayView2};
use std::sync::Arc;

/// One of `calibrated_classifiers_`: a checked base model and its map.
#[derive(Debug, Clone)]
pub struct CalibratedMember {
    /// The base estimator (with its own pipeline steps).
    pub base: Model,
    /// How its decision values become probabilities.
    pub calibration: Calibration,
}

/// Everything needed to build a [`CalibratedModel`].
#[derive(Debug, Clone)]
pub struct CalibratedParts {
    /// `classes_`.
    pub classes: Classes,
    /// `method`: sigmoid, isotonic or temperature.
    pub method: String,
    /// `calibrated_classifiers_`, at least one.
    pub members: Vec<CalibratedMember>,
    /// The scikit-learn version that pickled it, when known.
    pub sklearn_version: Option<String>,
}

/// A fitted CalibratedClassifierCV whose invariants have been checked.
#[derive(Debug, Clone)]
pub struct CalibratedModel {
    parts: CalibratedParts,
}

impl CalibratedModel {
    /// Checks every invariant the lowering and the reference rely on.
    pub fn new(parts: CalibratedParts) -> Result<CalibratedModel, ModelError> {
        let k = parts.classes.len();
        if k < 2 {
            return Err(ModelError::new("classes", "needs at least 2 classes"));
        }
        if parts.members.is_empty() {
            return Err(ModelError::new("calibrated_classifiers", "is empty"));
        }
        let d = parts.members[0].base.n_features();
        for (i, m) in parts.members.iter().enumerate() {
            let field = |f: &str| format!("calibrated_classifiers[{i}].{f}");
            check_base(&m.base, k)
                .map_err(|problem| ModelError::new(field("estimator"), problem))?;
            // Temperature scaling fits the base on encoded labels 0..k−1 when the
            // labels are strings (sklearn/calibration.py); columns keep the order.
            let encoded = Classes::Int((0..k as i64).collect());
            let base_classes = m.base.label_classes();
            if base_classes.as_ref() != Some(&parts.classes)
                && base_classes.as_ref() != Some(&encoded)
            {
                return Err(ModelError::new(
                    field("estimator.classes"),
                    "differ from the calibrated classes (a fold without every class is not supported)",
                ));
            }
            if m.base.n_features() != d {
                return Err(ModelError::new(
                    field("estimator"),
                    "has a different number of features",
                ));
            }
            match &m.calibration {
                Calibration::PerClass(c) => {
                    let want = if k == 2 { 1 } else { k };
                    if c.len() != want {
                        return Err(ModelError::new(
                            field("calibrators"),
                            format!("has {} entries, expected {want}", c.len()),
                        ));
                    }
                    for (j, cal) in c.iter().enumerate() {
                        if !cal.is_valid() {
                            return Err(ModelError::new(
                                format!("{}[{j}]", field("calibrators")),
                                "is not a valid calibrator (finite values, strictly increasing thresholds)",
                            ));
                        }
                    }
                }
                Calibration::Temperature { beta } => {
                    if !beta.is_finite() {
                        return Err(ModelError::new(field("beta"), "is not finite"));
                    }
                }
            }
        }
        Ok(CalibratedModel { parts })
    }

    /// `classes_`.
    pub fn classes(&self) -> &Classes {
        &self.parts.classes
    }
    /// sigmoid, isotonic or temperature.
    pub fn method(&self) -> &str {
        &self.parts.method
    }
    /// The calibrated classifiers.
    pub fn members(&self) -> &[CalibratedMember] {
        &self.parts.members
    }
    fn base(&self) -> &Model {
        &self.parts.members[0].base
    }
}

/// Whether CalibratedClassifierCV's rules admit `base` for k classes.
fn check_base(base: &Model, k: usize) -> Result<(), String> {
    match base {
        // 'ovo' gives k(k−1)/2 columns; scikit-learn pairs them with the k
        // calibrators only when the counts agree (k = 3), and so do we.
        Model::Svc(s) if k > 3 && s.decision_shape() == DecisionShape::Ovo => Err(
            "an SVC with decision_function_shape='ovo' and more than 3 classes cannot be calibrated per class".into(),
        ),
        Model::Svc(_) | Model::Linear(_) if base.task() == Task::Classify => Ok(()),
        other => Err(format!(
            "{} is not supported inside CalibratedClassifierCV (SVC, NuSVC, LinearSVC or SGDClassifier)",
            other.name()
        )),
    }
}

/// The base estimator's `decision_function` as graph ops, N×1 (binary) or
/// N×k, after its own pipeline steps.
fn base_decision(g: &mut Graph, x: Value, base: &Model) -> Value {
    let x = preprocess::apply(g, x, base.preprocessing());
    match base {
        Model::Svc(m) if m.n_classes() == 2 => super::svc::decision_values(g, x, m),
        Model::Svc(m) => {
            let pairwise = super::svc::decision_values(g, x, m);
            super::svc::multiclass(g, pairwise, m).0
        }
        Model::Linear(m) => m.decision_values(g, x),
        _ => unreachable!("CalibratedModel::new admits SVC, NuSVC and LinearSVC only"),
    }
}

/// One member's probabilities in f64 (see `crate::ir::Calibrator`).
fn member_probabilities(member: &CalibratedMember, k: usize, x: ArrayView2<f64>) -> Array2<f64> {
    let decision = member.base.evaluate(x).scores;
    let n = x.nrows();
    let mut proba = Array2::<f64>::zeros((n, k));
    match &member.calibration {
        Calibration::PerClass(calibrators) if k == 2 => {
            for r in 0..n {
                proba[[r, 1]] = calibrators[0].apply(decision[[r, 0]]);
                proba[[r, 0]] = 1.0 - proba[[r, 1]];
            }
        }
        Calibration::PerClass(calibrators) => {
            for r in 0..n {
                for (c, cal) in calibrators.iter().enumerate() {
                    proba[[r, c]] = cal.apply(decision[[r, c]]);
                }
                let denominator: f64 = proba.row(r).sum();
                for c in 0..k {
                    proba[[r, c]] = if denominator != 0.0 {
                        proba[[r, c]] / denominator
                    } else {
                        1.0 / k as f64
                    };
                }
            }
        }
        Calibration::Temperature { beta } => {
            for r in 0..n {
                let logits: Vec<f64> = if k == 2 {
                    vec![-decision[[r, 0]], decision[[r, 0]]]
                } else {
                    decision.row(r).to_vec()
                };
                let z: Vec<f64> = logits.iter().map(|l| beta * l).collect();
                let top = z.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
                let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
                let sum: f64 = e.iter().sum();
                for c in 0..k {
                    proba[[r, c]] = e[c] / sum;
                }
            }
        }
    }
    // Values that exceed 1 by at most 1e-5 become exactly 1.
    proba.mapv_inplace(|p| if p > 1.0 && p <= 1.0 + 1e-5 { 1.0 } else { p });
    proba
}

impl Family for CalibratedModel {
    fn name(&self) -> &'static str {
        "CalibratedClassifierCV"
    }
    fn describe(&self) -> String {
        let n = self.parts.members.len();
        format!(
            "CalibratedClassifierCV ({}, {n} calibrated {} around {})",
            self.parts.method,
            if n == 1 { "classifier" } else { "classifiers" },
            self.base().describe_pipeline()
        )
    }
    fn n_features(&self) -> usize {
        self.base().n_features()
    }
    fn kernel(&self) -> Option<&Kernel> {
        self.base().kernel()
    }
    fn preprocessing(&self) -> &[Preprocess] {
        // Each member applies its own pipeline steps.
        &[]
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
        let n = self.parts.members.len();
        vec![
            (
                "calibration",
                format!("{} ({n} calibrated classifiers)", self.parts.method),
            ),
            ("base estimator", self.base().describe_pipeline()),
        ]
    }

    fn outputs(&self, options: &OutputOptions) -> Vec<OutputSpec> {
        vec![
            OutputSpec {
                kind: OutputKind::Label,
                ty: OutputType::Label(label_type(&self.parts.classes, options.label_index)),
                shape: OutputShape::Rows,
                method: "predict",
            },
            OutputSpec {
                kind: OutputKind::Probabilities,
                ty: OutputType::Float,
                shape: OutputShape::RowsBy(self.parts.classes.len()),
                method: "predict_proba",
            },
        ]
    }

    fn metadata(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    fn anchor_points(&self) -> (Arc<Array2<f64>>, Vec<usize>) {
        // Anchors of the first member, in that member's input space.
        let base = self.base();
        let (pts, groups) = base.anchor_points();
        let mut pts = Arc::unwrap_or_clone(pts);
        for step in base.preprocessing().iter().rev() {
            step.invert(&mut pts);
        }
        (pts.into(), groups)
    }

    fn lower(&self, g: &mut Graph, x: Value, out: &mut OutputSink<'_>) {
        let k = self.parts.classes.len();
        let mut sum: Option<Value> = None;
        for member in &self.parts.members {
            let decision = base_decision(g, x, &member.base);
            let p = calibration::member_probabilities(g, decision, &member.calibration, k);
            sum = Some(match sum {
                None => p,
                Some(s) => g.add(s, p),
            });
        }
        let sum = sum.expect("at least one calibrated classifier");
        let count = g.scalar("calibrated_count", self.parts.members.len() as f64);
        let mean = g.div(sum, count);
        let mean = g.rename(mean, "calibrated_probabilities");
        let index = g.argmax(mean, 1);
        out.emit(g, OutputKind::Label, index);
        out.emit(g, OutputKind::Probabilities, mean);
    }

    fn evaluate(&self, x: ArrayView2<f64>) -> Evaluation {
        let k = self.parts.classes.len();
        let n = x.nrows();
        let mut mean = Array2::<f64>::zeros((n, k));
        for member in &self.parts.members {
            mean += &member_probabilities(member, k, x);
        }
        mean /= self.parts.members.len() as f64;
        let (label_index, tie_margins) = argmax_rows(&mean);
        Evaluation {
            pairwise: Array2::zeros((n, 0)),
            scores: Array2::zeros((n, 0)),
            tie_margins,
            label_index,
            probabilities: Some(mean),
            probability_label: None,
            f32_bound: None,
        }
    }
}
