//! Runs an emitted graph with tract and compares every output with the
//! reference evaluator and, where recorded, with scikit-learn's own outputs.
//!
//! Errors are relative, `|a − b| / (1 + max|b|)` over a batch. Labels must
//! agree on at least 99.9 % of rows, and every disagreement must be a near
//! tie: a row whose decision values are within the tolerance of a vote flip
//! (see `Evaluation::tie_margins`).

use crate::facts::meta;
use crate::graph::ElemType;
use crate::ir::{OutputKind, OutputOptions};
use crate::model::{Classes, Label, Model, Samples};
use crate::reference::Evaluation;
use crate::run::{LabelColumn, RunError, Runner};
use ndarray::{Array2, ArrayView2, Axis};
use serde::Serialize;

/// Default tolerance of a graph of the given float type.
pub fn default_tolerance(float: ElemType) -> f64 {
    match float {
        ElemType::F64 => 1e-9,
        _ => 1e-4,
    }
}

/// Minimum share of rows whose labels must agree.
pub const MIN_LABEL_AGREEMENT: f64 = 0.999;

/// A set of input rows, with scikit-learn's outputs on them when recorded.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Where the rows came from: "samples", "probes" or a file name.
    pub name: String,
    pub x: Array2<f64>,
    pub recorded: Option<Samples>,
}

/// Why validation could not be carried out (bad input, not a mismatch).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error("the graph does not fit the reference model: {0}")]
    Mismatch(String),
    #[error("the reference model's decision values are not finite on {0} row {1} (the kernel overflows)")]
    NonFinite(String, usize),
}

/// A label that differs between the graph and what it is compared with.
#[derive(Debug, Clone, Serialize)]
pub struct LabelMismatch {
    pub row: usize,
    pub got: String,
    pub expected: String,
    /// Distance of the row from a vote flip, in decision-value units.
    pub tie_margin: f64,
    pub near_tie: bool,
}

/// One output compared on one batch against one source of truth.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub inputs: String,
    pub output: &'static str,
    pub against: &'static str,
    pub rows: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_abs_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rel_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_row: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_agreement: Option<f64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub label_mismatches: Vec<LabelMismatch>,
    pub passed: bool,
}

/// The outcome of a validation run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dtype: &'static str,
    pub tolerance: f64,
    pub comparisons: Vec<Comparison>,
    pub passed: bool,
}

/// The rows `convert` and `validate` use when no data file is given: the
/// samples recorded in the model file, then generated probes.
pub fn default_batches(model: &Model, samples: Option<&Samples>) -> Vec<Batch> {
    let mut batches = Vec::new();
    if let Some(s) = samples.filter(|s| s.x.nrows() > 0) {
        batches.push(Batch {
            name: "samples".into(),
            x: s.x.clone(),
            recorded: Some(s.clone()),
        });
    }
    batches.push(Batch {
        name: PROBES.into(),
        x: crate::probes::probes(model, 256),
        recorded: None,
    });
    batches
}

fn relative_errors(got: ArrayView2<f64>, want: ArrayView2<f64>) -> (f64, f64, usize) {
    let scale = 1.0 + want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let mut max_abs = 0.0f64;
    let mut worst = 0;
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
            worst = r;
        }
    }
    (max_abs, max_abs / scale, worst)
}

fn label_text(classes: &Classes, index: Option<usize>, raw: &str) -> String {
    match index {
        Some(i) => classes.label(i).to_string(),
        None => format!("{raw} (not a class)"),
    }
}

/// Maps the graph's `label` column to class indices (None: not a class).
fn graph_label_indices(
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

/// Per row, how far a label is from flipping, and the scale the tolerance
/// is multiplied by.
struct Margins<'a> {
    per_row: &'a [f64],
    scale: f64,
}

impl<'a> Margins<'a> {
    /// Decision-value margins of `predict`.
    fn of_decision(eval: &'a Evaluation) -> Margins<'a> {
        Margins {
            per_row: &eval.tie_margins,
            scale: 1.0 + eval.pairwise.iter().fold(0.0f64, |m, v| m.max(v.abs())),
        }
    }
}

/// Per row, the lead of the largest probability over the runner-up.
fn probability_gaps(p: &Array2<f64>) -> Vec<f64> {
    p.outer_iter()
        .map(|r| {
            let mut sorted = r.to_vec();
            sorted.sort_by(|a, b| b.total_cmp(a));
            sorted[0] - sorted.get(1).copied().unwrap_or(f64::NEG_INFINITY)
        })
        .collect()
}

/// The batch name of the generated probe rows.
const PROBES: &str = "probes";

#[allow(clippy::too_many_arguments)]
fn compare_labels(
    classes: &Classes,
    margins: &Margins,
    inputs: &str,
    against: &'static str,
    got: &[(Option<usize>, String)],
    expected: &[usize],
    tolerance: f64,
) -> Comparison {
    let scale = margins.scale;
    let mut mismatches = Vec::new();
    for (row, ((g, raw), &want)) in got.iter().zip(expected).enumerate() {
        if *g != Some(want) {
            let tie_margin = margins.per_row[row];
            mismatches.push(LabelMismatch {
                row,
                got: label_text(classes, *g, raw),
                expected: classes.label(want).to_string(),
                tie_margin,
                near_tie: tie_margin <= tolerance * scale,
            });
        }
    }
    let rows = expected.len();
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
        output: "label",
        against,
        rows,
        max_abs_error: None,
        max_rel_error: None,
        worst_row: None,
        label_agreement: Some(agreement),
        label_mismatches: mismatches,
        passed,
    }
}

fn compare_scores(
    inputs: &str,
    against: &'static str,
    got: ArrayView2<f64>,
    want: ArrayView2<f64>,
    tolerance: f64,
) -> Comparison {
    let (max_abs, max_rel, worst) = relative_errors(got, want);
    Comparison {
        inputs: inputs.to_string(),
        output: "scores",
        against,
        rows: want.nrows(),
        max_abs_error: Some(max_abs),
        max_rel_error: Some(max_rel),
        worst_row: Some(worst),
        label_agreement: None,
        label_mismatches: Vec::new(),
        passed: max_rel <= tolerance,
    }
}

/// Probabilities are compared by absolute error (they lie in [0, 1]).
fn compare_probabilities(
    inputs: &str,
    against: &'static str,
    got: ArrayView2<f64>,
    want: ArrayView2<f64>,
    tolerance: f64,
) -> Comparison {
    let (max_abs, _, worst) = relative_errors(got, want);
    Comparison {
        inputs: inputs.to_string(),
        output: "probabilities",
        against,
        rows: want.nrows(),
        max_abs_error: Some(max_abs),
        max_rel_error: None,
        worst_row: Some(worst),
        label_agreement: None,
        label_mismatches: Vec::new(),
        passed: max_abs <= tolerance,
    }
}

/// Checks that the graph's interface matches the model.
fn check_interface(runner: &Runner, model: &Model) -> Result<(), ValidateError> {
    let info = runner.info();
    if let Some(d) = info.n_features {
        if d != model.n_features() {
            return Err(ValidateError::Mismatch(format!(
                "the graph takes {d} features, the model {}",
                model.n_features()
            )));
        }
    }
    if let Some(classes) = info.meta(meta::CLASSES) {
        let expected = model
            .label_classes()
            .map(|c| c.to_json())
            .unwrap_or_default();
        if classes != expected {
            return Err(ValidateError::Mismatch(format!(
                "the graph's classes {classes} differ from the model's {expected}"
            )));
        }
    }
    Ok(())
}

/// Runs the graph on every batch and compares its outputs.
pub fn validate(
    runner: &Runner,
    model: &Model,
    batches: &[Batch],
    tolerance: f64,
) -> Result<Report, ValidateError> {
    check_interface(runner, model)?;
    let as_index = runner.info().meta(meta::LABEL_OUTPUT) == Some("index");
    let mut comparisons = Vec::new();
    for batch in batches {
        if batch.x.ncols() != model.n_features() {
            return Err(ValidateError::Mismatch(format!(
                "{} rows have {} columns, the model expects {}",
                batch.name,
                batch.x.ncols(),
                model.n_features()
            )));
        }
        let out = runner.run(batch.x.view())?;
        let eval = evaluate_in_parallel(model, batch.x.view());
        if let Some(i) = eval.scores.iter().position(|v| !v.is_finite()) {
            return Err(ValidateError::NonFinite(
                batch.name.clone(),
                i / eval.scores.ncols().max(1),
            ));
        }
        if let Some(scores) = &out.scores {
            let width = model
                .outputs(&OutputOptions::default())
                .iter()
                .find(|s| s.kind == OutputKind::Scores)
                .map_or(1, |s| s.shape.width());
            if scores.ncols() != width || scores.nrows() != batch.x.nrows() {
                return Err(ValidateError::Mismatch(format!(
                    "scores has shape {}x{}, expected {}x{width}",
                    scores.nrows(),
                    scores.ncols(),
                    batch.x.nrows()
                )));
            }
            comparisons.push(compare_scores(
                &batch.name,
                "reference",
                scores.view(),
                eval.scores.view(),
                tolerance,
            ));
            if let Some(want) = batch
                .recorded
                .as_ref()
                .and_then(|r| r.decision_function.as_ref())
            {
                comparisons.push(compare_scores(
                    &batch.name,
                    "scikit-learn",
                    scores.view(),
                    want.view(),
                    tolerance,
                ));
            }
        }
        if let Some(got) = &out.probabilities {
            let want = eval.probabilities.as_ref().ok_or_else(|| {
                ValidateError::Mismatch(
                    "the graph has probabilities, the model no Platt parameters".into(),
                )
            })?;
            if got.dim() != want.dim() {
                return Err(ValidateError::Mismatch(format!(
                    "probabilities has shape {}x{}, expected {}x{}",
                    got.nrows(),
                    got.ncols(),
                    want.nrows(),
                    want.ncols()
                )));
            }
            comparisons.push(compare_probabilities(
                &batch.name,
                "reference",
                got.view(),
                want.view(),
                tolerance,
            ));
            if let Some(recorded) = batch
                .recorded
                .as_ref()
                .and_then(|r| r.predict_proba.as_ref())
            {
                comparisons.push(compare_probabilities(
                    &batch.name,
                    "scikit-learn",
                    got.view(),
                    recorded.view(),
                    tolerance,
                ));
            }
        }
        if let Some(prediction) = &out.prediction {
            if prediction.dim() != eval.scores.dim() {
                return Err(ValidateError::Mismatch(format!(
                    "prediction has {} rows for {} inputs",
                    prediction.nrows(),
                    batch.x.nrows()
                )));
            }
            let mut c = compare_scores(
                &batch.name,
                "reference",
                prediction.view(),
                eval.scores.view(),
                tolerance,
            );
            c.output = "prediction";
            comparisons.push(c);
            if let Some(recorded) = batch.recorded.as_ref().and_then(|r| r.predict.as_ref()) {
                let want: Vec<f64> = recorded
                    .iter()
                    .map(|l| match l {
                        Label::Int(i) => *i as f64,
                        Label::Float(f) => *f,
                        Label::Str(_) => f64::NAN,
                    })
                    .collect();
                let want =
                    ndarray::Array2::from_shape_vec((want.len(), 1), want).expect("one column");
                let mut c = compare_scores(
                    &batch.name,
                    "scikit-learn",
                    prediction.view(),
                    want.view(),
                    tolerance,
                );
                c.output = "prediction";
                comparisons.push(c);
            }
        }
        if let (Some(labels), Some(classes)) = (&out.label, model.label_classes()) {
            let classes = &classes;
            let got = graph_label_indices(classes, labels, as_index, runner.info().input_elem);
            if got.len() != batch.x.nrows() {
                return Err(ValidateError::Mismatch(format!(
                    "label has {} rows for {} inputs",
                    got.len(),
                    batch.x.nrows()
                )));
            }
            comparisons.push(compare_labels(
                classes,
                &Margins::of_decision(&eval),
                &batch.name,
                "reference",
                &got,
                &eval.label_index,
                tolerance,
            ));
            if let Some(want) = batch.recorded.as_ref().and_then(|r| r.predict.as_ref()) {
                let want: Vec<usize> = want
                    .iter()
                    .map(|l| classes.index_of(l).unwrap_or(usize::MAX))
                    .collect();
                comparisons.push(compare_labels(
                    classes,
                    &Margins::of_decision(&eval),
                    &batch.name,
                    "scikit-learn",
                    &got,
                    &want,
                    tolerance,
                ));
            }
        }
        if let Some(labels) = &out.probability_label {
            // LIBSVM `svm-predict -b 1`'s label: argmax of the probabilities (§7).
            let (Some(classes), Some(want), Some(p)) = (
                model.label_classes(),
                eval.probability_label.as_ref(),
                eval.probabilities.as_ref(),
            ) else {
                return Err(ValidateError::Mismatch(
                    "the graph has probability_label, the model no LIBSVM probabilities".into(),
                ));
            };
            let got = graph_label_indices(&classes, labels, as_index, runner.info().input_elem);
            if got.len() != batch.x.nrows() {
                return Err(ValidateError::Mismatch(format!(
                    "probability_label has {} rows for {} inputs",
                    got.len(),
                    batch.x.nrows()
                )));
            }
            let gaps = probability_gaps(p);
            let margins = Margins {
                per_row: &gaps,
                scale: 1.0,
            };
            let mut c = compare_labels(
                &classes,
                &margins,
                &batch.name,
                "reference",
                &got,
                want,
                tolerance,
            );
            c.output = "probability_label";
            comparisons.push(c);
        }
    }
    if comparisons.is_empty() {
        return Err(ValidateError::Mismatch(
            "the graph has none of the outputs `label`, `scores`, `prediction`".into(),
        ));
    }
    let dtype = match runner.info().input_elem {
        ElemType::F64 => "f64",
        _ => "f32",
    };
    let passed = comparisons.iter().all(|c| c.passed);
    Ok(Report {
        dtype,
        tolerance,
        comparisons,
        passed,
    })
}

impl Report {
    /// A human-readable table, one line per comparison.
    pub fn render(&self) -> String {
        let mut s = format!(
            "validation ({} graph, tolerance {:e}):\n",
            self.dtype, self.tolerance
        );
        for c in &self.comparisons {
            let verdict = if c.passed { "ok  " } else { "FAIL" };
            let detail = match (c.max_rel_error, c.label_agreement) {
                (None, None) => format!(
                    "max abs err {:.2e} (worst row {})",
                    c.max_abs_error.unwrap_or(0.0),
                    c.worst_row.unwrap_or(0)
                ),
                (Some(rel), _) => format!(
                    "max rel err {rel:.2e} (abs {:.2e}, worst row {})",
                    c.max_abs_error.unwrap_or(0.0),
                    c.worst_row.unwrap_or(0)
                ),
                (None, Some(agree)) => {
                    let near = c.label_mismatches.iter().filter(|m| m.near_tie).count();
                    format!(
                        "agreement {:.4}% ({} differ, {near} of them near ties)",
                        100.0 * agree,
                        c.label_mismatches.len()
                    )
                }
            };
            s.push_str(&format!(
                "  {verdict} {:<7} vs {:<12} on {:>5} {:<8} {detail}\n",
                c.output, c.against, c.rows, c.inputs
            ));
            for m in c.label_mismatches.iter().take(5) {
                s.push_str(&format!(
                    "         row {}: got {}, expected {} (tie margin {:.2e}{})\n",
                    m.row,
                    m.got,
                    m.expected,
                    m.tie_margin,
                    if m.near_tie { ", near tie" } else { "" }
                ));
            }
        }
        s.push_str(if self.passed { "PASSED\n" } else { "FAILED\n" });
        s
    }
}

/// The reference on a batch with its rows split across threads. The f64
/// reference is a plain loop in libsvm's order, one kernel value at a time;
/// on 10,000 rows of a large model one core would take minutes. Rows are
/// independent, so the result is the same as one call.
fn evaluate_in_parallel(model: &Model, x: ArrayView2<f64>) -> Evaluation {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || x.nrows() < 64 {
        return model.evaluate(x);
    }
    let chunk = x.nrows().div_ceil(threads);
    let parts: Vec<Evaluation> = std::thread::scope(|scope| {
        let handles: Vec<_> = x
            .axis_chunks_iter(Axis(0), chunk)
            .map(|rows| scope.spawn(move || model.evaluate(rows)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("the reference evaluator does not panic"))
            .collect()
    });
    let stack = |f: &dyn Fn(&Evaluation) -> ArrayView2<f64>| {
        let views: Vec<_> = parts.iter().map(f).collect();
        ndarray::concatenate(Axis(0), &views).expect("parts have equal widths")
    };
    Evaluation {
        pairwise: stack(&|e| e.pairwise.view()),
        scores: stack(&|e| e.scores.view()),
        tie_margins: parts.iter().flat_map(|e| e.tie_margins.clone()).collect(),
        label_index: parts.iter().flat_map(|e| e.label_index.clone()).collect(),
        probability_label: parts[0].probability_label.as_ref().map(|_| {
            parts
                .iter()
                .flat_map(|e| {
                    e.probability_label
                        .clone()
                        .expect("every part has probability labels")
                })
                .collect()
        }),
        probabilities: parts[0].probabilities.as_ref().map(|_| {
            stack(&|e| {
                e.probabilities
                    .as_ref()
                    .expect("every part has probabilities")
                    .view()
            })
        }),
    }
}
