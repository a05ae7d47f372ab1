//! Graph building blocks shared by the estimator families (and by the
//! skl2onnx rewrite): kernel blocks, decision values, votes, probabilities,
//! calibration maps, pipeline steps, and the [`OutputSink`] through which
//! every family's lowering hands over its outputs. Each family's own
//! lowering is in its module (`crate::model`); `crate::reference` mirrors
//! these blocks in f64.

pub(crate) mod calibration;
pub(crate) mod decision;
pub(crate) mod kernel;
pub(crate) mod preprocess;
pub(crate) mod probability;
pub(crate) mod summation;
pub(crate) mod votes;

use crate::graph::{Dim, ElemType, FloatType, Graph, Value};
use crate::ir::{Classes, LabelType, OutputKind, OutputShape, OutputSpec, OutputType};
use ndarray::{ArrayD, IxDyn};

/// How to lower a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LowerOptions {
    /// Precision of the input, constants and float outputs.
    pub float: FloatType,
    /// Emit `label` as int64 class indices instead of the class labels.
    pub label_index: bool,
    /// Default-domain opset of the graph.
    pub opset: i64,
}

impl Default for LowerOptions {
    fn default() -> Self {
        LowerOptions {
            float: FloatType::F32,
            label_index: false,
            opset: 17,
        }
    }
}

/// The graph element type of an output type.
pub fn output_elem(ty: OutputType, float: FloatType) -> ElemType {
    match ty {
        OutputType::Float | OutputType::Label(LabelType::Float) => float.elem(),
        OutputType::Label(LabelType::Int64) => ElemType::I64,
        OutputType::Label(LabelType::Str) => ElemType::Str,
    }
}

/// The graph dimensions of an output shape.
pub fn output_dims(shape: OutputShape) -> Vec<Dim> {
    match shape {
        OutputShape::Rows => vec![Dim::Batch],
        OutputShape::RowsBy(w) => vec![Dim::Batch, Dim::Fixed(w)],
    }
}

/// Where a family's lowering hands over its outputs: each is named, typed
/// and shaped from the model's output contract, label outputs are given as
/// int64 class indices and become `classes_[index]` here unless the labels
/// are indices. The outputs must come in the contract's order, each once:
/// a family that strays from its own contract is a bug, caught by
/// [`OutputSink::finish`] and the fixture tests.
pub struct OutputSink<'a> {
    specs: &'a [OutputSpec],
    classes: Option<&'a Classes>,
    options: &'a LowerOptions,
    emitted: usize,
}

impl<'a> OutputSink<'a> {
    /// A sink for `specs`; `classes` are the labels of label outputs.
    pub(crate) fn new(
        specs: &'a [OutputSpec],
        classes: Option<&'a Classes>,
        options: &'a LowerOptions,
    ) -> Self {
        OutputSink {
            specs,
            classes,
            options,
            emitted: 0,
        }
    }

    /// Makes `value` the next output, which must be of `kind`.
    pub(crate) fn emit(&mut self, g: &mut Graph, kind: OutputKind, value: Value) {
        let spec = self
            .specs
            .get(self.emitted)
            .unwrap_or_else(|| panic!("output {} is not in the model's contract", kind.name()));
        assert_eq!(
            spec.kind,
            kind,
            "output {} emitted where the contract has {}",
            kind.name(),
            spec.kind.name()
        );
        self.emitted += 1;
        let value = match (spec.ty, self.options.label_index) {
            (OutputType::Label(_), false) => {
                let classes = self.classes.expect("a label output has classes");
                class_label(g, classes, value)
            }
            _ => value,
        };
        g.output(
            value,
            spec.name(),
            output_elem(spec.ty, self.options.float),
            output_dims(spec.shape),
        );
    }

    /// Checks that every output of the contract was emitted.
    pub(crate) fn finish(self) {
        assert_eq!(
            self.emitted,
            self.specs.len(),
            "the lowering emitted {} of the contract's {} outputs",
            self.emitted,
            self.specs.len()
        );
    }
}

/// `classes_[index]` by Gather on a constant table.
pub(crate) fn class_label(g: &mut Graph, classes: &Classes, index: Value) -> Value {
    let k = classes.len();
    let table = match classes {
        Classes::Int(v) => g.constant_i64(
            "classes",
            ArrayD::from_shape_vec(IxDyn(&[k]), v.clone()).expect("k labels"),
        ),
        Classes::Float(v) => g.constant(
            "classes",
            ArrayD::from_shape_vec(IxDyn(&[k]), v.clone()).expect("k labels"),
        ),
        Classes::Str(v) => g.constant_str(
            "classes",
            ArrayD::from_shape_vec(IxDyn(&[k]), v.clone()).expect("k labels"),
        ),
    };
    g.gather(table, index)
}
