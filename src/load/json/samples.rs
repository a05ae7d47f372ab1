//! The recorded samples (`samples`): inputs and the outputs scikit-learn gave
//! for them, checked against the model's shape.

use super::schema::{field_error, kind, labels, matrix, matrix_or_column};
use crate::load::LoadError;
use crate::model::{Label, Model, OutputKind, OutputOptions, Samples};
use ndarray::Array2;
use serde_json::Value;

/// The `samples` object: `X` and any of `predict`, `decision_function` and
/// `predict_proba`; unknown keys become warnings.
pub(super) fn samples(
    v: &Value,
    model: &Model,
    warnings: &mut Vec<String>,
) -> Result<Samples, LoadError> {
    let object = v
        .as_object()
        .ok_or_else(|| field_error("samples", format!("expected an object, found {}", kind(v))))?;
    for key in object.keys() {
        if ![
            "X",
            "predict",
            "decision_function",
            "predict_proba",
            "score_samples",
        ]
        .contains(&key.as_str())
        {
            warnings.push(format!("ignoring unknown field `samples.{key}`"));
        }
    }
    let x_value = object
        .get("X")
        .ok_or_else(|| field_error("samples.X", "is missing"))?;
    let x = rows_with_missing(x_value)?;
    let n = x.nrows();
    if n > 0 && x.ncols() != model.n_features() {
        return Err(field_error(
            "samples.X",
            format!(
                "rows have {} features, the model expects {}",
                x.ncols(),
                model.n_features()
            ),
        ));
    }
    let predict = recorded_predict(object, model, n)?;
    let decision_function = recorded_decision(object, model, n)?;
    let predict_proba = recorded_proba(object, model, n)?;
    Ok(Samples {
        x,
        predict,
        decision_function,
        predict_proba,
    })
}

/// `samples.predict`: one known label per row.
fn recorded_predict(
    object: &serde_json::Map<String, Value>,
    model: &Model,
    n: usize,
) -> Result<Option<Vec<Label>>, LoadError> {
    Ok(match object.get("predict").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let labels = labels("samples.predict", v)?;
            if labels.len() != n {
                return Err(field_error(
                    "samples.predict",
                    format!("has {} labels for {n} rows", labels.len()),
                ));
            }
            let classes = model.label_classes();
            for (i, l) in labels.iter().enumerate() {
                if classes.as_ref().is_some_and(|c| c.index_of(l).is_none()) {
                    return Err(field_error(
                        format!("samples.predict[{i}]"),
                        format!("{l} is not one of the classes"),
                    ));
                }
            }
            Some(labels)
        }
    })
}

/// `samples.decision_function`: N × the width of the `scores` output.
fn recorded_decision(
    object: &serde_json::Map<String, Value>,
    model: &Model,
    n: usize,
) -> Result<Option<Array2<f64>>, LoadError> {
    let width = model
        .outputs(&OutputOptions::default())
        .iter()
        .find(|s| s.kind == OutputKind::Scores)
        .map_or(1, |s| s.shape.width());
    Ok(
        match object.get("decision_function").filter(|v| !v.is_null()) {
            None => None,
            Some(v) => {
                let d = matrix_or_column("samples.decision_function", v)?;
                if d.dim() != (n, width) {
                    return Err(field_error(
                        "samples.decision_function",
                        format!(
                            "has shape {}x{}, expected {n}x{width}",
                            d.nrows(),
                            d.ncols()
                        ),
                    ));
                }
                Some(d)
            }
        },
    )
}

/// `samples.predict_proba`: N × k.
fn recorded_proba(
    object: &serde_json::Map<String, Value>,
    model: &Model,
    n: usize,
) -> Result<Option<Array2<f64>>, LoadError> {
    Ok(match object.get("predict_proba").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let p = matrix("samples.predict_proba", v)?;
            let k = model.label_classes().map_or(0, |c| c.len());
            if p.dim() != (n, k) {
                return Err(field_error(
                    "samples.predict_proba",
                    format!("has shape {}x{}, expected {n}x{}", p.nrows(), p.ncols(), k),
                ));
            }
            Some(p)
        }
    })
}

/// `samples.X`: numbers, with null for a missing value (NaN), which only a
/// SimpleImputer step can take.
fn rows_with_missing(v: &Value) -> Result<Array2<f64>, LoadError> {
    let has_null = v.as_array().is_some_and(|rows| {
        rows.iter()
            .any(|r| r.as_array().is_some_and(|r| r.iter().any(Value::is_null)))
    });
    if !has_null {
        return matrix("samples.X", v);
    }
    let marked: Vec<Value> = v
        .as_array()
        .expect("checked above")
        .iter()
        .map(|row| match row.as_array() {
            Some(r) => Value::Array(
                r.iter()
                    .map(|x| {
                        if x.is_null() {
                            Value::from(0.0)
                        } else {
                            x.clone()
                        }
                    })
                    .collect(),
            ),
            None => row.clone(),
        })
        .collect();
    let mut x = matrix("samples.X", &Value::Array(marked))?;
    for (i, row) in v.as_array().expect("checked above").iter().enumerate() {
        for (j, cell) in row.as_array().expect("rows are arrays").iter().enumerate() {
            if cell.is_null() {
                x[[i, j]] = f64::NAN;
            }
        }
    }
    Ok(x)
}
