//! Pipeline steps that change the number of features: PCA, TruncatedSVD
//! SimpleImputer, PolynomialFeatures, RBFSampler and Nystroem. (The scalers and the Normalizer are in `preprocess`.)

use super::err;
use super::est::Est;
use crate::load::pickle::elements::Values;
use crate::load::pickle::numpy;
use crate::load::pickle::object::Global;
use crate::load::LoadError;
use crate::model::{
    Imputer, Kernel, Missing, Nystroem, Polynomial, Preprocess, Projection, ProjectionKind,
    RandomFeatures,
};

/// (module, class) of every step read here, for the allowlist.
const CLASSES: &[(&str, &str)] = &[
    ("sklearn.decomposition._pca", "PCA"),
    ("sklearn.decomposition.pca", "PCA"),
    ("sklearn.decomposition._truncated_svd", "TruncatedSVD"),
    ("sklearn.decomposition.truncated_svd", "TruncatedSVD"),
    ("sklearn.impute._base", "SimpleImputer"),
    ("sklearn.preprocessing._polynomial", "PolynomialFeatures"),
    ("sklearn.kernel_approximation", "RBFSampler"),
    ("sklearn.kernel_approximation", "Nystroem"),
    // Read by `compose` (branches; FunctionTransformer only with func=None).
    ("sklearn.compose._column_transformer", "ColumnTransformer"),
    ("sklearn.pipeline", "FeatureUnion"),
    (
        "sklearn.preprocessing._function_transformer",
        "FunctionTransformer",
    ),
    // Inside a SimpleImputer with add_indicator=True (`indicator_`).
    ("sklearn.impute._base", "MissingIndicator"),
];

/// Whether `g` is a step class read here (or in `select`).
pub(super) fn allowed(g: &Global) -> bool {
    CLASSES.iter().any(|(m, n)| g.is(m, n)) || super::select::allowed(g)
}

/// The step for `est`, or `None` when its class is not one read here.
pub(super) fn step(est: &Est) -> Option<Result<Preprocess, LoadError>> {
    if let Some(selection) = super::select::step(est) {
        return Some(selection);
    }
    if !allowed(&est.class)
        || ["ColumnTransformer", "FeatureUnion", "FunctionTransformer"]
            .contains(&est.class.name.as_str())
    {
        return None;
    }
    Some(match est.class.name.as_str() {
        "PCA" => pca(est),
        "TruncatedSVD" => truncated_svd(est),
        "SimpleImputer" => simple_imputer(est),
        "PolynomialFeatures" => polynomial(est),
        "RBFSampler" => rbf_sampler(est),
        "Nystroem" => nystroem(est),
        other => Err(err(
            &est.path,
            format!("{other} is not a Pipeline step (it is read inside a SimpleImputer)"),
        )),
    })
}

/// `mean_`, `components_`, and `explained_variance_` when `whiten`.
fn pca(est: &Est) -> Result<Preprocess, LoadError> {
    let whiten = est.flag("whiten", false)?;
    Ok(Preprocess::Projection(Projection {
        kind: ProjectionKind::Pca,
        mean: Some(est.vector("mean_")?),
        components: est.matrix("components_")?,
        whiten_variance: if whiten {
            Some(est.vector("explained_variance_")?)
        } else {
            None
        },
    }))
}

/// `components_` only: TruncatedSVD does not centre.
fn truncated_svd(est: &Est) -> Result<Preprocess, LoadError> {
    Ok(Preprocess::Projection(Projection {
        kind: ProjectionKind::TruncatedSvd,
        mean: None,
        components: est.matrix("components_")?,
        whiten_variance: None,
    }))
}

/// `missing_values`, `statistics_`, and `indicator_.features_` when
/// `add_indicator`. The strategy only chose the statistics.
fn simple_imputer(est: &Est) -> Result<Preprocess, LoadError> {
    let missing = match numpy::number(est.arena, est.require("missing_values")?) {
        Ok(v) if v.is_nan() => Missing::NaN,
        Ok(v) => Missing::Value(v),
        Err(_) => {
            return Err(err(
                est.field("missing_values"),
                "is not a number or NaN (string and None markers need non-numeric input, \
                 which a float tensor cannot carry)",
            ))
        }
    };
    let statistics = statistics(est)?;
    if est.flag("keep_empty_features", false)? {
        if let Some(j) = statistics.iter().position(|s| s.is_nan()) {
            return Err(err(
                format!("{}[{j}]", est.field("statistics_")),
                "is NaN with keep_empty_features=True",
            ));
        }
    }
    let indicator = if est.flag("add_indicator", false)? {
        let id = est.require("indicator_")?;
        let ind = Est::new(est.arena, id, &format!("{}.", est.field("indicator_")))?;
        let (_, features) = ind.floats(ind.require("features_")?, "features_")?;
        let features = features
            .iter()
            .enumerate()
            .map(|(i, &f)| {
                if f >= 0.0 && f.fract() == 0.0 {
                    Ok(f as usize)
                } else {
                    Err(err(
                        format!("{}[{i}]", ind.field("features_")),
                        format!("{f} is not a feature index"),
                    ))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Some(features)
    } else {
        None
    };
    Ok(Preprocess::Imputer(Imputer {
        strategy: est.string("strategy")?,
        missing,
        statistics,
        indicator,
    }))
}

/// `statistics_`: a float array, or (strategy='constant') an object array
/// of Python numbers; strings are refused.
fn statistics(est: &Est) -> Result<Vec<f64>, LoadError> {
    let id = est.require("statistics_")?;
    let a = est.array(id, "statistics_")?;
    match a.values {
        Values::Object(items) => items
            .iter()
            .enumerate()
            .map(|(j, item)| {
                numpy::number(est.arena, *item).map_err(|_| {
                    err(
                        format!("{}[{j}]", est.field("statistics_")),
                        "is not a number (a string fill value needs non-numeric input)",
                    )
                })
            })
            .collect(),
        _ => Ok(est.floats(id, "statistics_")?.1),
    }
}

/// `n_features_in_`, `_min_degree`, `_max_degree`, `interaction_only`,
/// `include_bias`; `n_output_features_` must count the same columns.
fn polynomial(est: &Est) -> Result<Preprocess, LoadError> {
    let count = |name: &str| -> Result<usize, LoadError> {
        let v = est.number(name)?;
        if v >= 0.0 && v.fract() == 0.0 {
            Ok(v as usize)
        } else {
            Err(err(est.field(name), format!("{v} is not a count")))
        }
    };
    let p = Polynomial {
        n_in: count("n_features_in_")?,
        min_degree: count("_min_degree")?,
        max_degree: count("_max_degree")?,
        interaction_only: est.flag("interaction_only", false)?,
        include_bias: est.flag("include_bias", true)?,
    };
    if p.max_degree > crate::model::MAX_DEGREE {
        return Err(err(
            est.field("degree"),
            format!(
                "{} is above {}, the largest degree svm2onnx expands",
                p.max_degree,
                crate::model::MAX_DEGREE
            ),
        ));
    }
    let n_out = count("n_output_features_")?;
    if n_out != p.terms().len() {
        return Err(err(
            est.field("n_output_features_"),
            format!(
                "is {n_out}, but the degree and options give {} columns",
                p.terms().len()
            ),
        ));
    }
    Ok(Preprocess::Polynomial(p))
}

/// `random_weights_` and `random_offset_`. `transform` scales by the
/// `n_components` parameter, not the weights' width: the two must agree.
fn rbf_sampler(est: &Est) -> Result<Preprocess, LoadError> {
    let weights = est.matrix("random_weights_")?;
    let n = est.number("n_components")?;
    if n != weights.ncols() as f64 {
        return Err(err(
            est.field("n_components"),
            format!(
                "is {n}, but random_weights_ has {} columns (transform would scale by the parameter)",
                weights.ncols()
            ),
        ));
    }
    Ok(Preprocess::RandomFeatures(RandomFeatures {
        weights,
        offset: est.vector("random_offset_")?,
    }))
}

/// `components_`, `normalization_` and the kernel with its parameters
/// resolved as `pairwise_kernels` does: gamma `None` → 1/n_features, coef0
/// `None` → 1, degree `None` → 3 (the kernel functions' defaults).
/// `kernel_params`, callables and kernels svm2onnx does not have
/// (laplacian, chi2, additive_chi2, cosine, precomputed) are refused.
fn nystroem(est: &Est) -> Result<Preprocess, LoadError> {
    let name = est.string("kernel")?;
    if est.get("kernel_params").is_some() {
        return Err(err(
            est.field("kernel_params"),
            "is not supported (set gamma, coef0 and degree on the Nystroem itself)",
        ));
    }
    let components = est.matrix("components_")?;
    let normalization = est.matrix("normalization_")?;
    let or = |field: &str, default: f64| -> Result<f64, LoadError> {
        match est.get(field) {
            Some(_) => est.number(field),
            None => Ok(default),
        }
    };
    let gamma = or("gamma", 1.0 / components.ncols() as f64)?;
    let coef0 = or("coef0", 1.0)?;
    let degree = or("degree", 3.0)?;
    let kernel_name = match name.as_str() {
        "rbf" | "poly" | "sigmoid" | "linear" => name.as_str(),
        "polynomial" => "poly",
        other => {
            return Err(err(
                est.field("kernel"),
                format!("'{other}' is not supported (supported: rbf, poly, sigmoid, linear)"),
            ))
        }
    };
    if kernel_name == "poly" && !(degree.fract() == 0.0 && (0.0..=64.0).contains(&degree)) {
        return Err(err(
            est.field("degree"),
            format!("{degree} is not a whole degree from 0 to 64"),
        ));
    }
    let kernel = Kernel::from_parts(kernel_name, gamma, coef0, degree as i64)
        .map_err(|e| err(est.field(&e.field), e.problem))?;
    Ok(Preprocess::Nystroem(Nystroem {
        kernel,
        components,
        normalization,
    }))
}
