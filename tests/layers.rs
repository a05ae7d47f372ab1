//! The crate's layering, checked from the source text: every top-level
//! module has a rank and may import only modules of a lower rank (so data
//! flows one way and no cycle can form between them), and no two sibling
//! files import each other. docs/ARCHITECTURE.md explains the layers; a new
//! module gets its rank here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Rank of each top-level module under src/ (lib.rs and the binary are
/// above every layer).
const RANKS: &[(&str, u32)] = &[
    // Vocabulary and generated types: import nothing of ours.
    ("facts", 0),
    ("onnx", 0),
    ("data", 0),
    // The IR's parts, the graph builder, ONNX recognition.
    ("ir", 1),
    ("graph", 1),
    ("format", 1),
    // Building blocks: graph fragments, their f64 mirror, ONNX and Keras encoding.
    ("lower", 2),
    ("reference", 2),
    ("emit", 2),
    ("keras", 2),
    // The estimator families (each: invariants, outputs, lowering, reference).
    ("model", 3),
    // Model files → families; families → ONNX bytes; validation probes.
    ("load", 4),
    ("compile", 4),
    ("probes", 4),
    // The skl2onnx rewrite; tract execution; atomic output files.
    ("onnxml", 5),
    ("run", 5),
    ("publish", 5),
    // Reports over everything below.
    ("inspect", 6),
    ("smoke", 6),
    ("validate", 6),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The code of a file without comments (doc links name modules freely).
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Identifiers following `prefix` in `text` (`crate::X`, `super::X`).
fn after<'a>(text: &'a str, prefix: &str) -> BTreeSet<&'a str> {
    text.match_indices(prefix)
        .filter(|(i, _)| {
            // Whole-word prefix: not `mycrate::`.
            *i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric()
        })
        .map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .filter(|s| !s.is_empty())
        .collect()
}

#[test]
fn top_level_modules_import_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let ranks: BTreeMap<&str, u32> = RANKS.iter().copied().collect();
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut violations = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy();
        let top = top.trim_end_matches(".rs");
        if top == "lib" || top == "main" || top == "cli" {
            continue;
        }
        let Some(&own) = ranks.get(top) else {
            violations.push(format!(
                "src/{}: module `{top}` has no rank in tests/layers.rs",
                rel.display()
            ));
            continue;
        };
        for used in after(&code(file), "crate::") {
            if used == top {
                continue;
            }
            match ranks.get(used) {
                Some(&r) if r < own => {}
                Some(&r) => violations.push(format!(
                    "src/{} (`{top}`, rank {own}) imports `{used}` (rank {r})",
                    rel.display()
                )),
                None => violations.push(format!(
                    "src/{} imports unknown module `{used}`",
                    rel.display()
                )),
            }
        }
    }
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn sibling_files_do_not_import_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    // (dir, file stem) → sibling stems it names through `super::`.
    let mut edges: BTreeMap<(PathBuf, String), BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        if stem == "mod" || stem == "lib" || stem == "main" {
            continue;
        }
        let dir = file.parent().unwrap().to_path_buf();
        let siblings: BTreeSet<String> = after(&code(file), "super::")
            .into_iter()
            .filter(|s| *s != stem.as_str())
            .filter(|s| dir.join(format!("{s}.rs")).exists() || dir.join(s).join("mod.rs").exists())
            .map(str::to_string)
            .collect();
        edges.insert((dir, stem), siblings);
    }
    let mut cycles = Vec::new();
    for ((dir, a), uses) in &edges {
        for b in uses {
            let back = edges
                .get(&(dir.clone(), b.clone()))
                .is_some_and(|s| s.contains(a));
            if back && a < b {
                cycles.push(format!("{}: {a} <-> {b}", dir.display()));
            }
        }
    }
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}
