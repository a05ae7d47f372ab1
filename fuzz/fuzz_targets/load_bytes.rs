//! Any bytes through the whole loader (format detection, JSON, pickle VM,
//! joblib decompression, numpy and scikit-learn mapping) and, when a model
//! loads, through the compiler. Errors are fine; panics, aborts, timeouts
//! and out-of-memory are findings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = svm2onnx::load_bytes(data) {
        let _ = svm2onnx::compile(&m.model, &Default::default());
    }
});
