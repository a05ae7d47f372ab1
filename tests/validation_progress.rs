//! Validation runs big batches block by block and says how far it is
//! (the CLI's progress line); the blocks give the same verdict as one run.

use std::cell::RefCell;
use std::path::Path;
use svm2onnx::{compile, load_path, validate_onnx_path_reporting, CompileOptions};

#[test]
fn a_big_batch_is_validated_in_blocks_with_progress() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/iris_rbf.json");
    let loaded = load_path(&example).unwrap();
    let onnx = compile(&loaded.model, &CompileOptions::default()).unwrap();
    let dir = std::env::temp_dir().join(format!("svm2onnx-progress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.onnx");
    std::fs::write(&path, onnx).unwrap();
    let samples = &loaded.samples.as_ref().unwrap().x;
    // 2,500 rows: the samples again and again, each copy nudged.
    let rows = ndarray::Array2::from_shape_fn((2500, samples.ncols()), |(r, c)| {
        samples[[r % samples.nrows(), c]] + (r / samples.nrows()) as f64 * 1e-3
    });
    let calls = RefCell::new(Vec::new());
    let report = validate_onnx_path_reporting(&path, &loaded, Some(rows), None, &|done, total| {
        calls.borrow_mut().push((done, total))
    })
    .unwrap();
    assert!(report.passed, "{}", report.render());
    assert_eq!(
        calls.into_inner(),
        vec![(1024, 2500), (2048, 2500), (2500, 2500)]
    );
    let json = serde_json::to_value(&report).unwrap();
    for c in json["comparisons"].as_array().unwrap() {
        assert_eq!(c["rows"], 2500, "{c}");
    }
    // Piped (as here), the CLI draws no progress line.
    let data = dir.join("rows.npy");
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    let header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': (2500, {}), }}",
        samples.ncols()
    );
    let padded = format!("{header:<width$}\n", width = 128 - 10 - 1);
    npy.extend((padded.len() as u16).to_le_bytes());
    npy.extend(padded.as_bytes());
    for r in 0..2500 {
        for c in 0..samples.ncols() {
            let v = samples[[r % samples.nrows(), c]] + (r / samples.nrows()) as f64 * 1e-3;
            npy.extend(v.to_le_bytes());
        }
    }
    std::fs::write(&data, npy).unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_svm2onnx"))
        .args(["validate", path.to_str().unwrap(), "--reference"])
        .arg(&example)
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stderr}{stdout}");
    assert!(stderr.contains("2500 data"), "{stderr}");
    assert!(!stderr.contains('\r') && !stdout.contains('\r'));
    std::fs::remove_dir_all(&dir).unwrap();
}
