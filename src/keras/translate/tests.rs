//! Tests of the translate writer.

use super::*;
use crate::graph::{Dim, ElemType, FloatType};

#[test]
fn an_op_without_a_keras_equivalent_is_refused_by_name() {
    let mut g = Graph::new(FloatType::F32, 17);
    let x = g.input("X", ElemType::F32, vec![Dim::Batch, Dim::Fixed(3)]);
    let y = g.op("Softmax", &[x], vec![]);
    g.output(y, "scores", ElemType::F32, vec![Dim::Batch, Dim::Fixed(3)]);
    let e = translate(&g).unwrap_err();
    assert!(matches!(e, KerasError::Op { op: "Softmax", .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "graph op Softmax (computing `scores`) has no Keras equivalent: the Keras writer has no translation for Softmax"
    );
}

#[test]
fn string_constants_are_refused() {
    let mut g = Graph::new(FloatType::F32, 17);
    let x = g.input("X", ElemType::F32, vec![Dim::Batch, Dim::Fixed(2)]);
    let i = g.argmax(x, 1);
    let names = g.constant_str(
        "names",
        ndarray::arr1(&["a".to_string(), "b".into()]).into_dyn(),
    );
    let label = g.gather(names, i);
    g.output(label, "label", ElemType::Str, vec![Dim::Batch]);
    assert!(matches!(
        translate(&g),
        Err(KerasError::StringTensor { .. })
    ));
}

#[test]
fn einsum_subscripts_follow_numpy_matmul() {
    assert_eq!(einsum_subscripts(2, 2).unwrap(), "xy,yz->xz");
    assert_eq!(einsum_subscripts(3, 3).unwrap(), "axy,ayz->axz");
    assert_eq!(einsum_subscripts(3, 2).unwrap(), "axy,yz->axz");
    assert_eq!(einsum_subscripts(4, 3).unwrap(), "abxy,byz->abxz");
    assert!(einsum_subscripts(2, 3).is_err());
}

#[test]
fn cosine_is_keras_ops_cos_in_f32_and_a_reduced_series_in_f64() {
    // RBFSampler's Cos. keras.ops.cos casts float64 to float32 on JAX, so a
    // float64 graph gets the range-reduced Taylor series (exact.rs) instead.
    let class_of = |kind: &Kind| match kind {
        Kind::Op { class, .. } => Some(*class),
        _ => None,
    };
    for (float, elem) in [
        (FloatType::F32, ElemType::F32),
        (FloatType::F64, ElemType::F64),
    ] {
        let mut g = Graph::new(float, 17);
        let x = g.input("X", elem, vec![Dim::Batch, Dim::Fixed(3)]);
        let y = g.cos(x);
        g.output(y, "scores", elem, vec![Dim::Batch, Dim::Fixed(3)]);
        let k = translate(&g).unwrap();
        let classes: Vec<&str> = k
            .operations
            .iter()
            .filter_map(|o| class_of(&o.kind))
            .collect();
        match float {
            FloatType::F32 => {
                assert_eq!(classes, vec!["Cos"], "{classes:?}");
                assert_eq!(k.operations.last().unwrap().args.len(), 1);
            }
            FloatType::F64 => {
                assert!(!classes.contains(&"Cos"), "{classes:?}");
                assert!(classes.contains(&"Floor"), "{classes:?}");
                assert_eq!(classes.iter().filter(|c| **c == "Multiply").count(), 3 + 18);
                assert_eq!(classes.last(), Some(&"Add"));
            }
        }
    }
}
