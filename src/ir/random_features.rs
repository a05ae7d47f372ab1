//! RBFSampler: random Fourier features, `√(2/n) · cos(x·W + b)` with the
//! fitted `random_weights_` W (n_features × n) and `random_offset_` b.
//! Changes the number of features from W's rows to its columns.

use super::ModelError;
use ndarray::{Array1, Array2};

/// A fitted `sklearn.kernel_approximation.RBFSampler`.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomFeatures {
    /// `random_weights_`, n_features × n_components.
    pub weights: Array2<f64>,
    /// `random_offset_`, one per component.
    pub offset: Array1<f64>,
}

impl RandomFeatures {
    /// Input width (the weights' rows).
    pub fn n_in(&self) -> usize {
        self.weights.nrows()
    }

    /// Output width (the weights' columns, `n_components`).
    pub fn n_out(&self) -> usize {
        self.weights.ncols()
    }

    /// The final factor, `(2.0 / n_components) ** 0.5` as scikit-learn
    /// computes it (`powf(0.5)`, as Python's `**`).
    pub fn scale(&self) -> f64 {
        (2.0 / self.n_out() as f64).powf(0.5)
    }

    /// A one-line description for `inspect`.
    pub fn describe(&self) -> String {
        format!("RBFSampler(n_components={})", self.n_out())
    }

    /// Checks shapes against the input width `n_in` and finiteness; returns
    /// the output width.
    pub(crate) fn check(
        &self,
        field: &dyn Fn(&str) -> String,
        n_in: usize,
    ) -> Result<usize, ModelError> {
        let (d, k) = self.weights.dim();
        if d != n_in {
            return Err(ModelError::new(
                field("random_weights"),
                format!("has {d} rows, the step receives {n_in} features"),
            ));
        }
        if k == 0 {
            return Err(ModelError::new(field("random_weights"), "has no columns"));
        }
        if let Some(i) = self.weights.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::new(
                format!("{}[{}][{}]", field("random_weights"), i / k, i % k),
                "is not a finite number",
            ));
        }
        if self.offset.len() != k {
            return Err(ModelError::new(
                field("random_offset"),
                format!(
                    "has {} values, random_weights has {k} columns",
                    self.offset.len()
                ),
            ));
        }
        if let Some(i) = self.offset.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::new(
                format!("{}[{i}]", field("random_offset")),
                "is not a finite number",
            ));
        }
        Ok(k)
    }

    /// Per row, the size of what the map rounds, given `|x|`: the cosine's
    /// argument `|x|·|W| + |offset|` (cos is 1-Lipschitz), times the factor
    /// (`Preprocess::magnitude`).
    pub(crate) fn magnitude(&self, abs_x: &Array2<f64>) -> Vec<f64> {
        let m = abs_x.dot(&self.weights.mapv(f64::abs)) + &self.offset.mapv(f64::abs);
        let s = self.scale().abs();
        m.outer_iter()
            .map(|r| s * (1.0 + r.iter().map(|v| v * v).sum::<f64>().sqrt()))
            .collect()
    }

    /// Applies the map in f64, in scikit-learn's order: the product, the
    /// offset added, the cosine, the factor.
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut z = x.dot(&self.weights);
        z += &self.offset;
        let s = self.scale();
        z.mapv_inplace(|v| v.cos() * s);
        z
    }

    /// Input rows for validation probes placed in the feature space. The map
    /// is not invertible; this back-projects `z · Wᵀ` scaled by
    /// `d / ‖W‖²_F` (the weights are Gaussian, so `W·Wᵀ ≈ (‖W‖²_F / d)·I`):
    /// rows of the input's order of magnitude, which is all probes need.
    pub fn invert(&self, z: &Array2<f64>) -> Array2<f64> {
        let norm2: f64 = self.weights.iter().map(|v| v * v).sum();
        let factor = if norm2 > 0.0 {
            self.n_in() as f64 / norm2
        } else {
            0.0
        };
        z.dot(&self.weights.t()) * factor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{check_steps, Preprocess};
    use ndarray::array;

    fn sampler() -> RandomFeatures {
        RandomFeatures {
            weights: array![[1.0, -0.5], [0.25, 2.0]],
            offset: array![0.5, 3.0],
        }
    }

    #[test]
    fn apply_follows_sklearns_order() {
        let (a, b): (f64, f64) = (0.2, -1.5);
        let z = sampler().apply(&array![[a, b]]);
        let p0 = a * 1.0 + b * 0.25 + 0.5;
        let p1 = a * -0.5 + b * 2.0 + 3.0;
        assert_eq!(z[[0, 0]], p0.cos() * 1.0);
        assert_eq!(z[[0, 1]], p1.cos() * 1.0);
        assert_eq!(sampler().invert(&z).dim(), (1, 2));
    }

    fn field_at_fault(step: RandomFeatures, estimator_width: usize) -> String {
        check_steps(&[Preprocess::RandomFeatures(step)], estimator_width)
            .unwrap_err()
            .field
    }

    #[test]
    fn invariants_name_the_field_at_fault() {
        assert_eq!(
            check_steps(&[Preprocess::RandomFeatures(sampler())], 2),
            Ok(())
        );
        assert_eq!(field_at_fault(sampler(), 3), "preprocessing[0]");
        let mut s = sampler();
        s.offset = array![1.0];
        assert_eq!(field_at_fault(s, 2), "preprocessing[0].random_offset");
        let mut s = sampler();
        s.offset[1] = f64::NAN;
        assert_eq!(field_at_fault(s, 2), "preprocessing[0].random_offset[1]");
        let mut s = sampler();
        s.weights[[1, 0]] = f64::INFINITY;
        assert_eq!(
            field_at_fault(s, 2),
            "preprocessing[0].random_weights[1][0]"
        );
        let s = RandomFeatures {
            weights: Array2::zeros((2, 0)),
            offset: Array1::zeros(0),
        };
        assert_eq!(field_at_fault(s, 0), "preprocessing[0].random_weights");
    }
}
