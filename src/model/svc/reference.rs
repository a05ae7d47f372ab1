//! SVC/NuSVC in f64, operation by operation as libsvm and scikit-learn
//! compute them (§1.2–§1.7), and official LIBSVM's conventions (§7).

use super::SvmModel;
use crate::ir::{Convention, DecisionShape};
use crate::reference::bound::{dual_sum_bound, ovr_bound, KernelErrors};
use crate::reference::{
    couple, first_max, for_each_kernel_row_with_sums, ovr_scores, pairwise_probabilities,
    predict_proba, vote, Evaluation, F32Bound,
};
use ndarray::{Array2, ArrayView2};

/// One-vs-one decision values in libsvm signs, N×P (§1.3): for pair (i, j),
/// the class-i terms are summed first, then the class-j terms, then `-rho`.
/// Given each row's input error, also the float32 bound of every pairwise
/// value (`bound`), from the same kernel values.
fn pairwise_decision_bounded(
    model: &SvmModel,
    x: ArrayView2<f64>,
    input_error: Option<&[f64]>,
) -> (Array2<f64>, Option<Array2<f64>>) {
    // Row slices below: standard layout whatever the caller's `dual_coef`.
    let coef = model.libsvm_dual_coef().as_standard_layout().into_owned();
    let intercept = model.libsvm_intercept();
    let svs = model.support_vectors();
    let pairs = model.pairs();
    let mut out = Array2::<f64>::zeros((x.nrows(), pairs.len()));
    let errors = input_error.map(|_| KernelErrors::new(model.kernel(), svs.view()));
    let mut bounds = errors.as_ref().map(|_| Array2::<f64>::zeros(out.dim()));
    let mut dk = vec![0.0; svs.nrows()];
    // Per pair (i, j): the class-i support vectors with their coefficients
    // (row j − 1), then the class-j ones (row i), as plain slices.
    let halves: Vec<[(std::ops::Range<usize>, &[f64]); 2]> = pairs
        .iter()
        .map(|&(i, j)| {
            let row = |r: usize| coef.row(r).to_slice().expect("coef is row-major");
            [
                (model.class_range(i), row(j - 1)),
                (model.class_range(j), row(i)),
            ]
        })
        .collect();
    for_each_kernel_row_with_sums(model.kernel(), x, svs.view(), |n, kvalue, sums| {
        for (p, half) in halves.iter().enumerate() {
            let mut sum = 0.0;
            for (range, c) in half {
                for (a, k) in c[range.clone()].iter().zip(&kvalue[range.clone()]) {
                    sum += a * k;
                }
            }
            out[[n, p]] = sum + intercept[p];
        }
        let (Some(errors), Some(bounds), Some(input_error)) = (&errors, &mut bounds, input_error)
        else {
            return;
        };
        errors.row(x.row(n), input_error[n], kvalue, sums, &mut dk);
        for (p, half) in halves.iter().enumerate() {
            let terms = half.iter().flat_map(|(range, c)| {
                c[range.clone()]
                    .iter()
                    .zip(&kvalue[range.clone()])
                    .zip(&dk[range.clone()])
                    .map(|((&a, &k), &e)| (a, k, e))
            });
            bounds[[n, p]] = dual_sum_bound(terms, intercept[p]);
        }
    });
    (out, bounds)
}

/// scikit-learn's `predict`, `decision_function` and `predict_proba`.
pub(super) fn evaluate(model: &SvmModel, x: ArrayView2<f64>) -> Evaluation {
    evaluate_bounded(model, x, None)
}

/// [`evaluate`] with the float32 bound of the scores when `input_error`
/// is given (`bound`).
pub(super) fn evaluate_bounded(
    model: &SvmModel,
    x: ArrayView2<f64>,
    input_error: Option<&[f64]>,
) -> Evaluation {
    let (pairwise, pairwise_bound) = pairwise_decision_bounded(model, x, input_error);
    let mut eval = if model.convention() == Convention::Libsvm {
        evaluate_libsvm(model, pairwise)
    } else {
        evaluate_sklearn(model, pairwise)
    };
    eval.f32_bound = pairwise_bound.map(|b| scores_bound(model, &eval, b));
    eval
}

/// The bound of `scores` and of the label margins from the pairwise bounds.
fn scores_bound(model: &SvmModel, eval: &Evaluation, pairwise: Array2<f64>) -> F32Bound {
    let k = model.n_classes();
    let ties: Vec<f64> = pairwise
        .outer_iter()
        .map(|r| r.iter().fold(0.0f64, |m, v| m.max(*v)))
        .collect();
    let ovr = model.convention() != Convention::Libsvm
        && k > 2
        && model.decision_shape() == DecisionShape::Ovr;
    let scores = if ovr {
        let mut s = Array2::<f64>::zeros(eval.scores.dim());
        for (r, mut row) in s.outer_iter_mut().enumerate() {
            let b = ovr_bound(eval.pairwise.row(r), pairwise.row(r), k);
            row.assign(&ndarray::ArrayView1::from(&b));
        }
        s
    } else {
        pairwise
    };
    // break_ties decides on the ovr scores: their bound is the margin's.
    let ties = if ovr && model.break_ties() {
        scores
            .outer_iter()
            .map(|r| 2.0 * r.iter().fold(0.0f64, |m, v| m.max(*v)))
            .collect()
    } else {
        ties
    };
    F32Bound { scores, ties }
}

/// scikit-learn's conventions (§1.4–§1.6) on the pairwise values.
fn evaluate_sklearn(model: &SvmModel, pairwise: Array2<f64>) -> Evaluation {
    let k = model.n_classes();
    let probabilities = predict_proba(
        model.n_classes(),
        &model.pairs(),
        model.platt(),
        pairwise.view(),
    )
    .map(|(p, _)| p);
    if k == 2 {
        // §1.4: sklearn returns -f0; an exact zero goes to classes_[1].
        let scores = pairwise.mapv(|f| -f);
        let label_index = scores
            .column(0)
            .iter()
            .map(|&d| usize::from(d >= 0.0))
            .collect();
        let tie_margins = scores.iter().map(|d| d.abs()).collect();
        return Evaluation {
            pairwise,
            scores,
            tie_margins,
            label_index,
            probabilities,
            probability_label: None,
            f32_bound: None,
        };
    }
    let ovr = ovr_scores(pairwise.view(), k);
    let label_index = if model.break_ties() {
        ovr.outer_iter()
            .map(|row| first_max(row.iter().copied()))
            .collect()
    } else {
        pairwise.outer_iter().map(|row| vote(row, k)).collect()
    };
    let scores = match model.decision_shape() {
        DecisionShape::Ovr => ovr,
        DecisionShape::Ovo => pairwise.clone(),
    };
    let mut eval = Evaluation {
        pairwise,
        scores,
        tie_margins: Vec::new(),
        label_index,
        probabilities,
        probability_label: None,
        f32_bound: None,
    };
    eval.tie_margins = (0..eval.pairwise.nrows())
        .map(|r| tie_margin(model, &eval, r))
        .collect();
    eval
}

/// Official LIBSVM (§7): `svm_predict_values` gives the pairwise values in
/// LIBSVM's own sign for every k (no binary flip), `svm_predict` votes on
/// them (§1.6 rule, also for k = 2: class 0 iff f > 0), and
/// `svm_predict_probability` returns `[r_01, r_10]` for k = 2 (LIBSVM ≥ 3.22:
/// no coupling), the coupled probabilities otherwise, and the label of the
/// first maximal probability.
fn evaluate_libsvm(model: &SvmModel, pairwise: Array2<f64>) -> Evaluation {
    let k = model.n_classes();
    let label_index = pairwise.outer_iter().map(|row| vote(row, k)).collect();
    let tie_margins = pairwise
        .outer_iter()
        .map(|row| row.iter().fold(f64::INFINITY, |m, f| m.min(f.abs())))
        .collect();
    let mut probabilities = None;
    let mut probability_label = None;
    if model.platt().is_some() {
        let pairs = model.pairs();
        let mut p = Array2::<f64>::zeros((pairwise.nrows(), k));
        for (n, row) in pairwise.outer_iter().enumerate() {
            let Some(r) = pairwise_probabilities(k, &pairs, model.platt(), row) else {
                break;
            };
            let estimates = if k == 2 {
                vec![r[0][1], r[1][0]]
            } else {
                couple(k, &r).probabilities
            };
            for (t, v) in estimates.into_iter().enumerate() {
                p[[n, t]] = v;
            }
        }
        probability_label = Some(
            p.outer_iter()
                .map(|row| first_max(row.iter().copied()))
                .collect(),
        );
        probabilities = Some(p);
    }
    Evaluation {
        scores: pairwise.clone(),
        pairwise,
        tie_margins,
        label_index,
        probabilities,
        probability_label,
        f32_bound: None,
    }
}

/// How far a row is from a label flip, in decision-value units: the smallest
/// |pairwise value| (a pair that could change its vote) and, when predict
/// takes argmax of the ovr scores, the gap between the two best scores.
pub(crate) fn tie_margin(model: &SvmModel, eval: &Evaluation, row: usize) -> f64 {
    let mut margin = eval
        .pairwise
        .row(row)
        .iter()
        .fold(f64::INFINITY, |m, f| m.min(f.abs()));
    if model.break_ties() {
        let ovr = ovr_scores(
            eval.pairwise.slice(ndarray::s![row..row + 1, ..]),
            model.n_classes(),
        );
        let mut sorted: Vec<f64> = ovr.row(0).to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        margin = margin.min(sorted[0] - sorted[1]);
    }
    margin
}
