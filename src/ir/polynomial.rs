//! PolynomialFeatures: products of input features up to a degree, in
//! scikit-learn's column order, multiplied in scikit-learn's order.

use super::ModelError;
use ndarray::{Array2, Axis};

/// The largest degree svm2onnx expands (the output width grows as d^degree).
pub const MAX_DEGREE: usize = 3;

/// A fitted `PolynomialFeatures` (nothing is fitted but the input width).
#[derive(Debug, Clone, PartialEq)]
pub struct Polynomial {
    /// `n_features_in_`.
    pub n_in: usize,
    /// `_min_degree` (the first of a `(min, max)` degree pair, else 0).
    pub min_degree: usize,
    /// `_max_degree`.
    pub max_degree: usize,
    /// `interaction_only`: no feature twice in a term.
    pub interaction_only: bool,
    /// `include_bias`: a leading column of ones.
    pub include_bias: bool,
}

impl Polynomial {
    /// The output columns as sorted feature-index lists, in
    /// `PolynomialFeatures._combinations` order: the bias (empty) if
    /// included, then each degree from `max(1, min_degree)` up, each in
    /// itertools' lexicographic order (`combinations_with_replacement`,
    /// or `combinations` when `interaction_only`).
    pub fn terms(&self) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        if self.include_bias {
            out.push(Vec::new());
        }
        for degree in self.min_degree.max(1)..=self.max_degree {
            out.extend(self.terms_of_degree(degree));
        }
        out
    }

    /// The terms of one degree, in order.
    pub fn terms_of_degree(&self, degree: usize) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        let mut term = Vec::with_capacity(degree);
        self.extend(&mut term, 0, degree, &mut out);
        out
    }

    fn extend(&self, term: &mut Vec<usize>, from: usize, left: usize, out: &mut Vec<Vec<usize>>) {
        if left == 0 {
            out.push(term.clone());
            return;
        }
        for f in from..self.n_in {
            term.push(f);
            let next = if self.interaction_only { f + 1 } else { f };
            self.extend(term, next, left - 1, out);
            term.pop();
        }
    }

    /// A one-line description for `inspect`.
    pub fn describe(&self) -> String {
        let degree = if self.min_degree > 0 {
            format!("({}, {})", self.min_degree, self.max_degree)
        } else {
            self.max_degree.to_string()
        };
        format!(
            "PolynomialFeatures(degree={degree}, interaction_only={}, include_bias={})",
            self.interaction_only, self.include_bias
        )
    }

    /// Checks against the input width; returns the output width.
    pub(crate) fn check(
        &self,
        field: &dyn Fn(&str) -> String,
        n_in: usize,
    ) -> Result<usize, ModelError> {
        if self.n_in == 0 {
            return Err(ModelError::new(field("n_features_in"), "is 0"));
        }
        if self.n_in != n_in {
            return Err(ModelError::new(
                field("n_features_in"),
                format!("is {}, the step receives {n_in} features", self.n_in),
            ));
        }
        if self.max_degree > MAX_DEGREE || self.min_degree > self.max_degree {
            return Err(ModelError::new(
                field("degree"),
                format!(
                    "({}, {}) is not a degree range within 0..={MAX_DEGREE}",
                    self.min_degree, self.max_degree
                ),
            ));
        }
        match self.terms().len() {
            0 => Err(ModelError::new(field("degree"), "outputs no feature")),
            n => Ok(n),
        }
    }

    /// Applies the expansion in f64. A term `[c0, c1, …]` is
    /// `term([c1, …]) · x[c0]`, the order of scikit-learn's dense
    /// transform (each degree multiplies the previous degree's block by
    /// one feature column).
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let terms = self.terms();
        let mut out = Array2::zeros((x.nrows(), terms.len()));
        for (row, mut o) in x.axis_iter(Axis(0)).zip(out.axis_iter_mut(Axis(0))) {
            for (c, term) in terms.iter().enumerate() {
                o[c] = match term.split_last() {
                    None => 1.0,
                    Some((&last, rest)) => rest.iter().rev().fold(row[last], |p, &f| p * row[f]),
                };
            }
        }
        out
    }

    /// Input rows from the degree-1 columns of `z` (0 where they are not
    /// output, for a minimum degree above 1).
    pub fn invert(&self, z: &Array2<f64>) -> Array2<f64> {
        let mut x = Array2::zeros((z.nrows(), self.n_in));
        for (c, term) in self.terms().iter().enumerate() {
            if let [f] = term.as_slice() {
                x.column_mut(*f).assign(&z.column(c));
            }
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{check_steps, Preprocess};
    use ndarray::array;

    fn poly(max_degree: usize, interaction_only: bool, include_bias: bool) -> Polynomial {
        Polynomial {
            n_in: 3,
            min_degree: 0,
            max_degree,
            interaction_only,
            include_bias,
        }
    }

    #[test]
    fn terms_follow_sklearns_column_order() {
        // scikit-learn 1.9.1's powers_ for degree 3 on 3 features, first 12 rows:
        // [0,0,0] [1,0,0] [0,1,0] [0,0,1] [2,0,0] [1,1,0] [1,0,1] [0,2,0] [0,1,1] [0,0,2] [3,0,0] [2,1,0]
        let t = poly(3, false, true).terms();
        let want: Vec<Vec<usize>> = vec![
            vec![],
            vec![0],
            vec![1],
            vec![2],
            vec![0, 0],
            vec![0, 1],
            vec![0, 2],
            vec![1, 1],
            vec![1, 2],
            vec![2, 2],
            vec![0, 0, 0],
            vec![0, 0, 1],
        ];
        assert_eq!(t[..12], want[..]);
        assert_eq!(t.len(), 20);
        // interaction_only, no bias: 3 + 3 + 1.
        assert_eq!(poly(3, true, false).terms().len(), 7);
        let z = poly(2, true, true).apply(&array![[2.0, 3.0, 5.0]]);
        assert_eq!(z, array![[1.0, 2.0, 3.0, 5.0, 6.0, 10.0, 15.0]]);
    }

    #[test]
    fn invariants_name_the_field_at_fault() {
        let at_fault = |p: Polynomial, w: usize| {
            check_steps(&[Preprocess::Polynomial(p)], w)
                .unwrap_err()
                .field
        };
        assert_eq!(
            at_fault(poly(4, false, true), 35),
            "preprocessing[0].degree"
        );
        let mut p = poly(2, false, true);
        p.n_in = 0;
        assert_eq!(at_fault(p, 1), "preprocessing[0].n_features_in");
        assert_eq!(at_fault(poly(2, false, true), 9), "preprocessing[0]");
        assert!(check_steps(&[Preprocess::Polynomial(poly(2, false, true))], 10).is_ok());
    }
}
