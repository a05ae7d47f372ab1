//! scikit-learn objects of an unpickled tree → the IR: the SVM family (dense
//! or CSR arrays), Pipelines of scalers, and searches' `best_estimator_`.
//! Attribute names of older versions are accepted (§5e).

use super::numpy::{self, kind_name, NdArray, Values};
use super::object::{Arena, Global, Id, Obj};
use crate::load::LoadError;
use crate::model::{
    CalibratedMember, CalibratedParts, Calibration, Calibrator, Classes, Convention, DecisionShape,
    DualKind, DualParts, Estimator, Kernel, LinearParts, Model, Norm, PlattParameters, Preprocess,
    SvmModel, SvmParts,
};
use ndarray::{Array1, Array2};

/// Largest dense matrix built from a CSR matrix, in elements (2 GiB of f64).
const MAX_DENSE: usize = 1 << 28;

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
pub const SUPPORTED: &str = "SVC, NuSVC, SVR, NuSVR, OneClassSVM, LinearSVC, LinearSVR, CalibratedClassifierCV around SVC/NuSVC/LinearSVC, a Pipeline of StandardScaler/MinMaxScaler/MaxAbsScaler/Normalizer/'passthrough' steps ending in one of them, GridSearchCV, RandomizedSearchCV";

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
            "unsupported estimator or component (supported: {SUPPORTED})"
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

/// An estimator object: its class and its state dict.
struct Est<'a> {
    arena: &'a Arena<'a>,
    class: Global,
    state: Id,
    path: String,
}

impl<'a> Est<'a> {
    fn new(arena: &'a Arena<'a>, id: Id, path: &str) -> Result<Est<'a>, LoadError> {
        match arena.get(id) {
            Obj::Instance {
                class,
                state: Some(state),
                ..
            } if matches!(arena.get(*state), Obj::Dict(_)) => Ok(Est {
                arena,
                class: class.clone(),
                state: *state,
                path: format!("{path}{}", class.name),
            }),
            Obj::Instance { class, .. } => Err(err(path, format!("{class} has no state dict"))),
            other => Err(err(
                path,
                format!("expected an estimator, found {}", kind_name(other)),
            )),
        }
    }

    fn field(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    fn get(&self, name: &str) -> Option<Id> {
        self.arena
            .dict_get(self.state, name)
            .filter(|id| !matches!(self.arena.get(*id), Obj::None))
    }

    /// The first of several attribute spellings that is present.
    fn any(&self, names: &[&'static str]) -> Result<(Id, &'static str), LoadError> {
        names
            .iter()
            .find_map(|n| self.get(n).map(|id| (id, *n)))
            .ok_or_else(|| err(self.field(names[0]), "is missing"))
    }

    fn require(&self, name: &str) -> Result<Id, LoadError> {
        self.get(name)
            .ok_or_else(|| err(self.field(name), "is missing"))
    }

    fn string(&self, name: &str) -> Result<String, LoadError> {
        match self.arena.get(self.require(name)?) {
            Obj::Str(s) => Ok(s.clone()),
            Obj::Global(g) => Err(err(
                self.field(name),
                format!("is the callable {g}, not a name"),
            )),
            other => Err(err(
                self.field(name),
                format!("expected a string, found {}", kind_name(other)),
            )),
        }
    }

    fn number(&self, name: &str) -> Result<f64, LoadError> {
        numpy::number(self.arena, self.require(name)?).map_err(|m| err(self.field(name), m))
    }

    fn flag(&self, name: &str, default: bool) -> Result<bool, LoadError> {
        match self.get(name).map(|id| self.arena.get(id)) {
            None => Ok(default),
            Some(Obj::Bool(b)) => Ok(*b),
            Some(Obj::Int(i)) => Ok(*i != 0),
            Some(other) => Err(err(
                self.field(name),
                format!("expected a boolean, found {}", kind_name(other)),
            )),
        }
    }

    fn array(&self, id: Id, name: &str) -> Result<NdArray, LoadError> {
        numpy::array(self.arena, id).map_err(|m| err(self.field(name), m))
    }

    fn floats(&self, id: Id, name: &str) -> Result<(Vec<usize>, Vec<f64>), LoadError> {
        let a = self.array(id, name)?;
        let values = match a.values {
            Values::Float(v) => v,
            Values::Int(v) => v.into_iter().map(|i| i as f64).collect(),
            Values::Bool(v) => v.into_iter().map(|b| f64::from(u8::from(b))).collect(),
            _ => return Err(err(self.field(name), "expected a numeric array")),
        };
        Ok((a.shape, values))
    }

    fn vector(&self, name: &str) -> Result<Array1<f64>, LoadError> {
        let id = self.require(name)?;
        // `intercept_` is a plain float in some estimators (§3).
        if let Ok(v) = numpy::number(self.arena, id) {
            return Ok(Array1::from(vec![v]));
        }
        let (shape, values) = self.floats(id, name)?;
        if shape.len() > 2 || (shape.len() == 2 && shape[0] != 1) {
            return Err(err(
                self.field(name),
                format!("expected a vector, found shape {shape:?}"),
            ));
        }
        Ok(Array1::from(values))
    }

    /// A 2-D matrix, dense or scipy CSR (densified, §1.9).
    fn matrix(&self, name: &str) -> Result<Array2<f64>, LoadError> {
        let id = self.require(name)?;
        if let Obj::Instance { class, .. } = self.arena.get(id) {
            if class.module.starts_with("scipy.sparse") {
                return self.csr(id, name);
            }
        }
        let (shape, values) = self.floats(id, name)?;
        let (r, c) = match shape.as_slice() {
            [r, c] => (*r, *c),
            other => {
                return Err(err(
                    self.field(name),
                    format!("expected a matrix, found shape {other:?}"),
                ))
            }
        };
        Array2::from_shape_vec((r, c), values).map_err(|e| err(self.field(name), e.to_string()))
    }

    fn csr(&self, id: Id, name: &str) -> Result<Array2<f64>, LoadError> {
        let sparse = Est::new(self.arena, id, &format!("{}.", self.field(name)))?;
        let shape_id = sparse.require("_shape")?;
        let shape: Vec<usize> = match self.arena.get(shape_id) {
            Obj::Tuple(items) => items
                .iter()
                .map(|d| match self.arena.get(*d) {
                    Obj::Int(n) => usize::try_from(*n).ok(),
                    _ => None,
                })
                .collect::<Option<_>>()
                .ok_or_else(|| err(sparse.field("_shape"), "is not a tuple of sizes"))?,
            _ => return Err(err(sparse.field("_shape"), "is not a tuple")),
        };
        let [rows, cols] = shape.as_slice() else {
            return Err(err(sparse.field("_shape"), "is not 2-D"));
        };
        let (rows, cols) = (*rows, *cols);
        if rows.checked_mul(cols).is_none_or(|n| n > MAX_DENSE) {
            return Err(err(
                sparse.field("_shape"),
                format!("{rows}x{cols} is too large to densify"),
            ));
        }
        let ints = |field: &str| -> Result<Vec<i64>, LoadError> {
            match sparse.array(sparse.require(field)?, field)?.values {
                Values::Int(v) => Ok(v),
                _ => Err(err(sparse.field(field), "expected integers")),
            }
        };
        let indptr = ints("indptr")?;
        let indices = ints("indices")?;
        let (_, data) = sparse.floats(sparse.require("data")?, "data")?;
        if indptr.len() != rows + 1 || indices.len() != data.len() {
            return Err(err(
                sparse.field("indptr"),
                "does not match the shape and data",
            ));
        }
        let mut dense = Array2::<f64>::zeros((rows, cols));
        for r in 0..rows {
            let (a, b) = (indptr[r], indptr[r + 1]);
            if a < 0 || b < a || b as usize > data.len() {
                return Err(err(
                    sparse.field("indptr"),
                    format!("entry {r} is out of range"),
                ));
            }
            for k in a as usize..b as usize {
                let c = usize::try_from(indices[k])
                    .ok()
                    .filter(|&c| c < cols)
                    .ok_or_else(|| {
                        err(
                            sparse.field("indices"),
                            format!("entry {k} is out of range"),
                        )
                    })?;
                dense[[r, c]] = data[k];
            }
        }
        Ok(dense)
    }
}

fn classes(est: &Est) -> Result<Classes, LoadError> {
    let id = est.require("classes_")?;
    let a = est.array(id, "classes_")?;
    Ok(match a.values {
        Values::Int(v) => Classes::Int(v),
        Values::Float(v) => Classes::Float(v),
        Values::Bool(v) => Classes::Int(v.into_iter().map(i64::from).collect()),
        Values::Str(v) => Classes::Str(v),
        Values::Object(items) => {
            // Object arrays of labels: all strings or all integers.
            let mut strings = Vec::new();
            let mut ints = Vec::new();
            for item in &items {
                match est.arena.get(*item) {
                    Obj::Str(s) => strings.push(s.clone()),
                    Obj::Int(i) => ints.push(*i),
                    other => {
                        return Err(err(
                            est.field("classes_"),
                            format!("labels of type {} are not supported", kind_name(other)),
                        ))
                    }
                }
            }
            match (strings.len(), ints.len()) {
                (_, 0) => Classes::Str(strings),
                (0, _) => Classes::Int(ints),
                _ => return Err(err(est.field("classes_"), "mixes strings and integers")),
            }
        }
    })
}

/// Any estimator of the SVM family.
fn estimator(est: &Est, preprocessing: Vec<Preprocess>) -> Result<Model, LoadError> {
    let sklearn_version = est
        .get("_sklearn_version")
        .and_then(|id| match est.arena.get(id) {
            Obj::Str(s) => Some(s.clone()),
            _ => None,
        });
    let checked = |r: Result<Model, crate::model::ModelError>| {
        r.map_err(|e| err(est.field(&e.field), e.problem))
    };
    match est.class.name.as_str() {
        "SVC" | "NuSVC" => svm(est, preprocessing).map(Model::from),
        name if DualKind::from_sklearn_name(name).is_some() => {
            let kind = DualKind::from_sklearn_name(name).expect("matched above");
            let support_vectors = est.matrix("support_vectors_")?;
            let dual_coef = est.matrix("dual_coef_")?;
            if dual_coef.nrows() != 1 {
                return Err(err(
                    est.field("dual_coef_"),
                    format!("has {} rows, expected 1", dual_coef.nrows()),
                ));
            }
            let intercept = est.vector("intercept_")?;
            let n_features = match est.get("n_features_in_") {
                Some(_) => est.number("n_features_in_")? as usize,
                None => support_vectors.ncols(),
            };
            checked(Model::dual(DualParts {
                kind,
                n_features,
                kernel: kernel(est)?,
                support_vectors: support_vectors.into(),
                dual_coef: dual_coef.row(0).to_owned(),
                intercept: intercept
                    .first()
                    .copied()
                    .ok_or_else(|| err(est.field("intercept_"), "is empty"))?,
                preprocessing,
                sklearn_version,
                convention: Convention::Sklearn,
                density_marks: None,
                svr_sigma: None,
            }))
        }
        "LinearSVC" | "LinearSVR" => {
            let coef = match est.matrix("coef_") {
                Ok(m) => m,
                // LinearSVR stores coef_ as a vector (§3).
                Err(_) => est.vector("coef_")?.insert_axis(ndarray::Axis(0)),
            };
            let intercept = est.vector("intercept_")?;
            let intercept = if intercept.len() == 1 && coef.nrows() > 1 {
                // fit_intercept=False stores a plain 0.0 (§3).
                Array1::from_elem(coef.nrows(), intercept[0])
            } else {
                intercept
            };
            let classes = match est.class.name.as_str() {
                "LinearSVC" => Some(classes(est)?),
                _ => None,
            };
            checked(Model::linear(LinearParts {
                classes,
                coef,
                intercept,
                preprocessing,
                sklearn_version,
            }))
        }
        _ => Err(err(
            &est.path,
            format!("unsupported estimator (supported: {SUPPORTED})"),
        )),
    }
}

fn kernel(est: &Est) -> Result<Kernel, LoadError> {
    let kernel_name = est.string("kernel")?;
    let gamma = match est.get("_gamma") {
        Some(_) => est.number("_gamma")?,
        None => 0.0,
    };
    let coef0 = est.number("coef0").unwrap_or(0.0);
    let degree = est.number("degree").unwrap_or(3.0) as i64;
    Kernel::from_parts(&kernel_name, gamma, coef0, degree)
        .map_err(|e| err(est.field(&e.field), e.problem))
}

fn svm(est: &Est, preprocessing: Vec<Preprocess>) -> Result<SvmModel, LoadError> {
    let estimator = Estimator::from_name(&est.class.name).ok_or_else(|| {
        err(
            &est.path,
            format!("unsupported estimator (supported: {SUPPORTED})"),
        )
    })?;
    let kernel = kernel(est)?;
    let (n_support_id, n_support_name) = est.any(&["_n_support", "n_support_"])?;
    let n_support = match est.array(n_support_id, n_support_name)?.values {
        Values::Int(v) => v
            .into_iter()
            .map(|n| {
                usize::try_from(n)
                    .map_err(|_| err(est.field(n_support_name), format!("{n} is negative")))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err(err(est.field(n_support_name), "expected integers")),
    };
    let support_vectors = est.matrix("support_vectors_")?;
    let n_features = match est.get("n_features_in_") {
        Some(_) => est.number("n_features_in_")? as usize,
        None => support_vectors.ncols(),
    };
    let platt = match (
        est.any(&["_probA", "probA_"]),
        est.any(&["_probB", "probB_"]),
    ) {
        (Ok((a, an)), Ok((b, bn))) => {
            let (_, prob_a) = est.floats(a, an)?;
            let (_, prob_b) = est.floats(b, bn)?;
            (!prob_a.is_empty() && !prob_b.is_empty()).then(|| PlattParameters {
                prob_a: Array1::from(prob_a),
                prob_b: Array1::from(prob_b),
            })
        }
        _ => None,
    };
    let decision_shape = match est
        .get("decision_function_shape")
        .map(|_| est.string("decision_function_shape"))
        .transpose()?
        .as_deref()
    {
        None | Some("ovr") => DecisionShape::Ovr,
        Some("ovo") => DecisionShape::Ovo,
        Some(other) => {
            return Err(err(
                est.field("decision_function_shape"),
                format!("'{other}' is not 'ovr' or 'ovo'"),
            ))
        }
    };
    let sklearn_version = est
        .get("_sklearn_version")
        .and_then(|id| match est.arena.get(id) {
            Obj::Str(s) => Some(s.clone()),
            _ => None,
        });
    SvmModel::new(SvmParts {
        estimator,
        n_features,
        kernel,
        classes: classes(est)?,
        n_support,
        support_vectors: support_vectors.into(),
        dual_coef: est.matrix("dual_coef_")?,
        intercept: est.vector("intercept_")?,
        decision_shape,
        break_ties: est.flag("break_ties", false)?,
        platt,
        sklearn_version,
        preprocessing,
        convention: Convention::Sklearn,
    })
    .map_err(|e| err(est.field(&e.field), e.problem))
}

fn scaler(est: &Est) -> Result<Preprocess, LoadError> {
    Ok(match est.class.name.as_str() {
        "StandardScaler" => Preprocess::StandardScaler {
            mean: if est.flag("with_mean", true)? {
                Some(est.vector("mean_")?)
            } else {
                None
            },
            scale: if est.flag("with_std", true)? {
                Some(est.vector("scale_")?)
            } else {
                None
            },
        },
        "MinMaxScaler" => {
            let range_id = est.require("feature_range")?;
            let range = match est.arena.get(range_id) {
                Obj::Tuple(items) | Obj::List(items) if items.len() == 2 => (
                    numpy::number(est.arena, items[0])
                        .map_err(|m| err(est.field("feature_range"), m))?,
                    numpy::number(est.arena, items[1])
                        .map_err(|m| err(est.field("feature_range"), m))?,
                ),
                _ => {
                    return Err(err(
                        est.field("feature_range"),
                        "expected a pair of numbers",
                    ))
                }
            };
            Preprocess::MinMaxScaler {
                min: est.vector("min_")?,
                scale: est.vector("scale_")?,
                feature_range: range,
                clip: est.flag("clip", false)?,
            }
        }
        "MaxAbsScaler" => Preprocess::MaxAbsScaler {
            scale: est.vector("scale_")?,
            clip: est.flag("clip", false)?,
        },
        "Normalizer" => {
            let name = est.string("norm")?;
            Preprocess::Normalizer {
                norm: Norm::from_name(&name).ok_or_else(|| {
                    err(est.field("norm"), format!("'{name}' is not l1, l2 or max"))
                })?,
            }
        }
        other => {
            return Err(err(
                &est.path,
                format!("unsupported step {other} (supported: {SUPPORTED})"),
            ))
        }
    })
}

fn pipeline(est: &Est) -> Result<Model, LoadError> {
    let steps_id = est.require("steps")?;
    let Obj::List(steps) = est.arena.get(steps_id) else {
        return Err(err(est.field("steps"), "is not a list"));
    };
    let mut preprocessing = Vec::new();
    let last = steps
        .len()
        .checked_sub(1)
        .ok_or_else(|| err(est.field("steps"), "is empty"))?;
    for (i, step) in steps.iter().enumerate() {
        let field = format!("{}[{i}]", est.field("steps"));
        let object = match est.arena.get(*step) {
            Obj::Tuple(pair) if pair.len() == 2 => pair[1],
            _ => return Err(err(field, "is not a (name, estimator) pair")),
        };
        match est.arena.get(object) {
            Obj::None => continue,
            Obj::Str(s) if s == "passthrough" => continue,
            _ => {}
        }
        let step_est = Est::new(est.arena, object, &format!("{field}."))?;
        if i == last {
            return estimator(&step_est, preprocessing);
        }
        preprocessing.push(scaler(&step_est)?);
    }
    Err(err(
        est.field("steps"),
        format!("the last step must be SVC or NuSVC (supported: {SUPPORTED})"),
    ))
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
            format!("{class} cannot be converted (supported: {SUPPORTED})"),
        ))
    }
}

/// CalibratedClassifierCV: `calibrated_classifiers_`, each with its fitted
/// base estimator (possibly a Pipeline or a FrozenEstimator) and calibrators.
fn calibrated(arena: &Arena, est: &Est, depth: usize) -> Result<Model, LoadError> {
    let classes = classes(est)?;
    let method = est.string("method")?;
    let list = est.require("calibrated_classifiers_")?;
    let Obj::List(items) = arena.get(list) else {
        return Err(err(est.field("calibrated_classifiers_"), "is not a list"));
    };
    let mut members = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let prefix = format!("{}[{i}].", est.field("calibrated_classifiers_"));
        let member = Est::new(arena, *item, &prefix)?;
        let base_id = member.require("estimator")?;
        let base = to_model_at(
            arena,
            base_id,
            &format!("{}.", member.field("estimator")),
            depth + 1,
        )?;
        let cals_id = member.require("calibrators")?;
        let Obj::List(cals) = arena.get(cals_id) else {
            return Err(err(member.field("calibrators"), "is not a list"));
        };
        let mut per_class = Vec::with_capacity(cals.len());
        let mut temperature = None;
        for (j, c) in cals.iter().enumerate() {
            let cal = Est::new(arena, *c, &format!("{}[{j}].", member.field("calibrators")))?;
            match cal.class.name.as_str() {
                "_SigmoidCalibration" => per_class.push(Calibrator::Sigmoid {
                    a: cal.number("a_")?,
                    b: cal.number("b_")?,
                }),
                "IsotonicRegression" => {
                    let (_, x) = cal.floats(cal.require("X_thresholds_")?, "X_thresholds_")?;
                    let (_, y) = cal.floats(cal.require("y_thresholds_")?, "y_thresholds_")?;
                    per_class.push(Calibrator::Isotonic {
                        x,
                        y,
                        x_min: cal.number("X_min_")?,
                        x_max: cal.number("X_max_")?,
                    });
                }
                "_TemperatureScaling" => temperature = Some(cal.number("beta_")?),
                other => {
                    return Err(err(
                        &cal.path,
                        format!("calibrator {other} is not supported"),
                    ))
                }
            }
        }
        let calibration = match temperature {
            Some(beta) => Calibration::Temperature { beta },
            None => Calibration::PerClass(per_class),
        };
        members.push(CalibratedMember { base, calibration });
    }
    let sklearn_version = est
        .get("_sklearn_version")
        .and_then(|id| match arena.get(id) {
            Obj::Str(s) => Some(s.clone()),
            _ => None,
        });
    Model::calibrated(CalibratedParts {
        classes,
        method,
        members,
        sklearn_version,
    })
    .map_err(|e| err(est.field(&e.field), e.problem))
}
