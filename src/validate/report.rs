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
    /// Whether the output is within the tolerance.
    pub passed: bool,
}

/// The outcome of a validation run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The graph's float type: "f32" or "f64".
    pub dtype: &'static str,
    /// The tolerance every comparison was held to.
    pub tolerance: f64,
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

impl Comparison {
    /// The end of the comparison's line in [`Report::render`]: its errors
    /// or its label agreement.
    fn detail(&self) -> String {
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
