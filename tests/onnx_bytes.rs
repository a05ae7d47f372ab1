//! The ONNX bytes of every committed fixture, compiled under several option
//! sets, against the digests recorded in `tests/fixtures/onnx_digests.txt`.
//!
//! A refactor must not change a single byte of what we emit; a change that
//! is meant to alter graphs re-records the file with
//! `SVM2ONNX_BLESS=1 cargo test --test onnx_bytes` and says why in its
//! commit message. The fixtures are always the committed ones (never
//! `$SVM2ONNX_FIXTURES`): the digests belong to those files.

use std::path::{Path, PathBuf};
use svm2onnx::onnxml::{self, ConvertOptions};
use svm2onnx::{compile, load_path, CompileOptions, FloatType};

/// FNV-1a, 64 bits: a fingerprint, not a security property.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn files(dir: &Path, keep: &dyn Fn(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("readable entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, keep, out);
        } else if keep(&p) {
            out.push(p);
        }
    }
}

fn has_ext(p: &Path, exts: &[&str]) -> bool {
    let name = p.file_name().unwrap().to_string_lossy();
    exts.iter().any(|e| name.ends_with(e))
}

const OPTION_SETS: [(&str, CompileOptions); 4] = [
    (
        "f32",
        CompileOptions {
            float: FloatType::F32,
            opset: 17,
            label_index: false,
        },
    ),
    (
        "f64",
        CompileOptions {
            float: FloatType::F64,
            opset: 17,
            label_index: false,
        },
    ),
    (
        "f64-index",
        CompileOptions {
            float: FloatType::F64,
            opset: 17,
            label_index: true,
        },
    ),
    (
        "f32-opset13",
        CompileOptions {
            float: FloatType::F32,
            opset: 13,
            label_index: false,
        },
    ),
];

/// One line per (file, option set): `relative/path option bytes fnv`.
fn digests() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixtures = root.join("tests/fixtures");
    let mut lines = Vec::new();
    let mut record = |path: &Path, option: &str, bytes: &[u8]| {
        let rel = path.strip_prefix(root).unwrap().to_string_lossy();
        lines.push(format!(
            "{rel} {option} {} {:016x}",
            bytes.len(),
            fnv1a(bytes)
        ));
    };

    // Every model in the IR formats: JSON, pickles and joblib, LIBSVM.
    let mut models = Vec::new();
    files(
        &fixtures,
        &|p| {
            let json = has_ext(p, &[".json"])
                && !p.ends_with("MANIFEST.json")
                && p.parent().is_some_and(|d| d == fixtures);
            let libsvm = has_ext(p, &[".model"]);
            let pickle = p.components().any(|c| c.as_os_str() == "pickles")
                && has_ext(
                    p,
                    &[
                        ".pkl", ".joblib", ".z", ".gz", ".bz2", ".xz", ".lzma", ".lz4",
                    ],
                );
            json || libsvm || pickle
        },
        &mut models,
    );
    models.push(root.join("examples/iris_rbf.json"));
    for path in &models {
        let loaded = match load_path(path) {
            Ok(l) => l,
            // Hostile and refused files are other tests' business; a file
            // that stops (or starts) loading changes the digest list.
            Err(_) => {
                record(path, "refused", b"");
                continue;
            }
        };
        // Variants of one model share its graph: the JSON fixtures and the
        // example get every option set, the other formats two.
        let sets: &[(&str, CompileOptions)] = if has_ext(path, &[".json"]) {
            &OPTION_SETS
        } else {
            &OPTION_SETS[..2]
        };
        for (name, options) in sets {
            let bytes = compile(&loaded.model, options)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            record(path, name, &bytes);
        }
    }

    // skl2onnx graphs, rewritten.
    let mut graphs = Vec::new();
    files(
        &fixtures.join("onnxml"),
        &|p| has_ext(p, &[".onnx"]),
        &mut graphs,
    );
    for path in &graphs {
        let bytes = std::fs::read(path).unwrap();
        for (name, float) in [("f64", FloatType::F64), ("f32", FloatType::F32)] {
            match onnxml::convert(&bytes, &ConvertOptions { float }) {
                Ok(c) => record(path, name, &c.onnx),
                Err(_) => record(path, "refused", b""),
            }
        }
    }
    lines
}

#[test]
fn emitted_bytes_match_the_recorded_digests() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx_digests.txt");
    let now = digests();
    if std::env::var_os("SVM2ONNX_BLESS").is_some() {
        std::fs::write(&file, now.join("\n") + "\n").unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&file).expect("tests/fixtures/onnx_digests.txt");
    let recorded: Vec<&str> = recorded.lines().collect();
    let changed: Vec<String> = now
        .iter()
        .filter(|l| !recorded.contains(&l.as_str()))
        .cloned()
        .collect();
    let gone: Vec<&str> = recorded
        .iter()
        .filter(|l| !now.contains(&l.to_string()))
        .copied()
        .collect();
    assert!(
        changed.is_empty() && gone.is_empty(),
        "{} emitted graphs differ from the recorded digests (SVM2ONNX_BLESS=1 re-records them):\nnow:\n{}\nrecorded:\n{}",
        changed.len().max(gone.len()),
        changed.iter().take(20).cloned().collect::<Vec<_>>().join("\n"),
        gone.iter().take(20).copied().collect::<Vec<_>>().join("\n"),
    );
    assert!(now.len() > 1000, "only {} digests", now.len());
}
