//! Linear projections onto fitted components: PCA (with or without
//! whitening) and TruncatedSVD. They change the number of features, from
//! the components' columns to their rows.

use super::ModelError;
use ndarray::{Array1, Array2, Axis};

/// Which scikit-learn class fitted the components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectionKind {
    /// `sklearn.decomposition.PCA`: centred by `mean_`, optionally whitened.
    Pca,
    /// `sklearn.decomposition.TruncatedSVD`: no centring.
    TruncatedSvd,
}

impl ProjectionKind {
    /// scikit-learn's class name.
    pub fn name(self) -> &'static str {
        match self {
            ProjectionKind::Pca => "PCA",
            ProjectionKind::TruncatedSvd => "TruncatedSVD",
        }
    }
}

/// `z = (x − mean) · componentsᵀ`, then `z / max(√explained_variance, eps)`
/// when whitening. scikit-learn 1.9 computes `x·Cᵀ − mean·Cᵀ`, the same
/// value up to rounding; centring first keeps f32 graphs exact on data far
/// from the origin.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// PCA or TruncatedSVD.
    pub kind: ProjectionKind,
    /// `mean_` (PCA only).
    pub mean: Option<Array1<f64>>,
    /// `components_`, n_components × n_features.
    pub components: Array2<f64>,
    /// `explained_variance_` when `whiten=True` (PCA only).
    pub whiten_variance: Option<Array1<f64>>,
}

impl Projection {
    /// The divisors of whitening: `√explained_variance_` raised to float64's
    /// eps where smaller, as `_BasePCA._transform` does.
    pub fn whiten_scale(&self) -> Option<Array1<f64>> {
        self.whiten_variance
            .as_ref()
            .map(|v| v.mapv(|e| e.sqrt().max(f64::EPSILON)))
    }

    /// Input width (`components_`' columns).
    pub fn n_in(&self) -> usize {
        self.components.ncols()
    }

    /// Output width (`components_`' rows).
    pub fn n_out(&self) -> usize {
        self.components.nrows()
    }

    /// A one-line description for `inspect`.
    pub fn describe(&self) -> String {
        match self.kind {
            ProjectionKind::Pca => format!(
                "PCA(n_components={}, whiten={})",
                self.n_out(),
                self.whiten_variance.is_some()
            ),
            ProjectionKind::TruncatedSvd => format!("TruncatedSVD(n_components={})", self.n_out()),
        }
    }

    /// Checks shapes against the input width `n_in` and finiteness; returns
    /// the output width.
    pub(crate) fn check(
        &self,
        field: &dyn Fn(&str) -> String,
        n_in: usize,
    ) -> Result<usize, ModelError> {
        let (k, d) = self.components.dim();
        if d != n_in {
            return Err(ModelError::new(
                field("components"),
                format!("has {d} columns, the step receives {n_in} features"),
            ));
        }
        if k == 0 {
            return Err(ModelError::new(field("components"), "has no rows"));
        }
        if let Some(i) = self.components.iter().position(|v| !v.is_finite()) {
            return Err(ModelError::new(
                format!("{}[{}][{}]", field("components"), i / d, i % d),
                "is not a finite number",
            ));
        }
        let vector = |name: &str, v: &Array1<f64>, len: usize| -> Result<(), ModelError> {
            if v.len() != len {
                return Err(ModelError::new(
                    field(name),
                    format!("has {} values, expected {len}", v.len()),
                ));
            }
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(ModelError::new(
                    format!("{}[{i}]", field(name)),
                    "is not a finite number",
                ));
            }
            Ok(())
        };
        match self.kind {
            ProjectionKind::Pca => {
                let mean = self.mean.as_ref().ok_or_else(|| {
                    ModelError::new(field("mean"), "is missing (PCA centres its input)")
                })?;
                vector("mean", mean, d)?;
            }
            ProjectionKind::TruncatedSvd => {
                if self.mean.is_some() || self.whiten_variance.is_some() {
                    return Err(ModelError::new(
                        field("mean"),
                        "TruncatedSVD neither centres nor whitens",
                    ));
                }
            }
        }
        if let Some(v) = &self.whiten_variance {
            vector("explained_variance", v, k)?;
            if let Some(i) = v.iter().position(|&e| e < 0.0) {
                return Err(ModelError::new(
                    format!("{}[{i}]", field("explained_variance")),
                    "is negative",
                ));
            }
        }
        Ok(k)
    }

    /// Per row, the size of what the projection rounds, given `|x|`:
    /// `(|x| + |mean|)·|components|ᵀ`, whitened (`Preprocess::magnitude`).
    pub(crate) fn magnitude(&self, abs_x: &Array2<f64>) -> Vec<f64> {
        let mut m = match &self.mean {
            Some(mean) => abs_x + &mean.mapv(f64::abs),
            None => abs_x.clone(),
        }
        .dot(&self.components.mapv(f64::abs).t());
        if let Some(s) = self.whiten_scale() {
            m /= &s;
        }
        super::magnitude::row_norms(m.view())
    }

    /// Applies the projection in f64.
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let centred;
        let x = match &self.mean {
            Some(m) => {
                centred = x - m;
                &centred
            }
            None => x,
        };
        let mut z = x.dot(&self.components.t());
        if let Some(s) = self.whiten_scale() {
            z /= &s;
        }
        z
    }

    /// A row of input space that projects onto each row of `z` (the
    /// components are orthonormal rows): `z·s·C + mean`.
    pub fn invert(&self, z: &Array2<f64>) -> Array2<f64> {
        let mut z = z.clone();
        if let Some(s) = self.whiten_scale() {
            z *= &s;
        }
        let mut x = z.dot(&self.components);
        if let Some(m) = &self.mean {
            x += &m.view().insert_axis(Axis(0));
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{check_steps, Preprocess};
    use ndarray::array;

    fn pca(whiten: bool) -> Projection {
        Projection {
            kind: ProjectionKind::Pca,
            mean: Some(array![1.0, 2.0, 3.0]),
            components: array![[0.6, 0.8, 0.0], [0.0, 0.0, 1.0]],
            whiten_variance: whiten.then(|| array![4.0, 0.0]),
        }
    }

    fn field_at_fault(steps: Vec<Preprocess>, estimator_width: usize) -> String {
        check_steps(&steps, estimator_width).unwrap_err().field
    }

    #[test]
    fn apply_and_invert_follow_sklearns_formula() {
        let p = pca(true);
        let x = array![[2.0, 4.0, 5.0]];
        let z = p.apply(&x);
        // (x − mean)·Cᵀ = [0.6 + 1.6, 2] ; / [√4, eps]
        assert!((z[[0, 0]] - 1.1).abs() < 1e-15);
        assert_eq!(z[[0, 1]], 2.0 / f64::EPSILON);
        // The inverse of a row projects back onto it.
        let mut p = pca(true);
        p.whiten_variance = Some(array![4.0, 9.0]);
        let back = p.apply(&p.invert(&array![[0.5, 0.25]]));
        assert!((back[[0, 0]] - 0.5).abs() < 1e-12 && (back[[0, 1]] - 0.25).abs() < 1e-12);
    }

    #[test]
    fn invariants_name_the_field_at_fault() {
        let mut p = pca(false);
        p.components[[1, 2]] = f64::NAN;
        assert_eq!(
            field_at_fault(vec![Preprocess::Projection(p)], 2),
            "preprocessing[0].components[1][2]"
        );
        let mut p = pca(false);
        p.mean = Some(array![1.0, 2.0]);
        assert_eq!(
            field_at_fault(vec![Preprocess::Projection(p)], 2),
            "preprocessing[0].mean"
        );
        let mut p = pca(true);
        p.whiten_variance = Some(array![1.0, -1.0]);
        assert_eq!(
            field_at_fault(vec![Preprocess::Projection(p)], 2),
            "preprocessing[0].explained_variance[1]"
        );
        // Three components' worth of columns after a 2-feature scaler.
        let scaler = Preprocess::MaxAbsScaler {
            scale: array![1.0, 2.0],
            clip: false,
        };
        assert_eq!(
            field_at_fault(vec![scaler, Preprocess::Projection(pca(false))], 2),
            "preprocessing[1].components"
        );
        // Two components, but the estimator takes three features.
        assert_eq!(
            field_at_fault(vec![Preprocess::Projection(pca(false))], 3),
            "preprocessing[0]"
        );
        let mut svd = pca(false);
        svd.kind = ProjectionKind::TruncatedSvd;
        assert_eq!(
            field_at_fault(vec![Preprocess::Projection(svd)], 2),
            "preprocessing[0].mean"
        );
        assert!(check_steps(&[Preprocess::Projection(pca(true))], 2).is_ok());
    }
}
