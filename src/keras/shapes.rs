//! Shapes and element types of every value of a lowered graph, as Keras
//! sees them.
//!
//! A Keras config names the shape and dtype of each tensor that enters an
//! operation, and the weights of an `EinsumDense` layer are built from its
//! input's shape, so the emitter needs both for every value. ONNX nodes do
//! not carry them; this pass derives them with numpy's rules, op by op. It
//! follows Keras, not ONNX, where the two differ: `argmax` gives int32.

use super::KerasError;
use crate::graph::{Attribute, Constant, Dim, ElemType, Graph, Node};

/// An element type of a Keras tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KerasDtype {
    F32,
    F64,
    I32,
    I64,
    Bool,
}

impl KerasDtype {
    /// The dtype name Keras and numpy use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            KerasDtype::F32 => "float32",
            KerasDtype::F64 => "float64",
            KerasDtype::I32 => "int32",
            KerasDtype::I64 => "int64",
            KerasDtype::Bool => "bool",
        }
    }

    /// The Keras dtype of a graph element type; strings have none.
    pub(crate) fn of(elem: ElemType) -> Option<KerasDtype> {
        match elem {
            ElemType::F32 => Some(KerasDtype::F32),
            ElemType::F64 => Some(KerasDtype::F64),
            ElemType::I64 => Some(KerasDtype::I64),
            ElemType::Bool => Some(KerasDtype::Bool),
            ElemType::Str => None,
        }
    }

    pub(crate) fn is_float(self) -> bool {
        matches!(self, KerasDtype::F32 | KerasDtype::F64)
    }
}

/// A tensor's shape (`None` is the batch dimension) and dtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Spec {
    pub dims: Vec<Option<usize>>,
    pub dtype: KerasDtype,
}

impl Spec {
    pub(crate) fn rank(&self) -> usize {
        self.dims.len()
    }
}

/// The spec of every value, indexed like the graph's values; `None` for
/// string constants, which no Keras tensor can hold.
pub(crate) fn infer(graph: &Graph) -> Result<Vec<Option<Spec>>, KerasError> {
    let count = graph
        .nodes
        .iter()
        .map(|n| n.output.0)
        .chain(graph.inputs.iter().map(|p| p.value.0))
        .chain(graph.initializers.iter().map(|(v, _)| v.0))
        .max()
        .map_or(0, |m| m + 1);
    let mut specs: Vec<Option<Spec>> = vec![None; count];
    for port in &graph.inputs {
        let dtype = KerasDtype::of(port.elem).ok_or_else(|| KerasError::StringInput {
            name: graph.name(port.value).to_string(),
        })?;
        let dims = port
            .dims
            .iter()
            .map(|d| match d {
                Dim::Batch => None,
                Dim::Fixed(n) => Some(*n),
            })
            .collect();
        specs[port.value.0] = Some(Spec { dims, dtype });
    }
    for (v, c) in &graph.initializers {
        specs[v.0] = match c {
            Constant::Float(a) => Some(Spec {
                dims: a.shape().iter().map(|&d| Some(d)).collect(),
                dtype: KerasDtype::of(graph.float.elem()).expect("float"),
            }),
            Constant::Transposed(t) => Some(Spec {
                dims: t.shape().iter().map(|&d| Some(d)).collect(),
                dtype: KerasDtype::of(graph.float.elem()).expect("float"),
            }),
            Constant::Int64(a) => Some(Spec {
                dims: a.shape().iter().map(|&d| Some(d)).collect(),
                dtype: KerasDtype::I64,
            }),
            Constant::Str(_) => None,
        };
    }
    for node in &graph.nodes {
        let inputs = node
            .inputs
            .iter()
            .map(|v| {
                specs[v.0].clone().ok_or_else(|| KerasError::StringTensor {
                    op: node.op,
                    name: graph.name(*v).to_string(),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let spec = node_spec(graph, node, &inputs).map_err(|why| KerasError::Op {
            op: node.op,
            name: graph.name(node.output).to_string(),
            why,
        })?;
        specs[node.output.0] = Some(spec);
    }
    Ok(specs)
}

/// An attribute's integer value.
pub(crate) fn int_attr(node: &Node, name: &str) -> Option<i64> {
    node.attributes.iter().find_map(|a| match a {
        Attribute::Int(n, v) if *n == name => Some(*v),
        _ => None,
    })
}

/// An attribute's list of integers.
pub(crate) fn ints_attr(node: &Node, name: &str) -> Option<Vec<i64>> {
    node.attributes.iter().find_map(|a| match a {
        Attribute::Ints(n, v) if *n == name => Some(v.clone()),
        _ => None,
    })
}

/// The int64 constant behind a value (axes, shapes), if it is one.
pub(crate) fn int_constant(graph: &Graph, v: crate::graph::Value) -> Option<Vec<i64>> {
    graph.initializers.iter().find_map(|(c, data)| match data {
        Constant::Int64(a) if *c == v => Some(a.iter().copied().collect()),
        _ => None,
    })
}

/// A possibly negative axis of a rank-`rank` tensor, checked.
pub(crate) fn axis(a: i64, rank: usize) -> Result<usize, String> {
    let r = rank as i64;
    if (-r..r).contains(&a) {
        Ok(a.rem_euclid(r) as usize)
    } else {
        Err(format!("axis {a} is out of range for rank {rank}"))
    }
}

/// The axes a reduction works on: an attribute up to opset 17, a constant
/// input from opset 18 (ReduceMax) or 13 (ReduceSum).
pub(crate) fn reduce_axes(graph: &Graph, node: &Node, rank: usize) -> Result<Vec<usize>, String> {
    let axes = match node.inputs.get(1) {
        Some(v) => int_constant(graph, *v).ok_or("its axes are not a constant")?,
        None => ints_attr(node, "axes").ok_or("it has no axes")?,
    };
    axes.iter().map(|&a| axis(a, rank)).collect()
}

/// The target dtype of a Cast node.
pub(crate) fn cast_target(node: &Node) -> Result<KerasDtype, String> {
    use crate::onnx::tensor_proto::DataType;
    let to = int_attr(node, "to").ok_or("it has no `to`")?;
    [
        (DataType::Float, KerasDtype::F32),
        (DataType::Double, KerasDtype::F64),
        (DataType::Int64, KerasDtype::I64),
        (DataType::Bool, KerasDtype::Bool),
    ]
    .into_iter()
    .find(|(d, _)| *d as i64 == to)
    .map(|(_, k)| k)
    .ok_or_else(|| format!("it casts to ONNX type {to}, which has no Keras tensor"))
}

/// numpy's broadcasting of two shapes; the batch dimension broadcasts
/// against 1 and itself.
fn broadcast(a: &[Option<usize>], b: &[Option<usize>]) -> Result<Vec<Option<usize>>, String> {
    let rank = a.len().max(b.len());
    let at = |s: &[Option<usize>], i: usize| -> Option<usize> {
        let pad = rank - s.len();
        if i < pad {
            Some(1)
        } else {
            s[i - pad]
        }
    };
    (0..rank)
        .map(|i| match (at(a, i), at(b, i)) {
            (Some(1), d) | (d, Some(1)) => Ok(d),
            (None, None) => Ok(None),
            (Some(x), Some(y)) if x == y => Ok(Some(x)),
            (x, y) => Err(format!(
                "shapes {a:?} and {b:?} do not broadcast (dimension {i}: {x:?} against {y:?})"
            )),
        })
        .collect()
}

fn node_spec(graph: &Graph, node: &Node, inputs: &[Spec]) -> Result<Spec, String> {
    let first = inputs.first().ok_or("it has no input")?;
    let same = |dims: Vec<Option<usize>>| Spec {
        dims,
        dtype: first.dtype,
    };
    let pair = || -> Result<Vec<Option<usize>>, String> {
        match inputs {
            [a, b] => broadcast(&a.dims, &b.dims),
            _ => Err(format!("it has {} inputs, not 2", inputs.len())),
        }
    };
    Ok(match node.op {
        "Add" | "Sub" | "Mul" | "Div" | "Max" | "Min" => same(pair()?),
        "Less" | "Greater" | "Equal" => Spec {
            dims: pair()?,
            dtype: KerasDtype::Bool,
        },
        "Abs" | "Exp" | "Cos" | "Tanh" | "Sqrt" | "Relu" | "Neg" | "Identity" | "Not" => {
            same(first.dims.clone())
        }
        "Cast" => Spec {
            dims: first.dims.clone(),
            dtype: cast_target(node)?,
        },
        "Where" => match inputs {
            [c, a, b] => Spec {
                dims: broadcast(&broadcast(&c.dims, &a.dims)?, &b.dims)?,
                dtype: a.dtype,
            },
            _ => return Err("it does not have 3 inputs".into()),
        },
        "ArgMax" => {
            if int_attr(node, "select_last_index").unwrap_or(0) != 0 {
                return Err("it selects the last maximum".into());
            }
            let a = axis(int_attr(node, "axis").unwrap_or(0), first.rank())?;
            let mut dims = first.dims.clone();
            if int_attr(node, "keepdims").unwrap_or(1) != 0 {
                dims[a] = Some(1);
            } else {
                dims.remove(a);
            }
            // keras.ops.argmax returns int32 on every backend.
            Spec {
                dims,
                dtype: KerasDtype::I32,
            }
        }
        "ReduceSum" | "ReduceMax" => {
            let axes = reduce_axes(graph, node, first.rank())?;
            let keep = int_attr(node, "keepdims").unwrap_or(1) != 0;
            let dims = (0..first.rank())
                .filter_map(|i| match (axes.contains(&i), keep) {
                    (false, _) => Some(first.dims[i]),
                    (true, true) => Some(Some(1)),
                    (true, false) => None,
                })
                .collect();
            same(dims)
        }
        "Gather" => {
            let indices = inputs.get(1).ok_or("it has no indices")?;
            let a = axis(int_attr(node, "axis").unwrap_or(0), first.rank())?;
            let mut dims = first.dims[..a].to_vec();
            dims.extend(&indices.dims);
            dims.extend(&first.dims[a + 1..]);
            same(dims)
        }
        "Reshape" => {
            let shape = node
                .inputs
                .get(1)
                .and_then(|v| int_constant(graph, *v))
                .ok_or("its shape is not a constant")?;
            same(reshaped(&first.dims, &shape)?)
        }
        "Concat" => {
            let a = axis(
                int_attr(node, "axis").ok_or("it has no axis")?,
                first.rank(),
            )?;
            let mut dims = first.dims.clone();
            for s in &inputs[1..] {
                if s.rank() != first.rank() {
                    return Err("its inputs differ in rank".into());
                }
                dims[a] = match (dims[a], s.dims[a]) {
                    (Some(x), Some(y)) => Some(x + y),
                    _ => return Err("it concatenates along the batch dimension".into()),
                };
            }
            same(dims)
        }
        "MatMul" => match inputs {
            [a, b] if a.rank() >= 2 && b.rank() >= 2 => {
                let (ra, rb) = (a.rank(), b.rank());
                if a.dims[ra - 1] != b.dims[rb - 2] || a.dims[ra - 1].is_none() {
                    return Err(format!(
                        "shapes {:?} and {:?} do not multiply",
                        a.dims, b.dims
                    ));
                }
                let mut dims = broadcast(&a.dims[..ra - 2], &b.dims[..rb - 2])?;
                dims.push(a.dims[ra - 2]);
                dims.push(b.dims[rb - 1]);
                same(dims)
            }
            _ => return Err("it multiplies tensors of rank below 2".into()),
        },
        other => return Err(format!("the Keras writer has no translation for {other}")),
    })
}

/// The shape a Reshape gives: `-1` takes the rest (the batch dimension when
/// the input has one); `0` (copy a dimension) is not used by the lowering.
fn reshaped(input: &[Option<usize>], shape: &[i64]) -> Result<Vec<Option<usize>>, String> {
    if shape.iter().any(|&d| d == 0 || d < -1) || shape.iter().filter(|&&d| d == -1).count() > 1 {
        return Err(format!(
            "shape {shape:?} is not supported (only sizes and one -1)"
        ));
    }
    let has_batch = input.iter().any(Option::is_none);
    let known: usize = shape
        .iter()
        .filter(|&&d| d > 0)
        .map(|&d| d as usize)
        .product();
    shape
        .iter()
        .map(|&d| {
            if d > 0 {
                Ok(Some(d as usize))
            } else if has_batch {
                Ok(None)
            } else {
                let total: usize = input.iter().map(|d| d.unwrap_or(1)).product();
                if known == 0 || !total.is_multiple_of(known) {
                    Err(format!("cannot reshape {input:?} to {shape:?}"))
                } else {
                    Ok(Some(total / known))
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_broadcasts_against_one_and_itself() {
        assert_eq!(
            broadcast(&[None, Some(3)], &[Some(1)]).unwrap(),
            vec![None, Some(3)]
        );
        assert_eq!(
            broadcast(&[Some(1), Some(6)], &[None, Some(1)]).unwrap(),
            vec![None, Some(6)]
        );
        assert!(broadcast(&[None, Some(3)], &[Some(4)]).is_err());
    }

    #[test]
    fn reshape_puts_the_batch_where_minus_one_is() {
        assert_eq!(
            reshaped(&[None, Some(9)], &[-1, 3, 3]).unwrap(),
            vec![None, Some(3), Some(3)]
        );
        assert_eq!(reshaped(&[Some(2), Some(3)], &[-1]).unwrap(), vec![Some(6)]);
        assert!(reshaped(&[None, Some(9)], &[0, 9]).is_err());
    }
}
