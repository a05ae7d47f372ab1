//! scikit-learn objects of an unpickled tree → the IR: the SVM family (dense
//! or CSR arrays), Pipelines of scalers, and searches' `best_estimator_`.
//! Attribute names of older versions are accepted (§5e).
//!
//! This file holds the allowlist of GLOBALs and the walk from the root
//! object to the estimator; `est` reads an estimator's state,
//! `estimators` the SVM family, `preprocess` the scalers and
//! `compose` Pipelines and CalibratedClassifierCV.

mod advice;
mod compose;
mod est;
mod estimators;
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
const SCALER_MODULES: &[&str] = &["sklearn.preprocessing._data", "sklearn.preprocessing.data"];
const SEARCH_MODULES: &[&str] = &["sklearn.model_selection._search"];
const SCALERS: &[&str] = &[
    "StandardScaler",
    "MinMaxScaler",
    "MaxAbsScaler",
    "Normalizer",
];

/// What the error for an unsupported estimator lists.
pub const SUPPORTED: &str = "SVC, NuSVC, SVR, NuSVR, OneClassSVM, LinearSVC, LinearSVR, CalibratedClassifierCV around SVC/NuSVC/LinearSVC, a Pipeline of StandardScaler/MinMaxScaler/MaxAbsScaler/Normalizer/PCA/TruncatedSVD/SimpleImputer/PolynomialFeatures/VarianceThreshold/SelectKBest/SelectPercentile/GenericUnivariateSelect/SelectFpr/SelectFdr/SelectFwe/'passthrough' steps ending in one of them, GridSearchCV, RandomizedSearchCV";

/// Plain data classes found inside the state of the estimators we read
/// (search results, scorers). They are recorded, never constructed.
const INERT: &[(&str, &str)] = &[
    ("__builtin__", "bytes"),
    ("builtins", "bytes"),
    ("numpy.ma.core", "_mareconstruct"),
    ("numpy.ma.core", "MaskedArray"),
    ("numpy.ma", "MaskedArray"),
    ("sklearn.model_selection._split", "StratifiedKFold"),
    ("sklearn.model_selection._split", "KFold"),
    ("sklearn.model_selection._split", "RepeatedStratifiedKFold"),
    ("sklearn.model_selection._split", "ShuffleSplit"),
    ("sklearn.model_selection._split", "StratifiedShuffleSplit"),
    ("numpy", "bool_"),
    ("builtins", "slice"),
    // Protocol 2 spells it so (ColumnTransformer's output_indices_).
    ("__builtin__", "slice"),
    ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"),
    ("builtins", "object"),
    ("sklearn.metrics._scorer", "_PassthroughScorer"),
    ("sklearn.utils._metadata_requests", "MetadataRequest"),
    ("sklearn.utils._metadata_requests", "MethodMetadataRequest"),
];

fn is(g: &Global, modules: &[&str], names: &[&str]) -> bool {
    modules.contains(&g.module.as_str()) && names.contains(&g.name.as_str())
}

/// The allowlist of GLOBALs: numpy and scipy array types, the estimators we
/// convert, and inert state classes. Everything else is refused.
pub fn allow(g: &Global) -> Result<(), String> {
    let numpy_ok = (numpy::is_numpy(&g.module, "multiarray")
        && (g.name == "_reconstruct" || g.name == "scalar"))
        || (numpy::is_numpy(&g.module, "numeric") && g.name == "_frombuffer")
        || (g.module == "numpy" && (g.name == "ndarray" || g.name == "dtype"));
    let ok = numpy_ok
        || g.is("_codecs", "encode")
        || g.is("joblib.numpy_pickle", "NumpyArrayWrapper")
        || is(
            g,
            &["scipy.sparse._csr", "scipy.sparse.csr"],
            &["csr_matrix", "csr_array"],
        )
        || is(g, SVM_MODULES, SVM_CLASSES)
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
        || INERT.iter().any(|(m, n)| g.is(m, n));
    if ok {
        Ok(())
    } else if g.module.starts_with("sklearn.") {
        Err(format!(
            "unsupported estimator or component (supported: {SUPPORTED}); {}",
            advice::what_to_do(g, false)
        ))
    } else {
        Err("not on the allowlist of numpy, scipy and scikit-learn names svm2onnx reads".into())
    }
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
        || g.is("sklearn.pipeline", "Pipeline")
        || g.is("sklearn.frozen._frozen", "FrozenEstimator")
        || g.is("sklearn.calibration", "CalibratedClassifierCV")
        || is(g, SEARCH_MODULES, &["GridSearchCV", "RandomizedSearchCV"])
}

/// For a tree read with a refused `class` admitted (see
/// [`crate::load::pickle`]): the error of the Pipeline step where that
/// class sits, which names its position, or `None` when it is elsewhere.
pub(crate) fn step_error(arena: &Arena, root: Id, class: &Global) -> Option<LoadError> {
    let suffix = format!("].{}", class.name);
    match to_model(arena, root) {
        Err(LoadError::Field { field, problem })
            if field.contains("steps[") && field.ends_with(&suffix) =>
        {
            Some(LoadError::Field { field, problem })
        }
        _ => None,
    }
}

/// Converts the root object of a pickle into a model.
pub fn to_model(arena: &Arena, root: Id) -> Result<Model, LoadError> {
    to_model_at(arena, root, "", 0)
}

fn to_model_at(arena: &Arena, root: Id, prefix: &str, depth: usize) -> Result<Model, LoadError> {
    let est = Est::new(arena, root, prefix)?;
    let class = est.class.clone();
    if is(&class, SVM_MODULES, SVM_CLASSES) {
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
