//! The order in which Keras lists a Functional model's operations, and so
//! the names of its weights in model.weights.h5.
//!
//! Keras stores a layer's weights under `/layers/<class>[_<n>]/vars/<i>`,
//! numbering the layers of one class in `model.layers` order, and a wrong
//! name fails the load. That order is not the order of the config: Keras
//! rebuilds it from the graph when it loads (keras/src/ops/function.py,
//! `map_graph`): a depth-first walk from the outputs (a dict's outputs in
//! key order) numbers each operation when first reached; the depth of an
//! operation is its longest path to an output; operations are sorted by
//! decreasing depth, then by that number. This module computes the same.

use super::translate::KerasGraph;

/// Indices of the operations reachable from the outputs, in Keras's order.
pub(crate) fn keras_order(model: &KerasGraph) -> Vec<usize> {
    let n = model.operations.len();
    let parents: Vec<Vec<usize>> = model
        .operations
        .iter()
        .map(|op| {
            let mut p = Vec::new();
            op.args.iter().for_each(|a| a.tensors(&mut p));
            p
        })
        .collect();
    // optree flattens a dict in sorted key order.
    let mut outputs: Vec<&(String, usize)> = model.outputs.iter().collect();
    outputs.sort_by(|a, b| a.0.cmp(&b.0));

    let mut first_seen: Vec<Option<usize>> = vec![None; n];
    let mut seen = 0;
    let mut finished = vec![false; n];
    let mut post_order = Vec::new();
    for &&(_, out) in &outputs {
        // An explicit stack (the graph of a probability model is a few
        // hundred operations deep): (operation, next parent to visit).
        let mut stack = vec![(out, 0usize)];
        while let Some((op, next)) = stack.pop() {
            if next == 0 {
                if finished[op] {
                    continue;
                }
                if first_seen[op].is_none() {
                    first_seen[op] = Some(seen);
                    seen += 1;
                }
            }
            match parents[op].get(next) {
                Some(&p) => {
                    stack.push((op, next + 1));
                    if !finished[p] {
                        stack.push((p, 0));
                    }
                }
                None => {
                    if !finished[op] {
                        finished[op] = true;
                        post_order.push(op);
                    }
                }
            }
        }
    }

    let mut depth = vec![0usize; n];
    for &op in post_order.iter().rev() {
        for &p in &parents[op] {
            depth[p] = depth[p].max(depth[op] + 1);
        }
    }
    let mut order = post_order;
    order.sort_by_key(|&op| (std::cmp::Reverse(depth[op]), first_seen[op]));
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keras::shapes::{KerasDtype, Spec};
    use crate::keras::translate::{Arg, Kind, Operation};

    fn op(name: &str, args: Vec<usize>) -> Operation {
        Operation {
            name: name.into(),
            kind: Kind::Input,
            args: args.into_iter().map(Arg::Tensor).collect(),
            spec: Spec {
                dims: vec![],
                dtype: KerasDtype::F32,
            },
            kernel: None,
        }
    }

    #[test]
    fn deepest_first_then_in_walk_order() {
        // x -> a -> c (output "z"); x -> b (output "y"); c also reads b.
        let model = KerasGraph {
            operations: vec![
                op("x", vec![]),
                op("a", vec![0]),
                op("b", vec![0]),
                op("c", vec![1, 2]),
            ],
            outputs: vec![("z".into(), 3), ("y".into(), 2)],
            float: KerasDtype::F32,
        };
        // Walk from "y" (sorted first): b (0), x (1); then from "z": c (2), a (3).
        // Depths: c 0, b 1 (b feeds c), a 1, x 2.
        assert_eq!(keras_order(&model), vec![0, 2, 1, 3]);
    }
}
