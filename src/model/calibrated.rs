//! CalibratedClassifierCV around SVC, NuSVC, LinearSVC or a Pipeline ending
//! in one (scikit-learn's sklearn/calibration.py, read for 1.9.1):
//!
//! * each calibrated classifier runs its base estimator's `decision_function`
//!   (binary: one column for `classes_[1]`; multiclass: one column per class);
//! * sigmoid: `p_c = expit(−(a·f_c + b))`; isotonic: linear interpolation of
//!   the thresholds after clipping `f_c` to [X_min, X_max];
//! * binary: `p_0 = 1 − p_1`; multiclass: divided by the row sum, the uniform
//!   distribution where that sum is 0;
//! * temperature: `softmax(β·logits)` with logits `(−f, f)` for binary models;
//! * values in (1, 1 + 1e-5] become 1; the classifiers are averaged;
//!   `predict` is the class of the first maximum.

use super::{Classes, Model, ModelError};

/// One class's calibration map.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibrator {
    /// `1 / (1 + e^{a·f + b})`
    Sigmoid { a: f64, b: f64 },
    /// Piecewise-linear through (x, y), clipped to [x_min, x_max].
    Isotonic {
        x: Vec<f64>,
        y: Vec<f64>,
        x_min: f64,
        x_max: f64,
    },
}

impl Calibrator {
    /// scikit-learn's `predict` of the calibrator on one decision value.
    pub fn apply(&self, f: f64) -> f64 {
        match self {
            Calibrator::Sigmoid { a, b } => 1.0 / (1.0 + (a * f + b).exp()),
            Calibrator::Isotonic { x, y, x_min, x_max } => {
                if x.len() == 1 {
                    return y[0];
                }
                let t = f.clamp(*x_min, *x_max);
                // scipy interp1d: searchsorted (left), clipped to [1, n − 1].
                let i = x.partition_point(|&v| v < t).clamp(1, x.len() - 1);
                let slope = (y[i] - y[i - 1]) / (x[i] - x[i - 1]);
                slope * (t - x[i - 1]) + y[i - 1]
            }
        }
    }
}

/// How one calibrated classifier maps decision values to probabilities.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibration {
    /// One calibrator per class (one for binary models).
    PerClass(Vec<Calibrator>),
    /// `softmax(β · logits)`.
    Temperature { beta: f64 },
}

/// One of `calibrated_classifiers_`.
#[derive(Debug, Clone)]
pub struct CalibratedMember {
    pub base: Model,
    pub calibration: Calibration,
}

/// A fitted CalibratedClassifierCV.
#[derive(Debug, Clone)]
pub struct CalibratedModel {
    pub classes: Classes,
    pub method: String,
    pub members: Vec<CalibratedMember>,
    pub sklearn_version: Option<String>,
}

impl CalibratedModel {
    pub fn check(&self) -> Result<(), ModelError> {
        let k = self.classes.len();
        if k < 2 {
            return Err(ModelError::new("classes", "needs at least 2 classes"));
        }
        if self.members.is_empty() {
            return Err(ModelError::new("calibrated_classifiers", "is empty"));
        }
        let d = self.members[0].base.n_features();
        for (i, m) in self.members.iter().enumerate() {
            let field = |f: &str| format!("calibrated_classifiers[{i}].{f}");
            match &m.base {
                // 'ovo' gives k(k−1)/2 columns; scikit-learn pairs them with the k
                // calibrators only when the counts agree (k = 3), and so do we.
                Model::Svc(s) if k > 3 && s.decision_shape() == super::DecisionShape::Ovo => {
                    return Err(ModelError::new(
                        field("estimator"),
                        "an SVC with decision_function_shape='ovo' and more than 3 classes cannot be calibrated per class",
                    ))
                }
                Model::Svc(_) | Model::Linear(_) if m.base.task() == super::Task::Classify => {}
                other => {
                    return Err(ModelError::new(
                        field("estimator"),
                        format!("{} is not supported inside CalibratedClassifierCV (SVC, NuSVC or LinearSVC)", other.name()),
                    ))
                }
            }
            // Temperature scaling fits the base on encoded labels 0..k−1 when the
            // labels are strings (sklearn/calibration.py); columns keep the order.
            let encoded = Classes::Int((0..k as i64).collect());
            let base_classes = m.base.label_classes();
            if base_classes.as_ref() != Some(&self.classes)
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
                        let finite = match cal {
                            Calibrator::Sigmoid { a, b } => a.is_finite() && b.is_finite(),
                            Calibrator::Isotonic { x, y, x_min, x_max } => {
                                !x.is_empty()
                                    && x.len() == y.len()
                                    && x.windows(2).all(|w| w[0] < w[1])
                                    && x.iter()
                                        .chain(y)
                                        .chain([x_min, x_max])
                                        .all(|v| v.is_finite())
                            }
                        };
                        if !finite {
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
        Ok(())
    }
}
