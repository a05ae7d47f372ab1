//! Each node of the lowered graph becomes one Keras operation with the same
//! semantics in float32 and float64 (docs/KERAS.md, "How the graph maps").
//!
//! Constant matrix products become `EinsumDense` layers whose kernels are
//! the model's weights; every other node becomes a `keras.ops` call with its
//! constants inline as numpy arrays of an explicit dtype. Two traps of the
//! backends decide the choices (issue 11's measurements): on PyTorch,
//! `Dense`, `ops.matmul` and `ops.dot` compute float64 in float32 while
//! `EinsumDense` and `ops.einsum` do not, and a Python float scalar is
//! rounded to float32, so no scalar is ever a Python float.

mod exact;

use super::shapes::{self, KerasDtype, Spec};
use super::KerasError;
use crate::graph::{Constant, Graph, Node, Value};
use serde_json::{json, Map, Value as Json};

/// A constant argument, written inline as `__numpy__`.
#[derive(Debug, Clone)]
pub(crate) struct Numpy {
    pub dims: Vec<usize>,
    pub values: NumpyValues,
}

/// The elements of a [`Numpy`] constant, row-major.
#[derive(Debug, Clone)]
pub(crate) enum NumpyValues {
    /// Floats, already rounded to the dtype.
    Float(Vec<f64>, KerasDtype),
    Int64(Vec<i64>),
}

/// An argument of an operation call.
#[derive(Debug, Clone)]
pub(crate) enum Arg {
    /// The output of the operation at this index.
    Tensor(usize),
    Numpy(Numpy),
    /// A list of arguments (`concatenate` takes one).
    List(Vec<Arg>),
}

impl Arg {
    /// The operations whose outputs this argument reads, in order.
    pub(crate) fn tensors(&self, out: &mut Vec<usize>) {
        match self {
            Arg::Tensor(i) => out.push(*i),
            Arg::Numpy(_) => {}
            Arg::List(items) => items.iter().for_each(|a| a.tensors(out)),
        }
    }
}

/// What a Keras operation is.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// The model's `InputLayer`.
    Input,
    /// A public layer (`keras.layers`), with its class-specific config.
    Layer {
        class: &'static str,
        config: Map<String, Json>,
    },
    /// A `keras.ops` operation: its module, class and constructor arguments.
    Op {
        module: &'static str,
        class: &'static str,
        config: Map<String, Json>,
    },
}

/// The kernel of an `EinsumDense` layer: a weight in model.weights.h5.
#[derive(Debug, Clone)]
pub(crate) struct Kernel {
    pub dims: [usize; 2],
    /// Row-major, rounded to `dtype`.
    pub values: Vec<f64>,
    pub dtype: KerasDtype,
}

/// One operation of the Keras model.
#[derive(Debug, Clone)]
pub(crate) struct Operation {
    pub name: String,
    pub kind: Kind,
    pub args: Vec<Arg>,
    /// Its output.
    pub spec: Spec,
    pub kernel: Option<Kernel>,
}

/// The Keras model: operations in the graph's order (inputs first), and the
/// named outputs.
#[derive(Debug, Clone)]
pub(crate) struct KerasGraph {
    pub operations: Vec<Operation>,
    pub outputs: Vec<(String, usize)>,
    /// Float dtype of the model.
    pub float: KerasDtype,
}

/// Names Keras accepts (no `/`), unique in the model.
struct Names(std::collections::HashSet<String>);

impl Names {
    fn unique(&mut self, wanted: &str) -> String {
        let base: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let base = if base.is_empty() { "op".into() } else { base };
        let mut name = base.clone();
        let mut n = 1;
        while self.0.contains(&name) {
            n += 1;
            name = format!("{base}_{n}");
        }
        self.0.insert(name.clone());
        name
    }
}

struct Builder<'g> {
    graph: &'g Graph,
    specs: Vec<Option<Spec>>,
    /// The operation that produces each graph value, if any.
    producer: Vec<Option<usize>>,
    names: Names,
    operations: Vec<Operation>,
    float: KerasDtype,
}

/// Translates a lowered graph into Keras operations.
pub(crate) fn translate(graph: &Graph) -> Result<KerasGraph, KerasError> {
    let specs = shapes::infer(graph)?;
    let float = KerasDtype::of(graph.float.elem()).expect("a float type");
    let mut b = Builder {
        graph,
        producer: vec![None; specs.len()],
        specs,
        names: Names(Default::default()),
        operations: Vec::new(),
        float,
    };
    if graph.inputs.len() != 1 {
        return Err(KerasError::Inputs(graph.inputs.len()));
    }
    for port in &graph.inputs {
        let spec = b.spec(port.value);
        let name = b.names.unique(graph.name(port.value));
        b.push(port.value, name, Kind::Input, vec![], spec, None);
    }
    // Output names are reserved first: inner values must not take them.
    for port in &graph.outputs {
        b.names.0.insert(graph.name(port.value).to_string());
    }
    for node in &graph.nodes {
        b.node(node).map_err(|why| match why {
            Refusal::Keras(e) => e,
            Refusal::Why(why) => KerasError::Op {
                op: node.op,
                name: graph.name(node.output).to_string(),
                why,
            },
        })?;
    }
    let mut outputs = Vec::new();
    for port in &graph.outputs {
        let name = graph.name(port.value).to_string();
        let want = KerasDtype::of(port.elem)
            .ok_or_else(|| KerasError::StringOutput { name: name.clone() })?;
        let mut index = b.producer[port.value.0].expect("outputs are node outputs");
        if b.operations[index].spec.dtype != want {
            // keras.ops.argmax gives int32 where ONNX gives int64: cast so
            // the output has the dtype of the ONNX graph's.
            let inner = b
                .names
                .unique(&format!("{name}_{}", b.operations[index].spec.dtype.name()));
            b.operations[index].name = inner;
            let spec = Spec {
                dims: b.operations[index].spec.dims.clone(),
                dtype: want,
            };
            b.operations.push(Operation {
                name: name.clone(),
                kind: op("keras.src.ops.core", "Cast", json!({"dtype": want.name()})),
                args: vec![Arg::Tensor(index)],
                spec,
                kernel: None,
            });
            index = b.operations.len() - 1;
        }
        outputs.push((name, index));
    }
    Ok(KerasGraph {
        operations: b.operations,
        outputs,
        float,
    })
}

enum Refusal {
    Keras(KerasError),
    Why(String),
}

impl From<String> for Refusal {
    fn from(s: String) -> Self {
        Refusal::Why(s)
    }
}

impl From<&str> for Refusal {
    fn from(s: &str) -> Self {
        Refusal::Why(s.to_string())
    }
}

fn op(module: &'static str, class: &'static str, config: Json) -> Kind {
    let Json::Object(config) = config else {
        unreachable!("configs are objects")
    };
    Kind::Op {
        module,
        class,
        config,
    }
}

fn numpy_op(class: &'static str) -> Kind {
    op("keras.src.ops.numpy", class, json!({}))
}

impl Builder<'_> {
    fn spec(&self, v: Value) -> Spec {
        self.specs[v.0].clone().expect("inferred")
    }

    fn push(
        &mut self,
        value: Value,
        name: String,
        kind: Kind,
        args: Vec<Arg>,
        spec: Spec,
        kernel: Option<Kernel>,
    ) -> usize {
        self.operations.push(Operation {
            name,
            kind,
            args,
            spec,
            kernel,
        });
        let i = self.operations.len() - 1;
        self.producer[value.0] = Some(i);
        i
    }

    fn constant(&self, v: Value) -> Option<&Constant> {
        self.graph
            .initializers
            .iter()
            .find_map(|(c, data)| (*c == v).then_some(data))
    }

    /// A value as an argument: the operation that computes it, or its
    /// constant inline.
    fn arg(&self, v: Value) -> Result<Arg, Refusal> {
        if let Some(i) = self.producer[v.0] {
            return Ok(Arg::Tensor(i));
        }
        let round = |x: f64| self.graph.float.round(x);
        match self.constant(v) {
            Some(Constant::Float(a)) => Ok(Arg::Numpy(Numpy {
                dims: a.shape().to_vec(),
                values: NumpyValues::Float(a.iter().map(|&x| round(x)).collect(), self.float),
            })),
            Some(Constant::Transposed(t)) => {
                // The support-vector matrix is generated once and rounded
                // in place (a big model's weights are not copied twice).
                let (mut values, _) = t.to_array().into_raw_vec_and_offset();
                values.iter_mut().for_each(|x| *x = round(*x));
                Ok(Arg::Numpy(Numpy {
                    dims: t.shape().to_vec(),
                    values: NumpyValues::Float(values, self.float),
                }))
            }
            Some(Constant::Int64(a)) => Ok(Arg::Numpy(Numpy {
                dims: a.shape().to_vec(),
                values: NumpyValues::Int64(a.iter().copied().collect()),
            })),
            Some(Constant::Str(_)) => Err(Refusal::Keras(KerasError::StringTensor {
                op: "a constant",
                name: self.graph.name(v).to_string(),
            })),
            None => Err("an input is neither computed nor constant".into()),
        }
    }

    fn node(&mut self, node: &Node) -> Result<(), Refusal> {
        let out = self.spec(node.output);
        let name = self.graph.name(node.output).to_string();
        let name = if self.graph.outputs.iter().any(|p| p.value == node.output) {
            name
        } else {
            self.names.unique(&name)
        };
        let first = self.spec(node.inputs[0]);
        let (kind, args, kernel) = match node.op {
            "MatMul" => return self.matmul(node, name, out),
            "ArgMax" => return self.argmax(node, name, out),
            "Tanh" => return self.tanh(node, name, out),
            "Cos" if self.float == KerasDtype::F64 => return self.cos(node, name, out),
            "Max" | "Min" => return self.extremum(node, name, out),
            "ReduceSum" | "ReduceMax" => {
                let axes = shapes::reduce_axes(self.graph, node, first.rank())?;
                let keepdims = shapes::int_attr(node, "keepdims").unwrap_or(1) != 0;
                let kind = if node.op == "ReduceSum" {
                    op(
                        "keras.src.ops.numpy",
                        "Sum",
                        json!({"axis": axes, "keepdims": keepdims}),
                    )
                } else {
                    op(
                        "keras.src.ops.numpy",
                        "Max",
                        json!({"axis": axes, "keepdims": keepdims, "initial": null}),
                    )
                };
                (kind, vec![self.arg(node.inputs[0])?], None)
            }
            "Reshape" => {
                let shape = node
                    .inputs
                    .get(1)
                    .and_then(|v| shapes::int_constant(self.graph, *v))
                    .ok_or("its shape is not a constant")?;
                (
                    op("keras.src.ops.numpy", "Reshape", json!({"newshape": shape})),
                    vec![self.arg(node.inputs[0])?],
                    None,
                )
            }
            "Gather" => {
                let axis = shapes::axis(shapes::int_attr(node, "axis").unwrap_or(0), first.rank())?;
                (
                    op("keras.src.ops.numpy", "Take", json!({"axis": axis})),
                    vec![self.arg(node.inputs[0])?, self.arg(node.inputs[1])?],
                    None,
                )
            }
            "Concat" => {
                let axis = shapes::axis(
                    shapes::int_attr(node, "axis").ok_or("it has no axis")?,
                    first.rank(),
                )?;
                let parts = node
                    .inputs
                    .iter()
                    .map(|v| self.arg(*v))
                    .collect::<Result<Vec<_>, _>>()?;
                (
                    op("keras.src.ops.numpy", "Concatenate", json!({"axis": axis})),
                    vec![Arg::List(parts)],
                    None,
                )
            }
            "Cast" => (
                op(
                    "keras.src.ops.core",
                    "Cast",
                    json!({"dtype": shapes::cast_target(node)?.name()}),
                ),
                vec![self.arg(node.inputs[0])?],
                None,
            ),
            "Identity" => (
                Kind::Layer {
                    class: "Identity",
                    config: Map::new(),
                },
                vec![self.arg(node.inputs[0])?],
                None,
            ),
            "Relu" => (
                op("keras.src.ops.nn", "Relu", json!({})),
                vec![self.arg(node.inputs[0])?],
                None,
            ),
            other => {
                let class = elementwise(other)
                    .ok_or_else(|| format!("the Keras writer has no translation for {other}"))?;
                let args = node
                    .inputs
                    .iter()
                    .map(|v| self.arg(*v))
                    .collect::<Result<Vec<_>, _>>()?;
                (numpy_op(class), args, None)
            }
        };
        self.push(node.output, name, kind, args, out, kernel);
        Ok(())
    }

    /// A matrix product: an `EinsumDense` layer when the right operand is a
    /// constant matrix (its kernel becomes a weight), `ops.einsum` otherwise.
    fn matmul(&mut self, node: &Node, name: String, out: Spec) -> Result<(), Refusal> {
        let (a, b) = (node.inputs[0], node.inputs[1]);
        let (sa, sb) = (self.spec(a), self.spec(b));
        let right_constant = self.producer[b.0].is_none() && sb.rank() == 2;
        if right_constant && self.producer[a.0].is_some() {
            let Arg::Numpy(Numpy {
                dims,
                values: NumpyValues::Float(values, dtype),
            }) = self.arg(b)?
            else {
                return Err("its weight matrix is not a float constant".into());
            };
            let lhs = &LETTERS[..sa.rank()];
            let out_letter = LETTERS.as_bytes()[sa.rank()];
            let equation = format!(
                "{},{}{}->{}{}",
                lhs,
                &lhs[sa.rank() - 1..],
                out_letter as char,
                &lhs[..sa.rank() - 1],
                out_letter as char
            );
            let output_shape: Vec<Option<usize>> = out.dims[1..].to_vec();
            let mut config = Map::new();
            config.insert("output_shape".into(), json!(output_shape));
            config.insert("equation".into(), json!(equation));
            config.insert("activation".into(), json!("linear"));
            config.insert("bias_axes".into(), Json::Null);
            let kernel = Kernel {
                dims: [dims[0], dims[1]],
                values,
                dtype,
            };
            let args = vec![self.arg(a)?];
            self.push(
                node.output,
                name,
                Kind::Layer {
                    class: "EinsumDense",
                    config,
                },
                args,
                out,
                Some(kernel),
            );
            return Ok(());
        }
        let subscripts = einsum_subscripts(sa.rank(), sb.rank())?;
        let args = vec![self.arg(a)?, self.arg(b)?];
        self.push(
            node.output,
            name,
            op(
                "keras.src.ops.numpy",
                "Einsum",
                json!({ "subscripts": subscripts }),
            ),
            args,
            out,
            None,
        );
        Ok(())
    }
}

const LETTERS: &str = "abcdefgh";

/// numpy matmul as an einsum, for operands of equal rank (batched, no
/// broadcasting) or a batched left operand and a matrix.
fn einsum_subscripts(ra: usize, rb: usize) -> Result<String, String> {
    if ra < 2 || rb < 2 || ra > 6 || rb > ra {
        return Err(format!("ranks {ra} and {rb} are not supported"));
    }
    let batch = &LETTERS[..ra - 2];
    // Batch dimensions align from the right, as in numpy.
    let b_batch = &batch[batch.len() - (rb - 2)..];
    Ok(format!("{batch}xy,{b_batch}yz->{batch}xz"))
}

/// The `keras.ops` class of an element-wise ONNX op.
fn elementwise(op: &str) -> Option<&'static str> {
    Some(match op {
        "Add" => "Add",
        "Sub" => "Subtract",
        "Mul" => "Multiply",
        "Div" => "Divide",
        "Less" => "Less",
        "Greater" => "Greater",
        "Equal" => "Equal",
        "Abs" => "Absolute",
        "Exp" => "Exp",
        "Cos" => "Cos",
        "Sqrt" => "Sqrt",
        "Neg" => "Negative",
        "Not" => "LogicalNot",
        "Where" => "Where",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
