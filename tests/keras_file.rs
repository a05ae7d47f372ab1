//! The `.keras` files of every committed model (scikit-learn fixtures,
//! LIBSVM models, the example), read back from their bytes: the zip's
//! entries, a config Keras's safe mode loads (known modules only, no
//! `Lambda`, every call fed by a layer defined in the file), outputs named
//! and typed as in the ONNX graph, constants of the file's precision only,
//! and one weights dataset per `EinsumDense` layer under the name Keras
//! gives it. Keras itself loads them in CI (tests/interop/keras_native_check.py).

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use svm2onnx::{compile_keras, keras_options, load_path, lower_model, CompileOptions, FloatType};

/// The entries of a zip of stored files, in order, read from the local
/// headers (what the writer promises: no compression, no data descriptor).
fn stored_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |i: usize| u16::from_le_bytes([bytes[i], bytes[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
    let mut out = Vec::new();
    let mut at = 0;
    while bytes[at..].starts_with(b"PK\x03\x04") {
        assert_eq!(u16_at(at + 8), 0, "entry {} is compressed", out.len());
        assert_eq!(u16_at(at + 6) & 0x8, 0, "no data descriptor");
        let size = u32_at(at + 18);
        assert_eq!(size, u32_at(at + 22), "stored: sizes agree");
        let name_len = u16_at(at + 26);
        let extra_len = u16_at(at + 28);
        let name = String::from_utf8(bytes[at + 30..at + 30 + name_len].to_vec()).unwrap();
        let data = at + 30 + name_len + extra_len;
        out.push((name, bytes[data..data + size].to_vec()));
        at = data + size;
    }
    assert!(
        bytes[at..].starts_with(b"PK\x01\x02"),
        "the central directory follows"
    );
    out
}

const MODULES: &[&str] = &[
    "keras.layers",
    "keras.src.ops.numpy",
    "keras.src.ops.core",
    "keras.src.ops.nn",
];

/// Every `__keras_tensor__` and `__numpy__` inside a call's arguments.
fn tagged<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| tagged(i, out)),
        Value::Object(o) if o.contains_key("class_name") => out.push(v),
        _ => {}
    }
}

fn check(name: &str, bytes: &[u8], float: FloatType, outputs: &[(String, String)]) {
    let entries = stored_entries(bytes);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["metadata.json", "config.json", "model.weights.h5"],
        "{name}"
    );
    let config: Value = serde_json::from_slice(&entries[1].1).unwrap();
    assert_eq!(config["class_name"], "Functional", "{name}");
    let layers = config["config"]["layers"].as_array().unwrap();
    let float_name = match float {
        FloatType::F32 => "float32",
        FloatType::F64 => "float64",
    };
    let mut defined = BTreeSet::new();
    let mut einsum_dense = 0;
    for layer in layers {
        let lname = layer["name"].as_str().unwrap().to_string();
        let module = layer["module"].as_str().unwrap();
        let class = layer["class_name"].as_str().unwrap();
        assert!(MODULES.contains(&module), "{name}: module {module}");
        assert_ne!(class, "Lambda", "{name}");
        assert!(!lname.contains('/'), "{name}: {lname}");
        assert!(defined.insert(lname.clone()), "{name}: {lname} twice");
        if class == "EinsumDense" {
            einsum_dense += 1;
            assert_eq!(layer["config"]["dtype"]["config"]["name"], float_name);
        }
        if class == "InputLayer" {
            assert_eq!(layer["config"]["dtype"], float_name, "{name}");
        }
        let mut args = Vec::new();
        for node in layer["inbound_nodes"].as_array().unwrap() {
            tagged(&node["args"], &mut args);
        }
        for a in args {
            match a["class_name"].as_str().unwrap() {
                "__keras_tensor__" => {
                    let from = a["config"]["keras_history"][0].as_str().unwrap();
                    assert_ne!(from, lname, "{name}: {lname} reads itself");
                    assert!(
                        layers.iter().any(|l| l["name"] == from),
                        "{name}: {lname} reads undefined {from}"
                    );
                    assert!(a["config"]["shape"].is_array(), "{name}: shape");
                }
                "__numpy__" => {
                    let dtype = a["config"]["dtype"].as_str().unwrap();
                    // A float64 constant in a float32 file would promote the
                    // computation (and the other way round lose precision).
                    assert!(
                        dtype == float_name || dtype == "int64",
                        "{name}: {lname} has a {dtype} constant in a {float_name} file"
                    );
                }
                other => panic!("{name}: argument {other}"),
            }
        }
    }
    // Outputs: the ONNX graph's names, in a dict.
    let out = config["config"]["output_layers"].as_object().unwrap();
    let keys: BTreeSet<&str> = out.keys().map(String::as_str).collect();
    let want: BTreeSet<&str> = outputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(keys, want, "{name}");
    for (output, from) in out {
        let from = from[0].as_str().unwrap();
        assert_eq!(from, output, "{name}: output {output} comes from {from}");
    }
    // One dataset per EinsumDense layer, named as Keras numbers them.
    let h5 = &entries[2].1;
    assert!(
        h5.starts_with(b"\x89HDF\r\n\x1a\n"),
        "{name}: HDF5 signature"
    );
    let has = |link: &str| h5.windows(link.len()).any(|w| w == link.as_bytes());
    for i in 0..einsum_dense {
        let link = if i == 0 {
            "einsum_dense".to_string()
        } else {
            format!("einsum_dense_{i}")
        };
        assert!(has(&link), "{name}: no {link}");
    }
    assert!(
        !has(&format!("einsum_dense_{einsum_dense}")),
        "{name}: a dataset too many"
    );
    let meta: Value = serde_json::from_slice(&entries[0].1).unwrap();
    assert_eq!(meta["svm2onnx"]["dtype"], float.name(), "{name}");
}

#[test]
fn every_model_writes_a_keras_file_keras_can_load() {
    let paths = common::committed_model_paths();
    for path in paths {
        let loaded = load_path(&path).unwrap();
        for float in [FloatType::F32, FloatType::F64] {
            let asked = CompileOptions {
                float,
                ..CompileOptions::default()
            };
            let bytes = compile_keras(&loaded.model, &asked)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let (options, _) = keras_options(&loaded.model, &asked);
            let graph = lower_model(&loaded.model, &options).unwrap().graph;
            let outputs: Vec<(String, String)> = graph
                .outputs
                .iter()
                .map(|p| (graph.name(p.value).to_string(), format!("{:?}", p.elem)))
                .collect();
            check(&path.display().to_string(), &bytes, float, &outputs);
            // The same model gives the same bytes.
            assert_eq!(bytes, compile_keras(&loaded.model, &asked).unwrap());
        }
    }
}

#[test]
fn string_labels_leave_a_keras_model_as_indices() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = load_path(&root.join("tests/fixtures/svc_rbf_iris_k3_ovr_str.json")).unwrap();
    let (options, forced) = keras_options(&loaded.model, &CompileOptions::default());
    assert!(forced && options.label_index);
    let bytes = compile_keras(&loaded.model, &CompileOptions::default()).unwrap();
    let entries = stored_entries(&bytes);
    let meta: Value = serde_json::from_slice(&entries[0].1).unwrap();
    assert_eq!(meta["svm2onnx"]["label_output"], "index");
    let classes: Vec<String> =
        serde_json::from_str(meta["svm2onnx"]["classes"].as_str().unwrap()).unwrap();
    assert_eq!(classes, ["setosa", "versicolor", "virginica"]);
    // Integer labels stay labels.
    let ints = load_path(&root.join("tests/fixtures/svc_linear_wine_k3_ovo_int3711.json")).unwrap();
    assert!(!keras_options(&ints.model, &CompileOptions::default()).1);
}
