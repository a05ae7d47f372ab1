//! Every pickle and joblib fixture (protocols 2–5, joblib uncompressed and
//! with each compressor, legacy spellings) converts to exactly the same ONNX
//! bytes as its JSON twin, which the fixture tests hold against scikit-learn.

mod common;

use std::path::{Path, PathBuf};
use svm2onnx::{compile, load_path, CompileOptions, FloatType};

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("SVM2ONNX_FIXTURES") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    }
}

/// (pickle path, JSON twin path) pairs from a map of MANIFEST.json.
fn pairs_in(key: &str) -> Vec<(PathBuf, PathBuf)> {
    let dir = fixtures_dir();
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("MANIFEST.json")).unwrap()).unwrap();
    let map = manifest[key]
        .as_object()
        .unwrap_or_else(|| panic!("MANIFEST.json has no `{key}`"));
    map.iter()
        .map(|(file, twin)| {
            let twin = twin.as_str().unwrap();
            let twin = if twin.ends_with(".json") {
                twin.to_string()
            } else {
                format!("{twin}.json")
            };
            (dir.join("pickles").join(file), dir.join(twin))
        })
        .collect()
}

#[test]
fn every_pickle_compiles_to_the_bytes_of_its_json_twin() {
    let pairs = pairs_in("pickles");
    assert!(
        pairs.len() >= 200,
        "expected every model in every format, found {}",
        pairs.len()
    );
    let mut suffixes = std::collections::BTreeSet::new();
    for (pickle, twin) in &pairs {
        let from_pickle = load_path(pickle).unwrap_or_else(|e| panic!("{}: {e}", pickle.display()));
        let from_json = load_path(twin).unwrap_or_else(|e| panic!("{}: {e}", twin.display()));
        for float in [FloatType::F32, FloatType::F64] {
            let options = CompileOptions {
                float,
                ..Default::default()
            };
            let a = compile(&from_pickle.model, &options).unwrap();
            let b = compile(&from_json.model, &options).unwrap();
            assert!(
                a == b,
                "{} differs from {} ({float:?})",
                pickle.display(),
                twin.display()
            );
        }
        let name = pickle.file_name().unwrap().to_string_lossy().into_owned();
        suffixes.insert(
            name.split_once('.')
                .map(|(_, s)| s.to_string())
                .unwrap_or_default(),
        );
    }
    let legacy = pairs
        .iter()
        .filter(|(p, _)| p.to_string_lossy().contains("/legacy/"))
        .count();
    assert!(legacy >= 8, "legacy spellings: {legacy}");
    for s in [
        "p2.pkl",
        "p3.pkl",
        "p4.pkl",
        "p5.pkl",
        "joblib",
        "joblib.z",
        "joblib.gz",
        "joblib.bz2",
        "joblib.xz",
        "joblib.lzma",
        "joblib.lz4",
    ] {
        assert!(
            suffixes.contains(s),
            "no fixture saved as .{s}: {suffixes:?}"
        );
    }
}

#[test]
fn old_sklearn_pickles_differ_only_in_the_recorded_version() {
    use prost::Message;
    let pairs = pairs_in("pickles_metadata_differs");
    assert!(!pairs.is_empty());
    for (pickle, twin) in pairs {
        let old = load_path(&pickle).unwrap_or_else(|e| panic!("{}: {e}", pickle.display()));
        let new = load_path(&twin).unwrap();
        assert_ne!(old.model.sklearn_version(), new.model.sklearn_version());
        let decode = |m: &svm2onnx::model::Model| {
            svm2onnx::onnx::ModelProto::decode(
                compile(m, &CompileOptions::default()).unwrap().as_slice(),
            )
            .unwrap()
        };
        let (a, b) = (decode(&old.model), decode(&new.model));
        assert_eq!(a.graph, b.graph, "{}", pickle.display());
        let strip = |m: &svm2onnx::onnx::ModelProto| {
            m.metadata_props
                .iter()
                .filter(|p| p.key.as_deref() != Some("sklearn_version"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(strip(&a), strip(&b));
    }
}

/// A mapped file (what `convert` does from 64 MiB on, releasing each array
/// block's pages once decoded) loads the same model as a file read whole.
#[test]
fn mapped_files_load_the_models_of_read_files() {
    let pairs = pairs_in("pickles");
    let mut mapped = 0;
    for (pickle, _) in &pairs {
        let file = svm2onnx::ModelFile::map(pickle).unwrap();
        assert!(file.is_mapped());
        let from_map = file
            .load(&Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", pickle.display()));
        let from_read = load_path(pickle).unwrap();
        let options = CompileOptions {
            float: FloatType::F64,
            ..Default::default()
        };
        assert!(
            compile(&from_map.model, &options).unwrap()
                == compile(&from_read.model, &options).unwrap(),
            "{}",
            pickle.display()
        );
        mapped += 1;
    }
    assert!(mapped >= 200, "{mapped}");
}
