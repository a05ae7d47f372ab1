//! Every pickle and joblib fixture (protocols 2–5, joblib uncompressed and
//! with each compressor, legacy spellings) converts to exactly the same ONNX
//! bytes as its JSON twin, which the fixture tests hold against scikit-learn.

mod common;

use common::{pickle_family, sklearn_fixture_dir, PICKLE_FAMILIES};
use std::path::PathBuf;
use svm2onnx::{compile, load_path, CompileOptions, FloatType};

/// (pickle path, JSON twin path) pairs from a map of MANIFEST.json.
fn pairs_in(key: &str) -> Vec<(PathBuf, PathBuf)> {
    let dir = sklearn_fixture_dir();
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

/// The pairs of the manifest's `pickles` map in one of `PICKLE_FAMILIES`;
/// `every_pickle_is_in_one_checked_family` makes sure those add up to all.
fn pairs_of(family: &str) -> Vec<(PathBuf, PathBuf)> {
    let pairs: Vec<_> = pairs_in("pickles")
        .into_iter()
        .filter(|(p, _)| pickle_family(p) == family)
        .collect();
    // Every model in every protocol and compressor; legacy spellings of a
    // few of them.
    let least = if family == "legacy" { 8 } else { 15 };
    assert!(
        pairs.len() >= least,
        "{family}: expected every model, found {}",
        pairs.len()
    );
    pairs
}

/// The manifest's pickles are split into the families below, one test of
/// each kind per family (they run in parallel): every pickle falls in
/// exactly one, and each family has its fixtures.
#[test]
fn every_pickle_is_in_one_checked_family() {
    let pairs = pairs_in("pickles");
    assert!(
        pairs.len() >= 200,
        "expected every model in every format, found {}",
        pairs.len()
    );
    assert_eq!(TESTED, PICKLE_FAMILIES, "a family without its tests");
    let mut counted = 0;
    for family in PICKLE_FAMILIES {
        counted += pairs_of(family).len();
    }
    let stray: Vec<_> = pairs
        .iter()
        .filter(|(p, _)| !PICKLE_FAMILIES.contains(&pickle_family(p).as_str()))
        .map(|(p, _)| p.display().to_string())
        .collect();
    assert!(stray.is_empty(), "pickles in no checked family: {stray:?}");
    assert_eq!(counted, pairs.len());
}

/// Every pickle of `family` compiles, in f32 and in f64, to exactly the
/// bytes of its JSON twin.
fn compiles_to_the_bytes_of_its_json_twin(family: &str) {
    for (pickle, twin) in pairs_of(family) {
        let from_pickle =
            load_path(&pickle).unwrap_or_else(|e| panic!("{}: {e}", pickle.display()));
        let from_json = load_path(&twin).unwrap_or_else(|e| panic!("{}: {e}", twin.display()));
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
    }
}

/// A mapped file (what `convert` does from 64 MiB on, releasing each array
/// block's pages once decoded) loads the same model as a file read whole.
fn mapped_files_load_the_models_of_read_files(family: &str) {
    for (pickle, _) in pairs_of(family) {
        let file = svm2onnx::ModelFile::map(&pickle).unwrap();
        assert!(file.is_mapped());
        let from_map = file
            .load(&Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", pickle.display()));
        let from_read = load_path(&pickle).unwrap();
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
    }
}

/// One module per pickle family, each with both tests; `TESTED` lists the
/// families in the order given, which must be that of `PICKLE_FAMILIES`.
macro_rules! per_family {
    ($($module:ident => $family:literal,)*) => {
        $(
            mod $module {
                #[test]
                fn every_pickle_compiles_to_the_bytes_of_its_json_twin() {
                    super::compiles_to_the_bytes_of_its_json_twin($family);
                }

                #[test]
                fn mapped_files_load_the_models_of_read_files() {
                    super::mapped_files_load_the_models_of_read_files($family);
                }
            }
        )*
        const TESTED: &[&str] = &[$($family),*];
    };
}

per_family! {
    protocol2 => "p2.pkl",
    protocol3 => "p3.pkl",
    protocol4 => "p4.pkl",
    protocol5 => "p5.pkl",
    joblib => "joblib",
    joblib_zlib => "joblib.z",
    joblib_gzip => "joblib.gz",
    joblib_bz2 => "joblib.bz2",
    joblib_xz => "joblib.xz",
    joblib_lzma => "joblib.lzma",
    joblib_lz4 => "joblib.lz4",
    legacy => "legacy",
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
