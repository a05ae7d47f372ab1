//! One check per output kind. Each is given the graph's output, the spec
//! the contract states for it and a [`Case`] (the reference evaluation,
//! scikit-learn's recorded outputs if any, the tolerance), and returns its
//! comparisons: against the reference, then against scikit-learn when the
//! batch recorded the matching method.

use super::compare::{
    compare_labels, compare_numbers, graph_label_indices, probability_gaps, LabelPair, Margins,
    Measure,
};
use super::report::Comparison;
use super::ValidateError;
use crate::graph::ElemType;
use crate::ir::{OutputKind, OutputShape, OutputSpec, OutputType};
use crate::model::{Classes, Label, Samples};
use crate::reference::Evaluation;
use crate::run::{GraphOutputs, LabelColumn};
use ndarray::{Array2, ArrayView2};

/// What every check compares against on one batch.
pub(crate) struct Case<'a> {
    /// The batch's name, for the comparisons.
    pub(crate) inputs: &'a str,
    /// Rows in the batch.
    pub(crate) rows: usize,
    /// The f64 reference on the batch.
    pub(crate) eval: &'a Evaluation,
    /// scikit-learn's outputs on the batch, when recorded.
    pub(crate) recorded: Option<&'a Samples>,
    /// The model's classes (None for regressors).
    pub(crate) classes: Option<&'a Classes>,
    /// The graph's labels are class indices (`--label-index`).
    pub(crate) as_index: bool,
    /// The graph's float type.
    pub(crate) float: ElemType,
    /// The tolerance of every comparison.
    pub(crate) tolerance: f64,
    /// Whether an error beyond the tolerance but within the float32 bound
    /// passes (the default tolerance; not one the user gave).
    pub(crate) within_bound_passes: bool,
}

/// The order in which a batch's outputs are checked and reported, whatever
/// the order of the contract (reports have always listed them so).
pub(crate) const REPORT_ORDER: [OutputKind; 5] = [
    OutputKind::Scores,
    OutputKind::Probabilities,
    OutputKind::Prediction,
    OutputKind::Label,
    OutputKind::ProbabilityLabel,
];

/// The spec an output the contract does not list is held to, so that such
/// an output (from a graph of another model with the same interface) is
/// reported as validate always has: `scores` must be one column,
/// `probabilities` and `prediction` as wide as the reference's, labels one
/// per row; the checks themselves say when the reference lacks the output.
pub(crate) fn unlisted_spec(kind: OutputKind, eval: &Evaluation) -> OutputSpec {
    let shape = match kind {
        OutputKind::Scores | OutputKind::Label | OutputKind::ProbabilityLabel => OutputShape::Rows,
        OutputKind::Probabilities => {
            OutputShape::RowsBy(eval.probabilities.as_ref().map_or(0, |p| p.ncols()))
        }
        OutputKind::Prediction => OutputShape::RowsBy(eval.scores.ncols()),
    };
    OutputSpec {
        kind,
        ty: OutputType::Float,
        shape,
        method: "",
    }
}

/// Runs the check of `spec`'s kind, or returns None when the graph lacks
/// that output (a graph written with `--outputs` keeps a subset).
pub(crate) fn check(
    case: &Case,
    spec: &OutputSpec,
    out: &GraphOutputs,
) -> Option<Result<Vec<Comparison>, ValidateError>> {
    Some(match spec.kind {
        OutputKind::Scores => scores(case, spec, out.scores.as_ref()?),
        OutputKind::Probabilities => probabilities(case, spec, out.probabilities.as_ref()?),
        OutputKind::Prediction => prediction(case, spec, out.prediction.as_ref()?),
        OutputKind::Label => label(case, out.label.as_ref()?),
        OutputKind::ProbabilityLabel => probability_label(case, out.probability_label.as_ref()?),
    })
}

/// Checks that a numeric output is `rows × spec.shape.width()`.
fn check_shape(
    case: &Case,
    spec: &OutputSpec,
    got: &Array2<f64>,
    message: impl FnOnce(usize) -> String,
) -> Result<(), ValidateError> {
    let width = spec.shape.width();
    if got.ncols() != width || got.nrows() != case.rows {
        return Err(ValidateError::Mismatch(message(width)));
    }
    Ok(())
}

/// `scores` (`decision_function`): relative error.
fn scores(
    case: &Case,
    spec: &OutputSpec,
    got: &Array2<f64>,
) -> Result<Vec<Comparison>, ValidateError> {
    check_shape(case, spec, got, |width| {
        format!(
            "scores has shape {}x{}, expected {}x{width}",
            got.nrows(),
            got.ncols(),
            case.rows
        )
    })?;
    let recorded = case.recorded.and_then(|r| r.decision_function.as_ref());
    Ok(against_both(
        case,
        Measure::Relative,
        spec,
        got,
        case.eval.scores.view(),
        recorded.map(|r| r.view()),
    ))
}

/// `probabilities` (`predict_proba`): absolute error.
fn probabilities(
    case: &Case,
    spec: &OutputSpec,
    got: &Array2<f64>,
) -> Result<Vec<Comparison>, ValidateError> {
    let want = case.eval.probabilities.as_ref().ok_or_else(|| {
        ValidateError::Mismatch("the graph has probabilities, the model no Platt parameters".into())
    })?;
    check_shape(case, spec, got, |width| {
        format!(
            "probabilities has shape {}x{}, expected {}x{width}",
            got.nrows(),
            got.ncols(),
            case.rows
        )
    })?;
    let recorded = case.recorded.and_then(|r| r.predict_proba.as_ref());
    Ok(against_both(
        case,
        Measure::Absolute,
        spec,
        got,
        want.view(),
        recorded.map(|r| r.view()),
    ))
}

/// A regressor's `prediction` (`predict`): relative error; scikit-learn's
/// recorded `predict` is a column of numbers.
fn prediction(
    case: &Case,
    spec: &OutputSpec,
    got: &Array2<f64>,
) -> Result<Vec<Comparison>, ValidateError> {
    check_shape(case, spec, got, |_| {
        format!(
            "prediction has {} rows for {} inputs",
            got.nrows(),
            case.rows
        )
    })?;
    // scikit-learn's recorded `predict` of a regressor is a column of numbers.
    let recorded = case
        .recorded
        .and_then(|r| r.predict.as_ref())
        .map(|labels| {
            let want: Vec<f64> = labels
                .iter()
                .map(|l| match l {
                    Label::Int(i) => *i as f64,
                    Label::Float(f) => *f,
                    Label::Str(_) => f64::NAN,
                })
                .collect();
            Array2::from_shape_vec((want.len(), 1), want).expect("one column")
        });
    Ok(against_both(
        case,
        Measure::Relative,
        spec,
        got,
        case.eval.scores.view(),
        recorded.as_ref().map(|r| r.view()),
    ))
}

/// A numeric output against the reference, then against scikit-learn's
/// recorded values when the batch has them.
fn against_both(
    case: &Case,
    measure: Measure,
    spec: &OutputSpec,
    got: &Array2<f64>,
    reference: ArrayView2<f64>,
    recorded: Option<ArrayView2<f64>>,
) -> Vec<Comparison> {
    // The float32 bound is of the decision values (`scores`, a regressor's
    // `prediction`); probabilities are held to the tolerance alone.
    let bound = match measure {
        Measure::Relative => case.eval.f32_bound.as_ref().map(|b| b.scores.view()),
        Measure::Absolute => None,
    };
    let compare = |against, want| {
        compare_numbers(
            measure,
            spec.name(),
            case.inputs,
            against,
            (got.view(), want),
            bound.map(|b| (b, case.within_bound_passes)),
            case.tolerance,
        )
    };
    let mut c = vec![compare("reference", reference)];
    if let Some(want) = recorded {
        c.push(compare("scikit-learn", want));
    }
    c
}

/// Reads a label column as class indices, one per row.
fn label_indices(
    case: &Case,
    classes: &Classes,
    name: &str,
    column: &LabelColumn,
) -> Result<Vec<(Option<usize>, String)>, ValidateError> {
    let got = graph_label_indices(classes, column, case.as_index, case.float);
    if got.len() != case.rows {
        return Err(ValidateError::Mismatch(format!(
            "{name} has {} rows for {} inputs",
            got.len(),
            case.rows
        )));
    }
    Ok(got)
}

/// `label` (`predict`): agreement, disagreements only at decision ties. A
/// model without classes (a regressor) has nothing to compare it with.
fn label(case: &Case, column: &LabelColumn) -> Result<Vec<Comparison>, ValidateError> {
    let Some(classes) = case.classes else {
        return Ok(Vec::new());
    };
    let name = OutputKind::Label.name();
    let got = label_indices(case, classes, name, column)?;
    let margins = Margins::of_decision(case.eval);
    let expected = &case.eval.label_index;
    let mut c = vec![compare_labels(
        name,
        classes,
        &margins,
        (case.inputs, "reference"),
        LabelPair {
            got: &got,
            expected,
        },
        case.tolerance,
    )];
    if let Some(want) = case.recorded.and_then(|r| r.predict.as_ref()) {
        let want: Vec<usize> = want
            .iter()
            .map(|l| classes.index_of(l).unwrap_or(usize::MAX))
            .collect();
        c.push(compare_labels(
            name,
            classes,
            &margins,
            (case.inputs, "scikit-learn"),
            LabelPair {
                got: &got,
                expected: &want,
            },
            case.tolerance,
        ));
    }
    Ok(c)
}

/// `probability_label`, LIBSVM `svm-predict -b 1`'s label: the argmax of
/// the probabilities (§7); disagreements only where the two largest
/// probabilities are within the tolerance.
fn probability_label(case: &Case, column: &LabelColumn) -> Result<Vec<Comparison>, ValidateError> {
    let (Some(classes), Some(want), Some(p)) = (
        case.classes,
        case.eval.probability_label.as_ref(),
        case.eval.probabilities.as_ref(),
    ) else {
        return Err(ValidateError::Mismatch(
            "the graph has probability_label, the model no LIBSVM probabilities".into(),
        ));
    };
    let name = OutputKind::ProbabilityLabel.name();
    let got = label_indices(case, classes, name, column)?;
    let gaps = probability_gaps(p);
    let margins = Margins {
        per_row: &gaps,
        scale: 1.0,
        bound: None,
    };
    Ok(vec![compare_labels(
        name,
        classes,
        &margins,
        (case.inputs, "reference"),
        LabelPair {
            got: &got,
            expected: want,
        },
        case.tolerance,
    )])
}
