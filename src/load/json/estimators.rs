//! Building each estimator family's parts from the JSON fields: SVC/NuSVC,
//! the one-row dual models (SVR, NuSVR, OneClassSVM), the linear models,
//! CalibratedClassifierCV, and the preprocessing steps before them.

use super::schema::{
    array, classes, field_error, integer, kind, matrix, matrix_or_row, matrix_raw, number,
    scalar_or_single, vector, Fields, FORMAT,
};
use crate::load::{LoadError, LoadedModel};
use crate::model::{
    Branch, Convention, DecisionShape, DualKind, DualParts, Estimator, Imputer, Kernel,
    LinearEstimator, LinearParts, Missing, Model, Norm, Nystroem, PlattParameters, Polynomial,
    Preprocess, Projection, ProjectionKind, RandomFeatures, Selection, SvmModel, SvmParts, Union,
};
use crate::model::{CalibratedMember, CalibratedParts, Calibration, Calibrator};
use ndarray::Array1;
use serde_json::Value;

/// The parts every estimator shares: read once by the caller.
pub(super) struct Common {
    /// `n_features_in`.
    pub(super) n_features: usize,
    /// The `preprocessing` steps.
    pub(super) preprocessing: Vec<Preprocess>,
    /// `sklearn_version`, when given.
    pub(super) sklearn_version: Option<String>,
}

/// SVR, NuSVR or OneClassSVM: one row of dual coefficients and one intercept.
pub(super) fn dual(fields: &Fields, kind: DualKind, common: Common) -> Result<Model, LoadError> {
    let dual_coef = matrix_raw("dual_coef", fields.raw("dual_coef")?)?;
    if dual_coef.nrows() != 1 {
        return Err(field_error(
            "dual_coef",
            format!("has {} rows, expected 1", dual_coef.nrows()),
        ));
    }
    let intercept = scalar_or_single("intercept", fields.required("intercept")?)?;
    Ok(Model::dual(DualParts {
        kind,
        n_features: common.n_features,
        kernel: kernel(fields)?,
        support_vectors: matrix_raw("support_vectors", fields.raw("support_vectors")?)?.into(),
        dual_coef: dual_coef.row(0).to_owned(),
        intercept,
        preprocessing: common.preprocessing,
        sklearn_version: common.sklearn_version,
        convention: Convention::Sklearn,
        density_marks: None,
        svr_sigma: None,
    })?)
}

/// The linear models: LinearSVC, LinearSVR, SGDClassifier, SGDRegressor
/// (`coef`, `intercept`, and `loss` for the SGD ones) and SGDOneClassSVM
/// (`coef` and `offset`); the classifiers also have `classes`.
pub(super) fn linear(
    fields: &Fields,
    estimator_name: &str,
    common: Common,
) -> Result<Model, LoadError> {
    let n_features = common.n_features;
    let loss = match fields.optional("loss") {
        None => None,
        Some(_) => Some(fields.string("loss")?),
    };
    let estimator = LinearEstimator::from_sklearn(estimator_name, loss)?;
    let coef_value = fields.required("coef")?;
    let coef = matrix_or_row("coef", coef_value)?;
    let intercept = if estimator == LinearEstimator::SgdOneClassSvm {
        // decision = X·coef − offset: the intercept is −offset.
        let offset = scalar_or_single("offset", fields.required("offset")?)?;
        Array1::from_elem(1, -offset)
    } else {
        match fields.required("intercept")? {
            Value::Number(_) => {
                // `fit_intercept=False` stores a plain 0.0 (§3).
                let v = number("intercept", fields.required("intercept")?)?;
                Array1::from_elem(coef.nrows(), v)
            }
            v => vector("intercept", v)?,
        }
    };
    let classes = match estimator {
        LinearEstimator::LinearSvc | LinearEstimator::SgdClassifier(_) => {
            Some(classes(fields.required("classes")?)?)
        }
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
    Ok(Model::linear(LinearParts {
        estimator,
        classes,
        coef,
        intercept,
        preprocessing: common.preprocessing,
        sklearn_version: common.sklearn_version,
    })?)
}

/// `calibrated_classifiers`: each a nested estimator (the same JSON object
/// without `format` and `samples`) and its calibrators. Each nested
/// estimator is read by `nested_load` (the format's own `load`, passed in so that
/// this module does not import its parent).
pub(super) fn calibrated(
    fields: &Fields,
    sklearn_version: Option<String>,
    nested_load: fn(&[u8]) -> Result<LoadedModel, LoadError>,
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
        let base = nested_load(&serde_json::to_vec(&Value::Object(nested)).unwrap_or_default())
            .map_err(|e| match e {
                LoadError::Field { field, problem } => {
                    field_error(format!("{}.{field}", at("estimator")), problem)
                }
                other => field_error(at("estimator"), other.to_string()),
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

/// The kernel and its parameters (gamma is scikit-learn's resolved `_gamma`).
pub(super) fn kernel(fields: &Fields) -> Result<Kernel, LoadError> {
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

/// SVC or NuSVC: one-vs-one support vectors, coefficients and intercepts,
/// and Platt's parameters when fitted with probabilities.
pub(super) fn svc(
    fields: &Fields,
    estimator: Estimator,
    common: Common,
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
    let support_vectors = matrix_raw("support_vectors", fields.raw("support_vectors")?)?;
    let dual_coef = matrix_raw("dual_coef", fields.raw("dual_coef")?)?;
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
        n_features: common.n_features,
        kernel,
        classes,
        n_support,
        support_vectors: support_vectors.into(),
        dual_coef,
        intercept,
        decision_shape,
        break_ties,
        platt,
        sklearn_version: common.sklearn_version,
        preprocessing: common.preprocessing,
        convention: Convention::Sklearn,
    })?)
}

/// One entry of `preprocessing` (docs/JSON_FORMAT.md).
pub(super) fn preprocess_step(index: usize, v: &Value) -> Result<Preprocess, LoadError> {
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
        "PCA" | "TruncatedSVD" => {
            let pca = step == "PCA";
            Preprocess::Projection(Projection {
                kind: if pca {
                    ProjectionKind::Pca
                } else {
                    ProjectionKind::TruncatedSvd
                },
                mean: optional_vector("mean")?,
                components: matrix(&at("components"), required("components")?)?,
                whiten_variance: optional_vector("explained_variance")?,
            })
        }
        "SimpleImputer" => Preprocess::Imputer(imputer(index, object)?),
        "ColumnTransformer" | "FeatureUnion" => {
            let n_in = integer(&at("n_features_in"), required("n_features_in")?)?;
            let n_in = usize::try_from(n_in)
                .map_err(|_| field_error(at("n_features_in"), format!("{n_in} is not a count")))?;
            let branches = array(&at("branches"), required("branches")?)?
                .iter()
                .enumerate()
                .map(|(b, branch)| union_branch(index, b, branch))
                .collect::<Result<Vec<_>, _>>()?;
            Preprocess::Union(Union {
                class: if step == "FeatureUnion" {
                    "FeatureUnion"
                } else {
                    "ColumnTransformer"
                },
                n_in,
                branches,
            })
        }
        "Nystroem" => {
            let name = required("kernel")?
                .as_str()
                .ok_or_else(|| field_error(at("kernel"), "expected a string"))?;
            let degree = integer(&at("degree"), required("degree")?)?;
            let kernel = Kernel::from_parts(
                name,
                number(&at("gamma"), required("gamma")?)?,
                number(&at("coef0"), required("coef0")?)?,
                degree,
            )
            .map_err(|e| field_error(at(&e.field), e.problem))?;
            Preprocess::Nystroem(Nystroem {
                kernel,
                components: matrix(&at("components"), required("components")?)?,
                normalization: matrix(&at("normalization"), required("normalization")?)?,
            })
        }
        "RBFSampler" => Preprocess::RandomFeatures(RandomFeatures {
            weights: matrix(&at("random_weights"), required("random_weights")?)?,
            offset: vector(&at("random_offset"), required("random_offset")?)?,
        }),
        "PolynomialFeatures" => {
            let count = |name: &str| -> Result<usize, LoadError> {
                let v = integer(&at(name), required(name)?)?;
                usize::try_from(v).map_err(|_| field_error(at(name), format!("{v} is not a count")))
            };
            Preprocess::Polynomial(Polynomial {
                n_in: count("n_features_in")?,
                min_degree: count("min_degree")?,
                max_degree: count("max_degree")?,
                interaction_only: flag("interaction_only")?,
                include_bias: flag("include_bias")?,
            })
        }
        "VarianceThreshold" | "SelectKBest" | "SelectPercentile" | "GenericUnivariateSelect"
        | "SelectFpr" | "SelectFdr" | "SelectFwe" | "SelectFromModel" => {
            let support = array(&at("support"), required("support")?)?
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    v.as_bool().ok_or_else(|| {
                        field_error(
                            format!("{}[{j}]", at("support")),
                            format!("expected a boolean, found {}", kind(v)),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Preprocess::Selection(Selection {
                class: step.to_string(),
                support,
            })
        }
        other => {
            return Err(field_error(
                at("step"),
                format!("'{other}' is not supported (supported: StandardScaler, MinMaxScaler, MaxAbsScaler, Normalizer, PCA, TruncatedSVD, SimpleImputer, PolynomialFeatures, RBFSampler, Nystroem, ColumnTransformer, FeatureUnion, VarianceThreshold, SelectKBest, SelectPercentile, GenericUnivariateSelect, SelectFpr, SelectFdr, SelectFwe, SelectFromModel)"),
            ))
        }
    })
}

/// A `SimpleImputer` entry: `missing_values` (a number, or null for NaN),
/// `statistics` (numbers, null for a feature dropped at fit time),
/// `indicator_features` (null without `add_indicator`), `strategy`.
fn imputer(index: usize, object: &serde_json::Map<String, Value>) -> Result<Imputer, LoadError> {
    let at = |name: &str| format!("preprocessing[{index}].{name}");
    let get = |name: &str| object.get(name).filter(|v| !v.is_null());
    let missing = match get("missing_values") {
        None => Missing::NaN,
        Some(v) => Missing::Value(number(&at("missing_values"), v)?),
    };
    let statistics = array(
        &at("statistics"),
        get("statistics").ok_or_else(|| field_error(at("statistics"), "is missing"))?,
    )?
    .iter()
    .enumerate()
    .map(|(j, v)| match v {
        Value::Null => Ok(f64::NAN),
        v => number(&format!("{}[{j}]", at("statistics")), v),
    })
    .collect::<Result<Vec<_>, _>>()?;
    let indicator = match get("indicator_features") {
        None => None,
        Some(v) => Some(
            array(&at("indicator_features"), v)?
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    let field = format!("{}[{i}]", at("indicator_features"));
                    let f = integer(&field, f)?;
                    usize::try_from(f)
                        .map_err(|_| field_error(field, format!("{f} is not a feature index")))
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let strategy = match get("strategy") {
        None => "mean".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => {
            return Err(field_error(
                at("strategy"),
                format!("expected a string, found {}", kind(other)),
            ))
        }
    };
    Ok(Imputer {
        strategy,
        missing,
        statistics,
        indicator,
    })
}

/// One entry of a ColumnTransformer/FeatureUnion's `branches`: `name`,
/// `columns` (input indices), `steps` (pipeline steps; empty for
/// 'passthrough').
fn union_branch(index: usize, b: usize, v: &Value) -> Result<Branch, LoadError> {
    let at = format!("preprocessing[{index}].branches[{b}]");
    let object = v
        .as_object()
        .ok_or_else(|| field_error(&at, format!("expected an object, found {}", kind(v))))?;
    let name = match object.get("name") {
        Some(Value::String(s)) => s.clone(),
        _ => return Err(field_error(format!("{at}.name"), "expected a string")),
    };
    let columns = array(
        &format!("{at}.columns"),
        object
            .get("columns")
            .ok_or_else(|| field_error(format!("{at}.columns"), "is missing"))?,
    )?
    .iter()
    .enumerate()
    .map(|(i, c)| {
        let field = format!("{at}.columns[{i}]");
        let c = integer(&field, c)?;
        usize::try_from(c).map_err(|_| field_error(field, format!("{c} is not a column index")))
    })
    .collect::<Result<Vec<_>, _>>()?;
    let steps = match object.get("steps") {
        None | Some(Value::Null) => Vec::new(),
        Some(steps) => array(&format!("{at}.steps"), steps)?
            .iter()
            .map(|s| preprocess_step(index, s))
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok(Branch {
        name,
        columns,
        steps,
    })
}
