//! LinearSVC and LinearSVR (SVM_SEMANTICS.md §3): primal models,
//! `X·coef_ᵀ + intercept_`.

use super::{
    check_finite, label_type, Classes, Family, Kernel, ModelError, OutputKind, OutputOptions,
    OutputShape, OutputSpec, OutputType, Preprocess, Task,
};
use crate::graph::{Graph, Value};
use crate::lower::{decision, votes, OutputSink};
use crate::reference::{argmax_rows, single_output, Evaluation};
use ndarray::{Array1, Array2, ArrayView2};
use std::sync::Arc;

/// Everything needed to build a [`LinearModel`], as scikit-learn exposes it.
#[derive(Debug, Clone)]
pub struct LinearParts {
    /// `classes_` for LinearSVC; `None` for LinearSVR.
    pub classes: Option<Classes>,
    /// rows × d: one row for LinearSVR and binary LinearSVC, k rows otherwise.
    pub coef: Array2<f64>,
    /// One value per row of `coef`.
    pub intercept: Array1<f64>,
    /// Pipeline steps applied to the input first, in order.
    pub preprocessing: Vec<Preprocess>,
    /// The scikit-learn version that pickled it, when known.
    pub sklearn_version: Option<String>,
}

/// A fitted LinearSVC or LinearSVR whose invariants have been checked.
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
        let expected = match &parts.classes {
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

    /// `classes_` for LinearSVC; `None` for LinearSVR.
    pub fn classes(&self) -> Option<&Classes> {
        self.parts.classes.as_ref()
    }
    /// `coef_`, rows × d.
    pub fn coef(&self) -> &Array2<f64> {
        &self.parts.coef
    }
    /// `intercept_`.
    pub fn intercept(&self) -> &Array1<f64> {
        &self.parts.intercept
    }

    /// The decision values `X·coef_ᵀ + intercept_`, N×rows.
    pub(crate) fn decision_values(&self, g: &mut Graph, x: Value) -> Value {
        decision::linear_values(g, x, &self.parts.coef, &self.parts.intercept)
    }
}

impl Family for LinearModel {
    fn name(&self) -> &'static str {
        if self.parts.classes.is_some() {
            "LinearSVC"
        } else {
            "LinearSVR"
        }
    }
    fn describe(&self) -> String {
        match &self.parts.classes {
            Some(c) => format!(
                "LinearSVC ({} classes, {} features)",
                c.len(),
                self.parts.coef.ncols()
            ),
            None => format!("LinearSVR ({} features)", self.parts.coef.ncols()),
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
        if self.parts.classes.is_some() {
            Task::Classify
        } else {
            Task::Regress
        }
    }
    fn label_classes(&self) -> Option<Classes> {
        self.parts.classes.clone()
    }

    fn details(&self) -> Vec<(&'static str, String)> {
        let (rows, d) = self.parts.coef.dim();
        vec![("coefficients", format!("{rows} x {d}"))]
    }

    fn outputs(&self, options: &OutputOptions) -> Vec<OutputSpec> {
        let Some(classes) = &self.parts.classes else {
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
        vec![
            OutputSpec {
                kind: OutputKind::Label,
                ty: OutputType::Label(label_type(classes, options.label_index)),
                shape: OutputShape::Rows,
                method: "predict",
            },
            OutputSpec {
                kind: OutputKind::Scores,
                ty: OutputType::Float,
                shape: scores,
                method: "decision_function",
            },
        ]
    }

    fn metadata(&self) -> Vec<(&'static str, String)> {
        Vec::new()
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
        if self.parts.coef.nrows() == 1 {
            let value = g.reshape(value, &[-1]);
            if self.parts.classes.is_none() {
                out.emit(g, OutputKind::Prediction, value);
                return;
            }
            // LinearSVC binary: classes_[1] iff decision > 0 strictly (§3).
            let index = votes::strictly_positive(g, value);
            out.emit(g, OutputKind::Label, index);
            out.emit(g, OutputKind::Scores, value);
        } else {
            // Multiclass: argmax of the decision values, first maximum.
            let index = g.argmax(value, 1);
            out.emit(g, OutputKind::Label, index);
            out.emit(g, OutputKind::Scores, value);
        }
    }

    fn evaluate(&self, x: ArrayView2<f64>) -> Evaluation {
        let dec = x.dot(&self.parts.coef.t()) + &self.parts.intercept;
        match (&self.parts.classes, dec.ncols()) {
            (None, _) => single_output(dec.column(0).to_vec(), false),
            // LinearSVC binary: classes_[1] iff decision > 0 strictly (§3).
            (Some(_), 1) => single_output(dec.column(0).to_vec(), true),
            (Some(_), _) => {
                let (label_index, tie_margins) = argmax_rows(&dec);
                Evaluation {
                    pairwise: Array2::zeros((dec.nrows(), 0)),
                    scores: dec,
                    tie_margins,
                    label_index,
                    probabilities: None,
                    probability_label: None,
                }
            }
        }
    }
}
