//! Lowered graph → a Keras 3 `.keras` file, which `keras.saving.load_model`
//! loads in its default safe mode on the TensorFlow, JAX and PyTorch
//! backends (docs/KERAS.md).
//!
//! The emitter translates the same [`Graph`] the ONNX encoder writes, node
//! by node ([`translate`]); it does not lower the model a second time, so the
//! Keras model computes what the validated ONNX graph computes. The file is
//! a zip of stored entries: `config.json` (the Functional model,
//! [`config`]), `model.weights.h5` (the kernels of its `EinsumDense` layers,
//! named as Keras expects, [`order`], written by our own HDF5 subset,
//! [`hdf5`]) and `metadata.json`, which also carries the model's svm2onnx
//! metadata (estimator, classes, …) under the key `svm2onnx`.

mod config;
pub(crate) mod hdf5;
mod order;
mod shapes;
mod translate;
pub(crate) mod zip;

use crate::graph::Graph;
use serde_json::{json, Map, Value as Json};

/// Why a graph has no Keras equivalent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KerasError {
    /// A node whose op (or its use) has no faithful Keras counterpart.
    #[error("graph op {op} (computing `{name}`) has no Keras equivalent: {why}")]
    Op {
        /// The ONNX op type.
        op: &'static str,
        /// The value it computes.
        name: String,
        /// What stands in the way.
        why: String,
    },
    /// A string tensor: Keras cannot build constants of strings.
    #[error("{op} `{name}` holds strings, which a Keras model cannot: emit class indices (--label-index)")]
    StringTensor {
        /// What holds it.
        op: &'static str,
        /// The value.
        name: String,
    },
    /// An output of strings (class names).
    #[error("output `{name}` is a string tensor, which a Keras model cannot hold: emit class indices (--label-index)")]
    StringOutput {
        /// The output's name.
        name: String,
    },
    /// A string input.
    #[error("input `{name}` is a string tensor, which a Keras model cannot take")]
    StringInput {
        /// The input's name.
        name: String,
    },
    /// Not one input.
    #[error("the graph has {0} inputs; the Keras writer takes graphs with one")]
    Inputs(usize),
}

/// Writes `graph` as the bytes of a `.keras` file; `metadata` (the ONNX
/// model's metadata_props) goes to metadata.json under `svm2onnx`.
pub(crate) fn keras_bytes(
    graph: &Graph,
    metadata: &[(String, String)],
) -> Result<Vec<u8>, KerasError> {
    let mut model = translate::translate(graph)?;
    let order = order::keras_order(&model);
    let config = config::config_json(&model, &order, "svm2onnx");
    let weights = weights_h5(&mut model, &order);
    let meta: Map<String, Json> = metadata
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let metadata = json!({
        "svm2onnx_version": env!("CARGO_PKG_VERSION"),
        "svm2onnx": meta,
    })
    .to_string();
    Ok(zip::stored_zip(&[
        ("metadata.json", metadata.as_bytes()),
        ("config.json", config.as_bytes()),
        ("model.weights.h5", &weights),
    ]))
}

/// model.weights.h5: each layer's weights at `/layers/<name>/vars/<i>`,
/// where `<name>` is the snake-cased class with a counter per class in
/// Keras's layer order (keras/src/saving/saving_lib.py, `_get_unique_name`).
/// The kernels move into the file (a big model's weights are not copied).
fn weights_h5(model: &mut translate::KerasGraph, order: &[usize]) -> Vec<u8> {
    let mut root = hdf5::Group::new();
    let mut used: std::collections::HashMap<String, usize> = Default::default();
    for &i in order {
        let op = &mut model.operations[i];
        let class = match &op.kind {
            translate::Kind::Input => "InputLayer",
            translate::Kind::Layer { class, .. } => class,
            translate::Kind::Op { .. } => continue,
        };
        let base = snake_case(class);
        let name = match used.get_mut(&base) {
            Some(n) => {
                *n += 1;
                format!("{base}_{n}")
            }
            None => {
                used.insert(base.clone(), 0);
                base
            }
        };
        if let Some(kernel) = op.kernel.take() {
            let float = match kernel.dtype {
                shapes::KerasDtype::F32 => hdf5::Float::F32,
                _ => hdf5::Float::F64,
            };
            root.group("layers").group(&name).group("vars").dataset(
                "0",
                hdf5::Dataset {
                    float,
                    shape: kernel.dims.to_vec(),
                    values: kernel.values,
                },
            );
        }
    }
    hdf5::file_bytes(&root)
}

/// `EinsumDense` → `einsum_dense`, as keras.src.utils.naming.to_snake_case
/// does for our class names.
fn snake_case(class: &str) -> String {
    let mut out = String::new();
    for (i, c) in class.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_snake_case_like_keras() {
        assert_eq!(snake_case("EinsumDense"), "einsum_dense");
        assert_eq!(snake_case("InputLayer"), "input_layer");
        assert_eq!(snake_case("Identity"), "identity");
    }
}
