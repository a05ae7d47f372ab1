//! The svm2onnx JSON interchange format (`"format": "svm2onnx.model/1"`):
//! scikit-learn's public fitted attributes without the trailing underscore.
//! docs/JSON_FORMAT.md describes the format.
//!
//! [`schema`] reads values and names the field at fault, [`estimators`]
//! builds each estimator family, [`samples`] reads the recorded samples;
//! this file checks the document and dispatches on `estimator`.

mod estimators;
mod samples;
mod schema;

use super::{LoadError, LoadedModel};
use crate::model::{DualKind, Estimator, LinearEstimator, Model, Preprocess};
use estimators::Common;
pub use schema::FORMAT;
use schema::{array, field_error, integer, kind, syntax_error, Fields};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Every top-level field the format defines; others become warnings.
const KNOWN_FIELDS: &[&str] = &[
    "format",
    "estimator",
    "sklearn_version",
    "n_features_in",
    "kernel",
    "gamma",
    "coef0",
    "degree",
    "classes",
    "n_support",
    "support_vectors",
    "dual_coef",
    "intercept",
    "decision_function_shape",
    "break_ties",
    "prob_a",
    "prob_b",
    "preprocessing",
    "samples",
    "coef",
    "offset",
    "multi_class",
    "method",
    "calibrated_classifiers",
    "ensemble",
    "loss",
];

/// Estimators the JSON format describes.
pub const SUPPORTED_ESTIMATORS: &str =
    "SVC, NuSVC, SVR, NuSVR, OneClassSVM, LinearSVC, LinearSVR, \
     SGDClassifier, SGDRegressor, SGDOneClassSVM, CalibratedClassifierCV";

/// Large fields left unparsed until read (see [`schema::matrix_raw`]).
const BIG: [&str; 2] = ["support_vectors", "dual_coef"];

/// Parses an svm2onnx JSON model.
pub fn load(bytes: &[u8]) -> Result<LoadedModel, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        LoadError::Format(format!(
            "not UTF-8 text: invalid byte at offset {}",
            e.valid_up_to()
        ))
    })?;
    // Syntax is checked for the whole document here; each field is parsed on
    // its own below, so big matrices skip the generic `Value` tree.
    let raw: HashMap<String, &RawValue> =
        serde_json::from_str(text).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => {
                LoadError::Format("the JSON document is not an object".into())
            }
            _ => syntax_error(bytes, e),
        })?;
    let mut object = Map::new();
    for (key, value) in &raw {
        if !BIG.contains(&key.as_str()) {
            let v: Value = serde_json::from_str(value.get())
                .map_err(|e| field_error(key.clone(), e.to_string()))?;
            object.insert(key.clone(), v);
        }
    }
    let fields = Fields {
        object: &object,
        raw: &raw,
    };
    let mut warnings = unknown_field_warnings(&raw);

    let format = fields.string("format")?;
    if format != FORMAT {
        return Err(field_error(
            "format",
            format!("'{format}' is not supported (expected '{FORMAT}')"),
        ));
    }
    let estimator_name = fields.string("estimator")?;
    let common = common(&fields)?;
    let model = model(&fields, estimator_name, common)?;
    let samples = match fields.optional("samples") {
        None => None,
        Some(v) => Some(samples::samples(v, &model, &mut warnings)?),
    };
    Ok(LoadedModel {
        model,
        samples,
        warnings,
        feature_names: None,
    })
}

/// One warning per field this format does not know, in name order.
fn unknown_field_warnings(raw: &HashMap<String, &RawValue>) -> Vec<String> {
    let mut keys: Vec<&String> = raw.keys().collect();
    keys.sort();
    keys.into_iter()
        .filter(|key| !KNOWN_FIELDS.contains(&key.as_str()))
        .map(|key| format!("ignoring unknown field `{key}`"))
        .collect()
}

/// `n_features_in`, `preprocessing` and `sklearn_version`, in that order.
fn common(fields: &Fields) -> Result<Common, LoadError> {
    let n_features = integer("n_features_in", fields.required("n_features_in")?)?;
    let n_features = usize::try_from(n_features).map_err(|_| {
        field_error(
            "n_features_in",
            format!("{n_features} is not a valid feature count"),
        )
    })?;
    let preprocessing: Vec<Preprocess> = match fields.optional("preprocessing") {
        None => Vec::new(),
        Some(steps) => array("preprocessing", steps)?
            .iter()
            .enumerate()
            .map(|(i, step)| estimators::preprocess_step(i, step))
            .collect::<Result<_, _>>()?,
    };
    let sklearn_version = match fields.optional("sklearn_version") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(v) => {
            return Err(field_error(
                "sklearn_version",
                format!("expected a string, found {}", kind(v)),
            ))
        }
    };
    Ok(Common {
        n_features,
        preprocessing,
        sklearn_version,
    })
}

/// Dispatch on `estimator`.
fn model(fields: &Fields, estimator_name: &str, common: Common) -> Result<Model, LoadError> {
    Ok(match estimator_name {
        "SVC" | "NuSVC" => {
            let estimator = Estimator::from_name(estimator_name).expect("matched above");
            Model::Svc(estimators::svc(fields, estimator, common)?)
        }
        name if DualKind::from_sklearn_name(name).is_some() => {
            let kind = DualKind::from_sklearn_name(name).expect("matched above");
            estimators::dual(fields, kind, common)?
        }
        "CalibratedClassifierCV" => Model::calibrated(estimators::calibrated(
            fields,
            common.sklearn_version,
            load,
        )?)?,
        name if LinearEstimator::SKLEARN_NAMES.contains(&name) => {
            estimators::linear(fields, estimator_name, common)?
        }
        other => {
            return Err(field_error(
                "estimator",
                format!("'{other}' is not supported (supported: {SUPPORTED_ESTIMATORS})"),
            ))
        }
    })
}
