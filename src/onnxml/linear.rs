//! `LinearClassifier` and `LinearRegressor` (docs/ONNX_ML.md §5).

use super::attrs::{float32_input, float32_output, fragment_input, Attrs};
use super::svm::label_elem;
use super::OnnxMlError;
use crate::graph::{Dim, ElemType, Graph, Value};
use crate::lower::{class_label, decision::dual_values};
use crate::model::Kernel;
use crate::onnx::NodeProto;
use ndarray::{Array1, Array2};
use std::sync::Arc;

/// `X·Wᵀ + b` for `targets` rows of `coefficients`, N × targets.
fn scores(
    g: &mut Graph,
    a: &Attrs,
    targets: usize,
    coefficients: Vec<f64>,
    intercepts: Vec<f64>,
) -> Result<Value, OnnxMlError> {
    if !coefficients.len().is_multiple_of(targets) {
        return Err(a.error(
            "coefficients",
            format!(
                "{} values do not split into {targets} rows",
                coefficients.len()
            ),
        ));
    }
    let d = coefficients.len() / targets;
    let w = Array2::from_shape_vec((targets, d), coefficients)
        .map_err(|e| a.error("coefficients", e.to_string()))?;
    let x = fragment_input(g, a.input(0)?);
    let x = float32_input(g, x);
    // The linear kernel against the rows of W with identity weights is
    // exactly x·Wᵀ + b, one MatMul + Add.
    Ok(dual_values(
        g,
        x,
        &Kernel::Linear,
        &Arc::new(w),
        Array2::eye(targets),
        Array1::from(intercepts),
    ))
}

/// `LinearClassifier` (§5). onnxruntime reads `multi_class` but never uses
/// it: the scores are always `X·Wᵀ + b`.
pub fn classifier(mut g: Graph, node: &NodeProto) -> Result<Graph, OnnxMlError> {
    let a = Attrs::new(
        node,
        &[
            "classlabels_ints",
            "classlabels_strings",
            "coefficients",
            "intercepts",
            "multi_class",
            "post_transform",
        ],
    )?;
    let classes = a
        .class_labels("classlabels_ints")?
        .ok_or_else(|| a.error("classlabels_ints", "no class labels"))?;
    let coefficients = a.required_floats("coefficients")?;
    // onnxruntime takes the number of score columns from `intercepts`.
    let intercepts = a.required_floats("intercepts")?;
    let targets = intercepts.len();
    let k = classes.len();
    match targets {
        1 if k != 2 => {
            return Err(a.error(
                "intercepts",
                format!("one score column needs two class labels, found {k}"),
            ))
        }
        t if t > 1 && t != k => {
            return Err(a.error(
                "intercepts",
                format!("{t} score columns for {k} class labels"),
            ))
        }
        _ => {}
    }
    a.require_no_post_transform()?;
    let s = scores(&mut g, &a, targets, coefficients, intercepts)?;
    let (index, z) = if targets == 1 {
        // One column: classes[1] iff score > 0; scores become [1 − s, s].
        let zero = g.scalar("zero", 0.0);
        let positive = g.greater(s, zero);
        let index = g.cast(positive, ElemType::I64);
        let index = g.reshape(index, &[-1]);
        let signs = g.constant(
            "second_class_signs",
            ndarray::arr2(&[[-1.0, 1.0]]).into_dyn(),
        );
        let shift = g.constant(
            "second_class_shift",
            ndarray::arr2(&[[1.0, 0.0]]).into_dyn(),
        );
        let flipped = g.mul(s, signs);
        (index, g.add(flipped, shift))
    } else {
        // First maximum of the float32 scores (a strict > scan).
        let s32 = float32_output(&mut g, s);
        (g.argmax(s32, 1), s)
    };
    if let Some(name) = a.output(0) {
        let label = class_label(&mut g, &classes, index);
        g.output(label, name, label_elem(&classes), vec![Dim::Batch]);
    }
    if let Some(name) = a.output(1) {
        let z = float32_output(&mut g, z);
        g.output(z, name, ElemType::F32, vec![Dim::Batch, Dim::Fixed(k)]);
    }
    Ok(g)
}

/// `LinearRegressor` (§5): `X·Wᵀ + b`, N × targets; onnxruntime uses the
/// intercepts only when there is one per target.
pub fn regressor(mut g: Graph, node: &NodeProto) -> Result<Graph, OnnxMlError> {
    let a = Attrs::new(
        node,
        &["coefficients", "intercepts", "post_transform", "targets"],
    )?;
    let targets = a.int("targets", 1);
    if targets < 1 {
        return Err(a.error("targets", format!("{targets} is not a positive count")));
    }
    let targets = targets as usize;
    let coefficients = a.required_floats("coefficients")?;
    let intercepts = a.floats("intercepts")?;
    let intercepts = match intercepts.len() {
        0 => vec![0.0; targets],
        n if n == targets => intercepts,
        // onnxruntime would silently drop them: refuse instead.
        n => return Err(a.error("intercepts", format!("{n} values for {targets} targets"))),
    };
    a.require_no_post_transform()?;
    let s = scores(&mut g, &a, targets, coefficients, intercepts)?;
    let s = float32_output(&mut g, s);
    if let Some(name) = a.output(0) {
        g.output(
            s,
            name,
            ElemType::F32,
            vec![Dim::Batch, Dim::Fixed(targets)],
        );
    }
    Ok(g)
}
