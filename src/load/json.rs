//! The svm2onnx JSON interchange format (`"format": "svm2onnx.model/1"`):
//! scikit-learn's public fitted attributes without the trailing underscore.
//! See the README's "JSON format" section.

use super::{LoadError, LoadedModel};
use crate::model::{CalibratedMember, CalibratedParts, Calibration, Calibrator};
use crate::model::{
    Classes, Convention, DecisionShape, DualKind, DualParts, Estimator, Kernel, Label, LinearParts,
    Model, Norm, OutputKind, OutputOptions, PlattParameters, Preprocess, Samples, SvmModel,
    SvmParts,
};
use ndarray::{Array1, Array2};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The format tag this reader understands.
pub const FORMAT: &str = "svm2onnx.model/1";

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
];

fn field_error(field: impl Into<String>, problem: impl Into<String>) -> LoadError {
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

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn number(field: &str, v: &Value) -> Result<f64, LoadError> {
    match v.as_f64() {
        Some(x) if x.is_finite() => Ok(x),
        Some(x) => Err(field_error(field, format!("{x} is not a finite number"))),
        None => Err(field_error(
            field,
            format!("expected a number, found {}", kind(v)),
        )),
    }
}

fn integer(field: &str, v: &Value) -> Result<i64, LoadError> {
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

fn array<'a>(field: &str, v: &'a Value) -> Result<&'a Vec<Value>, LoadError> {
    v.as_array()
        .ok_or_else(|| field_error(field, format!("expected an array, found {}", kind(v))))
}

fn vector(field: &str, v: &Value) -> Result<Array1<f64>, LoadError> {
    let items = array(field, v)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(number(&format!("{field}[{i}]"), item)?);
    }
    Ok(Array1::from(out))
}

/// A rectangular matrix given as a list of rows.
fn matrix(field: &str, v: &Value) -> Result<Array2<f64>, LoadError> {
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
fn matrix_raw(field: &str, raw: &RawValue) -> Result<Array2<f64>, LoadError> {
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
fn matrix_or_column(field: &str, v: &Value) -> Result<Array2<f64>, LoadError> {
    let rows = array(field, v)?;
    if rows.first().is_some_and(|r| r.is_array()) {
        matrix(field, v)
    } else {
        Ok(vector(field, v)?.insert_axis(ndarray::Axis(1)))
    }
}

fn labels(field: &str, v: &Value) -> Result<Vec<Label>, LoadError> {
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

fn classes(v: &Value) -> Result<Classes, LoadError> {
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

/// Field access on the top-level object, remembering which names are known.
struct Fields<'a> {
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn optional(&self, name: &str) -> Option<&'a Value> {
        self.object.get(name).filter(|v| !v.is_null())
    }

    fn required(&self, name: &str) -> Result<&'a Value, LoadError> {
        self.optional(name)
            .ok_or_else(|| field_error(name, "is missing"))
    }

    fn string(&self, name: &str) -> Result<&'a str, LoadError> {
        let v = self.required(name)?;
        v.as_str()
            .ok_or_else(|| field_error(name, format!("expected a string, found {}", kind(v))))
    }
}

/// Points at NaN/Infinity tokens, which Python's json module writes but JSON
/// does not allow, so the one-line error says what is wrong.
fn syntax_error(bytes: &[u8], e: serde_json::Error) -> LoadError {
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

fn line_column_offset(bytes: &[u8], line: usize, column: usize) -> usize {
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
    let big = ["support_vectors", "dual_coef"];
    let mut object = Map::new();
    for (key, value) in &raw {
        if !big.contains(&key.as_str()) {
            let v: Value = serde_json::from_str(value.get())
                .map_err(|e| field_error(key.clone(), e.to_string()))?;
            object.insert(key.clone(), v);
        }
    }
    let raw_field = |name: &str| -> Result<&RawValue, LoadError> {
        raw.get(name)
            .copied()
            .filter(|v| v.get() != "null")
            .ok_or_else(|| field_error(name, "is missing"))
    };
    let fields = Fields { object: &object };
    let mut warnings = Vec::new();
    let mut keys: Vec<&String> = raw.keys().collect();
    keys.sort();
    for key in keys {
        if !KNOWN_FIELDS.contains(&key.as_str()) {
            warnings.push(format!("ignoring unknown field `{key}`"));
        }
    }

    let format = fields.string("format")?;
    if format != FORMAT {
        return Err(field_error(
            "format",
            format!("'{format}' is not supported (expected '{FORMAT}')"),
        ));
    }
    let estimator_name = fields.string("estimator")?;
    let n_features = integer("n_features_in", fields.required("n_features_in")?)?;
    let n_features = usize::try_from(n_features).map_err(|_| {
        field_error(
            "n_features_in",
            format!("{n_features} is not a valid feature count"),
        )
    })?;
    let preprocessing = match fields.optional("preprocessing") {
        None => Vec::new(),
        Some(steps) => array("preprocessing", steps)?
            .iter()
            .enumerate()
            .map(|(i, step)| preprocess_step(i, step))
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

    let model = match estimator_name {
        "SVC" | "NuSVC" => {
            let estimator = Estimator::from_name(estimator_name).expect("matched above");
            Model::Svc(svc(
                &fields,
                &raw_field,
                estimator,
                n_features,
                preprocessing,
                sklearn_version,
            )?)
        }
        "SVR" | "NuSVR" | "OneClassSVM" => {
            let kind = match estimator_name {
                "SVR" => DualKind::Svr,
                "NuSVR" => DualKind::NuSvr,
                _ => DualKind::OneClassSvm,
            };
            let dual_coef = matrix_raw("dual_coef", raw_field("dual_coef")?)?;
            if dual_coef.nrows() != 1 {
                return Err(field_error(
                    "dual_coef",
                    format!("has {} rows, expected 1", dual_coef.nrows()),
                ));
            }
            let intercept = scalar_or_single("intercept", fields.required("intercept")?)?;
            Model::dual(DualParts {
                kind,
                n_features,
                kernel: kernel(&fields)?,
                support_vectors: matrix_raw("support_vectors", raw_field("support_vectors")?)?
                    .into(),
                dual_coef: dual_coef.row(0).to_owned(),
                intercept,
                preprocessing,
                sklearn_version,
                convention: Convention::Sklearn,
                density_marks: None,
                svr_sigma: None,
            })?
        }
        "CalibratedClassifierCV" => Model::calibrated(calibrated(&fields, sklearn_version)?)?,
        "LinearSVC" | "LinearSVR" => {
            let coef_value = fields.required("coef")?;
            let coef = matrix_or_row("coef", coef_value)?;
            let intercept = match fields.required("intercept")? {
                Value::Number(_) => {
                    // `fit_intercept=False` stores a plain 0.0 (§3).
                    let v = number("intercept", fields.required("intercept")?)?;
                    Array1::from_elem(coef.nrows(), v)
                }
                v => vector("intercept", v)?,
            };
            let classes = match estimator_name {
                "LinearSVC" => Some(classes(fields.required("classes")?)?),
                _ => None,
            };
            if coef.ncols() != n_features {
                return Err(field_error(
                    "coef",
                    format!(
                        "rows have {} values but n_features_in is {n_features}",
                        coef.ncols()
                    ),
                ));
            }
            Model::linear(LinearParts {
                classes,
                coef,
                intercept,
                preprocessing,
                sklearn_version,
            })?
        }
        other => {
            return Err(field_error(
                "estimator",
                format!("'{other}' is not supported (supported: {SUPPORTED_ESTIMATORS})"),
            ))
        }
    };
    let samples = match fields.optional("samples") {
        None => None,
        Some(v) => Some(samples(v, &model, &mut warnings)?),
    };
    Ok(LoadedModel {
        model,
        samples,
        warnings,
    })
}

/// Estimators the JSON format describes.
pub const SUPPORTED_ESTIMATORS: &str =
    "SVC, NuSVC, SVR, NuSVR, OneClassSVM, LinearSVC, LinearSVR, CalibratedClassifierCV";

/// `calibrated_classifiers`: each a nested estimator (the same JSON object
/// without `format` and `samples`) and its calibrators.
fn calibrated(
    fields: &Fields,
    sklearn_version: Option<String>,
) -> Result<CalibratedParts, LoadError> {
    let classes = classes(fields.required("classes")?)?;
    let method = fields.string("method")?.to_string();
    let members = array(
        "calibrated_classifiers",
        fields.required("calibrated_classifiers")?,
    )?;
    let mut out = Vec::with_capacity(members.len());
    for (i, member) in members.iter().enumerate() {
        let at = |f: &str| format!("calibrated_classifiers[{i}].{f}");
        let object = member.as_object().ok_or_else(|| {
            field_error(format!("calibrated_classifiers[{i}]"), "expected an object")
        })?;
        let mut nested = object
            .get("estimator")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| field_error(at("estimator"), "expected an estimator object"))?;
        nested.insert("format".into(), Value::from(FORMAT));
        let base =
            load(&serde_json::to_vec(&Value::Object(nested)).unwrap_or_default()).map_err(|e| {
                match e {
                    LoadError::Field { field, problem } => {
                        field_error(format!("{}.{field}", at("estimator")), problem)
                    }
                    other => field_error(at("estimator"), other.to_string()),
                }
            })?;
        let calibration = match method.as_str() {
            "temperature" => Calibration::Temperature {
                beta: number(&at("beta"), object.get("beta").unwrap_or(&Value::Null))?,
            },
            "sigmoid" | "isotonic" => {
                let list = array(&at("calibrators"), object.get("calibrators").unwrap_or(&Value::Null))?;
                let mut cals = Vec::with_capacity(list.len());
                for (j, c) in list.iter().enumerate() {
                    let name = format!("{}[{j}]", at("calibrators"));
                    let get = |f: &str| c.get(f).unwrap_or(&Value::Null);
                    cals.push(if method == "sigmoid" {
                        Calibrator::Sigmoid {
                            a: number(&format!("{name}.a"), get("a"))?,
                            b: number(&format!("{name}.b"), get("b"))?,
                        }
                    } else {
                        Calibrator::Isotonic {
                            x: vector(&format!("{name}.x_thresholds"), get("x_thresholds"))?.to_vec(),
                            y: vector(&format!("{name}.y_thresholds"), get("y_thresholds"))?.to_vec(),
                            x_min: number(&format!("{name}.x_min"), get("x_min"))?,
                            x_max: number(&format!("{name}.x_max"), get("x_max"))?,
                        }
                    });
                }
                Calibration::PerClass(cals)
            }
            other => {
                return Err(field_error(
                    "method",
                    format!("calibration method '{other}' is not supported (sigmoid, isotonic, temperature)"),
                ))
            }
        };
        out.push(CalibratedMember {
            base: base.model,
            calibration,
        });
    }
    Ok(CalibratedParts {
        classes,
        method,
        members: out,
        sklearn_version,
    })
}

/// A number, or a one-element list of one.
fn scalar_or_single(field: &str, v: &Value) -> Result<f64, LoadError> {
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
fn matrix_or_row(field: &str, v: &Value) -> Result<Array2<f64>, LoadError> {
    let rows = array(field, v)?;
    if rows.first().is_some_and(|r| r.is_array()) {
        matrix(field, v)
    } else {
        Ok(vector(field, v)?.insert_axis(ndarray::Axis(0)))
    }
}

/// The kernel and its parameters (gamma is scikit-learn's resolved `_gamma`).
fn kernel(fields: &Fields) -> Result<Kernel, LoadError> {
    let kernel_name = fields.string("kernel")?;
    let needs = |name: &str| -> Result<f64, LoadError> {
        match fields.optional(name) {
            Some(v) => number(name, v),
            None => Ok(0.0),
        }
    };
    let gamma = match kernel_name {
        "linear" => needs("gamma")?,
        _ => number("gamma", fields.required("gamma")?)?,
    };
    let coef0 = match kernel_name {
        "poly" | "sigmoid" => number("coef0", fields.required("coef0")?)?,
        _ => needs("coef0")?,
    };
    let degree = match (kernel_name, fields.optional("degree")) {
        ("poly", None) => return Err(field_error("degree", "is missing")),
        (_, Some(v)) => integer("degree", v)?,
        (_, None) => 3,
    };
    Ok(Kernel::from_parts(kernel_name, gamma, coef0, degree)?)
}

fn svc<'r>(
    fields: &Fields,
    raw_field: &dyn Fn(&str) -> Result<&'r RawValue, LoadError>,
    estimator: Estimator,
    n_features: usize,
    preprocessing: Vec<Preprocess>,
    sklearn_version: Option<String>,
) -> Result<SvmModel, LoadError> {
    let kernel = kernel(fields)?;
    let classes = classes(fields.required("classes")?)?;
    let n_support = array("n_support", fields.required("n_support")?)?
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let field = format!("n_support[{i}]");
            let n = integer(&field, v)?;
            usize::try_from(n).map_err(|_| field_error(field, format!("{n} is negative")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let support_vectors = matrix_raw("support_vectors", raw_field("support_vectors")?)?;
    let dual_coef = matrix_raw("dual_coef", raw_field("dual_coef")?)?;
    let intercept = vector("intercept", fields.required("intercept")?)?;
    let decision_shape = match fields.string("decision_function_shape")? {
        "ovr" => DecisionShape::Ovr,
        "ovo" => DecisionShape::Ovo,
        other => {
            return Err(field_error(
                "decision_function_shape",
                format!("'{other}' is not 'ovr' or 'ovo'"),
            ))
        }
    };
    let break_ties = match fields.optional("break_ties") {
        None => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            return Err(field_error(
                "break_ties",
                format!("expected a boolean, found {}", kind(v)),
            ))
        }
    };
    let platt = match (fields.optional("prob_a"), fields.optional("prob_b")) {
        (None, None) => None,
        (Some(a), Some(b)) => {
            let (prob_a, prob_b) = (vector("prob_a", a)?, vector("prob_b", b)?);
            // An empty pair means "fit without probabilities" (§1.1).
            (!(prob_a.is_empty() && prob_b.is_empty()))
                .then_some(PlattParameters { prob_a, prob_b })
        }
        (Some(_), None) => return Err(field_error("prob_b", "is missing while prob_a is present")),
        (None, Some(_)) => return Err(field_error("prob_a", "is missing while prob_b is present")),
    };
    Ok(SvmModel::new(SvmParts {
        estimator,
        n_features,
        kernel,
        classes,
        n_support,
        support_vectors: support_vectors.into(),
        dual_coef,
        intercept,
        decision_shape,
        break_ties,
        platt,
        sklearn_version,
        preprocessing,
        convention: Convention::Sklearn,
    })?)
}

fn samples(v: &Value, model: &Model, warnings: &mut Vec<String>) -> Result<Samples, LoadError> {
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
    let x = matrix("samples.X", x_value)?;
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
    let predict = match object.get("predict").filter(|v| !v.is_null()) {
        None => None,
        Some(v) => {
            let labels = labels("samples.predict", v)?;
            if labels.len() != n {
                return Err(field_error(
                    "samples.predict",
                    format!("has {} labels for {n} rows", labels.len()),
                ));
            }
            for (i, l) in labels.iter().enumerate() {
                if model
                    .label_classes()
                    .is_some_and(|c| c.index_of(l).is_none())
                {
                    return Err(field_error(
                        format!("samples.predict[{i}]"),
                        format!("{l} is not one of the classes"),
                    ));
                }
            }
            Some(labels)
        }
    };
    let width = model
        .outputs(&OutputOptions::default())
        .iter()
        .find(|s| s.kind == OutputKind::Scores)
        .map_or(1, |s| s.shape.width());
    let decision_function = match object.get("decision_function").filter(|v| !v.is_null()) {
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
    };
    let predict_proba = match object.get("predict_proba").filter(|v| !v.is_null()) {
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
    };
    Ok(Samples {
        x,
        predict,
        decision_function,
        predict_proba,
    })
}

/// One entry of `preprocessing` (README, "JSON interchange format").
fn preprocess_step(index: usize, v: &Value) -> Result<Preprocess, LoadError> {
    let at = |name: &str| format!("preprocessing[{index}].{name}");
    let object = v.as_object().ok_or_else(|| {
        field_error(
            format!("preprocessing[{index}]"),
            format!("expected an object, found {}", kind(v)),
        )
    })?;
    let get = |name: &str| object.get(name).filter(|v| !v.is_null());
    let required = |name: &str| get(name).ok_or_else(|| field_error(at(name), "is missing"));
    let optional_vector = |name: &str| get(name).map(|v| vector(&at(name), v)).transpose();
    let flag = |name: &str| match get(name) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(field_error(
            at(name),
            format!("expected a boolean, found {}", kind(other)),
        )),
    };
    let step = required("step")?
        .as_str()
        .ok_or_else(|| field_error(at("step"), "expected a string"))?;
    Ok(match step {
        "StandardScaler" => Preprocess::StandardScaler {
            mean: optional_vector("mean")?,
            scale: optional_vector("scale")?,
        },
        "MinMaxScaler" => {
            let range = vector(&at("feature_range"), required("feature_range")?)?;
            if range.len() != 2 {
                return Err(field_error(at("feature_range"), "expected [min, max]"));
            }
            Preprocess::MinMaxScaler {
                min: vector(&at("min"), required("min")?)?,
                scale: vector(&at("scale"), required("scale")?)?,
                feature_range: (range[0], range[1]),
                clip: flag("clip")?,
            }
        }
        "MaxAbsScaler" => Preprocess::MaxAbsScaler {
            scale: vector(&at("scale"), required("scale")?)?,
            clip: flag("clip")?,
        },
        "Normalizer" => {
            let name = required("norm")?.as_str().unwrap_or_default();
            let norm = Norm::from_name(name)
                .ok_or_else(|| field_error(at("norm"), format!("'{name}' is not l1, l2 or max")))?;
            Preprocess::Normalizer { norm }
        }
        other => {
            return Err(field_error(
                at("step"),
                format!("'{other}' is not supported (supported: StandardScaler, MinMaxScaler, MaxAbsScaler, Normalizer)"),
            ))
        }
    })
}
