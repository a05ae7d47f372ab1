//! SelectFromModel: the support mask re-derived from the fitted
//! `estimator_`'s `coef_`, `threshold`, `norm_order` and `max_features_`
//! exactly as scikit-learn 1.9's `_get_support_mask` computes it
//! (sklearn/feature_selection/_from_model.py). What cannot be derived
//! exactly is refused: an `estimator_` svm2onnx does not read (tree
//! ensembles' `feature_importances_` is computed from the trees, not
//! stored), a custom `importance_getter`, a `norm_order` other than 1 or 2,
//! more than 8 coefficient rows (numpy's pairwise summation), a callable
//! `max_features`.

use super::err;
use super::est::Est;
use crate::load::pickle::numpy;
use crate::load::pickle::object::{Global, Obj};
use crate::load::LoadError;

/// Whether `g` is SelectFromModel.
pub(super) fn allowed(g: &Global) -> bool {
    g.is("sklearn.feature_selection._from_model", "SelectFromModel")
}

/// The support mask of a fitted SelectFromModel.
pub(super) fn support(est: &Est) -> Result<Vec<bool>, LoadError> {
    match est.get("importance_getter").map(|id| est.arena.get(id)) {
        None => {}
        Some(Obj::Str(s)) if s == "auto" || s == "coef_" => {}
        Some(_) => {
            return Err(err(
                est.field("importance_getter"),
                "is not 'auto' or 'coef_' (only coef_ is stored in the pickle)",
            ))
        }
    }
    let inner = Est::new(
        est.arena,
        est.require("estimator_")?,
        &format!("{}.", est.field("estimator_")),
    )?;
    let Some(coef_id) = inner.get("coef_") else {
        return Err(err(
            inner.field("coef_"),
            "is missing: SelectFromModel needs coef_ (feature_importances_ is not stored)",
        ));
    };
    let (shape, coef) = inner.floats(coef_id, "coef_")?;
    let scores = importances(est, &shape, &coef, &inner)?;
    let threshold = threshold(est, &inner, &scores)?;
    let max_features = match est.get("max_features_").or_else(|| est.get("max_features")) {
        None => None,
        Some(id) => {
            let v = numpy::number(est.arena, id)
                .map_err(|_| err(est.field("max_features"), "is not an integer (a callable?)"))?;
            if v < 0.0 || v.fract() != 0.0 {
                return Err(err(
                    est.field("max_features"),
                    format!("{v} is not a count"),
                ));
            }
            Some(v as usize)
        }
    };
    // `max_features is not None` is read from the parameter; its value from
    // `max_features_` (scikit-learn's getattr order).
    let mut mask = match (est.get("max_features"), max_features) {
        (Some(_), Some(k)) => {
            // np.argsort(-scores, kind="mergesort")[:k]: stable descending.
            let mut order: Vec<usize> = (0..scores.len()).collect();
            order.sort_by(|&a, &b| (-scores[a]).total_cmp(&-scores[b]));
            let mut m = vec![false; scores.len()];
            for &j in order.iter().take(k) {
                m[j] = true;
            }
            m
        }
        _ => vec![true; scores.len()],
    };
    for (m, s) in mask.iter_mut().zip(&scores) {
        if *s < threshold {
            *m = false;
        }
    }
    Ok(mask)
}

/// `_get_feature_importances(transform_func="norm")`: |coef_| for one row,
/// else `np.linalg.norm(coef_, axis=0, ord=norm_order)`.
fn importances(
    est: &Est,
    shape: &[usize],
    coef: &[f64],
    inner: &Est,
) -> Result<Vec<f64>, LoadError> {
    if coef.iter().any(|c| !c.is_finite()) {
        return Err(err(inner.field("coef_"), "is not finite"));
    }
    let (rows, cols) = match *shape {
        [_] => return Ok(coef.iter().map(|c| c.abs()).collect()),
        [r, d] => (r, d),
        _ => return Err(err(inner.field("coef_"), "is not a vector or a matrix")),
    };
    if rows == 1 {
        // np.linalg.norm of one row: |c| for ord 1, sqrt(c·c) for ord 2,
        // both |c| exactly.
        return Ok(coef.iter().map(|c| c.abs()).collect());
    }
    if rows > 8 {
        return Err(err(
            inner.field("coef_"),
            format!("has {rows} rows: above 8 numpy sums pairwise, which svm2onnx does not mirror"),
        ));
    }
    let order = match est.get("norm_order") {
        None => 1.0,
        Some(id) => numpy::number(est.arena, id).map_err(|m| err(est.field("norm_order"), m))?,
    };
    // Below 8 terms numpy's reduction adds left to right in either layout.
    let column = |j: usize| (0..rows).map(move |i| coef[i * cols + j]);
    if order == 1.0 {
        Ok((0..cols)
            .map(|j| column(j).fold(0.0, |s, c| s + c.abs()))
            .collect())
    } else if order == 2.0 {
        Ok((0..cols)
            .map(|j| column(j).fold(0.0, |s, c| s + c * c).sqrt())
            .collect())
    } else {
        Err(err(
            est.field("norm_order"),
            format!("{order} is not supported (1 or 2)"),
        ))
    }
}

/// `_calculate_threshold`: None → 1e-5 for an l1-penalized estimator, else
/// "mean"; "mean", "median", "<scale>*mean|median", or a number.
fn threshold(est: &Est, inner: &Est, scores: &[f64]) -> Result<f64, LoadError> {
    let field = est.field("threshold");
    let spec = match est.get("threshold").map(|id| (id, est.arena.get(id))) {
        None => {
            let l1 = matches!(inner.get("penalty").map(|id| inner.arena.get(id)), Some(Obj::Str(p)) if p == "l1");
            if l1 {
                return Ok(1e-5);
            }
            "mean".to_string()
        }
        Some((_, Obj::Str(s))) => s.clone(),
        Some((id, _)) => return numpy::number(est.arena, id).map_err(|m| err(&field, m)),
    };
    let (scale, reference) = match spec.split_once('*') {
        Some((a, b)) => {
            let a = a.trim();
            let scale: f64 = a
                .parse()
                .map_err(|_| err(&field, format!("'{spec}': '{a}' is not a number")))?;
            (scale, b.trim().to_string())
        }
        None => (1.0, spec.clone()),
    };
    let value = match reference.as_str() {
        "mean" => mean(scores),
        "median" => median(scores),
        _ => return Err(err(&field, format!("'{spec}' is not a threshold"))),
    };
    Ok(if spec.contains('*') {
        scale * value
    } else {
        value
    })
}

/// `np.mean` of a float64 vector: numpy's pairwise sum, divided by n.
fn mean(v: &[f64]) -> f64 {
    pairwise_sum(v) / v.len() as f64
}

/// numpy's `pairwise_sum` (loops_utils.h): below 8 terms left to right;
/// up to 128 eight interleaved partial sums combined as
/// ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)), then the remainder left to right;
/// above, the halves (split at a multiple of 8) summed recursively.
fn pairwise_sum(v: &[f64]) -> f64 {
    let n = v.len();
    if n < 8 {
        return v.iter().fold(0.0, |s, x| s + x);
    }
    if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&v[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for k in 0..8 {
                r[k] += v[i + k];
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for x in &v[i..] {
            res += x;
        }
        return res;
    }
    let mut n2 = n / 2;
    n2 -= n2 % 8;
    pairwise_sum(&v[..n2]) + pairwise_sum(&v[n2..])
}

/// `np.median`: the middle value, or the mean of the two middle values.
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        pairwise_sum(&s[n / 2 - 1..n / 2 + 1]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_follows_numpys_blocks() {
        let v: Vec<f64> = (0..20).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let mut r = [0.0; 8];
        r.copy_from_slice(&v[..8]);
        for k in 0..8 {
            r[k] += v[8 + k];
        }
        let want = ((r[0] + r[1]) + (r[2] + r[3]))
            + ((r[4] + r[5]) + (r[6] + r[7]))
            + v[16]
            + v[17]
            + v[18]
            + v[19];
        assert_eq!(pairwise_sum(&v).to_bits(), want.to_bits());
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(mean(&[1.0, 2.0]), 1.5);
    }
}
