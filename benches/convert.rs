//! Conversion speed: a synthetic binary RBF SVC with 10,000 support vectors
//! × 300 features, written as svm2onnx JSON, then loaded and compiled.
//!
//! Run without tract (no release build of it needed):
//! `cargo bench --no-default-features --bench convert`
//!
//! With `SVM2ONNX_BENCH_FILE=model.joblib` it also times loading that file
//! against merely reading its bytes (make a 50 MB one with
//! `python benches/make_big_joblib.py big.joblib`).

use std::time::{Duration, Instant};
use svm2onnx::{compile, load_bytes, CompileOptions, FloatType};

const SUPPORT_VECTORS: usize = 10_000;
const FEATURES: usize = 300;

/// Deterministic pseudo-random numbers in [-1, 1).
fn noise(seed: &mut u64) -> f64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
}

fn synthetic_model() -> String {
    let mut seed = 42;
    let half = SUPPORT_VECTORS / 2;
    let svs: Vec<Vec<f64>> = (0..SUPPORT_VECTORS)
        .map(|_| (0..FEATURES).map(|_| noise(&mut seed) * 3.0).collect())
        .collect();
    let coef: Vec<f64> = (0..SUPPORT_VECTORS)
        .map(|s| {
            if s < half {
                -noise(&mut seed).abs()
            } else {
                noise(&mut seed).abs()
            }
        })
        .collect();
    serde_json::json!({
        "format": "svm2onnx.model/1",
        "estimator": "SVC",
        "n_features_in": FEATURES,
        "kernel": "rbf",
        "gamma": 1.0 / FEATURES as f64,
        "coef0": 0.0,
        "degree": 3,
        "classes": [0, 1],
        "n_support": [half, SUPPORT_VECTORS - half],
        "support_vectors": svs,
        "dual_coef": [coef],
        "intercept": [0.125],
        "decision_function_shape": "ovr",
        "break_ties": false,
    })
    .to_string()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    if let Some(path) = std::env::var_os("SVM2ONNX_BENCH_FILE") {
        return time_file(std::path::PathBuf::from(path));
    }
    let json = synthetic_model();
    println!(
        "model: binary RBF SVC, {SUPPORT_VECTORS} support vectors x {FEATURES} features, JSON {:.1} MB",
        json.len() as f64 / 1e6
    );
    let (mut load, mut lower_emit, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut size = 0;
    for _ in 0..7 {
        let t0 = Instant::now();
        let loaded = load_bytes(json.as_bytes()).expect("valid model");
        let t1 = Instant::now();
        let onnx = compile(
            &loaded.model,
            &CompileOptions {
                float: FloatType::F32,
                ..Default::default()
            },
        )
        .expect("compiles");
        let t2 = Instant::now();
        size = onnx.len();
        load.push(t1 - t0);
        lower_emit.push(t2 - t1);
        total.push(t2 - t0);
    }
    println!("parse JSON + check model: median {:?}", median(load));
    println!(
        "lower + emit ONNX ({:.1} MB): median {:?}",
        size as f64 / 1e6,
        median(lower_emit)
    );
    println!(
        "end to end (without validation): median {:?}",
        median(total)
    );
}

/// Loading a model file against merely reading its bytes.
fn time_file(path: std::path::PathBuf) {
    let (mut read, mut load) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let t0 = Instant::now();
        let bytes = std::fs::read(&path).expect("readable file");
        read.push(t0.elapsed());
        let t1 = Instant::now();
        let loaded = svm2onnx::load_path(&path).expect("loads");
        load.push(t1.elapsed());
        assert!(loaded.model.n_features() > 0 && !bytes.is_empty());
    }
    let (read, load) = (median(read), median(load));
    println!(
        "{}: read {read:?}, load (read + unpickle + model) {load:?}, ratio {:.2}",
        path.display(),
        load.as_secs_f64() / read.as_secs_f64()
    );
}
