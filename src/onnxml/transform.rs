//! The nodes skl2onnx puts around the models: `Scaler`, `Normalizer`,
//! `ArrayFeatureExtractor`, `ZipMap` (docs/ONNX_ML.md §7–§8).

use super::attrs::{float32_output, fragment_input, Attrs};
use super::OnnxMlError;
use crate::graph::{Attribute, Dim, ElemType, FloatType, Graph, Value};
use crate::onnx::NodeProto;
use ndarray::Array1;

/// The input at the fragment's precision: Scaler and Normalizer compute in
/// the input's own type (float or double), then store float32.
fn input_as_float(g: &mut Graph, a: &Attrs) -> Result<Value, OnnxMlError> {
    let x = fragment_input(g, a.input(0)?);
    let elem = match g.float {
        FloatType::F32 => ElemType::F32,
        FloatType::F64 => ElemType::F64,
    };
    Ok(g.cast(x, elem))
}

fn row_or_scalar(g: &mut Graph, name: &str, v: Vec<f64>) -> Value {
    let n = v.len();
    g.constant(
        name,
        Array1::from(v)
            .into_shape_with_order((1, n))
            .expect("n values")
            .into_dyn(),
    )
}

/// `Scaler`: y = (x − offset) · scale, per feature or one value for all.
pub fn scaler(mut g: Graph, node: &NodeProto) -> Result<Graph, OnnxMlError> {
    let a = Attrs::new(node, &["offset", "scale"])?;
    let scale = a.required_floats("scale")?;
    let offset = a.floats("offset")?;
    if offset.len() != scale.len() {
        return Err(a.error(
            "offset",
            format!("{} values, but scale has {}", offset.len(), scale.len()),
        ));
    }
    let x = input_as_float(&mut g, &a)?;
    let offset = row_or_scalar(&mut g, "scaler_offset", offset);
    let scale = row_or_scalar(&mut g, "scaler_scale", scale);
    let centred = g.sub(x, offset);
    let y = g.mul(centred, scale);
    let y = float32_output(&mut g, y);
    if let Some(name) = a.output(0) {
        g.output(y, name, ElemType::F32, vec![Dim::Batch]);
    }
    Ok(g)
}

/// `Normalizer`: each row divided by its MAX (the largest value, not the
/// largest magnitude), L1 or L2 norm; a row whose norm is exactly 0 is
/// copied unchanged (§7).
pub fn normalizer(mut g: Graph, node: &NodeProto) -> Result<Graph, OnnxMlError> {
    let a = Attrs::new(node, &["norm"])?;
    let norm = a.string("norm", "MAX")?;
    let x = input_as_float(&mut g, &a)?;
    let norms = match norm.as_str() {
        "MAX" => g.reduce_max(x, &[1], true),
        "L1" => {
            let magnitude = g.abs(x);
            g.reduce_sum(magnitude, &[1], true)
        }
        "L2" => {
            let squares = g.mul(x, x);
            let sum = g.reduce_sum(squares, &[1], true);
            g.sqrt(sum)
        }
        other => return Err(a.error("norm", format!("'{other}' is not MAX, L1 or L2"))),
    };
    let zero = g.scalar("zero", 0.0);
    let one = g.scalar("one", 1.0);
    let is_zero = g.equal_float(norms, zero);
    let safe = g.op("Where", &[is_zero, one, norms], vec![]);
    let y = g.div(x, safe);
    let y = float32_output(&mut g, y);
    if let Some(name) = a.output(0) {
        g.output(y, name, ElemType::F32, vec![Dim::Batch]);
    }
    Ok(g)
}

/// `ArrayFeatureExtractor`: the columns named by the (flattened) indices,
/// along the last axis: Gather. The element type is unchanged.
pub fn array_feature_extractor(mut g: Graph, node: &NodeProto) -> Result<Graph, OnnxMlError> {
    let a = Attrs::new(node, &[])?;
    let x = fragment_input(&mut g, a.input(0)?);
    let indices = fragment_input(&mut g, a.input(1)?);
    let flat = g.reshape(indices, &[-1]);
    let y = g.op("Gather", &[x, flat], vec![Attribute::Int("axis", -1)]);
    if let Some(name) = a.output(0) {
        g.output(y, name, ElemType::F32, vec![Dim::Batch]);
    }
    Ok(g)
}

/// The number of columns a ZipMap's input has: one per class label.
pub fn zipmap_width(node: &NodeProto) -> Result<usize, OnnxMlError> {
    let a = Attrs::new(node, &["classlabels_int64s", "classlabels_strings"])?;
    a.class_labels("classlabels_int64s")?
        .map(|c| c.len())
        .ok_or_else(|| a.error("classlabels_int64s", "no class labels"))
}

/// `ZipMap` makes a sequence of maps, which standard ops cannot build: its
/// output becomes the [N, k] float tensor it was given, columns in the
/// order of its class labels (§8).
pub fn zipmap(
    mut g: Graph,
    node: &NodeProto,
    warnings: &mut Vec<String>,
) -> Result<Graph, OnnxMlError> {
    let k = zipmap_width(node)?;
    let a = Attrs::new(node, &["classlabels_int64s", "classlabels_strings"])?;
    let x = fragment_input(&mut g, a.input(0)?);
    if let Some(name) = a.output(0) {
        warnings.push(format!(
            "output '{name}' (ZipMap '{}') is now a float tensor [N, {k}], columns in the order of its class labels, instead of a sequence of maps",
            node.name()
        ));
        g.output(x, name, ElemType::F32, vec![Dim::Batch, Dim::Fixed(k)]);
    }
    Ok(g)
}
