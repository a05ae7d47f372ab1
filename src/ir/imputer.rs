//! SimpleImputer: missing entries replaced by the fitted per-feature
//! statistic, features without any observed value at fit time dropped, and
//! optionally the missing-value indicator appended.

use super::ModelError;
use ndarray::{Array2, Axis};

/// What counts as missing (`missing_values`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Missing {
    /// `np.nan`: `isnan(x)`.
    NaN,
    /// A number: `x == value`.
    Value(f64),
}

impl Missing {
    /// Whether `x` is missing.
    pub fn is_missing(self, x: f64) -> bool {
        match self {
            Missing::NaN => x.is_nan(),
            Missing::Value(v) => x == v,
        }
    }
}

/// A fitted `SimpleImputer`. Only `statistics_` matters at transform time:
/// the strategy (mean, median, most_frequent, constant) chose it.
#[derive(Debug, Clone, PartialEq)]
pub struct Imputer {
    /// `strategy`, for descriptions.
    pub strategy: String,
    /// `missing_values`.
    pub missing: Missing,
    /// `statistics_`, one per input feature; NaN marks a feature with no
    /// observed value at fit time, which transform drops.
    pub statistics: Vec<f64>,
    /// `indicator_.features_` when `add_indicator`: the input features
    /// that had missing values at fit time, whose masks are appended.
    pub indicator: Option<Vec<usize>>,
}

impl Imputer {
    /// The input features transform keeps (statistic not NaN), in order.
    pub fn kept(&self) -> Vec<usize> {
        (0..self.statistics.len())
            .filter(|&j| !self.statistics[j].is_nan())
            .collect()
    }

    /// Output width: kept features, then indicator columns.
    pub fn n_out(&self) -> usize {
        self.kept().len() + self.indicator.as_ref().map_or(0, Vec::len)
    }

    /// A one-line description for `inspect`.
    pub fn describe(&self) -> String {
        let missing = match self.missing {
            Missing::NaN => "nan".to_string(),
            Missing::Value(v) => v.to_string(),
        };
        format!(
            "SimpleImputer(strategy='{}', missing_values={missing}, add_indicator={})",
            self.strategy,
            self.indicator.is_some()
        )
    }

    /// Checks against the input width `n_in`; returns the output width.
    pub(crate) fn check(
        &self,
        field: &dyn Fn(&str) -> String,
        n_in: usize,
    ) -> Result<usize, ModelError> {
        if self.statistics.len() != n_in {
            return Err(ModelError::new(
                field("statistics"),
                format!(
                    "has {} values, the step receives {n_in} features",
                    self.statistics.len()
                ),
            ));
        }
        if let Some(j) = self.statistics.iter().position(|v| v.is_infinite()) {
            return Err(ModelError::new(
                format!("{}[{j}]", field("statistics")),
                "is infinite",
            ));
        }
        if let Missing::Value(v) = self.missing {
            if !v.is_finite() {
                return Err(ModelError::new(
                    field("missing_values"),
                    format!("{v} is neither NaN nor a finite number"),
                ));
            }
        }
        if let Some(features) = &self.indicator {
            if let Some(i) = features.iter().position(|&f| f >= n_in) {
                return Err(ModelError::new(
                    format!("{}[{i}]", field("indicator_features")),
                    format!("{} is not below the {n_in} input features", features[i]),
                ));
            }
            if let Some(i) = features.windows(2).position(|w| w[0] >= w[1]) {
                return Err(ModelError::new(
                    format!("{}[{}]", field("indicator_features"), i + 1),
                    "is not in increasing order",
                ));
            }
        }
        match self.n_out() {
            0 => Err(ModelError::new(
                field("statistics"),
                "every feature is dropped (no observed value at fit time) and there is no indicator",
            )),
            n => Ok(n),
        }
    }

    /// Applies the transform in f64, as `SimpleImputer.transform`.
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let kept = self.kept();
        let features = self.indicator.as_deref().unwrap_or(&[]);
        let mut out = Array2::zeros((x.nrows(), kept.len() + features.len()));
        for (row, mut o) in x.axis_iter(Axis(0)).zip(out.axis_iter_mut(Axis(0))) {
            for (c, &j) in kept.iter().enumerate() {
                let v = row[j];
                o[c] = if self.missing.is_missing(v) {
                    self.statistics[j]
                } else {
                    v
                };
            }
            for (c, &f) in features.iter().enumerate() {
                o[kept.len() + c] = f64::from(u8::from(self.missing.is_missing(row[f])));
            }
        }
        out
    }

    /// An input row for each output row: the kept features' values, 0 in
    /// dropped features (their value does not reach the output).
    pub fn invert(&self, z: &Array2<f64>) -> Array2<f64> {
        let mut x = Array2::zeros((z.nrows(), self.statistics.len()));
        for (c, j) in self.kept().into_iter().enumerate() {
            x.column_mut(j).assign(&z.column(c));
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{check_steps, Preprocess};
    use ndarray::array;

    fn imputer() -> Imputer {
        Imputer {
            strategy: "mean".into(),
            missing: Missing::NaN,
            statistics: vec![1.5, f64::NAN, -2.0],
            indicator: Some(vec![0, 1]),
        }
    }

    #[test]
    fn drops_empty_features_and_appends_the_indicator() {
        let x = array![[f64::NAN, f64::NAN, 3.0], [4.0, 5.0, f64::NAN]];
        let z = imputer().apply(&x);
        assert_eq!(z, array![[1.5, 3.0, 1.0, 1.0], [4.0, -2.0, 0.0, 0.0]]);
        let mut by_value = imputer();
        by_value.missing = Missing::Value(-1.0);
        let z = by_value.apply(&array![[-1.0, 0.0, -1.0]]);
        assert_eq!(z, array![[1.5, -2.0, 1.0, 0.0]]);
    }

    #[test]
    fn invariants_name_the_field_at_fault() {
        let at_fault = |i: Imputer, width: usize| {
            check_steps(&[Preprocess::Imputer(i)], width)
                .unwrap_err()
                .field
        };
        assert!(check_steps(&[Preprocess::Imputer(imputer())], 4).is_ok());
        let mut i = imputer();
        i.statistics[2] = f64::INFINITY;
        assert_eq!(at_fault(i, 4), "preprocessing[0].statistics[2]");
        let mut i = imputer();
        i.indicator = Some(vec![1, 3]);
        assert_eq!(at_fault(i, 4), "preprocessing[0].indicator_features[1]");
        let mut i = imputer();
        i.indicator = Some(vec![1, 0]);
        assert_eq!(at_fault(i, 4), "preprocessing[0].indicator_features[1]");
        let mut i = imputer();
        i.missing = Missing::Value(f64::INFINITY);
        assert_eq!(at_fault(i, 4), "preprocessing[0].missing_values");
        // Two kept features and two indicator columns: not 3.
        assert_eq!(at_fault(imputer(), 3), "preprocessing[0]");
    }
}
