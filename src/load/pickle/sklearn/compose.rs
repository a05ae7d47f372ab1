//! Estimators that wrap others: Pipeline (steps, then the estimator) and
//! CalibratedClassifierCV (a base model and calibrators per member).

use super::est::Est;
use super::estimators::{classes, estimator};
use super::preprocess::scaler;
use super::{err, to_model_at, SUPPORTED};
use crate::load::pickle::object::{Arena, Obj};
use crate::load::LoadError;
use crate::model::{CalibratedMember, CalibratedParts, Calibration, Calibrator, Model, Preprocess};

pub(super) fn pipeline(est: &Est) -> Result<Model, LoadError> {
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
        preprocessing.extend(transformer(&step_est, 0)?);
    }
    Err(err(
        est.field("steps"),
        format!("has no estimator: every step is 'passthrough' or None (supported: {SUPPORTED})"),
    ))
}

/// The steps of one transformer: itself, or, for a nested Pipeline of
/// transformers, its steps in order ('passthrough' and None skipped).
fn transformer(est: &Est, depth: usize) -> Result<Vec<Preprocess>, LoadError> {
    if !est.class.is("sklearn.pipeline", "Pipeline") {
        return Ok(vec![scaler(est)?]);
    }
    if depth >= 4 {
        return Err(err(&est.path, "Pipelines nested more than 4 deep"));
    }
    let Obj::List(steps) = est.arena.get(est.require("steps")?) else {
        return Err(err(est.field("steps"), "is not a list"));
    };
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let field = format!("{}[{i}]", est.field("steps"));
        let object = match est.arena.get(*step) {
            Obj::Tuple(pair) if pair.len() == 2 => pair[1],
            _ => return Err(err(field, "is not a (name, transformer) pair")),
        };
        match est.arena.get(object) {
            Obj::None => continue,
            Obj::Str(s) if s == "passthrough" => continue,
            _ => {}
        }
        out.extend(transformer(
            &Est::new(est.arena, object, &format!("{field}."))?,
            depth + 1,
        )?);
    }
    Ok(out)
}

/// CalibratedClassifierCV: `calibrated_classifiers_`, each with its fitted
/// base estimator (possibly a Pipeline or a FrozenEstimator) and calibrators.
pub(super) fn calibrated(arena: &Arena, est: &Est, depth: usize) -> Result<Model, LoadError> {
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
    let sklearn_version = est.sklearn_version();
    Model::calibrated(CalibratedParts {
        classes,
        method,
        members,
        sklearn_version,
    })
    .map_err(|e| err(est.field(&e.field), e.problem))
}
