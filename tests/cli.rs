//! The real binary in a scratch directory: conversion, validation, inspect,
//! and bad input (one-line error, exit code 2, no panic, no output file).

mod cli_common;
mod common;

use cli_common::{convert, run, stderr};
use common::scratch_dir;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/iris_rbf.json")
}

fn example_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(example()).unwrap()).unwrap()
}

#[test]
fn convert_then_validate_the_shipped_example() {
    let dir = scratch_dir("convert");
    let out = dir.join("model.onnx");
    let o = convert(&example(), &out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.exists());
    assert!(stderr(&o).contains("PASSED"));

    let o = run(&[
        "validate",
        out.to_str().unwrap(),
        "--reference",
        example().to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["passed"], true);
    assert_eq!(report["dtype"], "f32");
    let against: Vec<&str> = report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["against"].as_str().unwrap())
        .collect();
    assert!(against.contains(&"scikit-learn") && against.contains(&"reference"));
    // No stray temporary files next to the output.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn convert_validates_on_the_data_given() {
    let dir = scratch_dir("convert_data");
    let rows: Vec<Vec<f64>> =
        serde_json::from_value(example_json()["samples"]["X"].clone()).unwrap();
    let csv: String = rows
        .iter()
        .take(7)
        .map(|r| r.iter().map(f64::to_string).collect::<Vec<_>>().join(",") + "\n")
        .collect();
    let data = dir.join("rows.csv");
    std::fs::write(&data, csv).unwrap();
    let out = dir.join("m.onnx");
    let o = convert(
        &example(),
        &out,
        &["--data", data.to_str().unwrap(), "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let inputs: Vec<(&str, u64)> = report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["inputs"].as_str().unwrap(), c["rows"].as_u64().unwrap()))
        .collect();
    assert!(!inputs.is_empty());
    assert!(
        inputs.iter().all(|&(name, n)| name == "data" && n == 7),
        "{inputs:?}"
    );
    std::fs::remove_file(&out).unwrap();

    // Rows of the wrong width: exit 2 (bad input), the file named, nothing written.
    std::fs::write(&data, "1,2,3\n").unwrap();
    let o = convert(&example(), &out, &["--data", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("3 columns"), "{}", stderr(&o));
    assert!(!out.exists());
    // Too wide: the same one-line error, never a panic in the reference.
    std::fs::write(&data, "1,2,3,4,5\n").unwrap();
    let o = convert(&example(), &out, &["--data", data.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("5 columns"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("panicked"), "{}", stderr(&o));
    assert!(!out.exists());
    // --data says what to validate on: it contradicts --no-validate.
    let o = convert(
        &example(),
        &out,
        &["--data", data.to_str().unwrap(), "--no-validate"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "only rows.csv");
}

#[test]
fn validate_reads_csv_and_npy_data() {
    let dir = scratch_dir("data");
    let out = dir.join("m.onnx");
    let ex = example();
    assert!(convert(&ex, &out, &["--dtype", "f64"]).status.success());
    let rows = example_json()["samples"]["X"].clone();
    let rows: Vec<Vec<f64>> = serde_json::from_value(rows).unwrap();
    let csv: String = std::iter::once("a,b,c,d".to_string())
        .chain(rows.iter().map(|r| {
            r.iter()
                .map(|v| format!("{v:?}"))
                .collect::<Vec<_>>()
                .join(",")
        }))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(dir.join("x.csv"), csv).unwrap();
    let mut header = format!(
        "{{'descr': '<f8', 'fortran_order': False, 'shape': ({}, 4), }}",
        rows.len()
    );
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut npy = b"\x93NUMPY\x01\x00".to_vec();
    npy.extend_from_slice(&(header.len() as u16).to_le_bytes());
    npy.extend_from_slice(header.as_bytes());
    for v in rows.iter().flatten() {
        npy.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(dir.join("x.npy"), npy).unwrap();
    for data in ["x.csv", "x.npy"] {
        let o = run(&[
            "validate",
            out.to_str().unwrap(),
            "--reference",
            ex.to_str().unwrap(),
            "--data",
            dir.join(data).to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{data}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("on {:>5} data", rows.len())),
            "{}",
            stderr(&o)
        );
    }
    std::fs::write(dir.join("bad.csv"), "1,2,3,4\n1,2,x,4\n").unwrap();
    let o = run(&[
        "validate",
        out.to_str().unwrap(),
        "--reference",
        ex.to_str().unwrap(),
        "--data",
        dir.join("bad.csv").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("line 2, column 3"), "{}", stderr(&o));
}

#[test]
fn a_graph_that_disagrees_exits_1() {
    let dir = scratch_dir("mismatch");
    let mut tampered = example_json();
    let b = tampered["intercept"][0].as_f64().unwrap();
    tampered["intercept"][0] = Value::from(b + 0.5);
    let tampered_path = dir.join("tampered.json");
    std::fs::write(&tampered_path, tampered.to_string()).unwrap();
    let out = dir.join("t.onnx");
    let o = convert(&tampered_path, &out, &["--no-validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&[
        "validate",
        out.to_str().unwrap(),
        "--reference",
        example().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("FAIL"));
}

#[test]
fn failed_validation_writes_nothing() {
    let dir = scratch_dir("nowrite");
    let out = dir.join("m.onnx");
    // f32 arithmetic cannot reach a zero tolerance.
    let o = convert(&example(), &out, &["--tolerance", "0"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!out.exists());
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn inspect_describes_the_model_and_its_outputs() {
    let o = run(&["inspect", example().to_str().unwrap()]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "estimator:       SVC",
        "kernel:          rbf (gamma=",
        "classes:         3 [0,1,2]",
        "per class:",
        "output label",
        "output scores [N, 3]",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// Each bad input must give exit code 2, a single error line naming the
/// problem, no panic and no output file.
fn assert_rejected(tag: &str, contents: &[u8], expect: &str) {
    let dir = scratch_dir(tag);
    let model = dir.join("model.json");
    std::fs::write(&model, contents).unwrap();
    let out = dir.join("out.onnx");
    for args in [
        vec![
            "convert",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
        vec!["inspect", model.to_str().unwrap()],
    ] {
        let o = run(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{tag}: {err}");
        assert!(!err.contains("panicked"), "{tag}: {err}");
        let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning")).collect();
        assert_eq!(lines.len(), 1, "{tag}: one error line expected, got {err}");
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(expect),
            "{tag}: {err}"
        );
        assert!(!out.exists(), "{tag}: output written");
    }
}

fn with(mutate: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = example_json();
    mutate(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn bad_models_are_refused_with_a_named_field() {
    let good = std::fs::read(example()).unwrap();
    assert_rejected("truncated", &good[..good.len() / 2], "invalid JSON at line");
    assert_rejected("empty", b"", "empty");
    assert_rejected("binary", b"\x80\x04\x95", "pickle byte offset 2: truncated");
    assert_rejected("garbage", b"\x01\x02\x03", "first byte 0x01 at offset 0");
    assert_rejected(
        "not-object",
        b"[1, 2]",
        "not the start of an svm2onnx JSON model",
    );
    let nan = String::from_utf8(good.clone()).unwrap().replacen(
        "\"intercept\": [",
        "\"intercept\": [NaN, ",
        1,
    );
    assert_rejected("nan", nan.as_bytes(), "NaN and Infinity");
    let inf = String::from_utf8(good.clone()).unwrap().replacen(
        "\"intercept\": [",
        "\"intercept\": [-Infinity, ",
        1,
    );
    assert_rejected("inf", inf.as_bytes(), "NaN and Infinity");
    // Each case edits one field of the shipped example and names the
    // expected message.
    type Edit = fn(&mut Value);
    let cases: &[(&str, Edit, &str)] = &[
        (
            "huge",
            |v| v["intercept"][0] = serde_json::from_str("1e999").unwrap_or(Value::Null),
            "intercept",
        ),
        (
            "unknown-kernel",
            |v| v["kernel"] = "laplacian".into(),
            "field `kernel`: unknown kernel 'laplacian'",
        ),
        (
            "precomputed",
            |v| v["kernel"] = "precomputed".into(),
            "'precomputed' kernels are not supported",
        ),
        (
            "callable",
            |v| v["kernel"] = "callable".into(),
            "'callable' kernels are not supported",
        ),
        (
            "n-support-sum",
            |v| v["n_support"][0] = Value::from(v["n_support"][0].as_u64().unwrap() + 1),
            "field `n_support`: sums to",
        ),
        (
            "n-support-overflow",
            |v| v["n_support"] = serde_json::json!([u64::MAX / 2, u64::MAX / 2, 4]),
            "field `n_support`",
        ),
        // A first row declaring 200k columns followed by empty rows must fail
        // at row 1, not reserve rows × width up front.
        (
            "declared-huge",
            |v| {
                let mut wide = vec![Value::Array(vec![Value::from(0.5); 200_000])];
                wide.extend(std::iter::repeat_n(Value::Array(vec![]), 200_000));
                v["support_vectors"] = Value::Array(wide);
            },
            "field `support_vectors[1]`: has 0 values but row 0 has 200000",
        ),
        (
            "n-support-len",
            |v| drop(v["n_support"].as_array_mut().unwrap().pop()),
            "field `n_support`: has 2 entries",
        ),
        (
            "ragged",
            |v| drop(v["support_vectors"][3].as_array_mut().unwrap().pop()),
            "field `support_vectors[3]`: has 3 values",
        ),
        (
            "wide",
            |v| v["n_features_in"] = 5.into(),
            "field `support_vectors`: rows have 4 features",
        ),
        (
            "dual-shape",
            |v| drop(v["dual_coef"].as_array_mut().unwrap().pop()),
            "field `dual_coef`: has shape 1x",
        ),
        (
            "intercept-len",
            |v| drop(v["intercept"].as_array_mut().unwrap().pop()),
            "field `intercept`: has 2 entries",
        ),
        (
            "string-number",
            |v| v["dual_coef"][0][2] = "0.5".into(),
            "field `dual_coef[0][2]`: expected a number",
        ),
        (
            "missing",
            |v| drop(v.as_object_mut().unwrap().remove("support_vectors")),
            "field `support_vectors`: is missing",
        ),
        (
            "estimator",
            |v| v["estimator"] = "RandomForestClassifier".into(),
            "supported: SVC, NuSVC",
        ),
        (
            "format",
            |v| v["format"] = "other/2".into(),
            "field `format`",
        ),
        (
            "one-class",
            |v| v["classes"] = serde_json::json!([0]),
            "field `classes`",
        ),
        (
            "dup-class",
            |v| v["classes"] = serde_json::json!([0, 1, 1]),
            "field `classes[2]`: duplicates",
        ),
        (
            "samples-width",
            |v| drop(v["samples"]["X"][0].as_array_mut().unwrap().pop()),
            "field `samples.X",
        ),
        (
            "samples-label",
            |v| v["samples"]["predict"][0] = 9.into(),
            "field `samples.predict[0]`: 9 is not one of the classes",
        ),
    ];
    for (tag, edit, expect) in cases {
        assert_rejected(tag, &with(edit), expect);
    }
}

#[test]
fn bad_options_and_paths_are_refused() {
    let dir = scratch_dir("options");
    let out = dir.join("o.onnx");
    let ex = example();
    for (args, expect) in [
        (
            vec![
                "convert",
                ex.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--opset",
                "12",
            ],
            "opset 12 is not supported",
        ),
        (
            vec![
                "convert",
                ex.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--dtype",
                "f16",
            ],
            "unknown dtype 'f16'",
        ),
        (
            vec![
                "convert",
                "/nonexistent/model.json",
                "-o",
                out.to_str().unwrap(),
            ],
            "cannot read",
        ),
        (
            vec![
                "validate",
                "/nonexistent.onnx",
                "--reference",
                ex.to_str().unwrap(),
            ],
            "cannot read",
        ),
        (
            vec![
                "validate",
                ex.to_str().unwrap(),
                "--reference",
                ex.to_str().unwrap(),
            ],
            "not an ONNX model",
        ),
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
        assert!(!out.exists());
    }
    // A graph compiled from another model is a bad reference, not a mismatch.
    let other =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/svc_rbf_wine_k3_ovr_proba.json");
    assert!(convert(&other, &out, &[]).status.success());
    let o = run(&[
        "validate",
        out.to_str().unwrap(),
        "--reference",
        ex.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("does not fit the reference model"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unknown_fields_warn_but_convert() {
    let dir = scratch_dir("unknown");
    let model = dir.join("m.json");
    std::fs::write(&model, with(|v| v["fit_time"] = 1.5.into())).unwrap();
    let o = run(&[
        "convert",
        model.to_str().unwrap(),
        "-o",
        dir.join("m.onnx").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("warning") && stderr(&o).contains("fit_time"));
}

#[test]
fn float_labels_validate_at_either_precision() {
    let dir = scratch_dir("float-labels");
    let model = dir.join("m.json");
    std::fs::write(
        &model,
        with(|v| {
            let map = |l: &Value| Value::from([0.1, 0.2, 0.3][l.as_u64().unwrap() as usize]);
            v["classes"] = serde_json::json!([0.1, 0.2, 0.3]);
            let predicted: Vec<Value> = v["samples"]["predict"]
                .as_array()
                .unwrap()
                .iter()
                .map(map)
                .collect();
            v["samples"]["predict"] = Value::Array(predicted);
        }),
    )
    .unwrap();
    for dtype in ["f32", "f64"] {
        let out = dir.join(format!("{dtype}.onnx"));
        let o = convert(&model, &out, &["--dtype", dtype]);
        assert!(o.status.success(), "{dtype}: {}", stderr(&o));
    }
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

#[test]
fn inspect_describes_an_svm2onnx_graph_from_its_metadata() {
    let dir = scratch_dir("inspect-onnx");
    let out = dir.join("m.onnx");
    let model = fixture("pipe_standard_svc_rbf_unscaled_k3.json");
    let o = convert(
        &model,
        &out,
        &["--dtype", "f64", "--label-index", "--no-validate"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["inspect", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "format:          ONNX graph of standard ops by svm2onnx",
        "estimator:       SVC\n",
        "kernel:          rbf\n",
        "classes:         3 [0,1,2]\n",
        "dtype:           f64\n",
        "label_output:    index\n",
        "preprocessing:   StandardScaler(with_mean=true, with_std=true)\n",
        "  input  X      [N, 4] double\n",
        "  output label  [N] int64 (= predict)\n",
        "  output scores [N, 3] double (= decision_function)\n",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // A graph rewritten from skl2onnx keeps its interface and says so.
    let rewritten = dir.join("rewritten.onnx");
    let skl2onnx = fixture("onnxml/svr_rbf.onnx");
    let o = convert(&skl2onnx, &rewritten, &["--no-validate"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = run(&["inspect", rewritten.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("converted_from:"), "{text}");
    assert!(text.contains("  input "), "{text}");
    assert!(text.contains("  output "), "{text}");
}

#[test]
fn a_missing_output_folder_is_named_without_temporary_files() {
    let dir = scratch_dir("no-folder");
    let missing = dir.join("absent");
    let out = missing.join("x.onnx");
    let o = convert(&example(), &out, &[]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "error: cannot write {}: the folder {} does not exist",
            out.display(),
            missing.display()
        )
    );
    // A file where the folder should be.
    std::fs::write(dir.join("file"), b"").unwrap();
    let out = dir.join("file").join("x.onnx");
    let o = convert(&example(), &out, &["--no-validate"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.starts_with(&format!("error: cannot write {}: ", out.display()))
            && err.contains("is not a folder")
            && !err.contains(".tmp"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    // Nothing but the file the test made.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn the_wrote_line_names_the_pipeline() {
    let dir = scratch_dir("wrote");
    let out = dir.join("p.onnx");
    let o = run(&[
        "convert",
        fixture("pipe_standard_svc_rbf_unscaled_k3.json")
            .to_str()
            .unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--no-validate",
    ]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let wrote = err.lines().find(|l| l.starts_with("wrote")).unwrap_or("");
    assert!(
        wrote.starts_with(&format!(
            "wrote {}: StandardScaler -> SVC (rbf kernel, 3 classes, ",
            out.display()
        )) && wrote.contains(" bytes")
            && wrote.ends_with("opset 17, f32"),
        "{err}"
    );
}

#[test]
fn missing_probabilities_say_how_to_get_them() {
    let dir = scratch_dir("no-proba");
    let out = dir.join("m.onnx");
    for (model, hint) in [
        (
            "svc_rbf_iris_k3_ovr_str.json",
            "fit CalibratedClassifierCV(SVC(), ensemble=False) (or SVC(probability=True), which scikit-learn 1.9 deprecates)",
        ),
        (
            "linearsvc_ovr_k2.json",
            "fit CalibratedClassifierCV(LinearSVC(), ensemble=False)",
        ),
    ] {
        let o = convert(&fixture(model), &out, &["--outputs", "label,probabilities"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{model}: {err}");
        assert_eq!(err.lines().count(), 1, "{model}: {err}");
        assert!(
            err.contains("no output `probabilities`")
                && err.contains("(its outputs: label, scores)")
                && err.contains(hint),
            "{model}: {err}"
        );
        assert!(!out.exists());
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}
