//! Shared helpers for the integration tests: the committed scikit-learn
//! fixtures and a scratch directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use svm2onnx::{load_path, LoadedModel};

/// Every fixture model written by tests/fixtures/make_fixtures.py: the
/// committed ones, or those in `$SVM2ONNX_FIXTURES` (CI's interop tier points
/// it at fixtures freshly made with the current scikit-learn).
pub fn fixtures() -> Vec<(String, LoadedModel)> {
    let dir = match std::env::var_os("SVM2ONNX_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/fixtures exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && !p.ends_with("MANIFEST.json"))
        .collect();
    paths.sort();
    assert!(
        paths.len() >= 15,
        "expected the committed fixtures, found {}",
        paths.len()
    );
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let loaded = load_path(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
            (name, loaded)
        })
        .collect()
}

/// `max|a − b| / (1 + max|b|)`, the relative error the issue defines:
/// [`svm2onnx::validate::relative_error`] (which panics if shapes differ).
pub fn relative_error(a: &ndarray::Array2<f64>, b: &ndarray::Array2<f64>) -> f64 {
    svm2onnx::validate::relative_error(a.view(), b.view())
}

/// A fresh empty directory under the system temp dir.
pub fn scratch_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "svm2onnx-test-{tag}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
