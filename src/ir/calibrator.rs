//! CalibratedClassifierCV's calibration maps (scikit-learn's
//! sklearn/calibration.py, read for 1.9.1):
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

/// One class's calibration map.
#[derive(Debug, Clone, PartialEq)]
pub enum Calibrator {
    /// `1 / (1 + e^{a·f + b})`
    #[allow(missing_docs)] // a and b: the fitted sigmoid's parameters
    Sigmoid { a: f64, b: f64 },
    /// Piecewise-linear through (x, y), clipped to [x_min, x_max].
    Isotonic {
        /// Thresholds, strictly increasing.
        x: Vec<f64>,
        /// Values at the thresholds.
        y: Vec<f64>,
        /// Lower clip of the input.
        x_min: f64,
        /// Upper clip of the input.
        x_max: f64,
    },
}

impl Calibrator {
    /// Finite values; isotonic thresholds non-empty, as many as their
    /// values, and strictly increasing (what `apply` relies on).
    pub fn is_valid(&self) -> bool {
        match self {
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
        }
    }

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
    Temperature {
        /// The fitted inverse temperature β.
        beta: f64,
    },
}
