//! Field access and value readers for the JSON format: numbers, vectors,
//! matrices, labels, and the errors that name the field at fault.

use crate::load::LoadError;
use crate::model::{Classes, Label};
use ndarray::{Array1, Array2};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The format tag this reader understands.
pub const FORMAT: &str = "svm2onnx.model/1";

/// A [`LoadError::Field`] for `field`, with serde's position suffix removed.
pub(super) fn field_error(field: impl Into<String>, problem: impl Into<String>) -> LoadError {
    let problem: String = problem.into();
    // serde's "at line 1 column N" would count inside the field, not the file.
    let problem = problem
        .split(" at line ")
        .next()
        .unwrap_or_default()
        .to_string();
    LoadError::Field {
        field: field.into(),
        problem,
    }
}

/// How a value is described in an error ("a number", "an array", …).
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A finite number.
pub(super) fn number(field: &str, v: &Value) -> Result<f64, LoadError> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        Some(x) => Err(field_error(field, format!("{x} is not a finite number"))),
        None => Err(field_error(
            field,
            format!("expected a number, found {}", kind(v)),
        )),
    }
}

/// An integer, also when written as a float with no fractional part.
pub(super) fn integer(field: &str, v: &Value) -> Result<i64, LoadError> {
    if let Some(i) = v.as_i64() {
        return Ok(i);
    }
    match v.as_f64() {
        Some(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(x as i64),
        _ => Err(field_error(
            field,
            format!("expected an integer, found {}", describe(v)),
        )),
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Number(n) => format!("{n}"),
        other => kind(other).to_string(),
    }
}

/// A JSON array.
pub(super) fn array<'a>(field: &str, v: &'a Value) -> Result<&'a Vec<Value>, LoadError> {
    v.as_array()
        .ok_or_else(|| field_error(field, format!("expected an array, found {}", kind(v))))
}

/// A list of finite numbers.
pub(super) fn vector(field: &str, v: &Value) -> Result<Array1<f64>, LoadError> {
    let items = array(field, v)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(number(&format!("{field}[{i}]"), item)?);
    }
    Ok(Array1::from(out))
}

/// A rectangular matrix given as a list of rows.
pub(super) fn matrix(field: &str, v: &Value) -> Result<Array2<f64>, LoadError> {
    let rows = array(field, v)?;
    let width = match rows.first() {
        Some(first) => array(&format!("{field}[0]"), first)?.len(),
        None => 0,
    };
    // No reservation from declared sizes: rows are checked as they come.
    let mut data = Vec::new();
    for (r, row) in rows.iter().enumerate() {
        let name = format!("{field}[{r}]");
        let items = array(&name, row)?;
        if items.len() != width {
            return Err(field_error(
                name,
                format!("has {} values but row 0 has {width}", items.len()),
            ));
        }
        for (c, item) in items.iter().enumerate() {
            data.push(number(&format!("{field}[{r}][{c}]"), item)?);
        }
    }
    Array2::from_shape_vec((rows.len(), width), data)
        .map_err(|e| field_error(field, format!("not a matrix: {e}")))
}

/// A large matrix field: a typed parse straight into `Vec<f64>` rows (fast,
/// no per-number allocation); on any problem, the `Value` walk of [`matrix`]
/// names the exact element at fault.
pub(super) fn matrix_raw(field: &str, raw: &RawValue) -> Result<Array2<f64>, LoadError> {
    if let Ok(rows) = serde_json::from_str::<Vec<Vec<f64>>>(raw.get()) {
        let width = rows.first().map_or(0, Vec::len);
        if rows.iter().all(|r| r.len() == width) {
            let n = rows.len();
            let flat: Vec<f64> = rows.into_iter().flatten().collect();
            if flat.iter().all(|v| v.is_finite()) {
                if let Ok(m) = Array2::from_shape_vec((n, width), flat) {
                    return Ok(m);
                }
            }
        }
    }
    let value: Value =
        serde_json::from_str(raw.get()).map_err(|e| field_error(field, e.to_string()))?;
    matrix(field, &value)
}

/// A matrix, or a vector read as one column (binary decision_function).
pub(super) fn matrix_or_column(field: &str, v: &Value) -> Result<Array2<f64>, LoadError> {
    let rows = array(field, v)?;
    if rows.first().is_some_and(|r| r.is_array()) {
        matrix(field, v)
    } else {
        Ok(vector(field, v)?.insert_axis(ndarray::Axis(1)))
    }
}

/// Class labels: integers, floats or strings.
pub(super) fn labels(field: &str, v: &Value) -> Result<Vec<Label>, LoadError> {
    let items = array(field, v)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let name = format!("{field}[{i}]");
            match item {
                Value::String(s) => Ok(Label::Str(s.clone())),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => Ok(Label::Int(i)),
                    None => Ok(Label::Float(number(&name, item)?)),
                },
                other => Err(field_error(
                    name,
                    format!("expected a number or a string, found {}", kind(other)),
                )),
            }
        })
        .collect()
}

/// The `classes` field: labels of one type (integers may widen to floats).
pub(super) fn classes(v: &Value) -> Result<Classes, LoadError> {
    let labels = labels("classes", v)?;
    if labels.iter().all(|l| matches!(l, Label::Int(_))) {
        return Ok(Classes::Int(
            labels
                .into_iter()
                .map(|l| if let Label::Int(i) = l { i } else { 0 })
                .collect(),
        ));
    }
    if labels.iter().all(|l| matches!(l, Label::Str(_))) {
        return Ok(Classes::Str(
            labels
                .into_iter()
                .map(|l| {
                    if let Label::Str(s) = l {
                        s
                    } else {
                        String::new()
                    }
                })
                .collect(),
        ));
    }
    let mut floats = Vec::with_capacity(labels.len());
    for (i, l) in labels.into_iter().enumerate() {
        match l {
            Label::Int(v) => floats.push(v as f64),
            Label::Float(v) => floats.push(v),
            Label::Str(_) => {
                return Err(field_error(
                    format!("classes[{i}]"),
                    "mixes strings and numbers; all labels must have one type",
                ))
            }
        }
    }
    Ok(Classes::Float(floats))
}

/// A number, or a one-element list of one.
pub(super) fn scalar_or_single(field: &str, v: &Value) -> Result<f64, LoadError> {
    match v {
        Value::Array(items) if items.len() == 1 => number(&format!("{field}[0]"), &items[0]),
        Value::Array(items) => Err(field_error(
            field,
            format!("has {} values, expected 1", items.len()),
        )),
        other => number(field, other),
    }
}

/// A matrix, or a vector read as one row (LinearSVR's `coef_`).
pub(super) fn matrix_or_row(field: &str, v: &Value) -> Result<Array2<f64>, LoadError> {
    let rows = array(field, v)?;
    if rows.first().is_some_and(|r| r.is_array()) {
        matrix(field, v)
    } else {
        Ok(vector(field, v)?.insert_axis(ndarray::Axis(0)))
    }
}

/// Field access on the top-level object, remembering which names are known.
/// The large matrix fields stay unparsed in `raw` (see [`matrix_raw`]).
pub(super) struct Fields<'a> {
    /// Every field but the large ones, parsed.
    pub(super) object: &'a Map<String, Value>,
    /// Every field, unparsed.
    pub(super) raw: &'a HashMap<String, &'a RawValue>,
}

impl<'a> Fields<'a> {
    /// A field that is present and not null.
    pub(super) fn optional(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|v| !v.is_null())
    }

    /// A field that must be present and not null.
    pub(super) fn required(&self, name: &str) -> Result<&'a Value, LoadError> {
        self.optional(name)
            .ok_or_else(|| field_error(name, "is missing"))
    }

    /// A required string field.
    pub(super) fn string(&self, name: &str) -> Result<&'a str, LoadError> {
        let v = self.required(name)?;
        v.as_str()
            .ok_or_else(|| field_error(name, format!("expected a string, found {}", kind(v))))
    }

    /// A required field kept unparsed (a large matrix).
    pub(super) fn raw(&self, name: &str) -> Result<&'a RawValue, LoadError> {
        self.raw
            .get(name)
            .copied()
            .filter(|v| v.get() != "null")
            .ok_or_else(|| field_error(name, "is missing"))
    }
}

/// Points at NaN/Infinity tokens, which Python's json module writes but JSON
/// does not allow, so the one-line error says what is wrong.
pub(super) fn syntax_error(bytes: &[u8], e: serde_json::Error) -> LoadError {
    let offset = line_column_offset(bytes, e.line(), e.column());
    let rest = &bytes[offset.min(bytes.len())..];
    let rest = rest.strip_prefix(b"-").unwrap_or(rest);
    let message = if rest.starts_with(b"NaN") || rest.starts_with(b"Infinity") {
        "NaN and Infinity are not valid values (every number must be finite)".to_string()
    } else {
        e.to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    LoadError::Syntax {
        line: e.line(),
        column: e.column(),
        message,
    }
}

pub(super) fn line_column_offset(bytes: &[u8], line: usize, column: usize) -> usize {
    let mut offset = 0;
    for _ in 1..line {
        match bytes[offset..].iter().position(|&b| b == b'\n') {
            Some(p) => offset += p + 1,
            None => return bytes.len(),
        }
    }
    // serde_json's column is 1-based and points at the offending byte.
    offset + column.saturating_sub(1)
}
