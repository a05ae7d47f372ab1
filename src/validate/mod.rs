//! Runs an emitted graph with tract and compares every output with the
//! reference evaluator and, where recorded, with scikit-learn's own outputs.
//!
//! Errors are relative, `|a − b| / (1 + max|b|)` over a batch
//! ([`relative_error`]). Labels must agree on at least 99.9 % of rows, and
//! every disagreement must be a near tie: a row whose decision values are
//! within the tolerance of a vote flip (see `Evaluation::tie_margins`).
//!
//! [`validate`] reads the model's output contract (`Model::outputs`) and
//! hands each output the graph has to its check (`checks`); the measures
//! are in `compare`, the report types in `report`.

mod checks;
mod compare;
mod parallel;
mod report;

pub use compare::relative_error;
pub use report::{Beyond, BoundCheck, Comparison, LabelMismatch, Report};

use crate::facts::meta;
use crate::graph::ElemType;
use crate::ir::OutputOptions;
use crate::model::{Model, Samples};
use crate::reference::Evaluation;
use crate::run::{GraphOutputs, RunError, Runner};
use checks::Case;
use ndarray::{Array2, Axis};

/// Default tolerance of a graph of the given float type.
pub(crate) fn default_tolerance(float: ElemType) -> f64 {
    match float {
        ElemType::F64 => 1e-9,
        _ => 1e-4,
    }
}

/// Minimum share of rows whose labels must agree.
pub(crate) const MIN_LABEL_AGREEMENT: f64 = 0.999;

/// The batch name of the generated probe rows.
const PROBES: &str = "probes";

/// A set of input rows, with scikit-learn's outputs on them when recorded.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Where the rows came from: "samples", "probes" or a file name.
    pub name: String,
    /// The rows, one per sample, in the model's feature order.
    pub x: Array2<f64>,
    /// scikit-learn's (or LIBSVM's) outputs on these rows, if recorded.
    pub recorded: Option<Samples>,
}

/// The rows to validate on.
#[derive(Debug, Clone)]
pub enum Rows {
    /// The user's rows (`--data`), with no recorded outputs.
    Data(Array2<f64>),
    /// The samples recorded in the model file and generated probes
    /// (`probes` rows, default `probes::default_count`).
    Default {
        /// How many probe rows to generate.
        probes: Option<usize>,
    },
}

impl From<Option<Array2<f64>>> for Rows {
    fn from(data: Option<Array2<f64>>) -> Rows {
        match data {
            Some(x) => Rows::Data(x),
            None => Rows::Default { probes: None },
        }
    }
}

impl Rows {
    /// The batches these rows make for `model`.
    pub fn batches(self, model: &Model, samples: Option<&Samples>) -> Vec<Batch> {
        match self {
            Rows::Data(x) => vec![Batch {
                name: "data".into(),
                x,
                recorded: None,
            }],
            Rows::Default { probes } => default_batches_with(
                model,
                samples,
                probes.unwrap_or_else(|| crate::probes::default_count(model)),
            ),
        }
    }
}

/// Why validation could not be carried out (bad input, not a mismatch).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    /// The graph could not be loaded or run.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The graph's interface or outputs do not fit the model.
    #[error("the graph does not fit the reference model: {0}")]
    Mismatch(String),
    /// The reference is not finite on a row (batch name, row).
    #[error("the reference model's decision values are not finite on {0} row {1} (the kernel overflows)")]
    NonFinite(String, usize),
}

/// The rows `convert` and `validate` use when no data file is given: the
/// samples recorded in the model file, then generated probes.
pub fn default_batches(model: &Model, samples: Option<&Samples>) -> Vec<Batch> {
    default_batches_with(model, samples, crate::probes::default_count(model))
}

/// [`default_batches`] with `probes` generated rows.
pub fn default_batches_with(model: &Model, samples: Option<&Samples>, probes: usize) -> Vec<Batch> {
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
        x: crate::probes::probes(model, probes),
        recorded: None,
    });
    batches
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

/// Told `(rows_done, rows_in_all)` as validation goes.
pub type Progress<'a> = &'a dyn Fn(usize, usize);

/// Rows run and evaluated at a time: a batch above it is split, so that a
/// long validation can report progress and tract's N×S kernel block stays
/// bounded. Smaller batches run whole.
const ROWS_PER_STEP: usize = 1024;

/// Validation's fixed tolerance, and whether the user gave it.
///
/// A float32 graph's decision values pass when their error is within the
/// tolerance; with the default tolerance they also pass when it is within
/// what float32 arithmetic explains on the row (`reference::bound`), so
/// that only a graph beyond both is refused. A tolerance the user gave is
/// the limit: the bound is reported, and the diagnosis says when float32
/// explains an error the tolerance refuses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Relative to `1 + max|reference|` (absolute for probabilities).
    pub value: f64,
    /// Given by the user (`--tolerance`, `tolerance=`).
    pub explicit: bool,
}

impl Tolerance {
    /// The user's tolerance if given, else the default of `float`.
    pub fn given_or_default(given: Option<f64>, float: ElemType) -> Tolerance {
        match given {
            Some(value) => Tolerance {
                value,
                explicit: true,
            },
            None => Tolerance {
                value: default_tolerance(float),
                explicit: false,
            },
        }
    }
}

/// Runs the graph on every batch and compares its outputs, `tolerance`
/// being a default one (see [`Tolerance`]).
pub fn validate(
    runner: &Runner,
    model: &Model,
    batches: &[Batch],
    tolerance: f64,
) -> Result<Report, ValidateError> {
    validate_reporting(runner, model, batches, tolerance, None)
}

/// [`validate`], telling `progress` after each block of rows; `tolerance`
/// is taken as a default one (errors within the float32 bound pass, see
/// [`Tolerance`]).
pub fn validate_reporting(
    runner: &Runner,
    model: &Model,
    batches: &[Batch],
    tolerance: f64,
    progress: Option<Progress<'_>>,
) -> Result<Report, ValidateError> {
    let tolerance = Tolerance {
        value: tolerance,
        explicit: false,
    };
    validate_expecting(runner, model, batches, None, tolerance, progress)
}

/// The reference's side of a validation, computed before the graph exists
/// (`convert` evaluates it while it compiles and writes the graph): the
/// reference on every block of every batch, with float32 bounds or not.
#[derive(Debug)]
pub struct Expected {
    blocks: Vec<Vec<Evaluation>>,
    bounded: bool,
}

/// Rows up to which `convert` evaluates the reference ahead of the graph;
/// above it, block by block beside tract, so that progress shows.
pub const EXPECT_AHEAD_ROWS: usize = 4 * ROWS_PER_STEP;

impl Expected {
    /// Evaluates the reference on `batches` for a graph of float type
    /// `float` (a float32 graph's scores get their float32 bound).
    pub fn compute(model: &Model, batches: &[Batch], float: ElemType) -> Expected {
        let bounded = float != ElemType::F64;
        let blocks = batches
            .iter()
            .map(|b| {
                b.x.axis_chunks_iter(Axis(0), ROWS_PER_STEP)
                    .map(|rows| parallel::evaluate_in_parallel(model, rows, bounded))
                    .collect()
            })
            .collect();
        Expected { blocks, bounded }
    }
}

/// The reference evaluated elsewhere (a thread started before the graph
/// was written): called once tract has run, so that loading and running
/// the graph overlap with it.
pub type Pending<'a> = Box<dyn FnOnce() -> Expected + 'a>;

/// [`validate_reporting`] with the reference evaluated elsewhere
/// ([`Expected::compute`] on the same batches, waited for through
/// `expected` after tract has run); evaluated here when None or computed for
/// another float type.
pub fn validate_expecting(
    runner: &Runner,
    model: &Model,
    batches: &[Batch],
    expected: Option<Pending<'_>>,
    tolerance: Tolerance,
    progress: Option<Progress<'_>>,
) -> Result<Report, ValidateError> {
    check_interface(runner, model)?;
    for batch in batches {
        check_width(model, batch)?;
    }
    let bounded = runner.info().input_elem != ElemType::F64;
    let total: usize = batches.iter().map(|b| b.x.nrows()).sum();
    let mut done = 0;
    let mut step = |rows: usize| {
        done += rows;
        if let Some(progress) = progress {
            progress(done, total);
        }
    };
    let mut gathered = Vec::new();
    match expected {
        Some(pending) => {
            let mut outs = Vec::new();
            for batch in batches {
                let mut blocks = Vec::new();
                for rows in batch.x.axis_chunks_iter(Axis(0), ROWS_PER_STEP) {
                    blocks.push(runner.run(rows)?);
                    step(rows.nrows());
                }
                outs.push(blocks);
            }
            let expected = pending();
            let usable = expected.bounded == bounded && expected.blocks.len() == batches.len();
            let mut evals = expected.blocks.into_iter();
            for (batch, out) in batches.iter().zip(outs) {
                let eval = match evals.next().filter(|e| usable && e.len() == out.len()) {
                    Some(eval) => eval,
                    None => batch
                        .x
                        .axis_chunks_iter(Axis(0), ROWS_PER_STEP)
                        .map(|rows| parallel::evaluate_in_parallel(model, rows, bounded))
                        .collect(),
                };
                gathered.push((out, eval));
            }
        }
        None => {
            for batch in batches {
                gathered.push(side_by_side(runner, model, batch, bounded, &mut step)?);
            }
        }
    }
    let mut comparisons = Vec::new();
    for (batch, (outs, evals)) in batches.iter().zip(gathered) {
        comparisons.extend(check_batch(runner, model, batch, outs, evals, tolerance)?);
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
        tolerance: tolerance.value,
        tolerance_given: tolerance.explicit,
        comparisons,
        passed,
    })
}

/// A batch must have rows, and be as wide as the model's input (checked
/// before any evaluation: the reference indexes rows by the model's width).
pub fn check_width(model: &Model, batch: &Batch) -> Result<(), ValidateError> {
    if batch.x.nrows() == 0 {
        return Err(ValidateError::Mismatch(format!(
            "{} has no rows",
            batch.name
        )));
    }
    if batch.x.ncols() != model.n_features() {
        return Err(ValidateError::Mismatch(format!(
            "{} rows have {} columns, the model expects {}",
            batch.name,
            batch.x.ncols(),
            model.n_features()
        )));
    }
    Ok(())
}

/// tract and the reference on one batch, block by block, side by side:
/// neither needs the other until the comparison.
fn side_by_side(
    runner: &Runner,
    model: &Model,
    batch: &Batch,
    bounded: bool,
    step: &mut dyn FnMut(usize),
) -> Result<(Vec<GraphOutputs>, Vec<Evaluation>), ValidateError> {
    let (mut outs, mut evals) = (Vec::new(), Vec::new());
    for rows in batch.x.axis_chunks_iter(Axis(0), ROWS_PER_STEP) {
        let (out, eval) = std::thread::scope(|scope| {
            let graph = scope.spawn(|| runner.run(rows));
            let eval = parallel::evaluate_in_parallel(model, rows, bounded);
            (graph.join(), eval)
        });
        outs.push(out.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?);
        evals.push(eval);
        step(rows.nrows());
    }
    Ok((outs, evals))
}

/// Checks each output of the graph on one batch: those the contract lists
/// against their spec, any other against the shape validate has always
/// accepted for it (`checks::unlisted_spec`). Contract outputs the graph
/// lacks are not reported: a graph written with `--outputs` keeps a subset.
fn check_batch(
    runner: &Runner,
    model: &Model,
    batch: &Batch,
    outs: Vec<GraphOutputs>,
    evals: Vec<Evaluation>,
    tolerance: Tolerance,
) -> Result<Vec<Comparison>, ValidateError> {
    let out = GraphOutputs::concat(outs);
    let eval = parallel::stack(evals);
    if let Some(i) = eval.scores.iter().position(|v| !v.is_finite()) {
        return Err(ValidateError::NonFinite(
            batch.name.clone(),
            i / eval.scores.ncols().max(1),
        ));
    }
    let info = runner.info();
    let as_index = info.meta(meta::LABEL_OUTPUT) == Some("index");
    let contract = model.outputs(&OutputOptions {
        label_index: as_index,
    });
    let classes = model.label_classes();
    let case = Case {
        inputs: &batch.name,
        rows: batch.x.nrows(),
        eval: &eval,
        recorded: batch.recorded.as_ref(),
        classes: classes.as_ref(),
        as_index,
        float: info.input_elem,
        tolerance: tolerance.value,
        within_bound_passes: !tolerance.explicit,
    };
    let mut comparisons = Vec::new();
    for kind in checks::REPORT_ORDER {
        let spec = match contract.iter().find(|s| s.kind == kind) {
            Some(spec) => spec.clone(),
            None => checks::unlisted_spec(kind, &eval),
        };
        if let Some(found) = checks::check(&case, &spec, &out) {
            comparisons.extend(found?);
        }
    }
    Ok(comparisons)
}
