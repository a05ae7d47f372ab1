//! The ONNX bytes of every committed fixture, compiled under several option
//! sets, against the digests recorded in `tests/fixtures/onnx_digests.txt`.
//!
//! A refactor must not change a single byte of what we emit; a change that
//! is meant to alter graphs re-records the file with
//! `SVM2ONNX_BLESS=1 cargo test --test onnx_bytes` and says why in its
//! commit message. The fixtures are always the committed ones (never
//! `$SVM2ONNX_FIXTURES`): the digests belong to those files.

mod common;

use common::{files_in, has_ext, pickle_family, PICKLE_FAMILIES};
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

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The files the digests are of, in the order of the digest file: every
/// model in the IR formats (JSON, pickles and joblib, LIBSVM) and the
/// shipped example, then the skl2onnx graphs (`true`).
fn sources() -> Vec<(PathBuf, bool)> {
    let fixtures = root().join("tests/fixtures");
    let mut models = files_in(&fixtures, true, &|p| {
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
    });
    models.push(root().join("examples/iris_rbf.json"));
    let graphs = files_in(&fixtures.join("onnxml"), true, &|p| has_ext(p, &[".onnx"]));
    let models = models.into_iter().map(|p| (p, false));
    models
        .chain(graphs.into_iter().map(|p| (p, true)))
        .collect()
}

/// The test that checks the digests of a file (a path relative to the
/// crate, as the digest file spells it): one per pickle family, one for
/// the LIBSVM files, one for the skl2onnx graphs, and `json` for the rest
/// (the JSON fixtures and the example).
fn family(rel: &str) -> String {
    if rel.starts_with("tests/fixtures/pickles/") {
        format!("pickles/{}", pickle_family(Path::new(rel)))
    } else if rel.starts_with("tests/fixtures/libsvm/") {
        "libsvm".to_string()
    } else if rel.starts_with("tests/fixtures/onnxml/") {
        "onnxml".to_string()
    } else {
        "json".to_string()
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// One line per (file, option set): `relative/path option bytes fnv`.
fn digests(sources: &[(PathBuf, bool)]) -> Vec<String> {
    let mut lines = Vec::new();
    let mut record = |path: &Path, option: &str, bytes: &[u8]| {
        lines.push(format!(
            "{} {option} {} {:016x}",
            relative(path),
            bytes.len(),
            fnv1a(bytes)
        ));
    };
    for (path, graph) in sources {
        if *graph {
            // skl2onnx graphs, rewritten.
            let bytes = std::fs::read(path).unwrap();
            for (name, float) in [("f64", FloatType::F64), ("f32", FloatType::F32)] {
                match onnxml::convert(&bytes, &ConvertOptions { float }) {
                    Ok(c) => record(path, name, &c.onnx),
                    Err(_) => record(path, "refused", b""),
                }
            }
            continue;
        }
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
    lines
}

fn digest_file() -> PathBuf {
    root().join("tests/fixtures/onnx_digests.txt")
}

fn blessing() -> bool {
    std::env::var_os("SVM2ONNX_BLESS").is_some()
}

/// The digests of one family's files against that family's lines of the
/// digest file, as multisets: a changed, missing or extra line fails.
fn family_matches_the_recorded_digests(family_name: &str) {
    if blessing() {
        // `every_digest_is_checked_by_one_family` re-records the file.
        return;
    }
    let mut sources = sources();
    sources.retain(|(p, _)| family(&relative(p)) == family_name);
    let mut now = digests(&sources);
    let recorded = std::fs::read_to_string(digest_file()).expect("tests/fixtures/onnx_digests.txt");
    let mut recorded: Vec<&str> = recorded
        .lines()
        .filter(|l| family(l.split(' ').next().unwrap()) == family_name)
        .collect();
    assert!(!now.is_empty(), "{family_name}: no fixtures");
    now.sort();
    recorded.sort();
    let changed: Vec<&str> = now
        .iter()
        .map(String::as_str)
        .filter(|l| recorded.binary_search(l).is_err())
        .collect();
    let gone: Vec<&str> = recorded
        .iter()
        .copied()
        .filter(|l| now.binary_search_by(|n| n.as_str().cmp(l)).is_err())
        .collect();
    assert!(
        changed.is_empty() && gone.is_empty() && now == recorded,
        "{family_name}: {} emitted graphs differ from the recorded digests ({} now, {} recorded; SVM2ONNX_BLESS=1 re-records them):\nnow:\n{}\nrecorded:\n{}",
        changed.len().max(gone.len()),
        now.len(),
        recorded.len(),
        changed.iter().take(20).copied().collect::<Vec<_>>().join("\n"),
        gone.iter().take(20).copied().collect::<Vec<_>>().join("\n"),
    );
}

/// One test per family (they run in parallel); `TESTED` lists them.
macro_rules! per_family {
    ($($test:ident => $family:expr,)*) => {
        $(
            #[test]
            fn $test() {
                family_matches_the_recorded_digests(&$family);
            }
        )*
        fn tested() -> Vec<String> {
            vec![$($family.to_string()),*]
        }
    };
}

per_family! {
    json_fixtures_and_the_example => "json",
    libsvm_files => "libsvm",
    skl2onnx_graphs => "onnxml",
    pickles_protocol2 => format!("pickles/{}", PICKLE_FAMILIES[0]),
    pickles_protocol3 => format!("pickles/{}", PICKLE_FAMILIES[1]),
    pickles_protocol4 => format!("pickles/{}", PICKLE_FAMILIES[2]),
    pickles_protocol5 => format!("pickles/{}", PICKLE_FAMILIES[3]),
    joblib => format!("pickles/{}", PICKLE_FAMILIES[4]),
    joblib_zlib => format!("pickles/{}", PICKLE_FAMILIES[5]),
    joblib_gzip => format!("pickles/{}", PICKLE_FAMILIES[6]),
    joblib_bz2 => format!("pickles/{}", PICKLE_FAMILIES[7]),
    joblib_xz => format!("pickles/{}", PICKLE_FAMILIES[8]),
    joblib_lzma => format!("pickles/{}", PICKLE_FAMILIES[9]),
    joblib_lz4 => format!("pickles/{}", PICKLE_FAMILIES[10]),
    pickles_legacy => format!("pickles/{}", PICKLE_FAMILIES[11]),
}

/// Every file the digests are of, and every line of the digest file, falls
/// to exactly one of the family tests above, so each line is checked once
/// (a line of no tested family fails here). `SVM2ONNX_BLESS=1` re-records
/// the whole file here, in one go.
#[test]
fn every_digest_is_checked_by_one_family() {
    let tested = tested();
    assert_eq!(tested.len(), 3 + PICKLE_FAMILIES.len());
    let mut unique = tested.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), tested.len(), "a family tested twice");
    let sources = sources();
    for (path, _) in &sources {
        let f = family(&relative(path));
        assert!(
            tested.contains(&f),
            "{}: family {f} is not tested",
            path.display()
        );
    }
    if blessing() {
        std::fs::write(digest_file(), digests(&sources).join("\n") + "\n").unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(digest_file()).expect("tests/fixtures/onnx_digests.txt");
    for line in recorded.lines() {
        let f = family(line.split(' ').next().unwrap());
        assert!(tested.contains(&f), "{line:?}: family {f} is not tested");
    }
    let count = recorded.lines().count();
    assert!(count > 1000, "only {count} digests");
}
