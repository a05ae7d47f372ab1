//! Float32 validation must stay sharp enough to catch a real bug: a graph
//! compiled from a model with ONE dual coefficient off by 1e-3 (relative)
//! is refused when validated in f32 against the true model, on its
//! recorded samples and generated probes (issue 13: whatever float32
//! explains, it must not explain this).
//!
//! Not listed: one-vs-rest multiclass SVCs (`svc_rbf_digits_k10_ovr`).
//! Their `decision_function` is votes plus confidences squashed by
//! c/(3(|c|+1)), which shrinks a 1e-3 pairwise error to 1.8e-5 of the
//! scores' scale, inside the fixed 1e-4 tolerance: the fixed tolerance
//! cannot see it. The per-row float32 bound does (the error is about twice
//! the bound, `max_ratio`), but validation refuses only what exceeds both
//! the tolerance and the bound, so this case still passes (unless the
//! perturbation flips a vote on a probe, as it does for another of the
//! largest coefficients).

use serde_json::Value;
use std::path::Path;
use svm2onnx::{compile, load_bytes, validate_onnx, CompileOptions, FloatType};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The fixture with its largest dual coefficient (by magnitude) scaled by 1 + 1e-3.
fn perturbed(mut model: Value) -> Value {
    let rows = model["dual_coef"].as_array_mut().unwrap();
    let (r, c, _) = rows
        .iter()
        .enumerate()
        .flat_map(|(r, row)| {
            row.as_array()
                .unwrap()
                .iter()
                .enumerate()
                .map(move |(c, v)| (r, c, v.as_f64().unwrap().abs()))
        })
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .unwrap();
    let v = rows[r][c].as_f64().unwrap();
    rows[r][c] = Value::from(v * (1.0 + 1e-3));
    model
}

#[test]
fn one_dual_coefficient_off_by_1e_3_is_refused_in_f32() {
    let options = CompileOptions {
        float: FloatType::F32,
        ..CompileOptions::default()
    };
    let mut diagnosed = 0;
    for name in [
        "svc_rbf_moons_k2_proba.json",
        "svr_rbf_diabetes.json",
        "oneclass_rbf.json",
        "nusvc_poly3_k5_proba.json",
    ] {
        let truth = fixture(name);
        let reference = load_bytes(&serde_json::to_vec(&truth).unwrap()).unwrap();
        let honest = compile(&reference.model, &options).unwrap();
        let report = validate_onnx(&honest, &reference, None, None).unwrap();
        assert!(
            report.passed,
            "{name}: the true model's f32 graph must pass\n{}",
            report.render()
        );
        let wrong = load_bytes(&serde_json::to_vec(&perturbed(truth)).unwrap()).unwrap();
        let buggy = compile(&wrong.model, &options).unwrap();
        let report = validate_onnx(&buggy, &reference, None, None).unwrap();
        assert!(
            !report.passed,
            "{name}: a 1e-3 coefficient error passed f32 validation\n{}",
            report.render()
        );
        // Where a decision value failed, it is beyond what float32 explains
        // on a well-conditioned row: the diagnosis says bug.
        if report
            .comparisons
            .iter()
            .any(|c| !c.passed && c.f32_bound.is_some())
        {
            let why = report.diagnosis().unwrap_or_default();
            assert!(
                why.contains("likely a bug"),
                "{name}: diagnosis {why:?}\n{}",
                report.render()
            );
            diagnosed += 1;
        }
    }
    // All four fail on their decision values too: the 5-class NuSVC's ovr
    // scores squash the error, but on a probe at its decision boundary the
    // perturbation flips a vote that float32 does not explain.
    assert_eq!(diagnosed, 4);
}
