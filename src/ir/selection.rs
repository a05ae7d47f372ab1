//! Feature selection (VarianceThreshold, SelectKBest, SelectPercentile,
//! GenericUnivariateSelect, SelectFpr/Fdr/Fwe): the fitted support mask,
//! applied as a selection of columns. The loader derives the mask from the
//! pickled state as `get_support()` does.

use super::ModelError;
use ndarray::{Array2, Axis};

/// The columns a fitted selector keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// scikit-learn's class name (`SelectKBest`, …).
    pub class: String,
    /// `get_support()`: one flag per input feature.
    pub support: Vec<bool>,
}

impl Selection {
    /// Indices of the kept features, in input order.
    pub fn kept(&self) -> Vec<usize> {
        (0..self.support.len())
            .filter(|&j| self.support[j])
            .collect()
    }

    /// A one-line description for `inspect`.
    pub fn describe(&self) -> String {
        format!(
            "{}(keeps {} of {} features)",
            self.class,
            self.kept().len(),
            self.support.len()
        )
    }

    /// Checks the mask's length against the input width `n_in`; returns
    /// the output width.
    pub(crate) fn check(
        &self,
        field: &dyn Fn(&str) -> String,
        n_in: usize,
    ) -> Result<usize, ModelError> {
        if self.support.len() != n_in {
            return Err(ModelError::new(
                field("support"),
                format!(
                    "has {} flags, the step receives {n_in} features",
                    self.support.len()
                ),
            ));
        }
        match self.kept().len() {
            0 => Err(ModelError::new(
                field("support"),
                "selects no feature (scikit-learn refuses to transform then)",
            )),
            n => Ok(n),
        }
    }

    /// The kept columns.
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        x.select(Axis(1), &self.kept())
    }

    /// Input rows with the kept columns from `z` and 0 elsewhere.
    pub fn invert(&self, z: &Array2<f64>) -> Array2<f64> {
        let mut x = Array2::zeros((z.nrows(), self.support.len()));
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

    #[test]
    fn keeps_the_supported_columns() {
        let s = Selection {
            class: "SelectKBest".into(),
            support: vec![false, true, true],
        };
        assert_eq!(s.apply(&array![[1.0, 2.0, 3.0]]), array![[2.0, 3.0]]);
        assert_eq!(s.invert(&array![[2.0, 3.0]]), array![[0.0, 2.0, 3.0]]);
    }

    #[test]
    fn invariants_name_the_field_at_fault() {
        let step = |support: Vec<bool>| {
            Preprocess::Selection(Selection {
                class: "VarianceThreshold".into(),
                support,
            })
        };
        let at_fault = |s: Preprocess, width: usize| check_steps(&[s], width).unwrap_err().field;
        assert_eq!(
            at_fault(step(vec![false, false]), 0),
            "preprocessing[0].support"
        );
        assert_eq!(at_fault(step(vec![true, false]), 2), "preprocessing[0]");
        assert!(check_steps(&[step(vec![true, false, true])], 2).is_ok());
    }
}
