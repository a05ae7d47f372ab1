//! The measures: errors between two numeric outputs, and agreement between
//! two label columns with every disagreement weighed against its distance
//! from a tie.

use super::report::{Beyond, BoundCheck, Comparison, LabelMismatch};
use super::{MIN_LABEL_AGREEMENT, PROBES};
use crate::graph::ElemType;
use crate::model::{Classes, Label};
use crate::reference::Evaluation;
use crate::run::LabelColumn;
use ndarray::{Array2, ArrayView2};

/// The relative error of `got` against `want`:
/// `max|got − want| / (1 + max|want|)` over the whole batch, the one error
/// measure of svm2onnx (validate's `scores` and `prediction` comparisons,
/// and the tests). A NaN difference counts as infinitely wrong.
///
/// # Panics
///
/// If the two arrays differ in shape.
pub fn relative_error(got: ArrayView2<f64>, want: ArrayView2<f64>) -> f64 {
    assert_eq!(got.dim(), want.dim(), "relative_error: shapes differ");
    Errors::between(got, want).max_rel
}

/// The largest error between two outputs and where it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Errors {
    /// `max|got − want|`.
    pub(crate) max_abs: f64,
    /// `max_abs / (1 + max|want|)`.
    pub(crate) max_rel: f64,
    /// The row of `max_abs`.
    pub(crate) worst_row: usize,
}

impl Errors {
    /// Elements are paired in row-major order; callers check shapes first
    /// (a recorded array of another shape is compared over the shorter).
    pub(crate) fn between(got: ArrayView2<f64>, want: ArrayView2<f64>) -> Errors {
        let scale = 1.0 + want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut max_abs = 0.0f64;
        let mut worst_row = 0;
        for (((r, _), a), b) in want
            .indexed_iter()
            .map(|(i, _)| i)
            .zip(got.iter())
            .zip(want.iter())
        {
            let e = (a - b).abs();
            // NaN compares false everywhere; treat it as infinitely wrong.
            let e = if e.is_nan() { f64::INFINITY } else { e };
            if e > max_abs {
                max_abs = e;
                worst_row = r;
            }
        }
        Errors {
            max_abs,
            max_rel: max_abs / scale,
            worst_row,
        }
    }
}

/// How a numeric output's error is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Measure {
    /// `max|a − b| / (1 + max|b|)` (`scores`, `prediction`).
    Relative,
    /// `max|a − b|`: probabilities lie in [0, 1].
    Absolute,
}

/// A numeric output compared with `want` by `measure`, and, for a float32
/// graph's decision values, with the error float32 explains on each row
/// (`bound`, the same shape as `want`).
///
/// Without a bound the output passes when its error is within the
/// tolerance. With one whose flag is set (the default tolerance), an element
/// passes when its error is within the tolerance or within its bound:
/// float32 explains it, and only an error beyond both fails (see
/// [`BoundCheck`]). With the flag unset (a tolerance the user gave), the
/// tolerance decides and the bound is reported.
pub(crate) fn compare_numbers(
    measure: Measure,
    output: &'static str,
    inputs: &str,
    against: &'static str,
    (got, want): (ArrayView2<f64>, ArrayView2<f64>),
    bound: Option<(ArrayView2<f64>, bool)>,
    tolerance: f64,
) -> Comparison {
    let e = Errors::between(got, want);
    let (max_rel_error, error) = match measure {
        Measure::Relative => (Some(e.max_rel), e.max_rel),
        Measure::Absolute => (None, e.max_abs),
    };
    let allowed_abs = match measure {
        Measure::Relative => tolerance * (1.0 + want.iter().fold(0.0f64, |m, v| m.max(v.abs()))),
        Measure::Absolute => tolerance,
    };
    // A recorded array of another shape (compared over the shorter) has no
    // bound to pair with: the tolerance alone decides, and the report shows
    // no bound for it.
    let bound = bound
        .filter(|(b, _)| b.dim() == want.dim() && b.dim() == got.dim())
        .map(|(b, passes)| (BoundCheck::of(got, want, b, allowed_abs), passes));
    let passed = match &bound {
        Some((b, true)) => b.beyond == 0,
        _ => error <= tolerance,
    };
    let bound = bound.map(|(b, _)| b);
    Comparison {
        inputs: inputs.to_string(),
        output,
        against,
        rows: want.nrows(),
        max_abs_error: Some(e.max_abs),
        max_rel_error,
        worst_row: Some(e.worst_row),
        label_agreement: None,
        label_mismatches: Vec::new(),
        f32_bound: bound,
        passed,
    }
}

impl BoundCheck {
    /// Each element's error against its bound and the tolerance
    /// (`allowed_abs`, in absolute units).
    fn of(
        got: ArrayView2<f64>,
        want: ArrayView2<f64>,
        bound: ArrayView2<f64>,
        allowed_abs: f64,
    ) -> BoundCheck {
        let mut check = BoundCheck {
            max_ratio: 0.0,
            ratio_row: 0,
            bound_at_max_ratio: 0.0,
            max_bound: 0.0,
            explained: 0,
            beyond: 0,
            first_beyond: None,
        };
        for (((r, _), &w), (&g, &bound)) in want.indexed_iter().zip(got.iter().zip(bound.iter())) {
            let e = (g - w).abs();
            let e = if e.is_nan() { f64::INFINITY } else { e };
            check.max_bound = check.max_bound.max(bound);
            let ratio = match (e, bound) {
                (0.0, _) => 0.0,
                (e, b) if b > 0.0 => e / b,
                _ => f64::INFINITY,
            };
            if ratio > check.max_ratio {
                check.max_ratio = ratio;
                check.ratio_row = r;
                check.bound_at_max_ratio = bound;
            }
            if e > allowed_abs && e <= bound {
                check.explained += 1;
            } else if e > allowed_abs {
                check.beyond += 1;
                if check.first_beyond.is_none() {
                    check.first_beyond = Some(Beyond {
                        row: r,
                        error: e,
                        bound,
                        ill_conditioned: bound > allowed_abs,
                    });
                }
            }
        }
        check
    }
}

/// Per row, how far a label is from flipping, the scale the tolerance is
/// multiplied by, and (float32 graphs) the margin's float32 bound: a flip
/// within either is a near tie.
pub(crate) struct Margins<'a> {
    pub(crate) per_row: &'a [f64],
    pub(crate) scale: f64,
    pub(crate) bound: Option<&'a [f64]>,
}

impl<'a> Margins<'a> {
    /// Decision-value margins of `predict`.
    pub(crate) fn of_decision(eval: &'a Evaluation) -> Margins<'a> {
        Margins {
            per_row: &eval.tie_margins,
            scale: 1.0 + eval.pairwise.iter().fold(0.0f64, |m, v| m.max(v.abs())),
            bound: eval.f32_bound.as_ref().map(|b| b.ties.as_slice()),
        }
    }
}

/// Per row, the lead of the largest probability over the runner-up.
pub(crate) fn probability_gaps(p: &Array2<f64>) -> Vec<f64> {
    p.outer_iter()
        .map(|r| {
            let mut sorted = r.to_vec();
            sorted.sort_by(|a, b| b.total_cmp(a));
            sorted[0] - sorted.get(1).copied().unwrap_or(f64::NEG_INFINITY)
        })
        .collect()
}

/// Two label columns, as class indices, on one batch.
pub(crate) struct LabelPair<'a> {
    /// The graph's labels: the class index (None: not a class) and the raw
    /// value, as [`graph_label_indices`] reads them.
    pub(crate) got: &'a [(Option<usize>, String)],
    /// The class indices of the source of truth.
    pub(crate) expected: &'a [usize],
}

/// Label agreement, with every disagreement checked to be a near tie.
pub(crate) fn compare_labels(
    output: &'static str,
    classes: &Classes,
    margins: &Margins,
    (inputs, against): (&str, &'static str),
    labels: LabelPair,
    tolerance: f64,
) -> Comparison {
    let scale = margins.scale;
    let mut mismatches = Vec::new();
    for (row, ((g, raw), &want)) in labels.got.iter().zip(labels.expected).enumerate() {
        if *g != Some(want) {
            let tie_margin = margins.per_row[row];
            mismatches.push(LabelMismatch {
                row,
                got: label_text(classes, *g, raw),
                expected: classes.label(want).to_string(),
                tie_margin,
                near_tie: tie_margin <= tolerance * scale
                    || margins.bound.is_some_and(|b| tie_margin <= b[row]),
            });
        }
    }
    let rows = labels.expected.len();
    let agreement = if rows == 0 {
        1.0
    } else {
        1.0 - mismatches.len() as f64 / rows as f64
    };
    // At most one disagreement in a thousand rows, read with whole rows: a
    // batch of fewer than 1,000 rows may hold one (a near tie), since an
    // exact tie in f64 has no reproducible answer in f32.
    // Generated probes are exempt from the count (never from the near-tie
    // test): midpoints between support vectors of different classes are put
    // on the decision boundary on purpose, and a linear model's midpoints sit
    // within ~1e-8 of it, where f32 must be free to fall either way.
    let allowed = ((1.0 - MIN_LABEL_AGREEMENT) * rows as f64).floor().max(1.0) as usize;
    let on_boundary_by_design = inputs == PROBES;
    let passed = mismatches.iter().all(|m| m.near_tie)
        && (on_boundary_by_design
            || agreement >= MIN_LABEL_AGREEMENT
            || mismatches.len() <= allowed);
    Comparison {
        inputs: inputs.to_string(),
        output,
        against,
        rows,
        max_abs_error: None,
        max_rel_error: None,
        worst_row: None,
        label_agreement: Some(agreement),
        label_mismatches: mismatches,
        f32_bound: None,
        passed,
    }
}

fn label_text(classes: &Classes, index: Option<usize>, raw: &str) -> String {
    match index {
        Some(i) => classes.label(i).to_string(),
        None => format!("{raw} (not a class)"),
    }
}

/// Maps a graph label column to class indices (None: not a class), each
/// with its raw value for reports.
pub(crate) fn graph_label_indices(
    classes: &Classes,
    column: &LabelColumn,
    as_index: bool,
    float: ElemType,
) -> Vec<(Option<usize>, String)> {
    let k = classes.len();
    match column {
        LabelColumn::Int(v) if as_index => v
            .iter()
            .map(|&i| (usize::try_from(i).ok().filter(|&i| i < k), i.to_string()))
            .collect(),
        LabelColumn::Int(v) => v
            .iter()
            .map(|&i| (classes.index_of(&Label::Int(i)), i.to_string()))
            .collect(),
        LabelColumn::Float(v) => {
            // Float labels are stored at the graph's precision.
            let round = |c: f64| {
                if float == ElemType::F32 {
                    c as f32 as f64
                } else {
                    c
                }
            };
            v.iter()
                .map(|&f| {
                    let index = (0..k).find(|&c| match classes.label(c) {
                        Label::Float(c) => round(c) == f,
                        Label::Int(c) => round(c as f64) == f,
                        Label::Str(_) => false,
                    });
                    (index, f.to_string())
                })
                .collect()
        }
        LabelColumn::Str(v) => v
            .iter()
            .map(|s| (classes.index_of(&Label::Str(s.clone())), format!("{s:?}")))
            .collect(),
    }
}
