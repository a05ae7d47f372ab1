//! The estimators of the SVM family: SVC/NuSVC (one-vs-one), the one-row
//! dual models (SVR, NuSVR, OneClassSVM) and the linear ones (LinearSVC,
//! LinearSVR, SGDClassifier, SGDRegressor, SGDOneClassSVM).

use super::advice::what_to_do;
use super::est::Est;
use super::{err, SUPPORTED};
use crate::load::pickle::numpy::{kind_name, Values};
use crate::load::pickle::object::Obj;
use crate::load::LoadError;
use crate::model::{
    Classes, Convention, DecisionShape, DualKind, DualParts, Estimator, Kernel, LinearEstimator,
    LinearParts, Model, ModelError, PlattParameters, Preprocess, SvmModel, SvmParts,
};
use ndarray::Array1;

pub(super) fn classes(est: &Est) -> Result<Classes, LoadError> {
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
pub(super) fn estimator(est: &Est, preprocessing: Vec<Preprocess>) -> Result<Model, LoadError> {
    match est.class.name.as_str() {
        "SVC" | "NuSVC" => svm(est, preprocessing).map(Model::from),
        name if LinearEstimator::SKLEARN_NAMES.contains(&name) => linear(est, preprocessing),
        name => match DualKind::from_sklearn_name(name) {
            Some(kind) => dual(est, kind, preprocessing),
            None => Err(err(
                &est.path,
                format!(
                    "unsupported estimator {} (supported: {SUPPORTED}); {}",
                    est.class,
                    what_to_do(&est.class, true)
                ),
            )),
        },
    }
}

/// A model field's problem, as an error at the estimator's field.
fn checked(est: &Est, r: Result<Model, ModelError>) -> Result<Model, LoadError> {
    r.map_err(|e| err(est.field(&e.field), e.problem))
}

/// SVR, NuSVR and OneClassSVM: one row of dual coefficients.
fn dual(est: &Est, kind: DualKind, preprocessing: Vec<Preprocess>) -> Result<Model, LoadError> {
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
    let parts = DualParts {
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
        sklearn_version: est.sklearn_version(),
        convention: Convention::Sklearn,
        density_marks: None,
        svr_sigma: None,
    };
    checked(est, Model::dual(parts))
}

/// The linear models: `coef_` and `intercept_` (SGDOneClassSVM: `offset_`),
/// and the SGD models' `loss`.
fn linear(est: &Est, preprocessing: Vec<Preprocess>) -> Result<Model, LoadError> {
    let loss = match est.get("loss") {
        Some(_) => Some(est.string("loss")?),
        None => None,
    };
    let estimator = LinearEstimator::from_sklearn(&est.class.name, loss.as_deref())
        .map_err(|e| err(est.field(&e.field), e.problem))?;
    let coef = match est.matrix("coef_") {
        Ok(m) => m,
        // LinearSVR and the SGD regressor / one-class store coef_ as a vector (§3).
        Err(_) => est.vector("coef_")?.insert_axis(ndarray::Axis(0)),
    };
    let intercept = if estimator == LinearEstimator::SgdOneClassSvm {
        // decision = X·coef_ − offset_: the intercept is −offset_.
        let offset = est.vector("offset_")?;
        if offset.len() != 1 {
            return Err(err(
                est.field("offset_"),
                format!("has {} values, expected 1", offset.len()),
            ));
        }
        -offset
    } else {
        est.vector("intercept_")?
    };
    let intercept = if intercept.len() == 1 && coef.nrows() > 1 {
        // fit_intercept=False stores a plain 0.0 (§3).
        Array1::from_elem(coef.nrows(), intercept[0])
    } else {
        intercept
    };
    let classes = match estimator {
        LinearEstimator::LinearSvc | LinearEstimator::SgdClassifier(_) => Some(classes(est)?),
        _ => None,
    };
    let parts = LinearParts {
        estimator,
        classes,
        coef,
        intercept,
        preprocessing,
        sklearn_version: est.sklearn_version(),
    };
    checked(est, Model::linear(parts))
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
    let sklearn_version = est.sklearn_version();
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
