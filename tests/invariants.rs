//! A model that violates an invariant of SVM_SEMANTICS.md is refused with
//! exit 2 and one error line naming the field, whichever format it comes
//! in: JSON, pickle, joblib or LIBSVM. The bad models are committed
//! fixtures with one value edited in place (in the pickles, the bytes of
//! that value), so each case differs from a model that converts by exactly
//! the violation.

mod cli_common;

use cli_common::{convert, stderr};
use std::path::{Path, PathBuf};

fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(rel),
    )
    .unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn write(tag: &str, name: &str, bytes: &[u8]) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("svm2onnx-inv-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join(name);
    std::fs::write(&model, bytes).unwrap();
    (model, dir.join("out.onnx"))
}

/// `svm2onnx convert` on `bytes` saved as `name`, without validation;
/// returns its outcome and the output path.
fn convert_bytes(tag: &str, name: &str, bytes: &[u8]) -> (std::process::Output, PathBuf) {
    let (model, out) = write(tag, name, bytes);
    let o = convert(&model, &out, &["--no-validate"]);
    (o, out)
}

/// Exit 2, one `error:` line containing every needle, no panic, no output.
fn assert_refused(tag: &str, name: &str, bytes: &[u8], needles: &[&str]) {
    let (o, out) = convert_bytes(tag, name, bytes);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{tag}: {err}");
    assert!(!err.contains("panicked"), "{tag}: {err}");
    let lines: Vec<&str> = err.lines().filter(|l| !l.starts_with("warning")).collect();
    assert_eq!(lines.len(), 1, "{tag}: one error line expected, got {err}");
    for needle in needles {
        assert!(lines[0].contains(needle), "{tag}: {needle:?} not in {err}");
    }
    assert!(!out.exists(), "{tag}: output written");
}

/// The same file converts before the edit: the edit is the only problem.
fn assert_converts(tag: &str, name: &str, bytes: &[u8]) {
    let (o, _) = convert_bytes(tag, name, bytes);
    assert_eq!(o.status.code(), Some(0), "{tag}: {}", stderr(&o));
}

/// Replaces every occurrence of `from` by `to` (same length); panics when
/// there is none, so a fixture that changes cannot silently skip a case.
fn replace_bytes(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut found = 0;
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            found += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert!(found > 0, "pattern {from:02x?} not found");
    out
}

const MODEL: &str = "svc_rbf_iris_k3_ovr_str";

/// The model's gamma and first support-vector value, from its JSON twin.
fn twin_values() -> (f64, f64) {
    let json: serde_json::Value =
        serde_json::from_slice(&fixture(&format!("{MODEL}.json"))).unwrap();
    (
        json["gamma"].as_f64().unwrap(),
        json["support_vectors"][0][0].as_f64().unwrap(),
    )
}

#[test]
fn pickles_and_joblib_files_that_break_an_invariant_are_refused() {
    let (gamma, sv) = twin_values();
    // Protocol-4 pickles and joblib files store float64 arrays and numpy
    // scalars as little-endian bytes in the stream.
    for file in [format!("{MODEL}.p4.pkl"), format!("{MODEL}.joblib")] {
        let good = fixture(&format!("pickles/{file}"));
        assert_converts(&format!("good-{file}"), &file, &good);
        let negative = replace_bytes(&good, &gamma.to_le_bytes(), &(-gamma).to_le_bytes());
        assert_refused(
            &format!("gamma-{file}"),
            &file,
            &negative,
            &["gamma", "negative", &file],
        );
        for (what, bad) in [("nan", f64::NAN), ("inf", f64::INFINITY)] {
            let broken = replace_bytes(&good, &sv.to_le_bytes(), &bad.to_le_bytes());
            assert_refused(
                &format!("{what}-{file}"),
                &file,
                &broken,
                &["support_vectors[0][0]", "not a finite number"],
            );
        }
        // n_features_in_ = 4 (BININT1 after its memoized key) becomes 5:
        // the support vectors no longer match the input width.
        let wide = replace_bytes(
            &good,
            b"\x8c\x0en_features_in_\x94K\x04",
            b"\x8c\x0en_features_in_\x94K\x05",
        );
        assert_refused(
            &format!("shape-{file}"),
            &file,
            &wide,
            &["support_vectors", "4 features but n_features_in is 5"],
        );
    }
}

#[test]
fn json_models_that_break_an_invariant_are_refused() {
    let good = String::from_utf8(fixture(&format!("{MODEL}.json"))).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
    v["gamma"] = (-0.5).into();
    let bad = serde_json::to_vec(&v).unwrap();
    assert_refused("json-gamma", "m.json", &bad, &["gamma", "negative"]);
    let mut v: serde_json::Value = serde_json::from_str(&good).unwrap();
    v["n_features_in"] = 5.into();
    let bad = serde_json::to_vec(&v).unwrap();
    assert_refused(
        "json-shape",
        "m.json",
        &bad,
        &["support_vectors", "n_features_in is 5"],
    );
}

#[test]
fn libsvm_models_that_break_an_invariant_are_refused() {
    let good = String::from_utf8(fixture("libsvm/csvc_rbf_k3.model")).unwrap();
    assert_converts("libsvm-good", "m.model", good.as_bytes());
    let gamma = good.replacen("gamma 0.5", "gamma -0.5", 1);
    assert_refused(
        "libsvm-gamma",
        "m.model",
        gamma.as_bytes(),
        &["gamma", "negative"],
    );
    for (what, bad) in [("nan", "NaN"), ("inf", "inf")] {
        let broken = good.replacen("rho -0.19320810420080037", &format!("rho {bad}"), 1);
        assert_refused(
            &format!("libsvm-{what}"),
            "m.model",
            broken.as_bytes(),
            &["rho", "not a finite number"],
        );
    }
    let shape = good.replacen("nr_sv 16 11 13", "nr_sv 16 11 12", 1);
    assert_refused("libsvm-shape", "m.model", shape.as_bytes(), &["nr_sv"]);
}

#[test]
fn sgd_models_with_an_unknown_or_misplaced_loss_are_refused() {
    // The pickled `loss` string "hinge" becomes "hingx": refused naming it.
    let file = "sgd_hinge_k2.p4.pkl";
    let good = fixture(&format!("pickles/{file}"));
    assert_converts("sgd-good", file, &good);
    let bad = replace_bytes(&good, b"\x8c\x05hinge", b"\x8c\x05hingx");
    assert_refused(
        "sgd-loss-pickle",
        file,
        &bad,
        &["SGDClassifier.loss", "'hingx' is not supported", "log_loss"],
    );
    let json = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&fixture(&format!("{name}.json"))).unwrap()
    };
    let mut v = json("sgd_log_loss_k2");
    v["loss"] = "logistic".into();
    let bad = serde_json::to_vec(&v).unwrap();
    assert_refused(
        "sgd-loss-json",
        "m.json",
        &bad,
        &["loss", "'logistic' is not supported"],
    );
    // A classification loss in an SGDRegressor.
    let mut v = json("sgdregressor_huber");
    v["loss"] = "hinge".into();
    let bad = serde_json::to_vec(&v).unwrap();
    assert_refused(
        "sgd-regressor-loss",
        "m.json",
        &bad,
        &["loss", "'hinge' is not a loss of SGDRegressor"],
    );
    // Three classes but two coefficient rows.
    let mut v = json("sgd_hinge_k3");
    v["coef"].as_array_mut().unwrap().pop();
    v["intercept"].as_array_mut().unwrap().pop();
    let bad = serde_json::to_vec(&v).unwrap();
    assert_refused(
        "sgd-rows",
        "m.json",
        &bad,
        &["coef", "has 2 rows, expected 3"],
    );
}

/// Replaces the one protocol-3 string `from` (BINUNICODE, 4-byte length)
/// by `to`, of any length: protocol 3 has no frames, so nothing else in
/// the stream records an offset.
fn replace_p3_string(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let op = |s: &str| {
        let mut v = vec![b'X'];
        v.extend_from_slice(&(s.len() as u32).to_le_bytes());
        v.extend_from_slice(s.as_bytes());
        v
    };
    let (from, to) = (op(from), op(to));
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_slice())
        .expect("string not found");
    [&bytes[..at], to.as_slice(), &bytes[at + from.len()..]].concat()
}

#[test]
fn kernel_approximations_with_an_unsupported_kernel_are_refused() {
    let file = "pipe_nystroem_rbf_linearsvc_k2.p3.pkl";
    let good = fixture(&format!("pickles/{file}"));
    assert_converts("nystroem-good", file, &good);
    for kernel in ["laplacian", "chi2", "cosine", "additive_chi2"] {
        let bad = replace_p3_string(&good, "rbf", kernel);
        assert_refused(
            &format!("nystroem-{kernel}"),
            file,
            &bad,
            &[
                "steps[1]",
                "kernel",
                &format!("'{kernel}' is not supported"),
            ],
        );
    }
    // An RBFSampler whose n_components (30, BININT1 after its memoized
    // key) no longer matches random_weights_: transform would scale by it.
    let file = "pipe_rbfsampler_linearsvc_k2.p3.pkl";
    let good = fixture(&format!("pickles/{file}"));
    assert_converts("rbfsampler-good", file, &good);
    let bad = replace_bytes(&good, b"n_componentsq8K\x1e", b"n_componentsq8K\x1f");
    assert_refused(
        "rbfsampler-n-components",
        file,
        &bad,
        &["steps[1].RBFSampler.n_components", "is 31", "30 columns"],
    );
    // The JSON twin: a kernel outside the four, and a normalization of the
    // wrong shape, each named.
    let json = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value =
            serde_json::from_slice(&fixture("pipe_nystroem_rbf_linearsvc_k2.json")).unwrap();
        f(&mut v);
        serde_json::to_vec(&v).unwrap()
    };
    let bad = json(&|v| v["preprocessing"][1]["kernel"] = "laplacian".into());
    assert_refused(
        "nystroem-json-kernel",
        "m.json",
        &bad,
        &["preprocessing[1].kernel", "'laplacian'"],
    );
    let bad = json(&|v| {
        v["preprocessing"][1]["normalization"]
            .as_array_mut()
            .unwrap()
            .pop();
    });
    assert_refused(
        "nystroem-json-normalization",
        "m.json",
        &bad,
        &["preprocessing[1].normalization", "expected 20×20"],
    );
}

#[test]
fn select_from_model_masks_that_cannot_be_derived_exactly_are_refused() {
    // norm_order 2 (BININT1 after its memoized key) becomes 3.
    let file = "pipe_frommodel_norm2_mean_sgd_hinge_k3.p3.pkl";
    let good = fixture(&format!("pickles/{file}"));
    assert_converts("frommodel-good", file, &good);
    let bad = replace_bytes(&good, b"norm_orderqNK\x02", b"norm_orderqNK\x03");
    assert_refused(
        "frommodel-norm-order",
        file,
        &bad,
        &["steps[1]", "norm_order", "3 is not supported"],
    );
    // A custom importance getter names an attribute svm2onnx cannot follow.
    let file = "pipe_frommodel_l1_svc_rbf_k3.p3.pkl";
    let good = fixture(&format!("pickles/{file}"));
    let bad = replace_p3_string(&good, "auto", "named_steps.x.coef_");
    assert_refused(
        "frommodel-getter",
        file,
        &bad,
        &["steps[1]", "importance_getter", "is not 'auto' or 'coef_'"],
    );
}
