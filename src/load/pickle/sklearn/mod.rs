//! scikit-learn objects of an unpickled tree → the IR: the SVM family (dense
//! or CSR arrays), Pipelines of scalers, and searches' `best_estimator_`.
//! Attribute names of older versions are accepted (§5e).
//!
//! This file holds the allowlist of GLOBALs and the walk from the root
//! object to the estimator; `est` reads an estimator's state,
//! `estimators` the SVM family, `preprocess` the scalers and
//! `compose` Pipelines and CalibratedClassifierCV, `names` the column
//! names of a DataFrame-fitted model, `advice` what to do about a class we
//! do not convert (including placeholders: names outside the allowlist).

mod advice;
mod compose;
mod est;
mod estimators;
mod from_model;
mod names;
mod preprocess;
mod select;
mod steps;

use super::numpy;
use super::object::{Arena, Global, Id};
use crate::load::LoadError;
use crate::model::Model;
use compose::{calibrated, pipeline};
use est::Est;
use estimators::estimator;
pub(crate) use names::feature_names;

const SVM_MODULES: &[&str] = &["sklearn.svm._classes", "sklearn.svm.classes"];
const SVM_CLASSES: &[&str] = &[
    "SVC",
    "NuSVC",
    "SVR",
    "NuSVR",
    "OneClassSVM",
    "LinearSVC",
    "LinearSVR",
];
const SGD_MODULES: &[&str] = &[
    "sklearn.linear_model._stochastic_gradient",
    "sklearn.linear_model.stochastic_gradient",
];
const SGD_CLASSES: &[&str] = &["SGDClassifier", "SGDRegressor", "SGDOneClassSVM"];
const SCALER_MODULES: &[&str] = &["sklearn.preprocessing._data", "sklearn.preprocessing.data"];
const SEARCH_MODULES: &[&str] = &["sklearn.model_selection._search"];
const SCALERS: &[&str] = &[
    "StandardScaler",
    "MinMaxScaler",
    "MaxAbsScaler",
    "Normalizer",
];

/// What the error for an unsupported estimator lists.
pub const SUPPORTED: &str = "SVC, NuSVC, SVR, NuSVR, OneClassSVM, LinearSVC, LinearSVR, SGDClassifier, SGDRegressor, SGDOneClassSVM, CalibratedClassifierCV around SVC/NuSVC/LinearSVC/SGDClassifier, a Pipeline of StandardScaler/MinMaxScaler/MaxAbsScaler/Normalizer/PCA/TruncatedSVD/SimpleImputer/PolynomialFeatures/RBFSampler/Nystroem/VarianceThreshold/SelectKBest/SelectPercentile/GenericUnivariateSelect/SelectFpr/SelectFdr/SelectFwe/SelectFromModel/'passthrough' steps (also nested Pipelines, ColumnTransformer and FeatureUnion of them) ending in one of them, GridSearchCV, RandomizedSearchCV";

/// Names the VM evaluates itself because they are pure data (protocol 2's
/// bytes). State classes the walk never reads (scorers, CV splitters,
/// masked arrays of `cv_results_`, metadata requests, slices) need no
/// entry: they become inert placeholders.
const DATA: &[(&str, &str)] = &[("__builtin__", "bytes"), ("builtins", "bytes")];

fn is(g: &Global, modules: &[&str], names: &[&str]) -> bool {
    modules.contains(&g.module.as_str()) && names.contains(&g.name.as_str())
}

/// The allowlist of GLOBALs: numpy and scipy array types, the estimators we
/// convert, and inert state classes. Everything else becomes an inert
/// placeholder (see [`crate::load::pickle::object::Placeholder`]).
pub fn known(g: &Global) -> bool {
    let numpy_ok = (numpy::is_numpy(&g.module, "multiarray")
        && (g.name == "_reconstruct" || g.name == "scalar"))
        || (numpy::is_numpy(&g.module, "numeric") && g.name == "_frombuffer")
        || (g.module == "numpy" && (g.name == "ndarray" || g.name == "dtype"));
    numpy_ok
        || g.is("_codecs", "encode")
        || g.is("joblib.numpy_pickle", "NumpyArrayWrapper")
        || is(
            g,
            &["scipy.sparse._csr", "scipy.sparse.csr"],
            &["csr_matrix", "csr_array"],
        )
        || is(g, SVM_MODULES, SVM_CLASSES)
        || is(g, SGD_MODULES, SGD_CLASSES)
        || is(g, SCALER_MODULES, SCALERS)
        || steps::allowed(g)
        || g.is("sklearn.pipeline", "Pipeline")
        || is(g, SEARCH_MODULES, &["GridSearchCV", "RandomizedSearchCV"])
        || is(
            g,
            &["sklearn.calibration"],
            &[
                "CalibratedClassifierCV",
                "_CalibratedClassifier",
                "_SigmoidCalibration",
                "_TemperatureScaling",
            ],
        )
        || g.is("sklearn.isotonic", "IsotonicRegression")
        || g.is("sklearn.frozen._frozen", "FrozenEstimator")
        || DATA.iter().any(|(m, n)| g.is(m, n))
}

fn err(field: impl Into<String>, problem: impl Into<String>) -> LoadError {
    LoadError::Field {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Whether `g` is a model this module converts (an SVM, or a Pipeline,
/// search, calibration or FrozenEstimator around one).
fn converts(g: &Global) -> bool {
    is(g, SVM_MODULES, SVM_CLASSES)
        || is(g, SGD_MODULES, SGD_CLASSES)
        || g.is("sklearn.pipeline", "Pipeline")
        || g.is("sklearn.frozen._frozen", "FrozenEstimator")
        || g.is("sklearn.calibration", "CalibratedClassifierCV")
        || is(g, SEARCH_MODULES, &["GridSearchCV", "RandomizedSearchCV"])
}

/// Converts the root object of a pickle into a model.
pub fn to_model(arena: &Arena, root: Id) -> Result<Model, LoadError> {
    to_model_at(arena, root, "", 0)
}

fn to_model_at(arena: &Arena, root: Id, prefix: &str, depth: usize) -> Result<Model, LoadError> {
    let est = Est::new(arena, root, prefix)?;
    let class = est.class.clone();
    if is(&class, SVM_MODULES, SVM_CLASSES) || is(&class, SGD_MODULES, SGD_CLASSES) {
        estimator(&est, Vec::new())
    } else if class.is("sklearn.pipeline", "Pipeline") {
        pipeline(&est)
    } else if class.is("sklearn.frozen._frozen", "FrozenEstimator") && depth < 4 {
        let inner = est.require("estimator")?;
        to_model_at(
            arena,
            inner,
            &format!("{}.", est.field("estimator")),
            depth + 1,
        )
    } else if class.is("sklearn.calibration", "CalibratedClassifierCV") && depth < 4 {
        calibrated(arena, &est, depth)
    } else if is(
        &class,
        SEARCH_MODULES,
        &["GridSearchCV", "RandomizedSearchCV"],
    ) && depth < 4
    {
        let best = est.get("best_estimator_").ok_or_else(|| {
            err(
                est.field("best_estimator_"),
                "is missing (the search was run with refit=False)",
            )
        })?;
        to_model_at(
            arena,
            best,
            &format!("{}.", est.field("best_estimator_")),
            depth + 1,
        )
    } else {
        Err(err(
            &est.path,
            format!(
                "{class} cannot be converted (supported: {SUPPORTED}); {}",
                advice::what_to_do(&class, false)
            ),
        ))
    }
}
