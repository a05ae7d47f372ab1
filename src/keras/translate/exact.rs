//! Forms of four ops that stay float64-exact on every Keras backend.
//!
//! Keras 3.15.1's own `tanh`, `cos`, `maximum`/`minimum` and `argmax` compute
//! float64 in float32 on some backends (measured; docs/KERAS.md, "How the
//! graph maps"), so these nodes are written with operations that keep the
//! dtype everywhere.

use super::{numpy_op, op, Arg, Builder, Kind, Numpy, NumpyValues, Operation, Refusal};
use crate::graph::Node;
use crate::keras::shapes::{self, KerasDtype, Spec};
use serde_json::json;

impl Builder<'_> {
    /// A new operation computing an intermediate value of `node`.
    pub(super) fn step(
        &mut self,
        node: &Node,
        hint: &str,
        kind: Kind,
        args: Vec<Arg>,
        spec: Spec,
    ) -> Arg {
        let name = self
            .names
            .unique(&format!("{}_{hint}", self.graph.name(node.output)));
        self.operations.push(Operation {
            name,
            kind,
            args,
            spec,
            kernel: None,
        });
        Arg::Tensor(self.operations.len() - 1)
    }

    /// A scalar constant of the model's float type (exact: 0, ±1, ±2).
    pub(super) fn float_scalar(&self, x: f64) -> Arg {
        Arg::Numpy(Numpy {
            dims: vec![],
            values: NumpyValues::Float(vec![x], self.float),
        })
    }

    /// The index of the first maximum, as `argmax(x == max(x))`.
    ///
    /// keras.ops.argmax cannot be given floats: on JAX it casts float64 to
    /// float32 first (two close values tie, and the first wins where
    /// scikit-learn's float64 argmax picks the larger), and on TensorFlow
    /// and JAX it ranks -0.0 below +0.0 (its flush-to-zero fix), where
    /// numpy ties them. `equal` against the row maximum keeps the float64
    /// comparison and ties ±0; argmax over the resulting 0/1 integers then
    /// returns the first maximum on every backend.
    pub(super) fn argmax(&mut self, node: &Node, name: String, out: Spec) -> Result<(), Refusal> {
        let x = self.arg(node.inputs[0])?;
        let spec = self.spec(node.inputs[0]);
        let axis = shapes::axis(shapes::int_attr(node, "axis").unwrap_or(0), spec.rank())?;
        let keepdims = shapes::int_attr(node, "keepdims").unwrap_or(1) != 0;
        let x = if spec.dtype.is_float() {
            let mut row = spec.clone();
            row.dims[axis] = Some(1);
            let max = self.step(
                node,
                "row_max",
                op(
                    "keras.src.ops.numpy",
                    "Max",
                    json!({"axis": [axis], "keepdims": true, "initial": null}),
                ),
                vec![x.clone()],
                row,
            );
            let hit = Spec {
                dims: spec.dims.clone(),
                dtype: KerasDtype::Bool,
            };
            let hit = self.step(node, "is_max", numpy_op("Equal"), vec![x, max], hit);
            let ints = Spec {
                dims: spec.dims.clone(),
                dtype: KerasDtype::I32,
            };
            self.step(
                node,
                "is_max_int",
                op("keras.src.ops.core", "Cast", json!({"dtype": "int32"})),
                vec![hit],
                ints,
            )
        } else {
            x
        };
        self.push(
            node.output,
            name,
            op(
                "keras.src.ops.numpy",
                "Argmax",
                json!({"axis": axis, "keepdims": keepdims}),
            ),
            vec![x],
            out,
            None,
        );
        Ok(())
    }

    /// `tanh(x) = sign(x) · (−t / (t + 2))` with `t = expm1(−2|x|)`.
    ///
    /// keras.ops.tanh computes float64 in float32 on JAX (its result_type
    /// maps float64 to float32 outside TensorFlow). expm1 keeps the dtype on
    /// every backend, is accurate to an ulp near 0 (where tanh(x) ≈ x), and
    /// t ∈ (−1, 0] never overflows; the constants are exact.
    pub(super) fn tanh(&mut self, node: &Node, name: String, out: Spec) -> Result<(), Refusal> {
        let x = self.arg(node.inputs[0])?;
        let s = self.spec(node.inputs[0]);
        let bool_spec = Spec {
            dims: s.dims.clone(),
            dtype: KerasDtype::Bool,
        };
        let abs = self.step(
            node,
            "abs",
            numpy_op("Absolute"),
            vec![x.clone()],
            s.clone(),
        );
        let minus_two = self.float_scalar(-2.0);
        let scaled = self.step(
            node,
            "minus_2abs",
            numpy_op("Multiply"),
            vec![abs, minus_two],
            s.clone(),
        );
        let t = self.step(node, "expm1", numpy_op("Expm1"), vec![scaled], s.clone());
        let two = self.float_scalar(2.0);
        let denominator = self.step(
            node,
            "t_plus_2",
            numpy_op("Add"),
            vec![t.clone(), two],
            s.clone(),
        );
        let minus_t = self.step(node, "minus_t", numpy_op("Negative"), vec![t], s.clone());
        let magnitude = self.step(
            node,
            "magnitude",
            numpy_op("Divide"),
            vec![minus_t, denominator],
            s.clone(),
        );
        let zero = self.float_scalar(0.0);
        let negative = self.step(node, "negative", numpy_op("Less"), vec![x, zero], bool_spec);
        let flipped = self.step(
            node,
            "flipped",
            numpy_op("Negative"),
            vec![magnitude.clone()],
            s,
        );
        let args = vec![negative, flipped, magnitude];
        self.push(node.output, name, numpy_op("Where"), args, out, None);
        Ok(())
    }

    /// Float64 `cos` from operations that keep float64 on every backend:
    /// keras.ops.cos casts float64 to float32 on JAX (its result_type with
    /// a Python float; measured 1.9e-6 off on [-50, 50]). The argument is
    /// reduced to r = x − k·2π, |r| ≤ π, with k = floor(x/2π + ½) and 2π
    /// split in two parts (the first, 2π to 30 bits, times k is exact for
    /// |k| < 2²³), then cos r is its Taylor series to r³⁴/34! in Horner form
    /// over r² (truncation below 1e-20 at |r| = π; rounding about 1e-15).
    pub(super) fn cos(&mut self, node: &Node, name: String, out: Spec) -> Result<(), Refusal> {
        const TWO_PI_HI: f64 = 6.283_185_303_211_212; // 2π to 30 significant bits
        let two_pi_lo = 2.0 * std::f64::consts::PI - TWO_PI_HI;
        let x = self.arg(node.inputs[0])?;
        let s = self.spec(node.inputs[0]);
        let mul = |b: &mut Self, hint: &str, a: Arg, c: Arg, s: &Spec| {
            b.step(node, hint, numpy_op("Multiply"), vec![a, c], s.clone())
        };
        let turns = mul(
            self,
            "turns",
            x.clone(),
            self.float_scalar(1.0 / (2.0 * std::f64::consts::PI)),
            &s,
        );
        let half = self.float_scalar(0.5);
        let shifted = self.step(
            node,
            "turns_half",
            numpy_op("Add"),
            vec![turns, half],
            s.clone(),
        );
        let k = self.step(node, "k", numpy_op("Floor"), vec![shifted], s.clone());
        let k_hi = mul(self, "k_hi", k.clone(), self.float_scalar(TWO_PI_HI), &s);
        let r_hi = self.step(node, "r_hi", numpy_op("Subtract"), vec![x, k_hi], s.clone());
        let k_lo = mul(self, "k_lo", k, self.float_scalar(two_pi_lo), &s);
        let r = self.step(node, "r", numpy_op("Subtract"), vec![r_hi, k_lo], s.clone());
        let r2 = mul(self, "r2", r.clone(), r, &s);
        // cos r = Σ_j (−1)^j r^{2j}/(2j)!, j = 0..17, Horner from the top.
        let terms = 17;
        let coefficient = |j: i32| {
            let factorial: f64 = (1..=2 * j).map(f64::from).product();
            if j % 2 == 0 {
                1.0 / factorial
            } else {
                -1.0 / factorial
            }
        };
        let mut acc = self.float_scalar(coefficient(terms));
        for j in (0..terms).rev() {
            let times = mul(self, &format!("h{j}_mul"), acc, r2.clone(), &s);
            let c = self.float_scalar(coefficient(j));
            if j == 0 {
                self.push(
                    node.output,
                    name,
                    numpy_op("Add"),
                    vec![times, c],
                    out,
                    None,
                );
                return Ok(());
            }
            acc = self.step(
                node,
                &format!("h{j}_add"),
                numpy_op("Add"),
                vec![times, c],
                s.clone(),
            );
        }
        unreachable!("the loop ends at j = 0")
    }

    /// ONNX Max/Min of two tensors as `where(b > a, b, a)` (`<` for Min):
    /// keras.ops.maximum and minimum compute float64 in float32 on PyTorch
    /// (their result_type maps float64 to float32 outside TensorFlow).
    pub(super) fn extremum(&mut self, node: &Node, name: String, out: Spec) -> Result<(), Refusal> {
        if node.inputs.len() != 2 {
            return Err(format!("it has {} inputs, not 2", node.inputs.len()).into());
        }
        let (a, b) = (self.arg(node.inputs[0])?, self.arg(node.inputs[1])?);
        let pick = Spec {
            dims: out.dims.clone(),
            dtype: KerasDtype::Bool,
        };
        let compare = if node.op == "Max" { "Greater" } else { "Less" };
        let b_wins = self.step(
            node,
            "b_wins",
            numpy_op(compare),
            vec![b.clone(), a.clone()],
            pick,
        );
        self.push(
            node.output,
            name,
            numpy_op("Where"),
            vec![b_wins, b, a],
            out,
            None,
        );
        Ok(())
    }
}
