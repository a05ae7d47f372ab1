//! `svm2onnx convert … -o model.keras` with the real binary: it validates
//! the graph and writes the file, says where string classes went, and
//! refuses bad destinations and options with one line, exit 2 and no file.

mod cli_common;
mod common;

use cli_common::{convert, stderr};
use common::scratch_dir;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{name}"))
}

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/iris_rbf.json")
}

/// A one-line refusal with exit code 2.
fn refused(o: &std::process::Output) -> String {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    err
}

#[test]
fn convert_validates_then_writes_a_keras_file() {
    let dir = scratch_dir("keras-convert");
    let out = dir.join("iris.keras");
    let o = convert(&example(), &out, &["--dtype", "f64"]);
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("PASSED"), "validated first: {err}");
    assert!(err.contains("Keras 3, f64"), "{err}");
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PK\x03\x04"));
    // Only the file: the staged ONNX graph is gone.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
}

#[test]
fn a_joblib_file_converts_to_keras_as_its_json_twin_does() {
    let dir = scratch_dir("keras-joblib");
    let name = "pipe_standard_svc_rbf_unscaled_k3";
    let from_pickle = dir.join("p.keras");
    let from_json = dir.join("j.keras");
    let o = convert(
        &fixture(&format!("pickles/{name}.joblib.gz")),
        &from_pickle,
        &[],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let o = convert(
        &fixture(&format!("{name}.json")),
        &from_json,
        &["--no-validate"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    // The same model: the same config and weights (metadata may differ).
    let (p, j) = (
        std::fs::read(&from_pickle).unwrap(),
        std::fs::read(&from_json).unwrap(),
    );
    let tail = |b: &[u8]| b[b.windows(11).position(|w| w == b"config.json").unwrap()..].to_vec();
    assert!(
        tail(&p) == tail(&j),
        "the pickle and JSON files differ past metadata.json"
    );
}

#[test]
fn string_classes_are_printed_in_index_order() {
    let dir = scratch_dir("keras-str");
    let out = dir.join("m.keras");
    let o = convert(
        &fixture("svc_rbf_iris_k3_ovr_str.json"),
        &out,
        &["--no-validate"],
    );
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains(r#"the classes, in index order: ["setosa","versicolor","virginica"]"#)
            && err.contains("metadata.json, svm2onnx.classes"),
        "{err}"
    );
}

#[test]
fn bad_destinations_and_options_leave_no_file() {
    let dir = scratch_dir("keras-refuse");
    // A missing folder.
    let out = dir.join("absent").join("m.keras");
    let err = refused(&convert(&example(), &out, &[]));
    assert!(err.contains("does not exist"), "{err}");
    // The format and the name disagree.
    let err = refused(&convert(
        &example(),
        &dir.join("m.onnx"),
        &["--format", "keras"],
    ));
    assert!(err.contains("must end in .keras"), "{err}");
    let err = refused(&convert(
        &example(),
        &dir.join("m.keras"),
        &["--format", "onnx"],
    ));
    assert!(err.contains("--format onnx with a .keras name"), "{err}");
    // ONNX external data has no Keras counterpart.
    let err = refused(&convert(
        &example(),
        &dir.join("m.keras"),
        &["--external-data"],
    ));
    assert!(
        err.contains("--external-data applies to ONNX output only"),
        "{err}"
    );
    // An skl2onnx graph.
    let err = refused(&convert(
        &fixture("onnxml/svc_rbf_bin_proba.onnx"),
        &dir.join("m.keras"),
        &[],
    ));
    assert!(err.contains("not supported"), "{err}");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn a_read_only_destination_is_refused_without_a_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch_dir("keras-ro");
    let locked = dir.join("locked");
    std::fs::create_dir(&locked).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root ignores permission bits: then use a folder the kernel refuses.
    let folder = if std::fs::write(locked.join("probe"), b"").is_ok() {
        std::fs::remove_file(locked.join("probe")).unwrap();
        PathBuf::from("/sys")
    } else {
        locked.clone()
    };
    let out = folder.join("svm2onnx-test.keras");
    let err = refused(&convert(&example(), &out, &[]));
    assert!(
        err.contains(&format!("cannot write {}", out.display())),
        "{err}"
    );
    assert!(!out.exists());
    if folder == locked {
        assert_eq!(std::fs::read_dir(&locked).unwrap().count(), 0);
    }
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
}
