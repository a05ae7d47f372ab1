//! Building the model from the header and the support vectors: a
//! classifier's labels, counts and Platt parameters, or a one-row dual
//! model's extras (SVR's `probA`, one-class density marks).

use super::header::{error, model_error, Header};
use super::support::SupportVectors;
use crate::load::LoadError;
use crate::model::{
    Classes, Convention, DecisionShape, DualKind, DualParts, Estimator, Kernel, Model,
    PlattParameters, SvmModel, SvmParts, DENSITY_MARKS,
};
use ndarray::{Array1, Array2};

/// SVR, NuSVR or OneClassSVM (`svm_type`): extras other types write become
/// warnings, except density marks, which only one-class models may have.
#[allow(clippy::too_many_arguments)]
pub(super) fn dual_model(
    h: &Header,
    kind: DualKind,
    svm_type: &str,
    kernel: Kernel,
    support_vectors: Array2<f64>,
    sv: &SupportVectors,
    rho: Array1<f64>,
    warnings: &mut Vec<String>,
) -> Result<Model, LoadError> {
    let d = support_vectors.ncols();
    for key in ["label", "nr_sv", "probB"] {
        if let Some(e) = h.get(key) {
            warnings.push(format!(
                "ignoring `{key}` on line {} ({svm_type} models have none)",
                e.line
            ));
        }
    }
    let svr_sigma = match kind {
        DualKind::OneClassSvm => None,
        _ => h.numbers("probA", 1)?.map(|a| a[0]),
    };
    let density_marks = match kind {
        DualKind::OneClassSvm => h
            .numbers("prob_density_marks", DENSITY_MARKS)?
            .map(|m| std::array::from_fn(|i| m[i])),
        _ => None,
    };
    if let (DualKind::OneClassSvm, Some(e)) = (kind, h.get("probA")) {
        warnings.push(format!(
            "ignoring `probA` on line {} (one_class models have none)",
            e.line
        ));
    }
    if let (DualKind::Svr | DualKind::NuSvr, Some(e)) = (kind, h.get("prob_density_marks")) {
        return Err(error(
            e.line,
            "prob_density_marks",
            "only one_class models have density marks",
        ));
    }
    Model::dual(DualParts {
        kind,
        n_features: d,
        kernel,
        support_vectors: support_vectors.into(),
        dual_coef: Array1::from(sv.coef[0].clone()),
        // LIBSVM's decision is Σ − rho (§2).
        intercept: -rho[0],
        preprocessing: Vec::new(),
        sklearn_version: None,
        convention: Convention::Libsvm,
        density_marks,
        svr_sigma,
    })
    .map_err(|e| model_error(h.sv_line, e))
}

/// SVC or NuSVC: labels in file order, `nr_sv`, and `probA`/`probB` when
/// present, in scikit-learn's signs (§1.4).
#[allow(clippy::too_many_arguments)]
pub(super) fn classifier_model(
    h: &Header,
    estimator: Estimator,
    kernel: Kernel,
    k: usize,
    pairs: usize,
    (total_line, total): (usize, usize),
    support_vectors: Array2<f64>,
    sv: &SupportVectors,
    rho: Array1<f64>,
) -> Result<SvmModel, LoadError> {
    let labels = class_labels(h, k)?;
    let n_support = support_counts(h, k, (total_line, total))?;
    let platt = platt(h, pairs)?;
    if let Some(e) = h.get("prob_density_marks") {
        return Err(error(
            e.line,
            "prob_density_marks",
            "only one_class models have density marks",
        ));
    }
    let s = sv.rows.len();
    let mut coef = Array2::<f64>::zeros((k - 1, s));
    for (c, column) in sv.coef.iter().enumerate() {
        for (i, &v) in column.iter().enumerate() {
            coef[[c, i]] = v;
        }
    }
    // SvmParts holds scikit-learn's public signs: for two classes those are
    // LIBSVM's negated (§1.4), and `libsvm_dual_coef`/`libsvm_intercept`
    // undo it exactly. LIBSVM's intercept is −rho.
    let (dual_coef, intercept) = if k == 2 { (-coef, rho) } else { (coef, -rho) };
    SvmModel::new(SvmParts {
        estimator,
        n_features: support_vectors.ncols(),
        kernel,
        classes: Classes::Int(labels),
        n_support,
        support_vectors: support_vectors.into(),
        dual_coef,
        intercept,
        decision_shape: DecisionShape::Ovo,
        break_ties: false,
        platt,
        sklearn_version: None,
        preprocessing: Vec::new(),
        convention: Convention::Libsvm,
    })
    .map_err(|e| model_error(h.sv_line, e))
}

/// `label`: k distinct integers in the file's order, the order of first
/// appearance in the training data (§7): never sorted.
fn class_labels(h: &Header, k: usize) -> Result<Vec<i64>, LoadError> {
    let label = h.required("label")?;
    if label.values.len() != k {
        return Err(error(
            label.line,
            "label",
            format!("has {} values, nr_class is {k}", label.values.len()),
        ));
    }
    let mut labels = Vec::with_capacity(k);
    for v in &label.values {
        let l = v
            .parse::<i64>()
            .map_err(|_| error(label.line, "label", format!("'{v}' is not an integer")))?;
        if labels.contains(&l) {
            return Err(error(label.line, "label", format!("{l} appears twice")));
        }
        labels.push(l);
    }
    Ok(labels)
}

/// `nr_sv`: support vectors per class, summing to `total_sv`.
fn support_counts(
    h: &Header,
    k: usize,
    (total_line, total): (usize, usize),
) -> Result<Vec<usize>, LoadError> {
    let nr_sv = h.required("nr_sv")?;
    if nr_sv.values.len() != k {
        return Err(error(
            nr_sv.line,
            "nr_sv",
            format!("has {} values, nr_class is {k}", nr_sv.values.len()),
        ));
    }
    let mut n_support = Vec::with_capacity(k);
    for v in &nr_sv.values {
        n_support.push(v.parse::<usize>().map_err(|_| {
            error(
                nr_sv.line,
                "nr_sv",
                format!("'{v}' is not a non-negative integer"),
            )
        })?);
    }
    let sum = n_support.iter().try_fold(0usize, |a, &n| a.checked_add(n));
    if sum != Some(total) {
        return Err(error(
            nr_sv.line,
            "nr_sv",
            format!("does not sum to total_sv = {total} (line {total_line})"),
        ));
    }
    Ok(n_support)
}

/// `probA`/`probB`: both or neither, one per pair.
fn platt(h: &Header, pairs: usize) -> Result<Option<PlattParameters>, LoadError> {
    Ok(
        match (h.numbers("probA", pairs)?, h.numbers("probB", pairs)?) {
            (Some(prob_a), Some(prob_b)) => Some(PlattParameters { prob_a, prob_b }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(error(
                    h.sv_line,
                    "probB",
                    "is missing while probA is present",
                ))
            }
            (None, Some(_)) => {
                return Err(error(
                    h.sv_line,
                    "probA",
                    "is missing while probB is present",
                ))
            }
        },
    )
}
