//! An append-only builder for small ONNX graphs.
//!
//! Lowering code calls `g.matmul(x, w)`, `g.exp(t)` and gets [`Value`]
//! handles back; no string plumbing at call sites and nothing that can fail.
//! Encoding to protobuf is a separate step ([`crate::emit`]).

use ndarray::{Array1, Array2, ArrayD};
use std::ops::Range;
use std::sync::Arc;

/// Floating-point precision of a graph's input, constants and float outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FloatType {
    /// float32: what TensorFlow, TFLite and most accelerators run.
    #[default]
    F32,
    /// float64: bit-level agreement with scikit-learn.
    F64,
}

impl FloatType {
    /// `f32` or `f64`, as `--dtype` spells it.
    pub fn name(self) -> &'static str {
        match self {
            FloatType::F32 => "f32",
            FloatType::F64 => "f64",
        }
    }

    /// Rounds an f64 to this precision (the value the graph will hold).
    pub fn round(self, v: f64) -> f64 {
        match self {
            FloatType::F32 => v as f32 as f64,
            FloatType::F64 => v,
        }
    }

    /// The element type of float tensors at this precision.
    pub fn elem(self) -> ElemType {
        match self {
            FloatType::F32 => ElemType::F32,
            FloatType::F64 => ElemType::F64,
        }
    }
}

impl std::str::FromStr for FloatType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "float32" | "float" => Ok(FloatType::F32),
            "f64" | "float64" | "double" => Ok(FloatType::F64),
            other => Err(format!("unknown dtype '{other}' (expected f32 or f64)")),
        }
    }
}

/// Element types that appear in our graphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    /// float32
    F32,
    /// float64
    F64,
    /// int64 (labels as indices, integer labels, shapes)
    I64,
    /// bool (comparisons)
    Bool,
    /// string (string class labels)
    Str,
}

impl ElemType {
    /// The ONNX `TensorProto.DataType` code of this element type.
    pub fn onnx_type(self) -> crate::onnx::tensor_proto::DataType {
        use crate::onnx::tensor_proto::DataType;
        match self {
            ElemType::F32 => DataType::Float,
            ElemType::F64 => DataType::Double,
            ElemType::I64 => DataType::Int64,
            ElemType::Bool => DataType::Bool,
            ElemType::Str => DataType::String,
        }
    }
}

/// A tensor dimension of a graph input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// The symbolic batch dimension `N`.
    Batch,
    /// A fixed size.
    Fixed(usize),
}

/// A handle to a tensor in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value(pub(crate) usize);

/// Constant data held by an initializer. Float constants are kept in f64 and
/// rounded to the graph's [`FloatType`] when encoded.
#[derive(Debug, Clone)]
pub enum Constant {
    /// A float tensor (rounded to the graph's precision when encoded).
    Float(ArrayD<f64>),
    /// A float matrix generated from a shared one while it is encoded.
    Transposed(TransposedAffine),
    /// An int64 tensor.
    Int64(ArrayD<i64>),
    /// A string tensor.
    Str(ArrayD<String>),
}

/// The `(d + e) × S` matrix whose element `[j, s]` is
/// `scale · (m[s, j] − shift[j])` for a shared `S × d` matrix `m` (the
/// support vectors), followed by the `e` rows of `extra_rows`.
///
/// The weight matrices of the kernel block are such images of the support
/// vectors. Generating them block by block while the model is written means
/// the converter never holds a second S×d array: its peak memory stays near
/// the model's own size (issue 6). Each element is computed by the same
/// expression an eager copy would use, so the bits do not change.
#[derive(Debug, Clone)]
pub struct TransposedAffine {
    /// The shared S × d matrix (the support vectors).
    pub source: Arc<Array2<f64>>,
    /// Multiplies after the shift; `None` keeps the value as it is.
    pub scale: Option<f64>,
    /// Subtracted per column of `source` (length d).
    pub shift: Option<Array1<f64>>,
    /// Rows appended after the d generated ones, S values each.
    pub extra_rows: Vec<Array1<f64>>,
}

impl TransposedAffine {
    /// The plain transpose `mᵀ`.
    pub fn transpose(source: &Arc<Array2<f64>>) -> Self {
        TransposedAffine {
            source: Arc::clone(source),
            scale: None,
            shift: None,
            extra_rows: Vec::new(),
        }
    }

    /// `[rows, columns]`: `[d + e, S]`.
    pub fn shape(&self) -> [usize; 2] {
        let (s, d) = self.source.dim();
        [d + self.extra_rows.len(), s]
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        let [r, c] = self.shape();
        r * c
    }

    /// True when the matrix has no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn map(&self, j: usize, v: f64) -> f64 {
        let v = match &self.shift {
            Some(shift) => v - shift[j],
            None => v,
        };
        match self.scale {
            Some(scale) => scale * v,
            None => v,
        }
    }

    /// Appends rows `rows` (row-major) to `out`. Reads `source` row by row,
    /// so a block of rows costs one pass over the shared matrix.
    pub fn extend_rows(&self, rows: Range<usize>, out: &mut Vec<f64>) {
        let (s, d) = self.source.dim();
        let start = out.len();
        let stored = rows.start.min(d)..rows.end.min(d);
        out.resize(start + stored.len() * s, 0.0);
        let block = &mut out[start..];
        for (col, sv) in self.source.outer_iter().enumerate() {
            for j in stored.clone() {
                block[(j - stored.start) * s + col] = self.map(j, sv[j]);
            }
        }
        for e in rows.start.max(d)..rows.end {
            let extra = &self.extra_rows[e - d];
            assert_eq!(extra.len(), s, "an extra row has one value per column");
            out.extend(extra.iter().copied());
        }
    }

    /// The whole matrix (tests and the non-streaming encoder).
    pub fn to_array(&self) -> Array2<f64> {
        let [r, c] = self.shape();
        let mut v = Vec::with_capacity(r * c);
        self.extend_rows(0..r, &mut v);
        Array2::from_shape_vec((r, c), v).expect("extend_rows fills the shape")
    }
}

/// An attribute of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Attribute {
    /// A named integer.
    Int(&'static str, i64),
    /// A named list of integers.
    Ints(&'static str, Vec<i64>),
}

/// One operator application.
#[derive(Debug, Clone)]
pub struct Node {
    /// The ONNX op type (default domain).
    pub op: &'static str,
    /// Its inputs, in order.
    pub inputs: Vec<Value>,
    /// Its single output.
    pub output: Value,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
}

/// A graph input or output: a value with its declared type and shape.
#[derive(Debug, Clone)]
pub struct Port {
    /// The tensor.
    pub value: Value,
    /// Its element type.
    pub elem: ElemType,
    /// Its dimensions.
    pub dims: Vec<Dim>,
}

/// A graph under construction.
#[derive(Debug, Clone)]
pub struct Graph {
    /// Precision of float inputs, constants and outputs.
    pub float: FloatType,
    /// Default-domain opset: some ops take axes as inputs from a given opset on.
    pub opset: i64,
    names: Vec<String>,
    /// Graph inputs, in order.
    pub inputs: Vec<Port>,
    /// Named constants.
    pub initializers: Vec<(Value, Constant)>,
    /// Nodes in topological order (the order they were added).
    pub nodes: Vec<Node>,
    /// Graph outputs, in order.
    pub outputs: Vec<Port>,
}

impl Graph {
    /// An empty graph at precision `float` for default-domain `opset`.
    pub fn new(float: FloatType, opset: i64) -> Graph {
        Graph {
            float,
            opset,
            names: Vec::new(),
            inputs: Vec::new(),
            initializers: Vec::new(),
            nodes: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// The (unique) name of a value.
    pub fn name(&self, v: Value) -> &str {
        &self.names[v.0]
    }

    fn fresh(&mut self, hint: &str) -> Value {
        let mut name = hint.to_string();
        let mut n = 1;
        while self.names.contains(&name) {
            n += 1;
            name = format!("{hint}_{n}");
        }
        self.names.push(name);
        Value(self.names.len() - 1)
    }

    /// Declares a graph input.
    pub fn input(&mut self, name: &str, elem: ElemType, dims: Vec<Dim>) -> Value {
        let v = self.fresh(name);
        self.inputs.push(Port {
            value: v,
            elem,
            dims,
        });
        v
    }

    /// A float constant (rounded to the graph's precision on encoding).
    pub fn constant(&mut self, name: &str, data: ArrayD<f64>) -> Value {
        let v = self.fresh(name);
        self.initializers.push((v, Constant::Float(data)));
        v
    }

    /// A float constant of shape `[1]`, broadcast against anything.
    pub fn scalar(&mut self, name: &str, value: f64) -> Value {
        self.constant(name, ndarray::arr1(&[value]).into_dyn())
    }

    /// A float constant generated from a shared matrix when encoded.
    pub fn constant_transposed(&mut self, name: &str, data: TransposedAffine) -> Value {
        let v = self.fresh(name);
        self.initializers.push((v, Constant::Transposed(data)));
        v
    }

    /// An int64 constant.
    pub fn constant_i64(&mut self, name: &str, data: ArrayD<i64>) -> Value {
        let v = self.fresh(name);
        self.initializers.push((v, Constant::Int64(data)));
        v
    }

    /// A string constant.
    pub fn constant_str(&mut self, name: &str, data: ArrayD<String>) -> Value {
        let v = self.fresh(name);
        self.initializers.push((v, Constant::Str(data)));
        v
    }

    /// Appends a node and returns its single output.
    pub fn op(&mut self, op: &'static str, inputs: &[Value], attributes: Vec<Attribute>) -> Value {
        let output = self.fresh(&op.to_ascii_lowercase());
        self.nodes.push(Node {
            op,
            inputs: inputs.to_vec(),
            output,
            attributes,
        });
        output
    }

    /// Keeps only the named outputs and removes every node and initializer
    /// they do not depend on, so a graph asked for `label` alone never
    /// computes the probability coupling. Returns the names not found.
    pub fn keep_outputs(&mut self, names: &[&str]) -> Vec<String> {
        let missing = names
            .iter()
            .filter(|n| !self.outputs.iter().any(|p| self.name(p.value) == **n))
            .map(|n| n.to_string())
            .collect::<Vec<_>>();
        if !missing.is_empty() {
            return missing;
        }
        let outputs = std::mem::take(&mut self.outputs);
        self.outputs = outputs
            .into_iter()
            .filter(|p| names.contains(&self.name(p.value)))
            .collect();
        // Nodes are appended in dependency order: one backward sweep marks
        // everything the kept outputs need.
        let mut live = vec![false; self.names.len()];
        for p in &self.outputs {
            live[p.value.0] = true;
        }
        let mut keep = vec![false; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate().rev() {
            if live[node.output.0] {
                keep[i] = true;
                for v in &node.inputs {
                    live[v.0] = true;
                }
            }
        }
        let mut flags = keep.into_iter();
        self.nodes.retain(|_| flags.next().unwrap_or(false));
        self.initializers.retain(|(v, _)| live[v.0]);
        missing
    }

    /// Gives a node output a descriptive name (for readers of the graph).
    /// Inputs and initializers keep theirs.
    pub fn rename(&mut self, v: Value, name: &str) -> Value {
        let is_node_output = self.nodes.iter().any(|n| n.output == v);
        if is_node_output && !self.names.iter().any(|x| x == name) {
            self.names[v.0] = name.to_string();
        }
        v
    }

    /// Prefixes the name of every value that is neither a graph input nor a
    /// graph output, so the graph can be spliced into another one whose
    /// inputs and outputs it shares by name (`crate::onnxml`).
    pub fn prefix_internal_names(&mut self, prefix: &str) {
        let boundary: Vec<Value> = self
            .inputs
            .iter()
            .chain(&self.outputs)
            .map(|p| p.value)
            .collect();
        for (i, name) in self.names.iter_mut().enumerate() {
            if !boundary.contains(&Value(i)) {
                *name = format!("{prefix}{name}");
            }
        }
    }

    /// Declares a graph output. A value that is not a fresh node output (an
    /// input, a constant, or an output already) is routed through Identity.
    pub fn output(&mut self, v: Value, name: &str, elem: ElemType, dims: Vec<Dim>) {
        let is_node_output = self.nodes.iter().any(|n| n.output == v);
        let already_output = self.outputs.iter().any(|p| p.value == v);
        let v = if is_node_output && !already_output {
            v
        } else {
            self.op("Identity", &[v], vec![])
        };
        self.names[v.0] = name.to_string();
        self.outputs.push(Port {
            value: v,
            elem,
            dims,
        });
    }

    /// Matrix product (numpy semantics, batched).
    pub fn matmul(&mut self, a: Value, b: Value) -> Value {
        self.op("MatMul", &[a, b], vec![])
    }
    /// Element-wise sum (broadcasting).
    pub fn add(&mut self, a: Value, b: Value) -> Value {
        self.op("Add", &[a, b], vec![])
    }
    /// Element-wise difference (broadcasting).
    pub fn sub(&mut self, a: Value, b: Value) -> Value {
        self.op("Sub", &[a, b], vec![])
    }
    /// Element-wise product (broadcasting).
    pub fn mul(&mut self, a: Value, b: Value) -> Value {
        self.op("Mul", &[a, b], vec![])
    }
    /// Element-wise quotient (broadcasting).
    pub fn div(&mut self, a: Value, b: Value) -> Value {
        self.op("Div", &[a, b], vec![])
    }
    /// Absolute value.
    pub fn abs(&mut self, a: Value) -> Value {
        self.op("Abs", &[a], vec![])
    }
    /// e to the power of each element.
    pub fn exp(&mut self, a: Value) -> Value {
        self.op("Exp", &[a], vec![])
    }
    /// Hyperbolic tangent.
    pub fn tanh(&mut self, a: Value) -> Value {
        self.op("Tanh", &[a], vec![])
    }
    /// Square root.
    pub fn sqrt(&mut self, a: Value) -> Value {
        self.op("Sqrt", &[a], vec![])
    }
    /// Element-wise maximum (broadcasting).
    pub fn max(&mut self, a: Value, b: Value) -> Value {
        self.op("Max", &[a, b], vec![])
    }
    /// Element-wise minimum (broadcasting).
    pub fn min(&mut self, a: Value, b: Value) -> Value {
        self.op("Min", &[a, b], vec![])
    }
    /// max(x, 0).
    pub fn relu(&mut self, a: Value) -> Value {
        self.op("Relu", &[a], vec![])
    }
    /// `a < b`, element-wise, as a bool tensor.
    pub fn less(&mut self, a: Value, b: Value) -> Value {
        self.op("Less", &[a, b], vec![])
    }
    /// `a > b`, element-wise, as a bool tensor.
    pub fn greater(&mut self, a: Value, b: Value) -> Value {
        self.op("Greater", &[a, b], vec![])
    }
    /// Logical not of a bool tensor.
    pub fn not(&mut self, a: Value) -> Value {
        self.op("Not", &[a], vec![])
    }
    /// Cast to an element type.
    pub fn cast(&mut self, a: Value, to: ElemType) -> Value {
        self.op(
            "Cast",
            &[a],
            vec![Attribute::Int("to", to.onnx_type() as i64)],
        )
    }
    /// Index of the first maximum along `axis` (int64), dropping the axis.
    pub fn argmax(&mut self, a: Value, axis: i64) -> Value {
        self.op(
            "ArgMax",
            &[a],
            vec![
                Attribute::Int("axis", axis),
                Attribute::Int("keepdims", 0),
                Attribute::Int("select_last_index", 0),
            ],
        )
    }
    /// `data[indices]` along axis 0.
    pub fn gather(&mut self, data: Value, indices: Value) -> Value {
        self.op("Gather", &[data, indices], vec![Attribute::Int("axis", 0)])
    }
    /// Sum over the given axes (opset ≥ 13: axes as a constant input).
    pub fn reduce_sum(&mut self, a: Value, axes: &[i64], keepdims: bool) -> Value {
        let axes = self.constant_i64("axes", ndarray::arr1(axes).into_dyn());
        self.op(
            "ReduceSum",
            &[a, axes],
            vec![Attribute::Int("keepdims", i64::from(keepdims))],
        )
    }
    /// Maximum over the given axes: an attribute up to opset 17, a constant
    /// input from opset 18 (ONNX_AND_RUST.md §2).
    pub fn reduce_max(&mut self, a: Value, axes: &[i64], keepdims: bool) -> Value {
        let keep = Attribute::Int("keepdims", i64::from(keepdims));
        if self.opset >= 18 {
            let axes = self.constant_i64("axes", ndarray::arr1(axes).into_dyn());
            self.op("ReduceMax", &[a, axes], vec![keep])
        } else {
            self.op(
                "ReduceMax",
                &[a],
                vec![keep, Attribute::Ints("axes", axes.to_vec())],
            )
        }
    }
    /// Reshape to a constant shape (`-1` allowed once).
    pub fn reshape(&mut self, a: Value, shape: &[i64]) -> Value {
        let shape = self.constant_i64("shape", ndarray::arr1(shape).into_dyn());
        self.op("Reshape", &[a, shape], vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_outputs_renamed() {
        let mut g = Graph::new(FloatType::F64, 17);
        let x = g.input("X", ElemType::F64, vec![Dim::Batch, Dim::Fixed(2)]);
        let a = g.exp(x);
        let b = g.exp(a);
        assert_ne!(g.name(a), g.name(b));
        g.output(b, "scores", ElemType::F64, vec![Dim::Batch, Dim::Fixed(2)]);
        assert_eq!(g.name(b), "scores");
        // An input routed to an output goes through Identity.
        g.output(x, "echo", ElemType::F64, vec![Dim::Batch, Dim::Fixed(2)]);
        assert_eq!(g.nodes.last().unwrap().op, "Identity");
    }

    #[test]
    fn transposed_affine_rows_match_the_eager_expression_in_any_blocks() {
        let m = Array2::from_shape_fn((7, 4), |(s, j)| (s * 10 + j) as f64 * 0.37 - 3.1);
        let shift = Array1::from(vec![0.5, -1.25, 2.0, 0.1]);
        let t = TransposedAffine {
            source: Arc::new(m.clone()),
            scale: Some(2.0 * 0.3),
            shift: Some(shift.clone()),
            extra_rows: vec![
                Array1::from_elem(7, -0.3),
                Array1::from_shape_fn(7, |s| s as f64),
            ],
        };
        assert_eq!(t.shape(), [6, 7]);
        let eager = Array2::from_shape_fn((6, 7), |(j, s)| match j {
            0..4 => 2.0 * 0.3 * (m[[s, j]] - shift[j]),
            4 => -0.3,
            _ => s as f64,
        });
        assert_eq!(t.to_array(), eager);
        for step in 1..=6 {
            let mut v = Vec::new();
            for first in (0..6).step_by(step) {
                t.extend_rows(first..(first + step).min(6), &mut v);
            }
            assert_eq!(v, eager.iter().copied().collect::<Vec<_>>(), "step {step}");
        }
        let plain = TransposedAffine::transpose(&Arc::new(m.clone()));
        assert_eq!(plain.to_array(), m.t());
    }
}
