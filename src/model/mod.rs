//! The estimator families: one module per family, each holding its struct
//! (private fields, one checked constructor enforcing every invariant of
//! SVM_SEMANTICS.md), its output contract, its lowering to graph ops and its
//! f64 reference evaluation. [`Model`] is the registry that dispatches to
//! them; the shared parts (kernels, classes, pipeline steps, errors) are in
//! [`crate::ir`] and re-exported here.
//!
//! Adding a family: a new file implementing the `Family` trait, a variant of
//! [`Model`] with its arm in `dispatch!`, and the loaders that build it
//! (docs/ARCHITECTURE.md).

mod calibrated;
mod dual;
mod linear;
mod svc;

pub use crate::ir::*;
pub use calibrated::{CalibratedMember, CalibratedModel, CalibratedParts};
pub use dual::{DualKind, DualModel, DualParts, DENSITY_MARKS};
pub use linear::{LinearEstimator, LinearModel, LinearParts, SgdLoss};
pub use svc::{SvmModel, SvmParts};

use crate::facts::meta;
use crate::graph::{Dim, Graph, Value};
use crate::lower::{self, LowerOptions, OutputSink};
use crate::reference::Evaluation;
use ndarray::{Array2, ArrayView2};
use std::sync::Arc;

/// What every estimator family provides. One implementation per family,
/// in that family's module.
pub(crate) trait Family {
    /// The estimator's name: scikit-learn's class name, or LIBSVM's svm_type.
    fn name(&self) -> &'static str;
    /// A short description for reports and error context.
    fn describe(&self) -> String;
    /// Input width, before any pipeline step.
    fn n_features(&self) -> usize;
    /// The kernel, for kernel models.
    fn kernel(&self) -> Option<&Kernel>;
    /// Pipeline steps in front of the estimator (applied by the caller).
    fn preprocessing(&self) -> &[Preprocess];
    /// The scikit-learn version that pickled it, when known.
    fn sklearn_version(&self) -> Option<&str>;
    /// What the graph computes.
    fn task(&self) -> Task;
    /// The labels `label` takes.
    fn label_classes(&self) -> Option<Classes>;
    /// Family-specific facts for `inspect`, as (key, value) lines.
    fn details(&self) -> Vec<(&'static str, String)>;
    /// The output contract, in graph order.
    fn outputs(&self, options: &OutputOptions) -> Vec<OutputSpec>;
    /// Family-specific metadata, written after `label_output` and before
    /// `preprocessing` (docs/GRAPH.md).
    fn metadata(&self) -> Vec<(&'static str, String)>;
    /// Points around which validation probes are placed, with a group per
    /// row (points of different groups get midpoints).
    fn anchor_points(&self) -> (Arc<Array2<f64>>, Vec<usize>);
    /// Builds the graph from the (preprocessed) input `x`; every output goes
    /// through `out`, which names and types it from [`Family::outputs`].
    fn lower(&self, g: &mut Graph, x: Value, out: &mut OutputSink<'_>);
    /// scikit-learn's outputs on a (preprocessed) batch, in f64.
    fn evaluate(&self, x: ArrayView2<f64>) -> Evaluation;
    /// [`Family::evaluate`] with the float32 bound of the scores
    /// (`Evaluation::f32_bound`, `reference::bound`) where the family has
    /// an error model; `input_error[r]` is row r's input error (a norm).
    fn evaluate_bounded(&self, x: ArrayView2<f64>, input_error: &[f64]) -> Evaluation {
        let _ = input_error;
        self.evaluate(x)
    }
}

/// Any model svm2onnx compiles.
// One Model exists per conversion; boxing the larger variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Model {
    /// SVC and NuSVC (one-vs-one classifiers).
    Svc(SvmModel),
    /// SVR, NuSVR and OneClassSVM.
    Dual(DualModel),
    /// LinearSVC, LinearSVR, SGDClassifier, SGDRegressor and SGDOneClassSVM.
    Linear(LinearModel),
    /// CalibratedClassifierCV.
    Calibrated(CalibratedModel),
}

/// Calls the same [`Family`] method on whichever family `$model` holds: the
/// one place that lists the families.
macro_rules! dispatch {
    ($model:expr, $m:ident => $call:expr) => {
        match $model {
            Model::Svc($m) => $call,
            Model::Dual($m) => $call,
            Model::Linear($m) => $call,
            Model::Calibrated($m) => $call,
        }
    };
}

impl From<SvmModel> for Model {
    fn from(m: SvmModel) -> Model {
        Model::Svc(m)
    }
}
impl From<DualModel> for Model {
    fn from(m: DualModel) -> Model {
        Model::Dual(m)
    }
}
impl From<LinearModel> for Model {
    fn from(m: LinearModel) -> Model {
        Model::Linear(m)
    }
}
impl From<CalibratedModel> for Model {
    fn from(m: CalibratedModel) -> Model {
        Model::Calibrated(m)
    }
}

impl Model {
    /// Checks and builds an SVR, NuSVR or OneClassSVM.
    pub fn dual(parts: DualParts) -> Result<Model, ModelError> {
        DualModel::new(parts).map(Model::Dual)
    }

    /// Checks and builds a LinearSVC, LinearSVR or SGD model.
    pub fn linear(parts: LinearParts) -> Result<Model, ModelError> {
        LinearModel::new(parts).map(Model::Linear)
    }

    /// Checks and builds a CalibratedClassifierCV.
    pub fn calibrated(parts: CalibratedParts) -> Result<Model, ModelError> {
        CalibratedModel::new(parts).map(Model::Calibrated)
    }

    fn family(&self) -> &dyn Family {
        dispatch!(self, m => m as &dyn Family)
    }

    /// scikit-learn's class name, or `LIBSVM <svm_type>`.
    pub fn name(&self) -> &'static str {
        self.family().name()
    }

    /// What the graph computes.
    pub fn task(&self) -> Task {
        self.family().task()
    }

    /// The SVC/NuSVC model, if that is what this is.
    pub fn svc(&self) -> Option<&SvmModel> {
        match self {
            Model::Svc(m) => Some(m),
            _ => None,
        }
    }

    /// Input width, before any pipeline step.
    pub fn n_features(&self) -> usize {
        self.family().n_features()
    }

    /// The kernel, for kernel models (the base's, for a calibrated one).
    pub fn kernel(&self) -> Option<&Kernel> {
        self.family().kernel()
    }

    /// Pipeline steps in front of the estimator. A calibrated classifier's
    /// members each apply their own, so it has none of its own.
    pub fn preprocessing(&self) -> &[Preprocess] {
        self.family().preprocessing()
    }

    /// The scikit-learn version that pickled the model, when known.
    pub fn sklearn_version(&self) -> Option<&str> {
        self.family().sklearn_version()
    }

    /// The labels `label` takes: `classes_`, or [−1, 1] for OneClassSVM.
    pub fn label_classes(&self) -> Option<Classes> {
        self.family().label_classes()
    }

    /// The graph's outputs, in order: the one statement of the contract
    /// that lowering, validate, inspect and the docs follow.
    pub fn outputs(&self, options: &OutputOptions) -> Vec<OutputSpec> {
        self.family().outputs(options)
    }

    /// Points around which validation probes are placed (support vectors,
    /// or the coefficient rows of a linear model), with a group per row.
    pub fn anchor_points(&self) -> (Arc<Array2<f64>>, Vec<usize>) {
        self.family().anchor_points()
    }

    /// Family-specific facts for `inspect` (support vectors, decision
    /// shape, calibration, …), as (key, value) lines.
    pub fn details(&self) -> Vec<(&'static str, String)> {
        self.family().details()
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        self.family().describe()
    }

    /// The pipeline and the estimator, for one-line reports:
    /// `StandardScaler -> SVC (rbf kernel, …)`.
    pub fn describe_pipeline(&self) -> String {
        let mut steps: Vec<String> = self
            .preprocessing()
            .iter()
            .map(|p| p.name().to_string())
            .collect();
        steps.push(self.describe());
        steps.join(" -> ")
    }

    /// The metadata_props of the compiled graph, in the order written.
    pub fn metadata(&self, float_name: &str, label_index: bool) -> Vec<(String, String)> {
        let mut m = vec![(meta::ESTIMATOR, self.name().to_string())];
        if let Some(kernel) = self.kernel() {
            m.push((meta::KERNEL, kernel.name().to_string()));
        }
        if let Some(classes) = self.label_classes() {
            m.push((meta::CLASSES, classes.to_json()));
        }
        m.push((meta::DTYPE, float_name.to_string()));
        if self.task() != Task::Regress {
            let label = if label_index { "index" } else { "class" };
            m.push((meta::LABEL_OUTPUT, label.to_string()));
        }
        m.extend(self.family().metadata());
        if !self.preprocessing().is_empty() {
            let steps: Vec<String> = self.preprocessing().iter().map(|p| p.describe()).collect();
            m.push((meta::PREPROCESSING, steps.join(" -> ")));
        }
        if let Some(v) = self.sklearn_version() {
            m.push((meta::SKLEARN_VERSION, v.to_string()));
        }
        m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// Builds the graph: input `X` [N, d], the pipeline steps, then the
    /// family's ops, with the outputs of [`Model::outputs`].
    pub(crate) fn lower(&self, options: &LowerOptions) -> Graph {
        let mut g = Graph::new(options.float, options.opset);
        let x = g.input(
            crate::facts::INPUT,
            options.float.elem(),
            vec![Dim::Batch, Dim::Fixed(self.n_features())],
        );
        let x = lower::preprocess::apply(&mut g, x, self.preprocessing());
        let specs = self.outputs(&OutputOptions {
            label_index: options.label_index,
        });
        let classes = self.label_classes();
        let mut sink = OutputSink::new(&specs, classes.as_ref(), options);
        self.family().lower(&mut g, x, &mut sink);
        sink.finish();
        g
    }

    /// Evaluates the model's outputs on a batch in f64, as scikit-learn
    /// (or LIBSVM) computes them: the executable specification.
    pub fn evaluate(&self, x: ArrayView2<f64>) -> Evaluation {
        if self.preprocessing().is_empty() {
            return self.family().evaluate(x);
        }
        self.family().evaluate(self.preprocess(x).view())
    }

    /// [`Model::evaluate`] with, where the family has an error model, the
    /// error a float32 graph may honestly carry on each score
    /// (`reference::bound`). The input's error is its rounding to float32,
    /// carried through the pipeline's steps by evaluating them again on the
    /// input moved by one unit roundoff per feature (alternating signs), plus
    /// the steps' own rounding of their output.
    pub fn evaluate_bounded(&self, x: ArrayView2<f64>) -> Evaluation {
        use crate::reference::bound::{input_rounding, UNIT_ROUNDOFF_F32};
        if self.preprocessing().is_empty() {
            return self.family().evaluate_bounded(x, &input_rounding(x));
        }
        // Each step's own rounding (unit roundoff times its magnitude) …
        let (magnitude, t) = crate::ir::steps_magnitude(self.preprocessing(), x.to_owned());
        let mut input_error: Vec<f64> = magnitude.iter().map(|m| UNIT_ROUNDOFF_F32 * m).collect();
        // … plus the input's rounding carried through all of them.
        let moved = ndarray::Array2::from_shape_fn(x.dim(), |(r, j)| {
            let sign = if (r + j) % 2 == 0 { 1.0 } else { -1.0 };
            x[[r, j]] * (1.0 + sign * UNIT_ROUNDOFF_F32)
        });
        let t_moved = self.preprocess(moved.view());
        for ((e, a), b) in input_error
            .iter_mut()
            .zip(t.outer_iter())
            .zip(t_moved.outer_iter())
        {
            let moved: f64 = a
                .iter()
                .zip(b)
                .map(|(p, q)| {
                    if (p - q).is_nan() {
                        0.0
                    } else {
                        (p - q) * (p - q)
                    }
                })
                .sum();
            *e += moved.sqrt();
        }
        self.family().evaluate_bounded(t.view(), &input_error)
    }

    /// The batch after the pipeline's steps.
    fn preprocess(&self, x: ArrayView2<f64>) -> ndarray::Array2<f64> {
        let mut t = x.to_owned();
        for step in self.preprocessing() {
            step.apply(&mut t);
        }
        t
    }
}
