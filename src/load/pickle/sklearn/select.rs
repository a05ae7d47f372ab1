//! Feature selectors: their support mask derived from the pickled state
//! exactly as `_get_support_mask` computes it in scikit-learn 1.9
//! (sklearn/feature_selection/_univariate_selection.py and
//! _variance_threshold.py); SelectFromModel's in `from_model`.

use super::err;
use super::est::Est;
use crate::load::pickle::numpy;
use crate::load::pickle::object::{Global, Obj};
use crate::load::LoadError;
use crate::model::{Preprocess, Selection};

const UNIVARIATE: &str = "sklearn.feature_selection._univariate_selection";

/// Selector classes read here, and the score functions their state names
/// (recorded as globals, never called).
pub(super) fn allowed(g: &Global) -> bool {
    super::from_model::allowed(g)
        || g.is(
            "sklearn.feature_selection._variance_threshold",
            "VarianceThreshold",
        )
        || (g.module == UNIVARIATE
            && [
                "SelectKBest",
                "SelectPercentile",
                "GenericUnivariateSelect",
                "SelectFpr",
                "SelectFdr",
                "SelectFwe",
                "f_classif",
                "f_regression",
                "r_regression",
                "chi2",
            ]
            .contains(&g.name.as_str()))
        || (g.module == "sklearn.feature_selection._mutual_info"
            && ["mutual_info_classif", "mutual_info_regression"].contains(&g.name.as_str()))
}

/// The step for a selector `est`, or `None` when it is not one.
pub(super) fn step(est: &Est) -> Option<Result<Preprocess, LoadError>> {
    let class = est.class.name.as_str();
    let support = match class {
        "VarianceThreshold" => variance_threshold(est),
        "SelectKBest" => est_k(est, "k").and_then(|k| Ok(k_best(&scores(est)?, k))),
        "SelectPercentile" => {
            number(est, "percentile").and_then(|p| Ok(percentile(&scores(est)?, p)))
        }
        "SelectFpr" | "SelectFdr" | "SelectFwe" => {
            number(est, "alpha").and_then(|a| error_rate(est, class, a))
        }
        "GenericUnivariateSelect" => generic(est),
        "SelectFromModel" => super::from_model::support(est),
        _ if allowed(&est.class) => Err(err(
            &est.path,
            format!("{class} is a score function, not a Pipeline step"),
        )),
        _ => return None,
    };
    Some(support.map(|support| {
        Preprocess::Selection(Selection {
            class: class.to_string(),
            support,
        })
    }))
}

/// `variances_ > threshold`.
fn variance_threshold(est: &Est) -> Result<Vec<bool>, LoadError> {
    let t = number(est, "threshold")?;
    Ok(est.vector("variances_")?.iter().map(|v| *v > t).collect())
}

/// `mode` and `param` of GenericUnivariateSelect, dispatched as its
/// `_make_selector` does.
fn generic(est: &Est) -> Result<Vec<bool>, LoadError> {
    let mode = est.string("mode")?;
    match mode.as_str() {
        "percentile" => Ok(percentile(&scores(est)?, number(est, "param")?)),
        "k_best" => Ok(k_best(&scores(est)?, est_k(est, "param")?)),
        "fpr" => error_rate(est, "SelectFpr", number(est, "param")?),
        "fdr" => error_rate(est, "SelectFdr", number(est, "param")?),
        "fwe" => error_rate(est, "SelectFwe", number(est, "param")?),
        other => Err(err(est.field("mode"), format!("'{other}' is not a mode"))),
    }
}

fn number(est: &Est, name: &str) -> Result<f64, LoadError> {
    numpy::number(est.arena, est.require(name)?).map_err(|m| err(est.field(name), m))
}

/// `k` (or `param`): a count, or `"all"` (`None`).
fn est_k(est: &Est, name: &str) -> Result<Option<usize>, LoadError> {
    let id = est.require(name)?;
    if let Obj::Str(s) = est.arena.get(id) {
        return if s == "all" {
            Ok(None)
        } else {
            Err(err(est.field(name), format!("'{s}' is not a count")))
        };
    }
    let k = numpy::number(est.arena, id).map_err(|m| err(est.field(name), m))?;
    if k < 0.0 || k.fract() != 0.0 {
        return Err(err(est.field(name), format!("{k} is not a count")));
    }
    Ok(Some(k as usize))
}

/// `scores_` with NaN replaced by float64's lowest value (`_clean_nans`).
fn scores(est: &Est) -> Result<Vec<f64>, LoadError> {
    Ok(est
        .vector("scores_")?
        .iter()
        .map(|s| if s.is_nan() { f64::MIN } else { *s })
        .collect())
}

/// SelectKBest: the last `k` of a stable ascending sort of the scores
/// (among equal scores the later features win); all for `"all"`.
pub(super) fn k_best(scores: &[f64], k: Option<usize>) -> Vec<bool> {
    let n = scores.len();
    let Some(k) = k else {
        return vec![true; n];
    };
    let mut order: Vec<usize> = (0..n).collect();
    // Stable, like numpy's mergesort; no NaN is left to compare.
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut mask = vec![false; n];
    for &j in &order[n - k.min(n)..] {
        mask[j] = true;
    }
    mask
}

/// SelectPercentile: scores above numpy's (linear) percentile
/// `100 − percentile`, then scores equal to it, in feature order, while the
/// count stays within `int(n · percentile / 100)` (Python's slice
/// `ties[:max_feats − mask.sum()]`, negative stops included).
pub(super) fn percentile(scores: &[f64], p: f64) -> Vec<bool> {
    let n = scores.len();
    if p == 100.0 {
        return vec![true; n];
    }
    if p == 0.0 || n == 0 {
        return vec![false; n];
    }
    let threshold = numpy_percentile(scores, 100.0 - p);
    let mut mask: Vec<bool> = scores.iter().map(|s| *s > threshold).collect();
    let ties: Vec<usize> = (0..n).filter(|&j| scores[j] == threshold).collect();
    let max_feats = (n as f64 * p / 100.0).trunc() as i64;
    let stop = max_feats - mask.iter().filter(|m| **m).count() as i64;
    let len = ties.len() as i64;
    let stop = if stop < 0 {
        (len + stop).max(0)
    } else {
        stop.min(len)
    };
    for &j in &ties[..stop as usize] {
        mask[j] = true;
    }
    mask
}

/// `np.percentile(a, q)` with the default 'linear' method: virtual index
/// `(n − 1)·q/100` and numpy's `_lerp` (which interpolates from the upper
/// end when the weight is at least 0.5).
fn numpy_percentile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let virtual_index = (n - 1) as f64 * (q / 100.0);
    let (prev, next) = if virtual_index >= (n - 1) as f64 {
        (n - 1, n - 1)
    } else if virtual_index < 0.0 {
        (0, 0)
    } else {
        let p = virtual_index.floor() as usize;
        (p, p + 1)
    };
    let gamma = virtual_index - virtual_index.floor();
    let (a, b) = (sorted[prev], sorted[next]);
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// SelectFpr `pvalues_ < alpha`, SelectFwe `pvalues_ < alpha / n`, SelectFdr
/// (Benjamini–Hochberg) `pvalues_ <= max{p sorted : p_(i) <= alpha / n · i}`.
fn error_rate(est: &Est, class: &str, alpha: f64) -> Result<Vec<bool>, LoadError> {
    let p = est.vector("pvalues_")?;
    let n = p.len();
    Ok(match class {
        "SelectFpr" => p.iter().map(|v| *v < alpha).collect(),
        "SelectFwe" => p.iter().map(|v| *v < alpha / n as f64).collect(),
        _ => {
            let mut sorted = p.to_vec();
            sorted.sort_by(f64::total_cmp);
            let step = alpha / n as f64;
            let max = sorted
                .iter()
                .enumerate()
                .filter(|(i, v)| **v <= step * (i + 1) as f64)
                .map(|(_, v)| *v)
                .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
            match max {
                None => vec![false; n],
                Some(m) => p.iter().map(|v| *v <= m).collect(),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn k_best_breaks_ties_towards_later_features() {
        assert_eq!(
            k_best(&[1.0, 3.0, 3.0, 2.0], Some(1)),
            [false, false, true, false]
        );
        assert_eq!(k_best(&[1.0, 2.0], Some(5)), [true, true]);
        assert_eq!(k_best(&[1.0, 2.0], None), [true, true]);
    }

    #[test]
    fn percentile_keeps_ties_in_feature_order_up_to_the_count() {
        // threshold = percentile 50 of [1, 2, 2, 2] = 2; none above; int(4·50/100) = 2 ties kept.
        assert_eq!(
            percentile(&[1.0, 2.0, 2.0, 2.0], 50.0),
            [false, true, true, false]
        );
        // threshold = percentile 80 of [1, 1, 1, 5, 5] = 5; int(5·20/100) = 1: the first tie.
        assert_eq!(
            percentile(&[5.0, 5.0, 1.0, 1.0, 1.0], 20.0),
            [true, false, false, false, false]
        );
        // numpy's lerp: 0 + (10 − 0)·0.25.
        assert_eq!(numpy_percentile(&[0.0, 10.0], 25.0), 2.5);
    }
}
