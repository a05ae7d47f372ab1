//! LIBSVM text model files, as `svm-train` and `svm_save_model` write them
//! (also R e1071's `write.svm`): a header of `keyword values…` lines, then
//! `SV` and one line per support vector, its k−1 coefficients followed by
//! sparse 1-based `index:value` pairs (SVM_SEMANTICS.md §7).
//!
//! Nothing is allocated from a declared count: rows are collected as they
//! are read and the counts are checked against what the file holds.
//!
//! [`header`] reads the lines up to `SV`, [`support`] the support vectors,
//! [`build`] the model; this file checks the counts between them.

mod build;
mod header;
mod support;
#[cfg(test)]
mod tests;

use super::{LoadError, LoadedModel};
use crate::model::{DualKind, Estimator, Model};
use header::{error, kernel, split};
use support::{dense, support_vectors};

/// Whether the bytes look like a LIBSVM model: the first non-blank line
/// starts with `svm_type`.
pub fn recognise(bytes: &[u8]) -> bool {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace());
    start.is_some_and(|s| bytes[s..].starts_with(b"svm_type"))
}

/// Parses a LIBSVM model. `n_features` widens the input beyond the largest
/// feature index of the support vectors (features no support vector uses
/// still count in RBF distances, §1.2).
pub fn load(bytes: &[u8], n_features: Option<usize>) -> Result<LoadedModel, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        error(line, "file", "is not UTF-8 text")
    })?;
    let (h, sv_lines) = split(text)?;
    let (svm_type, kind) = svm_type(&h)?;
    let kernel = kernel(&h)?;
    let (class_line, k) = h.count("nr_class")?;
    let (total_line, total) = h.count("total_sv")?;
    let mut warnings = Vec::new();
    let classifier = kind.is_none();
    let pairs = pairs(k, class_line, classifier, svm_type)?;
    let rho = h
        .numbers("rho", pairs)?
        .ok_or_else(|| error(h.sv_line, "rho", "is missing from the header"))?;
    let sv = support_vectors(
        &sv_lines,
        if classifier { k - 1 } else { 1 },
        total,
        total_line,
    )?;
    let d = match n_features {
        Some(n) if n < sv.max_index => {
            return Err(LoadError::Options(format!(
                "n_features {n} is smaller than the largest feature index {} (line {})",
                sv.max_index, sv.max_index_line
            )))
        }
        Some(n) => n,
        None => sv.max_index,
    };
    if d == 0 {
        return Err(error(
            h.sv_line,
            "SV",
            "no support vector has a feature index; give the feature count (--n-features)",
        ));
    }
    let support_vectors = dense(&sv, d, h.sv_line)?;
    let model = match kind {
        None => {
            let estimator = if svm_type == "c_svc" {
                Estimator::Svc
            } else {
                Estimator::NuSvc
            };
            Model::Svc(build::classifier_model(
                &h,
                estimator,
                kernel,
                k,
                pairs,
                (total_line, total),
                support_vectors,
                &sv,
                rho,
            )?)
        }
        Some(kind) => build::dual_model(
            &h,
            kind,
            svm_type,
            kernel,
            support_vectors,
            &sv,
            rho,
            &mut warnings,
        )?,
    };
    Ok(LoadedModel {
        model,
        samples: None,
        warnings,
        feature_names: None,
    })
}

/// `svm_type`: `None` for the classifiers (c_svc, nu_svc), else the kind of
/// one-row dual model.
fn svm_type<'a>(h: &header::Header<'a>) -> Result<(&'a str, Option<DualKind>), LoadError> {
    let (type_line, svm_type) = h.single("svm_type")?;
    let kind = match svm_type {
        "c_svc" => None,
        "nu_svc" => None,
        "one_class" => Some(DualKind::OneClassSvm),
        "epsilon_svr" => Some(DualKind::Svr),
        "nu_svr" => Some(DualKind::NuSvr),
        other => {
            return Err(error(
                type_line,
                "svm_type",
                format!("unknown svm_type '{other}' (expected c_svc, nu_svc, one_class, epsilon_svr, nu_svr)"),
            ))
        }
    };
    Ok((svm_type, kind))
}

/// The number of class pairs for `k` classes (`nr_class`, on `class_line`):
/// a classifier needs at least 2 classes, the other types have exactly 2.
fn pairs(
    k: usize,
    class_line: usize,
    classifier: bool,
    svm_type: &str,
) -> Result<usize, LoadError> {
    if classifier && k < 2 {
        return Err(error(
            class_line,
            "nr_class",
            format!("{k} class(es): a classifier needs at least 2"),
        ));
    }
    if !classifier && k != 2 {
        return Err(error(
            class_line,
            "nr_class",
            format!("is {k}; LIBSVM writes 2 for {svm_type} models"),
        ));
    }
    k.checked_mul(k - 1)
        .map(|p| p / 2)
        .ok_or_else(|| error(class_line, "nr_class", format!("{k} is too large")))
}
