//! What validation found: one [`Comparison`] per output, batch and source
//! of truth, gathered in a [`Report`] that renders as a table or serialises
//! as JSON (`--json`).

use serde::Serialize;

/// A label that differs between the graph and what it is compared with.
#[derive(Debug, Clone, Serialize)]
pub struct LabelMismatch {
    /// The row of the batch.
    pub row: usize,
    /// The graph's label, or its raw value followed by "(not a class)".
    pub got: String,
    /// The label of the source of truth.
    pub expected: String,
    /// Distance of the row from a vote flip, in decision-value units.
    pub tie_margin: f64,
    /// Whether the row is within the tolerance of a flip, where a graph of
    /// lower precision may fall either way.
    pub near_tie: bool,
}

/// One output compared on one batch against one source of truth.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The batch: "samples", "probes", "data" or a file name.
    pub inputs: String,
    /// The graph output compared (`label`, `scores`, …).
    pub output: &'static str,
    /// The source of truth: "reference" or "scikit-learn".
    pub against: &'static str,
    /// Rows compared.
    pub rows: usize,
    /// Largest absolute error (numeric outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_abs_error: Option<f64>,
    /// Largest relative error, see [`super::relative_error`] (outputs
    /// compared by relative error: `scores`, `prediction`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_rel_error: Option<f64>,
    /// The row of the largest absolute error (numeric outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst_row: Option<usize>,
    /// Share of rows whose labels agree (label outputs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_agreement: Option<f64>,
    /// The rows whose labels differ (label outputs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub label_mismatches: Vec<LabelMismatch>,
    /// For a float32 graph's decision values: their errors against the
    /// error float32 arithmetic explains on each row (`reference::bound`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f32_bound: Option<BoundCheck>,
    /// Whether the output is within the tolerance, or (with a float32
    /// bound) every element within the tolerance or its bound.
    pub passed: bool,
}

/// A float32 output's errors against the float32 error model: an element
/// within the tolerance passes; one beyond it but within its bound is
/// `explained` (the model is ill-conditioned there: float32 cannot do
/// better); one beyond both fails.
#[derive(Debug, Clone, Serialize)]
pub struct BoundCheck {
    /// The largest error/bound ratio over the elements (≤ 1: every error
    /// is within what float32 explains).
    pub max_ratio: f64,
    /// The row of `max_ratio`.
    pub ratio_row: usize,
    /// The bound on that row.
    pub bound_at_max_ratio: f64,
    /// The largest bound over the batch.
    pub max_bound: f64,
    /// Elements beyond the tolerance but within their bound.
    pub explained: usize,
    /// Elements beyond both (failures).
    pub beyond: usize,
    /// The first of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_beyond: Option<Beyond>,
}

/// An element whose error is beyond the tolerance and its float32 bound.
#[derive(Debug, Clone, Serialize)]
pub struct Beyond {
    /// The row of the batch.
    pub row: usize,
    /// Its absolute error.
    pub error: f64,
    /// What float32 explains on it.
    pub bound: f64,
    /// Whether the bound itself exceeds the tolerance (the model is
    /// ill-conditioned in float32 there); otherwise the row is
    /// well-conditioned and its error points at a bug.
    pub ill_conditioned: bool,
}

/// The outcome of a validation run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The graph's float type: "f32" or "f64".
    pub dtype: &'static str,
    /// The tolerance every comparison was held to.
    pub tolerance: f64,
    /// Whether the user gave it (then errors float32 explains beyond it
    /// fail too; see `validate::Tolerance`).
    pub tolerance_given: bool,
    /// Every comparison made, batch by batch.
    pub comparisons: Vec<Comparison>,
    /// Whether every comparison passed.
    pub passed: bool,
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
            s.push_str(&format!(
                "  {verdict} {:<7} vs {:<12} on {:>5} {:<8} {}\n",
                c.output,
                c.against,
                c.rows,
                c.inputs,
                c.detail()
            ));
            if let Some(b) = c.f32_bound.as_ref().and_then(|b| b.first_beyond.as_ref()) {
                s.push_str(&format!(
                    "         row {}: error {:.2e} beyond the float32 bound {:.2e}{}\n",
                    b.row,
                    b.error,
                    b.bound,
                    if b.ill_conditioned {
                        " (ill-conditioned row)"
                    } else {
                        ""
                    }
                ));
            }
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

impl Report {
    /// Why a failed validation failed, in one sentence for the error
    /// message: an error beyond what float32 explains on a well-conditioned
    /// row points at a bug; on an ill-conditioned one, at the model. None
    /// when it passed or no float32 bound was involved.
    pub fn diagnosis(&self) -> Option<String> {
        if self.passed {
            return None;
        }
        let failing = self
            .comparisons
            .iter()
            .filter(|c| !c.passed)
            .find_map(|c| Some((c, c.f32_bound.as_ref()?)));
        let (c, bound) = failing?;
        let Some(b) = bound.first_beyond.as_ref() else {
            // Failed against the user's tolerance, within the bound.
            return Some(format!(
                "every error beyond the tolerance in {} on {} is within what float32 \
                 arithmetic explains on its row (largest error {:.2e}): the tolerance asked \
                 for, {:e}, is more than float32 can promise on this model",
                c.output,
                c.inputs,
                c.max_abs_error.unwrap_or(0.0),
                self.tolerance
            ));
        };
        Some(if b.ill_conditioned {
            format!(
                "the model is ill-conditioned in float32: on {} row {} float32 arithmetic explains \
                 an error of {:.2e} in {}, more than the tolerance, and the graph's error {:.2e} \
                 is beyond even that",
                c.inputs, b.row, b.bound, c.output, b.error
            )
        } else {
            format!(
                "on {} row {} the graph's error in {} ({:.2e}) is beyond what float32 \
                 arithmetic explains there ({:.2e}) on a well-conditioned row: likely a bug in \
                 svm2onnx or a wrong graph, please report it",
                c.inputs, b.row, c.output, b.error, b.bound
            )
        })
    }
}

impl Comparison {
    /// The end of the comparison's line in [`Report::render`]: its errors
    /// or its label agreement.
    fn detail(&self) -> String {
        let mut s = self.errors();
        if let Some(b) = &self.f32_bound {
            let ratio = if b.max_ratio > 0.0 && b.max_ratio < 0.01 {
                format!("{:.1e}", b.max_ratio)
            } else {
                format!("{:.2}", b.max_ratio)
            };
            // With every error 0 no row has a ratio: show the largest bound.
            let bound = if b.max_ratio > 0.0 {
                b.bound_at_max_ratio
            } else {
                b.max_bound
            };
            s.push_str(&format!("; f32 bound {bound:.2e}, error/bound {ratio}"));
            if b.explained > 0 {
                s.push_str(&format!(
                    ", {} beyond the tolerance within the bound",
                    b.explained
                ));
            }
        }
        s
    }

    /// The errors or the label agreement.
    fn errors(&self) -> String {
        match (self.max_rel_error, self.label_agreement) {
            (None, None) => format!(
                "max abs err {:.2e} (worst row {})",
                self.max_abs_error.unwrap_or(0.0),
                self.worst_row.unwrap_or(0)
            ),
            (Some(rel), _) => format!(
                "max rel err {rel:.2e} (abs {:.2e}, worst row {})",
                self.max_abs_error.unwrap_or(0.0),
                self.worst_row.unwrap_or(0)
            ),
            (None, Some(agree)) => {
                let near = self.label_mismatches.iter().filter(|m| m.near_tie).count();
                format!(
                    "agreement {:.4}% ({} differ, {near} of them near ties)",
                    100.0 * agree,
                    self.label_mismatches.len()
                )
            }
        }
    }
}
