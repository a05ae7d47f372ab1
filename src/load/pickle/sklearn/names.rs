//! The input's column names of a model fitted on a pandas DataFrame:
//! scikit-learn's `feature_names_in_`, a numpy object array of str, on the
//! object that first sees the input (the model itself, a search's
//! `best_estimator_`, a Pipeline's first step, a calibrated member's base).

use super::err;
use super::est::Est;
use crate::load::pickle::numpy::{kind_name, Values};
use crate::load::pickle::object::{Arena, Id, Obj};
use crate::load::LoadError;

/// How many wrappers are followed to the object that first sees the input.
const MAX_DEPTH: usize = 8;

/// The `feature_names_in_` that applies to the model's input, when one was
/// recorded; `n_features` is the width of that input. Placeholders and
/// anything that is not a known estimator end the search with `None`.
pub(crate) fn feature_names(
    arena: &Arena,
    root: Id,
    n_features: usize,
) -> Result<Option<Vec<String>>, LoadError> {
    let mut id = root;
    let mut prefix = String::new();
    for _ in 0..MAX_DEPTH {
        let Ok(est) = Est::new(arena, id, &prefix) else {
            return Ok(None);
        };
        if let Some(names) = est.get("feature_names_in_") {
            return read(&est, names, n_features).map(Some);
        }
        let Some((next, field)) = first_inside(&est) else {
            return Ok(None);
        };
        prefix = format!("{field}.");
        id = next;
    }
    Ok(None)
}

/// The object `est` hands its input to, and its field path.
fn first_inside(est: &Est) -> Option<(Id, String)> {
    match est.class.name.as_str() {
        "GridSearchCV" | "RandomizedSearchCV" => est
            .get("best_estimator_")
            .map(|id| (id, est.field("best_estimator_"))),
        "FrozenEstimator" => est.get("estimator").map(|id| (id, est.field("estimator"))),
        "CalibratedClassifierCV" => {
            let Obj::List(members) = est.arena.get(est.get("calibrated_classifiers_")?) else {
                return None;
            };
            let first = *members.first()?;
            Some((
                first,
                format!("{}[0]", est.field("calibrated_classifiers_")),
            ))
        }
        "_CalibratedClassifier" => ["estimator", "base_estimator"]
            .iter()
            .find_map(|n| est.get(n).map(|id| (id, est.field(n)))),
        "Pipeline" => {
            let Obj::List(steps) = est.arena.get(est.get("steps")?) else {
                return None;
            };
            steps.iter().enumerate().find_map(|(i, step)| {
                let Obj::Tuple(pair) = est.arena.get(*step) else {
                    return None;
                };
                let object = *pair.get(1)?;
                match est.arena.get(object) {
                    Obj::None => None,
                    Obj::Str(s) if s == "passthrough" => None,
                    _ => Some((object, format!("{}[{i}]", est.field("steps")))),
                }
            })
        }
        _ => None,
    }
}

/// The names, checked: strings, one per input feature.
fn read(est: &Est, id: Id, n_features: usize) -> Result<Vec<String>, LoadError> {
    let field = est.field("feature_names_in_");
    let names = match est.array(id, "feature_names_in_")?.values {
        Values::Str(v) => v,
        Values::Object(items) => items
            .iter()
            .map(|item| match est.arena.get(*item) {
                Obj::Str(s) => Ok(s.clone()),
                other => Err(err(
                    &field,
                    format!("holds {}, not a column name", kind_name(other)),
                )),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(err(&field, "is not an array of column names")),
    };
    if names.len() != n_features {
        return Err(err(
            &field,
            format!(
                "names {} columns, the model takes {n_features} features",
                names.len()
            ),
        ));
    }
    Ok(names)
}
