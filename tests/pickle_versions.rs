//! Pickles written by scikit-learn 1.0 to 1.9 with numpy 1.x and 2.x
//! (tests/fixtures/versions/, made by tests/fixtures/make_version_pickles.py
//! under each version): each converts, and its graphs reproduce the outputs
//! scikit-learn recorded for held-out rows, in f64 within 1e-9 with labels
//! 100% and in f32 within 1e-4; the searches whose scorer is a name outside
//! the allowlist convert through `best_estimator_`; a model whose converted
//! path needs an unknown global is refused naming it.

mod common;

use common::relative_error;
use ndarray::Array2;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use svm2onnx::model::{Label, Samples, Task};
use svm2onnx::run::{LabelColumn, Runner};
use svm2onnx::validate::{default_batches, validate};
use svm2onnx::{compile, load_path, CompileOptions, FloatType, LoadedModel};

fn versions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/versions")
}

/// One recorded model: its sidecar JSON and the files holding it.
struct Case {
    name: String,
    meta: Value,
    files: Vec<PathBuf>,
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(versions_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut sidecars: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        sidecars.sort();
        for sidecar in sidecars {
            let stem = sidecar.file_stem().unwrap().to_str().unwrap().to_string();
            let meta: Value =
                serde_json::from_str(&std::fs::read_to_string(&sidecar).unwrap()).unwrap();
            let files: Vec<_> = [".pkl", ".joblib.z"]
                .iter()
                .map(|ext| dir.join(format!("{stem}{ext}")))
                .filter(|p| p.exists())
                .collect();
            assert!(!files.is_empty(), "{}: no pickle", sidecar.display());
            out.push(Case {
                name: format!("{}/{stem}", dir.file_name().unwrap().to_str().unwrap()),
                meta,
                files,
            });
        }
    }
    out
}

fn matrix(v: &Value) -> Array2<f64> {
    let rows = v.as_array().unwrap();
    let flat = rows.iter().all(|r| !r.is_array());
    if flat {
        let col: Vec<f64> = rows.iter().map(|x| x.as_f64().unwrap()).collect();
        return Array2::from_shape_vec((col.len(), 1), col).unwrap();
    }
    let width = rows.first().map_or(0, |r| r.as_array().unwrap().len());
    let values: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
        .collect();
    Array2::from_shape_vec((rows.len(), width), values).unwrap()
}

fn label(v: &Value) -> Label {
    match v {
        Value::String(s) => Label::Str(s.clone()),
        Value::Number(n) if n.is_i64() => Label::Int(n.as_i64().unwrap()),
        Value::Number(n) => Label::Float(n.as_f64().unwrap()),
        other => panic!("label {other}"),
    }
}

fn samples(meta: &Value) -> Samples {
    let s = &meta["samples"];
    Samples {
        x: matrix(&s["X"]),
        predict: Some(s["predict"].as_array().unwrap().iter().map(label).collect()),
        decision_function: s.get("decision_function").map(matrix),
        predict_proba: s.get("predict_proba").map(matrix),
    }
}

fn graph_labels(column: &LabelColumn) -> Vec<Label> {
    match column {
        LabelColumn::Int(v) => v.iter().map(|&i| Label::Int(i)).collect(),
        LabelColumn::Float(v) => v.iter().map(|&f| Label::Float(f)).collect(),
        LabelColumn::Str(v) => v.iter().map(|s| Label::Str(s.clone())).collect(),
    }
}

fn predictions(labels: &[Label]) -> Array2<f64> {
    let v: Vec<f64> = labels
        .iter()
        .map(|l| match l {
            Label::Int(i) => *i as f64,
            Label::Float(f) => *f,
            Label::Str(s) => panic!("a regressor predicted {s:?}"),
        })
        .collect();
    Array2::from_shape_vec((v.len(), 1), v).unwrap()
}

/// Converts `loaded` at `float` and compares every recorded output; returns
/// the largest relative error seen.
fn check(name: &str, loaded: &LoadedModel, float: FloatType, tolerance: f64) -> f64 {
    let samples = loaded.samples.as_ref().unwrap();
    let options = CompileOptions {
        float,
        ..CompileOptions::default()
    };
    let onnx = compile(&loaded.model, &options).unwrap_or_else(|e| panic!("{name}: {e}"));
    let runner = Runner::new(&onnx).unwrap_or_else(|e| panic!("{name}: {e}"));
    let out = runner.run(samples.x.view()).unwrap();
    let mut worst = 0.0f64;
    let mut compared = 0;
    let mut compare = |what: &str, got: &Option<Array2<f64>>, want: &Array2<f64>| {
        let got = got
            .as_ref()
            .unwrap_or_else(|| panic!("{name}: no {what} output"));
        let err = relative_error(got, want);
        assert!(
            err <= tolerance,
            "{name} {float:?}: {what} relative error {err:e}"
        );
        worst = worst.max(err);
        compared += 1;
    };
    let predict = samples.predict.as_ref().unwrap();
    if loaded.model.task() == Task::Regress {
        compare("prediction", &out.prediction, &predictions(predict));
    } else {
        if let Some(d) = &samples.decision_function {
            compare("scores", &out.scores, d);
        }
        if let Some(p) = &samples.predict_proba {
            compare("probabilities", &out.probabilities, p);
        }
        let labels = out
            .label
            .as_ref()
            .map(graph_labels)
            .or_else(|| {
                out.prediction
                    .as_ref()
                    .map(|p| p.iter().map(|&v| Label::Int(v as i64)).collect())
            })
            .unwrap_or_else(|| panic!("{name}: no label output"));
        let agree = labels.iter().zip(predict).filter(|(a, b)| a == b).count();
        if float == FloatType::F64 {
            assert_eq!(&labels, predict, "{name}: f64 labels must equal predict");
        } else {
            assert!(
                agree * 1000 >= predict.len() * 999,
                "{name} f32: {agree}/{} labels",
                predict.len()
            );
        }
    }
    assert!(compared > 0, "{name}: nothing compared");
    let report = validate(
        &runner,
        &loaded.model,
        &default_batches(&loaded.model, Some(samples)),
        tolerance,
    )
    .unwrap();
    assert!(report.passed, "{name} {float:?}:\n{}", report.render());
    worst
}

#[test]
fn every_version_pickle_matches_what_sklearn_recorded() {
    let mut worst = (0.0f64, 0.0f64);
    let mut per_version = std::collections::BTreeMap::<String, (f64, f64, usize)>::new();
    let mut converted = 0;
    for case in cases() {
        if case.meta["expect"] != "convert" {
            continue;
        }
        for file in &case.files {
            let name = format!(
                "{} ({})",
                case.name,
                file.file_name().unwrap().to_str().unwrap()
            );
            let mut loaded = load_path(file).unwrap_or_else(|e| panic!("{name}: {e}"));
            loaded.samples = Some(samples(&case.meta));
            let f64_err = check(&name, &loaded, FloatType::F64, 1e-9);
            let f32_err = check(&name, &loaded, FloatType::F32, 1e-4);
            worst = (worst.0.max(f64_err), worst.1.max(f32_err));
            let dir = case.name.split('/').next().unwrap().to_string();
            let v = per_version.entry(dir).or_default();
            *v = (v.0.max(f64_err), v.1.max(f32_err), v.2 + 1);
            converted += 1;
        }
    }
    for (dir, (a, b, n)) in &per_version {
        println!("{dir}: {n} files, worst relative error f64 {a:.1e}, f32 {b:.1e}");
    }
    println!(
        "{converted} version pickles: worst relative error f64 {:e}, f32 {:e}",
        worst.0, worst.1
    );
    assert!(
        converted >= 30,
        "only {converted} version pickles converted"
    );
}

#[test]
fn a_converted_path_through_an_unknown_global_is_refused_naming_it() {
    let mut refused = 0;
    for case in cases() {
        if case.meta["expect"] != "refuse" {
            continue;
        }
        let needle = case.meta["refusal"].as_str().unwrap();
        for file in &case.files {
            let e = load_path(file)
                .err()
                .unwrap_or_else(|| panic!("{}: accepted", case.name))
                .to_string();
            assert!(e.contains(needle), "{}: {e}", case.name);
            // Where it was needed: the best estimator's first step.
            assert!(
                e.contains("best_estimator_.Pipeline.steps[0]"),
                "{}: {e}",
                case.name
            );
            assert!(e.contains("inert placeholder"), "{}: {e}", case.name);
            assert!(!e.contains('\n'), "{}: {e}", case.name);
            refused += 1;
        }
    }
    assert!(refused >= 1);
}

/// The matrix covers the versions and models the issue names.
#[test]
fn the_version_matrix_covers_sklearn_1_0_to_1_9_and_numpy_1_and_2() {
    let all = cases();
    let dirs: BTreeSet<String> = all
        .iter()
        .map(|c| c.name.split('/').next().unwrap().to_string())
        .collect();
    for want in ["sk1.0.", "sk1.2.", "sk1.4.", "sk1.6.", "sk1.9."] {
        assert!(
            dirs.iter().any(|d| d.starts_with(want)),
            "no pickles from {want}: {dirs:?}"
        );
    }
    assert!(dirs.iter().any(|d| d.ends_with("-np1")));
    assert!(dirs.iter().any(|d| d.ends_with("-np2")));
    for dir in &dirs {
        for model in [
            "svc_proba",
            "svr",
            "oneclass",
            "linearsvc",
            "pipe_scaler_svc",
            "calibrated_svc",
        ] {
            let name = format!("{dir}/{model}");
            assert!(all.iter().any(|c| c.name == name), "missing {name}");
        }
    }
    for search in [
        "gridsearch_default_scorer",
        "gridsearch_make_scorer",
        "gridsearch_callable_scorer",
        "randomsearch_pipe",
    ] {
        let name = format!("sk1.2.2-np1/{search}");
        assert!(all.iter().any(|c| c.name == name), "missing {name}");
    }
    // A ColumnTransformer that selects DataFrame columns by name (issue 12),
    // from pandas 2 with numpy 1 and pandas 3 with numpy 2.
    for dir in ["sk1.2.2-np1", "sk1.6.1-np2"] {
        let name = format!("{dir}/dataframe_columns_by_name_svc");
        let case = all.iter().find(|c| c.name == name);
        assert!(
            case.is_some_and(|c| c.meta["expect"] == "convert"),
            "missing {name}"
        );
    }
}

/// Models fitted on a pandas DataFrame: `feature_names_in_` (a numpy
/// object array of str) is read without executing anything, recorded in
/// the graph's metadata as `feature_names` and shown by `inspect`; models
/// fitted on arrays record none.
#[test]
fn dataframe_column_names_reach_the_metadata_and_inspect() {
    let mut named = 0;
    for case in cases() {
        if case.meta["expect"] != "convert" {
            continue;
        }
        let want: Option<Vec<String>> = case.meta.get("feature_names_in").map(|v| {
            v.as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect()
        });
        let file = &case.files[0];
        let loaded = load_path(file).unwrap();
        assert_eq!(loaded.feature_names, want, "{}", case.name);
        let onnx = svm2onnx::convert_file(file, &CompileOptions::default()).unwrap();
        let graph = svm2onnx::inspect::inspect_bytes(&onnx, &Default::default()).unwrap();
        let model = svm2onnx::inspect::describe_model(&loaded);
        match &want {
            Some(names) => {
                let json = serde_json::to_string(names).unwrap();
                assert_eq!(
                    graph.field("feature_names"),
                    Some(json.as_str()),
                    "{}",
                    case.name
                );
                assert_eq!(
                    model.field("feature names"),
                    Some(json.as_str()),
                    "{}",
                    case.name
                );
                named += 1;
            }
            None => {
                assert_eq!(graph.field("feature_names"), None, "{}", case.name);
                assert_eq!(model.field("feature names"), None, "{}", case.name);
            }
        }
    }
    // An SVC and a Pipeline, from scikit-learn 1.2 (numpy 1) and 1.6 (numpy 2).
    assert!(named >= 4, "{named} DataFrame-fitted models");
}

/// The command line writes the names into the graph it converts.
#[test]
fn the_cli_records_dataframe_column_names() {
    let model = versions_dir().join("sk1.6.1-np2/dataframe_pipe_svc.pkl");
    let dir = common::scratch_dir("names");
    let out = dir.join("m.onnx");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_svm2onnx"))
        .args([
            "convert",
            model.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_svm2onnx"))
        .args(["inspect", out.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains(r#"["sepal length","sepal width","petal length","petal width"]"#),
        "{text}"
    );
}
