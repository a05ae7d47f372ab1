//! Estimators that wrap others: Pipeline (steps, then the estimator; its
//! transformers, nested Pipelines, ColumnTransformer and FeatureUnion
//! branches) and CalibratedClassifierCV (a base model and calibrators per
//! member).

use super::advice::{unconverted, Needed};
use super::est::Est;
use super::estimators::{classes, estimator};
use super::preprocess::scaler;
use super::{err, to_model_at, SUPPORTED};
use crate::load::pickle::object::{Arena, Id, Obj};
use crate::load::LoadError;
use crate::model::{
    Branch, CalibratedMember, CalibratedParts, Calibration, Calibrator, Model, Preprocess, Union,
};

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
            Obj::Placeholder(p) => {
                let needed = Needed::Step { last: i == last };
                return Err(err(
                    format!("{field}.{}", p.global.name),
                    unconverted(p, needed),
                ));
            }
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
    if depth >= 4 {
        return Err(err(&est.path, "transformers nested more than 4 deep"));
    }
    if est
        .class
        .is("sklearn.compose._column_transformer", "ColumnTransformer")
    {
        return Ok(vec![column_transformer(est, depth)?]);
    }
    if est.class.is("sklearn.pipeline", "FeatureUnion") {
        return Ok(vec![feature_union(est, depth)?]);
    }
    // FunctionTransformer(func=None) is the identity (ColumnTransformer
    // stores its 'passthrough' transformers as such); with a function it
    // is refused below as an unsupported step.
    if est.class.is(
        "sklearn.preprocessing._function_transformer",
        "FunctionTransformer",
    ) && matches!(
        est.arena
            .dict_get(est.state, "func")
            .map(|id| est.arena.get(id)),
        Some(Obj::None)
    ) {
        return Ok(Vec::new());
    }
    if !est.class.is("sklearn.pipeline", "Pipeline") {
        return Ok(vec![scaler(est)?]);
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

/// A branch transformer: 'passthrough' (no step), 'drop' (`None`), or a
/// fitted transformer's steps.
fn branch_steps(
    est: &Est,
    id: Id,
    field: &str,
    depth: usize,
) -> Result<Option<Vec<Preprocess>>, LoadError> {
    match est.arena.get(id) {
        Obj::Str(s) if s == "drop" => Ok(None),
        Obj::Str(s) if s == "passthrough" => Ok(Some(Vec::new())),
        Obj::None => Ok(None),
        _ => Ok(Some(transformer(
            &Est::new(est.arena, id, &format!("{field}."))?,
            depth + 1,
        )?)),
    }
}

fn no_weights(est: &Est) -> Result<(), LoadError> {
    match est.get("transformer_weights") {
        None => Ok(()),
        Some(_) => Err(err(
            est.field("transformer_weights"),
            "is set: weighted outputs are not supported",
        )),
    }
}

fn count(est: &Est, name: &str) -> Result<usize, LoadError> {
    let v = est.number(name)?;
    if v >= 0.0 && v.fract() == 0.0 {
        Ok(v as usize)
    } else {
        Err(err(est.field(name), format!("{v} is not a count")))
    }
}

/// ColumnTransformer: `transformers_` in order (the remainder last when it
/// has columns), each on its `_transformer_to_input_indices` columns;
/// 'drop' and empty selections output nothing.
fn column_transformer(est: &Est, depth: usize) -> Result<Preprocess, LoadError> {
    no_weights(est)?;
    let n_in = count(est, "n_features_in_")?;
    let indices = est.require("_transformer_to_input_indices")?;
    let Obj::List(items) = est.arena.get(est.require("transformers_")?) else {
        return Err(err(est.field("transformers_"), "is not a list"));
    };
    let mut branches = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("{}[{i}]", est.field("transformers_"));
        let (name, trans) = match est.arena.get(*item) {
            Obj::Tuple(t) if t.len() == 3 => match est.arena.get(t[0]) {
                Obj::Str(name) => (name.clone(), t[1]),
                _ => return Err(err(field, "has no transformer name")),
            },
            _ => return Err(err(field, "is not a (name, transformer, columns) triple")),
        };
        let columns_id = est.arena.dict_get(indices, &name).ok_or_else(|| {
            err(
                est.field("_transformer_to_input_indices"),
                format!("has no columns for '{name}'"),
            )
        })?;
        let columns = column_indices(est, columns_id, &name)?;
        if columns.is_empty() {
            continue;
        }
        if let Some(steps) = branch_steps(est, trans, &format!("{field}.{name}"), depth)? {
            branches.push(Branch {
                name,
                columns,
                steps,
            });
        }
    }
    Ok(Preprocess::Union(Union {
        class: "ColumnTransformer",
        n_in,
        branches,
    }))
}

/// `_transformer_to_input_indices[name]`: a list or array of indices.
fn column_indices(est: &Est, id: Id, name: &str) -> Result<Vec<usize>, LoadError> {
    let field = format!("{}['{name}']", est.field("_transformer_to_input_indices"));
    let values: Vec<f64> = match est.arena.get(id) {
        Obj::List(items) | Obj::Tuple(items) => items
            .iter()
            .map(|i| crate::load::pickle::numpy::number(est.arena, *i))
            .collect::<Result<_, _>>()
            .map_err(|m| err(&field, m))?,
        _ => {
            est.floats(id, &format!("_transformer_to_input_indices['{name}']"))?
                .1
        }
    };
    values
        .iter()
        .map(|&v| {
            if v >= 0.0 && v.fract() == 0.0 {
                Ok(v as usize)
            } else {
                Err(err(&field, format!("{v} is not a column index")))
            }
        })
        .collect()
}

/// FeatureUnion: every transformer of `transformer_list` on all columns.
/// It stores no `n_features_in_`: the width comes from the first branch
/// whose steps fix one.
fn feature_union(est: &Est, depth: usize) -> Result<Preprocess, LoadError> {
    no_weights(est)?;
    let Obj::List(items) = est.arena.get(est.require("transformer_list")?) else {
        return Err(err(est.field("transformer_list"), "is not a list"));
    };
    let mut named = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let field = format!("{}[{i}]", est.field("transformer_list"));
        let (name, trans) = match est.arena.get(*item) {
            Obj::Tuple(t) if t.len() == 2 => match est.arena.get(t[0]) {
                Obj::Str(name) => (name.clone(), t[1]),
                _ => return Err(err(field, "has no transformer name")),
            },
            _ => return Err(err(field, "is not a (name, transformer) pair")),
        };
        if let Some(steps) = branch_steps(est, trans, &format!("{field}.{name}"), depth)? {
            named.push((name, steps));
        }
    }
    let n_in = match est.get("n_features_in_") {
        Some(_) => count(est, "n_features_in_")?,
        None => named
            .iter()
            .find_map(|(_, steps)| steps.iter().find_map(Preprocess::input_width))
            .ok_or_else(|| {
                err(
                    &est.path,
                    "no transformer fixes the input width (every branch is 'passthrough')",
                )
            })?,
    };
    Ok(Preprocess::Union(Union {
        class: "FeatureUnion",
        n_in,
        branches: named
            .into_iter()
            .map(|(name, steps)| Branch {
                name,
                columns: (0..n_in).collect(),
                steps,
            })
            .collect(),
    }))
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
        // scikit-learn < 1.2 names the fitted base `base_estimator` (§5e).
        let (base_id, base_name) = member.any(&["estimator", "base_estimator"])?;
        let base = to_model_at(
            arena,
            base_id,
            &format!("{}.", member.field(base_name)),
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
