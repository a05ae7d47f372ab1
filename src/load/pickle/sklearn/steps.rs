//! Pipeline steps that change the number of features: PCA and
//! TruncatedSVD. (The scalers and the Normalizer are in `preprocess`.)

use super::est::Est;
use crate::load::pickle::object::Global;
use crate::load::LoadError;
use crate::model::{Preprocess, Projection, ProjectionKind};

/// (module, class) of every step read here, for the allowlist.
const CLASSES: &[(&str, &str)] = &[
    ("sklearn.decomposition._pca", "PCA"),
    ("sklearn.decomposition.pca", "PCA"),
    ("sklearn.decomposition._truncated_svd", "TruncatedSVD"),
    ("sklearn.decomposition.truncated_svd", "TruncatedSVD"),
];

/// Whether `g` is a step class read here.
pub(super) fn allowed(g: &Global) -> bool {
    CLASSES.iter().any(|(m, n)| g.is(m, n))
}

/// The step for `est`, or `None` when its class is not one read here.
pub(super) fn step(est: &Est) -> Option<Result<Preprocess, LoadError>> {
    if !allowed(&est.class) {
        return None;
    }
    Some(match est.class.name.as_str() {
        "PCA" => pca(est),
        _ => truncated_svd(est),
    })
}

/// `mean_`, `components_`, and `explained_variance_` when `whiten`.
fn pca(est: &Est) -> Result<Preprocess, LoadError> {
    let whiten = est.flag("whiten", false)?;
    Ok(Preprocess::Projection(Projection {
        kind: ProjectionKind::Pca,
        mean: Some(est.vector("mean_")?),
        components: est.matrix("components_")?,
        whiten_variance: if whiten {
            Some(est.vector("explained_variance_")?)
        } else {
            None
        },
    }))
}

/// `components_` only: TruncatedSVD does not centre.
fn truncated_svd(est: &Est) -> Result<Preprocess, LoadError> {
    Ok(Preprocess::Projection(Projection {
        kind: ProjectionKind::TruncatedSvd,
        mean: None,
        components: est.matrix("components_")?,
        whiten_variance: None,
    }))
}
