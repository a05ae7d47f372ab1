//! Shared helpers for the integration tests: finding the fixtures, the
//! committed scikit-learn fixtures, a deterministic generator and a scratch
//! directory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use svm2onnx::{load_path, LoadedModel};

/// A fixture directory: the one `$var` names when it is set, else the
/// committed `tests/fixtures/<committed>` (`""` for tests/fixtures itself).
/// The flag says whether it is the committed one.
pub fn fixture_dir(var: &str, committed: &str) -> (PathBuf, bool) {
    match std::env::var_os(var) {
        Some(d) => (PathBuf::from(d), false),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures")
                .join(committed),
            true,
        ),
    }
}

/// The files in `dir` that `keep` accepts, sorted by path; with `recurse`,
/// those of its subdirectories too, each listed where its directory sorts.
pub fn files_in(dir: &Path, recurse: bool, keep: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for p in entries {
        if p.is_dir() {
            if recurse {
                out.extend(files_in(&p, true, keep));
            }
        } else if keep(&p) {
            out.push(p);
        }
    }
    out
}

/// Whether the file name ends in one of `exts` (each with its dot).
pub fn has_ext(p: &Path, exts: &[&str]) -> bool {
    let name = p.file_name().unwrap().to_string_lossy();
    exts.iter().any(|e| name.ends_with(e))
}

/// Every committed model the output tests cover: the scikit-learn JSON
/// fixtures (every family), the LIBSVM models (LIBSVM's conventions) and
/// the shipped example.
pub fn committed_model_paths() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = files_in(&root.join("tests/fixtures"), false, &|p| {
        has_ext(p, &[".json"]) && !p.ends_with("MANIFEST.json")
    });
    paths.extend(files_in(&root.join("tests/fixtures/libsvm"), false, &|p| {
        has_ext(p, &[".model"])
    }));
    paths.push(root.join("examples/iris_rbf.json"));
    assert!(paths.len() > 90, "found only {} models", paths.len());
    paths
}

/// The scikit-learn fixtures' directory: `$SVM2ONNX_FIXTURES` (CI's interop
/// tier points it at fixtures freshly made with the current scikit-learn),
/// else the committed tests/fixtures.
pub fn sklearn_fixture_dir() -> PathBuf {
    fixture_dir("SVM2ONNX_FIXTURES", "").0
}

/// Whether the scikit-learn fixtures are the committed ones (not re-made on
/// this machine through `$SVM2ONNX_FIXTURES`).
pub fn sklearn_fixtures_are_committed() -> bool {
    fixture_dir("SVM2ONNX_FIXTURES", "").1
}

/// Every fixture model written by tests/fixtures/make_fixtures.py: the
/// committed ones, or those in `$SVM2ONNX_FIXTURES`.
pub fn fixtures() -> Vec<(String, LoadedModel)> {
    let paths = files_in(&sklearn_fixture_dir(), false, &|p| {
        p.extension().is_some_and(|e| e == "json") && !p.ends_with("MANIFEST.json")
    });
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

/// The families the pickle and joblib fixtures come in: one per pickle
/// protocol and joblib compressor (the file's suffix after the model name),
/// and the legacy spellings of tests/fixtures/pickles/legacy.
pub const PICKLE_FAMILIES: [&str; 12] = [
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
    "legacy",
];

/// The family of a file under tests/fixtures/pickles: `legacy` for those
/// in legacy/, else the suffix after the model name's first dot (which may
/// be no family of `PICKLE_FAMILIES`).
pub fn pickle_family(path: &Path) -> String {
    if path
        .parent()
        .and_then(|d| d.file_name())
        .is_some_and(|d| d == "legacy")
    {
        return "legacy".to_string();
    }
    let name = path.file_name().unwrap().to_string_lossy();
    name.split_once('.')
        .map(|(_, s)| s.to_string())
        .unwrap_or_default()
}

/// SplitMix64: a tiny deterministic generator for test data.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1), from the top 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next_u64() % den < num
    }
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
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
