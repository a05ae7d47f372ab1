//! config.json: the Functional model as Keras 3 serialises it.
//!
//! Each operation is an entry of `config.layers` with its module, class,
//! constructor config and the call that feeds it (`inbound_nodes`): tensors
//! as `__keras_tensor__` references to the operation that made them (with
//! their shape and dtype, which the format requires), constants as
//! `__numpy__` arrays of an explicit dtype. The numbers of a constant are
//! written exactly: shortest round-trip decimals (f32 values as the f64 of
//! their f32), and the JSON tokens `Infinity`/`NaN` Python's json reads.

use super::shapes::{KerasDtype, Spec};
use super::translate::{Arg, KerasGraph, Kind, Numpy, NumpyValues, Operation};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value as Json};

#[derive(Serialize)]
struct Entry<'a> {
    module: &'static str,
    class_name: &'static str,
    config: Map<String, Json>,
    registered_name: Json,
    #[serde(skip_serializing_if = "Option::is_none")]
    build_config: Option<Json>,
    name: &'a str,
    inbound_nodes: Vec<Inbound>,
}

#[derive(Serialize)]
struct Inbound {
    args: Vec<ArgJson>,
    kwargs: Map<String, Json>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum ArgJson {
    Tagged {
        class_name: &'static str,
        config: Box<TaggedConfig>,
    },
    List(Vec<ArgJson>),
}

#[derive(Serialize)]
#[serde(untagged)]
enum TaggedConfig {
    Tensor {
        shape: Vec<Option<usize>>,
        dtype: &'static str,
        keras_history: (String, u32, u32),
    },
    Numpy {
        value: Box<RawValue>,
        dtype: &'static str,
    },
}

/// A layer's dtype policy.
fn policy(dtype: KerasDtype) -> Json {
    json!({
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": dtype.name()},
        "registered_name": null
    })
}

/// The JSON text of a number Python's json module reads back exactly.
fn number(x: f64, out: &mut String) {
    use std::fmt::Write;
    if x.is_nan() {
        out.push_str("NaN");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // `{:?}` is the shortest decimal that round-trips.
        write!(out, "{x:?}").expect("writing to a String");
    }
}

/// Nested JSON lists of a row-major array.
fn nested(dims: &[usize], values: &[String]) -> String {
    fn go(dims: &[usize], values: &[String], out: &mut String) {
        match dims.split_first() {
            None => out.push_str(&values[0]),
            Some((&n, rest)) => {
                let stride: usize = rest.iter().product();
                out.push('[');
                for i in 0..n {
                    if i > 0 {
                        out.push(',');
                    }
                    go(rest, &values[i * stride..(i + 1) * stride], out);
                }
                out.push(']');
            }
        }
    }
    let mut out = String::new();
    go(dims, values, &mut out);
    out
}

fn numpy(n: &Numpy) -> ArgJson {
    let (texts, dtype): (Vec<String>, KerasDtype) = match &n.values {
        NumpyValues::Float(v, dtype) => (
            v.iter()
                .map(|&x| {
                    let mut s = String::new();
                    number(x, &mut s);
                    s
                })
                .collect(),
            *dtype,
        ),
        NumpyValues::Int64(v) => (v.iter().map(i64::to_string).collect(), KerasDtype::I64),
    };
    let text = nested(&n.dims, &texts);
    ArgJson::Tagged {
        class_name: "__numpy__",
        config: Box::new(TaggedConfig::Numpy {
            value: RawValue::from_string(text).expect("numbers and lists are JSON"),
            dtype: dtype.name(),
        }),
    }
}

fn tensor(model: &KerasGraph, i: usize) -> ArgJson {
    let op = &model.operations[i];
    ArgJson::Tagged {
        class_name: "__keras_tensor__",
        config: Box::new(TaggedConfig::Tensor {
            shape: op.spec.dims.clone(),
            dtype: op.spec.dtype.name(),
            keras_history: (op.name.clone(), 0, 0),
        }),
    }
}

fn arg(model: &KerasGraph, a: &Arg) -> ArgJson {
    match a {
        Arg::Tensor(i) => tensor(model, *i),
        Arg::Numpy(n) => numpy(n),
        Arg::List(items) => ArgJson::List(items.iter().map(|a| arg(model, a)).collect()),
    }
}

fn input_shape(model: &KerasGraph, op: &Operation) -> Vec<Option<usize>> {
    let mut p = Vec::new();
    op.args.iter().for_each(|a| a.tensors(&mut p));
    p.first()
        .map(|&i| model.operations[i].spec.dims.clone())
        .unwrap_or_default()
}

fn entry<'a>(model: &'a KerasGraph, op: &'a Operation) -> Entry<'a> {
    let inbound = || {
        vec![Inbound {
            args: op.args.iter().map(|a| arg(model, a)).collect(),
            kwargs: Map::new(),
        }]
    };
    match &op.kind {
        Kind::Input => {
            let Spec { dims, dtype } = &op.spec;
            let Json::Object(config) = json!({
                "batch_shape": dims,
                "dtype": dtype.name(),
                "sparse": false,
                "name": op.name,
            }) else {
                unreachable!()
            };
            Entry {
                module: "keras.layers",
                class_name: "InputLayer",
                config,
                registered_name: Json::Null,
                build_config: None,
                name: &op.name,
                inbound_nodes: vec![],
            }
        }
        Kind::Layer { class, config } => {
            let mut full = Map::new();
            full.insert("name".into(), json!(op.name));
            full.insert("trainable".into(), json!(false));
            full.insert("dtype".into(), policy(model.float));
            full.extend(config.clone());
            Entry {
                module: "keras.layers",
                class_name: class,
                config: full,
                registered_name: Json::Null,
                build_config: Some(json!({"input_shape": input_shape(model, op)})),
                name: &op.name,
                inbound_nodes: inbound(),
            }
        }
        Kind::Op {
            module,
            class,
            config,
        } => {
            let mut full = Map::new();
            full.insert("name".into(), json!(op.name));
            full.extend(config.clone());
            Entry {
                module,
                class_name: class,
                config: full,
                registered_name: json!(class),
                build_config: None,
                name: &op.name,
                inbound_nodes: inbound(),
            }
        }
    }
}

/// The text of config.json for `model`, its operations listed in `order`.
pub(crate) fn config_json(model: &KerasGraph, order: &[usize], name: &str) -> String {
    let layers: Vec<Entry> = order
        .iter()
        .map(|&i| entry(model, &model.operations[i]))
        .collect();
    let input = model
        .operations
        .iter()
        .find(|op| matches!(op.kind, Kind::Input))
        .map(|op| op.name.clone())
        .unwrap_or_default();
    let outputs: Map<String, Json> = model
        .outputs
        .iter()
        .map(|(name, i)| (name.clone(), json!([model.operations[*i].name, 0, 0])))
        .collect();
    #[derive(Serialize)]
    struct Config<'a> {
        name: &'a str,
        trainable: bool,
        layers: Vec<Entry<'a>>,
        input_layers: Json,
        output_layers: Map<String, Json>,
    }
    #[derive(Serialize)]
    struct Model<'a> {
        module: &'static str,
        class_name: &'static str,
        config: Config<'a>,
        registered_name: &'static str,
        build_config: Json,
        compile_config: Json,
    }
    let model_json = Model {
        module: "keras.src.models.functional",
        class_name: "Functional",
        config: Config {
            name,
            trainable: false,
            layers,
            input_layers: json!([input, 0, 0]),
            output_layers: outputs,
        },
        registered_name: "Functional",
        build_config: json!({"input_shape": null}),
        compile_config: Json::Null,
    };
    serde_json::to_string(&model_json).expect("the config serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip_and_name_non_finite_values() {
        let mut s = String::new();
        for x in [
            0.1,
            1.0,
            -2.5e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ] {
            number(x, &mut s);
            s.push(' ');
        }
        assert_eq!(s, "0.1 1.0 -2.5e-300 Infinity -Infinity NaN ");
        let v = 0.1f32 as f64;
        let mut t = String::new();
        number(v, &mut t);
        assert_eq!(t.parse::<f64>().unwrap(), v);
    }

    #[test]
    fn nested_lists_follow_the_shape() {
        let v: Vec<String> = (0..6).map(|i| i.to_string()).collect();
        assert_eq!(nested(&[2, 3], &v), "[[0,1,2],[3,4,5]]");
        assert_eq!(nested(&[], &v[..1]), "0");
        assert_eq!(nested(&[0], &[]), "[]");
    }
}
