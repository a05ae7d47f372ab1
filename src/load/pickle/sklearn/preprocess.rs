//! Pipeline steps before the estimator: the scalers and the Normalizer.

use super::advice::what_to_do;
use super::est::Est;
use super::{converts, err, SUPPORTED};
use crate::load::pickle::numpy;
use crate::load::pickle::object::Obj;
use crate::load::LoadError;
use crate::model::{Norm, Preprocess};

pub(super) fn scaler(est: &Est) -> Result<Preprocess, LoadError> {
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
        _ => {
            if let Some(step) = super::steps::step(est) {
                return step;
            }
            let todo = if converts(&est.class) {
                "only a Pipeline's last step may be an estimator: remove this step or make it last"
                    .to_string()
            } else {
                what_to_do(&est.class, false)
            };
            return Err(err(
                &est.path,
                format!(
                    "unsupported step {} (supported: {SUPPORTED}); {todo}",
                    est.class
                ),
            ));
        }
    })
}
