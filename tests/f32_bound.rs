//! The float32 error model (`reference::bound`) must hold: on every
//! scikit-learn fixture, the float32 graph's error on every row lies within
//! what float32 arithmetic explains on that row, against the f64 reference
//! and against scikit-learn's recorded outputs alike. A bound that some
//! honest graph exceeds would make validation call a correct graph a bug.
//! (`f32_sensitivity.rs` holds the other side: a real error lies far
//! beyond it.)

mod common;

use common::fixtures;
use svm2onnx::validate::{default_batches, validate};
use svm2onnx::{compile, CompileOptions, FloatType};

#[test]
fn every_fixtures_f32_error_is_within_its_float32_bound() {
    let options = CompileOptions {
        float: FloatType::F32,
        ..CompileOptions::default()
    };
    let mut ratios: Vec<(f64, String)> = Vec::new();
    let mut bounded = 0;
    let mut beyond = Vec::new();
    for (name, loaded) in fixtures() {
        let bytes = compile(&loaded.model, &options).unwrap();
        let runner = svm2onnx::run::Runner::new(&bytes).unwrap();
        let batches = default_batches(&loaded.model, loaded.samples.as_ref());
        let report = validate(&runner, &loaded.model, &batches, 1e-4).unwrap();
        for c in &report.comparisons {
            let Some(b) = &c.f32_bound else { continue };
            bounded += 1;
            if b.max_ratio > 1.0 {
                beyond.push(format!(
                    "{name}: {} vs {} on {} row {}: error/bound {:.3} (bound {:.3e})",
                    c.output, c.against, c.inputs, b.ratio_row, b.max_ratio, b.bound_at_max_ratio,
                ));
            }
            ratios.push((
                b.max_ratio,
                format!("{name} {} vs {} on {}", c.output, c.against, c.inputs),
            ));
        }
    }
    assert!(beyond.is_empty(), "{}", beyond.join("\n"));
    // Decision values of every family but CalibratedClassifierCV are bounded.
    assert!(bounded > 100, "only {bounded} comparisons carried a bound");
    ratios.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ratio, what) in ratios.iter().take(8) {
        eprintln!("error/bound {ratio:.3}: {what}");
    }
}
