//! An append-only builder for small ONNX graphs.
//!
//! Lowering code calls `g.matmul(x, w)`, `g.exp(t)` and gets [`Value`]
//! handles back; no string plumbing at call sites and nothing that can fail.
//! Encoding to protobuf is a separate step ([`crate::compile()`]).

mod constant;
mod types;

pub use constant::{Constant, TransposedAffine};
pub use types::{ElemType, FloatType};

use ndarray::ArrayD;

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
    /// Cosine (radians).
    pub fn cos(&mut self, a: Value) -> Value {
        self.op("Cos", &[a], vec![])
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
    /// `select_last_index` exists from opset 12; before it, the first
    /// maximum is the only behaviour.
    pub fn argmax(&mut self, a: Value, axis: i64) -> Value {
        let mut attributes = vec![Attribute::Int("axis", axis), Attribute::Int("keepdims", 0)];
        if self.opset >= 12 {
            attributes.push(Attribute::Int("select_last_index", 0));
        }
        self.op("ArgMax", &[a], attributes)
    }
    /// `a == b`, element-wise, for float tensors, as a bool tensor. Equal
    /// takes floats from opset 11; before it, the same truth table (false
    /// wherever either side is NaN) from Less and Greater: neither holds
    /// and both sides are numbers. A number is below +∞ or above −∞, NaN is
    /// neither (IsNaN would do, but tract has no float64 IsNaN).
    pub fn equal_float(&mut self, a: Value, b: Value) -> Value {
        if self.opset >= 11 {
            return self.op("Equal", &[a, b], vec![]);
        }
        let below = self.less(a, b);
        let above = self.greater(a, b);
        let differ = self.op("Or", &[below, above], vec![]);
        let same = self.not(differ);
        let infinity = self.scalar("infinity", f64::INFINITY);
        let minus_infinity = self.scalar("minus_infinity", f64::NEG_INFINITY);
        let is_number = |g: &mut Graph, v: Value| {
            let finite_or_minus = g.less(v, infinity);
            let finite_or_plus = g.greater(v, minus_infinity);
            g.op("Or", &[finite_or_minus, finite_or_plus], vec![])
        };
        let a_number = is_number(self, a);
        let b_number = is_number(self, b);
        let numbers = self.op("And", &[a_number, b_number], vec![]);
        self.op("And", &[same, numbers], vec![])
    }
    /// `data[indices]` along axis 0.
    pub fn gather(&mut self, data: Value, indices: Value) -> Value {
        self.op("Gather", &[data, indices], vec![Attribute::Int("axis", 0)])
    }
    /// Sum over the given axes: an attribute up to opset 12, a constant
    /// input from opset 13.
    pub fn reduce_sum(&mut self, a: Value, axes: &[i64], keepdims: bool) -> Value {
        let keep = Attribute::Int("keepdims", i64::from(keepdims));
        if self.opset >= 13 {
            let axes = self.constant_i64("axes", ndarray::arr1(axes).into_dyn());
            self.op("ReduceSum", &[a, axes], vec![keep])
        } else {
            self.op(
                "ReduceSum",
                &[a],
                vec![keep, Attribute::Ints("axes", axes.to_vec())],
            )
        }
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

    fn ops(g: &Graph) -> Vec<&'static str> {
        g.nodes.iter().map(|n| n.op).collect()
    }

    fn has_attribute(node: &Node, name: &str) -> bool {
        node.attributes.iter().any(|a| match a {
            Attribute::Int(n, _) | Attribute::Ints(n, _) => *n == name,
        })
    }

    /// Each op is written in the form the graph's opset defines: the
    /// skl2onnx rewrite builds fragments at opsets 9 and later.
    #[test]
    fn ops_take_the_form_of_the_graphs_opset() {
        for opset in 9..=22 {
            let mut g = Graph::new(FloatType::F64, opset);
            let x = g.input("X", ElemType::F64, vec![Dim::Batch, Dim::Fixed(2)]);
            let sum = g.reduce_sum(x, &[1], true);
            let max = g.reduce_max(x, &[1], true);
            g.argmax(x, 1);
            g.equal_float(sum, max);
            let by_op = |op: &str| g.nodes.iter().find(|n| n.op == op).unwrap();
            let reduce_sum = by_op("ReduceSum");
            assert_eq!(reduce_sum.inputs.len() == 2, opset >= 13, "opset {opset}");
            assert_eq!(has_attribute(reduce_sum, "axes"), opset < 13);
            let reduce_max = by_op("ReduceMax");
            assert_eq!(reduce_max.inputs.len() == 2, opset >= 18, "opset {opset}");
            assert_eq!(has_attribute(reduce_max, "axes"), opset < 18);
            let argmax = by_op("ArgMax");
            assert_eq!(has_attribute(argmax, "select_last_index"), opset >= 12);
            assert_eq!(ops(&g).contains(&"Equal"), opset >= 11, "opset {opset}");
        }
    }
}
