//! The output contract: which outputs a model's graph has, in which order,
//! with which element type and shape, and which scikit-learn (or LIBSVM)
//! method each reproduces. Each family states it once
//! (`crate::model::Model::outputs`); lowering names the graph's outputs
//! from it, and inspect, validate, the doc string and the emitters read it.

use super::Classes;
use crate::facts;

/// Which method of the fitted estimator an output reproduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputKind {
    /// `predict` of a classifier or novelty detector: the class labels.
    Label,
    /// `decision_function` (LIBSVM: `svm_predict_values`).
    Scores,
    /// `predict_proba` (LIBSVM: `svm_predict_probability`).
    Probabilities,
    /// LIBSVM only: the label `svm-predict -b 1` prints.
    ProbabilityLabel,
    /// `predict` of a regressor.
    Prediction,
}

impl OutputKind {
    /// The output's name in the graph.
    pub fn name(self) -> &'static str {
        match self {
            OutputKind::Label => facts::LABEL,
            OutputKind::Scores => facts::SCORES,
            OutputKind::Probabilities => facts::PROBABILITIES,
            OutputKind::ProbabilityLabel => facts::PROBABILITY_LABEL,
            OutputKind::Prediction => facts::PREDICTION,
        }
    }

    /// The kind an output name stands for.
    pub fn from_name(name: &str) -> Option<OutputKind> {
        [
            OutputKind::Label,
            OutputKind::Scores,
            OutputKind::Probabilities,
            OutputKind::ProbabilityLabel,
            OutputKind::Prediction,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// Element type of a label output: the labels' own type, or int64 class
/// indices with `--label-index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelType {
    /// int64: integer labels, or class indices.
    Int64,
    /// The graph's float type: labels that are non-integer numbers.
    Float,
    /// Strings.
    Str,
}

/// Element type of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputType {
    /// A label column.
    Label(LabelType),
    /// The graph's float type (f32 or f64).
    Float,
}

/// Shape of an output; N is the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputShape {
    /// `[N]`
    Rows,
    /// `[N, width]`
    RowsBy(usize),
}

impl OutputShape {
    /// Columns per row: 1 for `[N]`.
    pub fn width(self) -> usize {
        match self {
            OutputShape::Rows => 1,
            OutputShape::RowsBy(w) => w,
        }
    }
}

impl std::fmt::Display for OutputShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutputShape::Rows => f.write_str("[N]"),
            OutputShape::RowsBy(w) => write!(f, "[N, {w}]"),
        }
    }
}

/// Options that change the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OutputOptions {
    /// `label` (and `probability_label`) as int64 class indices.
    pub label_index: bool,
}

/// One output of a model's graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// What it reproduces; its name is `kind.name()`.
    pub kind: OutputKind,
    /// Its element type.
    pub ty: OutputType,
    /// Its shape.
    pub shape: OutputShape,
    /// The method it equals, as the doc string and inspect print it
    /// (`predict`, `decision_function`, `svm_predict_values`, …).
    pub method: &'static str,
}

impl OutputSpec {
    /// The output's name in the graph.
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// The doc-string clause for a list of outputs: "output `prediction` (=
/// predict)" or "outputs `label` (= predict) and `scores` (= …)".
pub(crate) fn describe_outputs(specs: &[OutputSpec]) -> String {
    let items: Vec<String> = specs
        .iter()
        .map(|s| format!("`{}` (= {})", s.name(), s.method))
        .collect();
    match items.as_slice() {
        [one] => format!("output {one}"),
        [init @ .., last] => format!("outputs {} and {last}", init.join(", ")),
        [] => "no outputs".into(),
    }
}

/// The element type of a label output for these classes.
pub fn label_type(classes: &Classes, label_index: bool) -> LabelType {
    if label_index {
        return LabelType::Int64;
    }
    match classes {
        Classes::Int(_) => LabelType::Int64,
        Classes::Float(_) => LabelType::Float,
        Classes::Str(_) => LabelType::Str,
    }
}
