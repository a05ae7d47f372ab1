//! Preprocessing steps of a scikit-learn Pipeline in front of the SVM,
//! with scikit-learn's exact formulas (SVM_SEMANTICS.md §4).

use super::imputer::Imputer;
use super::nystroem::Nystroem;
use super::polynomial::Polynomial;
use super::projection::Projection;
use super::random_features::RandomFeatures;
use super::selection::Selection;
use super::ModelError;
use ndarray::{Array1, Array2, Axis};

/// Row norm of a Normalizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Norm {
    /// Σ|x|
    L1,
    /// √Σx²
    L2,
    /// max|x|
    Max,
}

impl Norm {
    /// scikit-learn's name (`l1`, `l2`, `max`).
    pub fn name(self) -> &'static str {
        match self {
            Norm::L1 => "l1",
            Norm::L2 => "l2",
            Norm::Max => "max",
        }
    }
    /// Parses scikit-learn's name.
    pub fn from_name(s: &str) -> Option<Norm> {
        match s {
            "l1" => Some(Norm::L1),
            "l2" => Some(Norm::L2),
            "max" => Some(Norm::Max),
            _ => None,
        }
    }
}

/// Norms and scales below this are replaced by 1 (`_handle_zeros_in_scale`,
/// 10·eps of float64).
pub const TINY: f64 = 10.0 * f64::EPSILON;

/// One fitted transform.
#[derive(Debug, Clone, PartialEq)]
pub enum Preprocess {
    /// `x − mean` (if any), then `/ scale` (if any): a division, as sklearn does.
    StandardScaler {
        /// `mean_` (`None` when `with_mean=False`).
        mean: Option<Array1<f64>>,
        /// `scale_` (`None` when `with_std=False`).
        scale: Option<Array1<f64>>,
    },
    /// `x · scale + min`, then clipped to `feature_range` when `clip`.
    MinMaxScaler {
        /// `min_`.
        min: Array1<f64>,
        /// `scale_`.
        scale: Array1<f64>,
        /// `feature_range`.
        feature_range: (f64, f64),
        /// `clip`.
        clip: bool,
    },
    /// `x / scale`, then clipped to [−1, 1] when `clip`.
    MaxAbsScaler {
        /// `scale_`.
        scale: Array1<f64>,
        /// `clip`.
        clip: bool,
    },
    /// `x / norm(x)` per row, tiny norms replaced by 1.
    Normalizer {
        /// `norm`.
        norm: Norm,
    },
    /// PCA or TruncatedSVD: `(x − mean)·componentsᵀ`, whitened for PCA when
    /// asked. Changes the number of features.
    Projection(Projection),
    /// SimpleImputer: missing entries replaced by `statistics_`, features
    /// never observed at fit time dropped, the missing-value indicator
    /// appended when `add_indicator`.
    Imputer(Imputer),
    /// A feature selector's support mask: the kept columns.
    Selection(Selection),
    /// PolynomialFeatures: products of features up to degree 3.
    Polynomial(Polynomial),
    /// RBFSampler: random Fourier features `√(2/n)·cos(x·W + b)`.
    RandomFeatures(RandomFeatures),
    /// Nystroem: `K(x, components)·normalizationᵀ`.
    Nystroem(Nystroem),
    /// ColumnTransformer or FeatureUnion: branches side by side, their
    /// outputs concatenated in order.
    Union(Union),
}

/// One branch of a [`Union`]: its input columns, then its steps (none for
/// 'passthrough').
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    /// The transformer's name.
    pub name: String,
    /// Input columns it receives (`_transformer_to_input_indices`; all
    /// columns in a FeatureUnion).
    pub columns: Vec<usize>,
    /// Its steps, applied in order.
    pub steps: Vec<Preprocess>,
}

/// A fitted ColumnTransformer or FeatureUnion.
#[derive(Debug, Clone, PartialEq)]
pub struct Union {
    /// `ColumnTransformer` or `FeatureUnion`.
    pub class: &'static str,
    /// The input width.
    pub n_in: usize,
    /// The branches that output columns ('drop' and empty selections
    /// left out), in output order.
    pub branches: Vec<Branch>,
}

impl Union {
    fn check(&self, at: &str, n_in: usize) -> Result<usize, ModelError> {
        if self.n_in != n_in {
            return Err(ModelError::new(
                format!("{at}.n_features_in"),
                format!("is {}, the step receives {n_in} features", self.n_in),
            ));
        }
        let mut total = 0;
        for (b, branch) in self.branches.iter().enumerate() {
            let here = format!("{at}.branches[{b}]");
            if let Some(i) = branch.columns.iter().position(|&c| c >= n_in) {
                return Err(ModelError::new(
                    format!("{here}.columns[{i}]"),
                    format!(
                        "{} is not below the {n_in} input features",
                        branch.columns[i]
                    ),
                ));
            }
            let mut width = branch.columns.len();
            for (s, step) in branch.steps.iter().enumerate() {
                width = step.check_at(&format!("{here}.steps[{s}]"), width)?;
            }
            total += width;
        }
        if total == 0 {
            return Err(ModelError::new(
                format!("{at}.branches"),
                "output no feature",
            ));
        }
        Ok(total)
    }

    fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let parts: Vec<Array2<f64>> = self
            .branches
            .iter()
            .map(|b| {
                let mut t = x.select(Axis(1), &b.columns);
                for step in &b.steps {
                    step.apply(&mut t);
                }
                t
            })
            .collect();
        let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
        ndarray::concatenate(Axis(1), &views).expect("branches have the batch's rows")
    }

    fn invert(&self, z: &Array2<f64>) -> Array2<f64> {
        let mut x = Array2::zeros((z.nrows(), self.n_in));
        let mut offset = 0;
        for b in &self.branches {
            let width = b
                .steps
                .iter()
                .fold(b.columns.len(), |w, s| s.output_width(w));
            let mut t = z.slice(ndarray::s![.., offset..offset + width]).to_owned();
            offset += width;
            for step in b.steps.iter().rev() {
                step.invert(&mut t);
            }
            for (c, &j) in b.columns.iter().enumerate() {
                x.column_mut(j).assign(&t.column(c));
            }
        }
        x
    }
}

impl Preprocess {
    /// scikit-learn's class name.
    pub fn name(&self) -> &'static str {
        match self {
            Preprocess::StandardScaler { .. } => "StandardScaler",
            Preprocess::MinMaxScaler { .. } => "MinMaxScaler",
            Preprocess::MaxAbsScaler { .. } => "MaxAbsScaler",
            Preprocess::Normalizer { .. } => "Normalizer",
            Preprocess::Projection(p) => p.kind.name(),
            Preprocess::Imputer(_) => "SimpleImputer",
            Preprocess::Selection(s) => selector_name(&s.class),
            Preprocess::Polynomial(_) => "PolynomialFeatures",
            Preprocess::RandomFeatures(_) => "RBFSampler",
            Preprocess::Nystroem(_) => "Nystroem",
            Preprocess::Union(u) => u.class,
        }
    }

    /// A one-line description for `inspect`.
    pub fn describe(&self) -> String {
        match self {
            Preprocess::StandardScaler { mean, scale } => format!(
                "StandardScaler(with_mean={}, with_std={})",
                mean.is_some(),
                scale.is_some()
            ),
            Preprocess::MinMaxScaler {
                feature_range: (a, b),
                clip,
                ..
            } => {
                format!("MinMaxScaler(feature_range=({a}, {b}), clip={clip})")
            }
            Preprocess::MaxAbsScaler { clip, .. } => format!("MaxAbsScaler(clip={clip})"),
            Preprocess::Normalizer { norm } => format!("Normalizer(norm='{}')", norm.name()),
            Preprocess::Projection(p) => p.describe(),
            Preprocess::Imputer(i) => i.describe(),
            Preprocess::Selection(s) => s.describe(),
            Preprocess::Polynomial(p) => p.describe(),
            Preprocess::RandomFeatures(r) => r.describe(),
            Preprocess::Nystroem(n) => n.describe(),
            Preprocess::Union(u) => {
                let parts: Vec<String> = u
                    .branches
                    .iter()
                    .map(|b| {
                        let steps: Vec<&str> = b.steps.iter().map(|s| s.name()).collect();
                        let steps = if steps.is_empty() {
                            "passthrough".to_string()
                        } else {
                            steps.join(" -> ")
                        };
                        format!("{}: {} on {} columns", b.name, steps, b.columns.len())
                    })
                    .collect();
                format!("{}({})", u.class, parts.join("; "))
            }
        }
    }

    /// The number of features the step's fitted arrays fix, if any (a
    /// Normalizer, or a StandardScaler with neither mean nor scale, takes
    /// any width).
    pub fn input_width(&self) -> Option<usize> {
        match self {
            Preprocess::StandardScaler { mean, scale } => {
                mean.as_ref().or(scale.as_ref()).map(|v| v.len())
            }
            Preprocess::MinMaxScaler { scale, .. } | Preprocess::MaxAbsScaler { scale, .. } => {
                Some(scale.len())
            }
            Preprocess::Normalizer { .. } => None,
            Preprocess::Projection(p) => Some(p.n_in()),
            Preprocess::Imputer(i) => Some(i.statistics.len()),
            Preprocess::Selection(s) => Some(s.support.len()),
            Preprocess::Polynomial(p) => Some(p.n_in),
            Preprocess::RandomFeatures(r) => Some(r.n_in()),
            Preprocess::Nystroem(n) => Some(n.n_in()),
            Preprocess::Union(u) => Some(u.n_in),
        }
    }

    /// The width the step outputs for `n_in` input features (for a step
    /// that passed its checks).
    pub fn output_width(&self, n_in: usize) -> usize {
        self.check_at("", n_in).unwrap_or(n_in)
    }

    /// Checks the step against its input width `n_features`; returns its
    /// output width.
    pub(crate) fn check(&self, index: usize, n_features: usize) -> Result<usize, ModelError> {
        self.check_at(&format!("preprocessing[{index}]"), n_features)
    }

    /// [`Preprocess::check`] with the step's field path given (`at`), for
    /// steps inside a ColumnTransformer or FeatureUnion branch.
    fn check_at(&self, at: &str, n_features: usize) -> Result<usize, ModelError> {
        let field = |name: &str| format!("{at}.{name}");
        let vector = |name: &str, v: &Array1<f64>| -> Result<(), ModelError> {
            if v.len() != n_features {
                return Err(ModelError::new(
                    field(name),
                    format!(
                        "has {} values, the model has {n_features} features",
                        v.len()
                    ),
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
        match self {
            Preprocess::StandardScaler { mean, scale } => {
                if let Some(m) = mean {
                    vector("mean", m)?;
                }
                if let Some(s) = scale {
                    vector("scale", s)?;
                    if let Some(i) = s.iter().position(|&x| x == 0.0) {
                        return Err(ModelError::new(
                            format!("{}[{i}]", field("scale")),
                            "is zero",
                        ));
                    }
                }
            }
            Preprocess::MinMaxScaler {
                min,
                scale,
                feature_range: (a, b),
                ..
            } => {
                vector("min", min)?;
                vector("scale", scale)?;
                if !(a.is_finite() && b.is_finite() && a < b) {
                    return Err(ModelError::new(
                        field("feature_range"),
                        format!("({a}, {b}) is not a valid range"),
                    ));
                }
            }
            Preprocess::MaxAbsScaler { scale, .. } => {
                vector("scale", scale)?;
                if let Some(i) = scale.iter().position(|&x| x == 0.0) {
                    return Err(ModelError::new(
                        format!("{}[{i}]", field("scale")),
                        "is zero",
                    ));
                }
            }
            Preprocess::Normalizer { .. } => {}
            Preprocess::Projection(p) => return p.check(&field, n_features),
            Preprocess::Imputer(i) => return i.check(&field, n_features),
            Preprocess::Selection(s) => return s.check(&field, n_features),
            Preprocess::Polynomial(p) => return p.check(&field, n_features),
            Preprocess::RandomFeatures(r) => return r.check(&field, n_features),
            Preprocess::Nystroem(n) => return n.check(&field, n_features),
            Preprocess::Union(u) => return u.check(at, n_features),
        }
        Ok(n_features)
    }

    /// Maps rows of the transformed space back to input space, where the
    /// step is invertible (Normalizer is scale-invariant: rows pass as they
    /// are). Used to place validation probes around the support vectors.
    pub fn invert(&self, x: &mut Array2<f64>) {
        match self {
            Preprocess::StandardScaler { mean, scale } => {
                if let Some(s) = scale {
                    *x *= s;
                }
                if let Some(m) = mean {
                    *x += m;
                }
            }
            Preprocess::MinMaxScaler { min, scale, .. } => {
                *x -= min;
                *x /= scale;
            }
            Preprocess::MaxAbsScaler { scale, .. } => *x *= scale,
            Preprocess::Normalizer { .. } => {}
            Preprocess::Projection(p) => *x = p.invert(x),
            Preprocess::Imputer(i) => *x = i.invert(x),
            Preprocess::Selection(s) => *x = s.invert(x),
            Preprocess::Polynomial(p) => *x = p.invert(x),
            Preprocess::RandomFeatures(r) => *x = r.invert(x),
            Preprocess::Nystroem(n) => *x = n.invert(x),
            Preprocess::Union(u) => *x = u.invert(x),
        }
    }

    /// Applies the transform in f64, operation by operation as scikit-learn.
    pub fn apply(&self, x: &mut Array2<f64>) {
        match self {
            Preprocess::StandardScaler { mean, scale } => {
                if let Some(m) = mean {
                    *x -= m;
                }
                if let Some(s) = scale {
                    *x /= s;
                }
            }
            Preprocess::MinMaxScaler {
                min,
                scale,
                feature_range: (a, b),
                clip,
            } => {
                *x *= scale;
                *x += min;
                if *clip {
                    x.mapv_inplace(|v| v.clamp(*a, *b));
                }
            }
            Preprocess::MaxAbsScaler { scale, clip } => {
                *x /= scale;
                if *clip {
                    x.mapv_inplace(|v| v.clamp(-1.0, 1.0));
                }
            }
            Preprocess::Normalizer { norm } => {
                for mut row in x.axis_iter_mut(Axis(0)) {
                    let n = match norm {
                        Norm::L1 => row.iter().map(|v| v.abs()).sum::<f64>(),
                        Norm::L2 => row.iter().map(|v| v * v).sum::<f64>().sqrt(),
                        Norm::Max => row.iter().fold(0.0f64, |m, v| m.max(v.abs())),
                    };
                    let n = if n < TINY { 1.0 } else { n };
                    row /= n;
                }
            }
            Preprocess::Projection(p) => *x = p.apply(x),
            Preprocess::Imputer(i) => *x = i.apply(x),
            Preprocess::Selection(s) => *x = s.apply(x),
            Preprocess::Polynomial(p) => *x = p.apply(x),
            Preprocess::RandomFeatures(r) => *x = r.apply(x),
            Preprocess::Nystroem(n) => *x = n.apply(x),
            Preprocess::Union(u) => *x = u.apply(x),
        }
    }
}

/// The width of a pipeline's input: the first step whose arrays fix one
/// (the steps before it keep the width), else the estimator's.
pub fn pipeline_input_width(steps: &[Preprocess], estimator_width: usize) -> usize {
    steps
        .iter()
        .find_map(Preprocess::input_width)
        .unwrap_or(estimator_width)
}

/// Checks every step in order, each against the width the previous one
/// outputs, and that the last feeds the estimator `estimator_width`
/// features.
pub(crate) fn check_steps(steps: &[Preprocess], estimator_width: usize) -> Result<(), ModelError> {
    let mut width = pipeline_input_width(steps, estimator_width);
    for (i, step) in steps.iter().enumerate() {
        width = step.check(i, width)?;
    }
    if width != estimator_width {
        return Err(ModelError::new(
            format!("preprocessing[{}]", steps.len().saturating_sub(1)),
            format!("outputs {width} features, the estimator takes {estimator_width}"),
        ));
    }
    Ok(())
}

/// The selector classes [`Preprocess::name`] can name (it returns a
/// `&'static str`).
const SELECTORS: &[&str] = &[
    "VarianceThreshold",
    "SelectKBest",
    "SelectPercentile",
    "GenericUnivariateSelect",
    "SelectFpr",
    "SelectFdr",
    "SelectFwe",
    "SelectFromModel",
];

fn selector_name(class: &str) -> &'static str {
    SELECTORS
        .iter()
        .find(|n| **n == class)
        .copied()
        .unwrap_or("feature selection")
}
