//! Typed access to one node's attributes and inputs; every error names the
//! node, its op and the attribute at fault.

use super::OnnxMlError;
use crate::graph::{Dim, ElemType, FloatType, Graph, Value};
use crate::model::Classes;
use crate::onnx::{AttributeProto, NodeProto};

pub struct Attrs<'a> {
    node: &'a NodeProto,
}

impl<'a> Attrs<'a> {
    /// Reads `node`, refusing attributes outside `known`: an attribute we do
    /// not understand might change the op's meaning.
    pub fn new(node: &'a NodeProto, known: &[&str]) -> Result<Attrs<'a>, OnnxMlError> {
        let a = Attrs { node };
        if let Some(unknown) = node.attribute.iter().find(|x| !known.contains(&x.name())) {
            return Err(a.error(unknown.name(), "unknown attribute for this op"));
        }
        Ok(a)
    }

    pub fn error(&self, attribute: &str, problem: impl Into<String>) -> OnnxMlError {
        OnnxMlError::Attribute {
            node: self.node.name().to_string(),
            op: self.node.op_type().to_string(),
            attribute: attribute.to_string(),
            problem: problem.into(),
        }
    }

    pub fn node_error(&self, problem: impl Into<String>) -> OnnxMlError {
        OnnxMlError::Node {
            node: self.node.name().to_string(),
            op: self.node.op_type().to_string(),
            problem: problem.into(),
        }
    }

    fn get(&self, name: &str) -> Option<&AttributeProto> {
        self.node.attribute.iter().find(|a| a.name() == name)
    }

    /// A FLOATS attribute (empty when absent), widened exactly to f64.
    /// Non-finite values are refused: no SVM trained by scikit-learn has them.
    pub fn floats(&self, name: &str) -> Result<Vec<f64>, OnnxMlError> {
        let values: Vec<f64> = self
            .get(name)
            .map(|a| a.floats.iter().map(|&v| f64::from(v)).collect())
            .unwrap_or_default();
        match values.iter().position(|v| !v.is_finite()) {
            Some(i) => Err(self.error(name, format!("value {i} is not finite"))),
            None => Ok(values),
        }
    }

    /// A FLOATS attribute that must be present and non-empty.
    pub fn required_floats(&self, name: &str) -> Result<Vec<f64>, OnnxMlError> {
        let v = self.floats(name)?;
        if v.is_empty() {
            return Err(self.error(name, "missing or empty"));
        }
        Ok(v)
    }

    pub fn ints(&self, name: &str) -> Vec<i64> {
        self.get(name).map(|a| a.ints.clone()).unwrap_or_default()
    }

    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.get(name).and_then(|a| a.i).unwrap_or(default)
    }

    pub fn string(&self, name: &str, default: &str) -> Result<String, OnnxMlError> {
        match self.get(name).and_then(|a| a.s.as_ref()) {
            None => Ok(default.to_string()),
            Some(bytes) => {
                String::from_utf8(bytes.clone()).map_err(|_| self.error(name, "not valid UTF-8"))
            }
        }
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>, OnnxMlError> {
        self.get(name)
            .map(|a| a.strings.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|b| String::from_utf8(b.clone()).map_err(|_| self.error(name, "not valid UTF-8")))
            .collect()
    }

    /// `post_transform`: only NONE, what skl2onnx writes for SVMs and linear
    /// SVMs, is rewritten (docs/ONNX_ML.md §6).
    pub fn require_no_post_transform(&self) -> Result<(), OnnxMlError> {
        let t = self.string("post_transform", "NONE")?;
        if t != "NONE" {
            return Err(self.error(
                "post_transform",
                format!("'{t}' is not supported (only NONE)"),
            ));
        }
        Ok(())
    }

    /// Class labels: `classlabels_strings` when present, else the integer
    /// labels (onnxruntime's order of preference). `ints_name` differs
    /// between ops (`classlabels_ints`, `classlabels_int64s`).
    pub fn class_labels(&self, ints_name: &str) -> Result<Option<Classes>, OnnxMlError> {
        let strings = self.strings("classlabels_strings")?;
        if !strings.is_empty() {
            return Ok(Some(Classes::Str(strings)));
        }
        let ints = self.ints(ints_name);
        Ok((!ints.is_empty()).then_some(Classes::Int(ints)))
    }

    /// The name of input `i`, which must be given.
    pub fn input(&self, i: usize) -> Result<&'a str, OnnxMlError> {
        match self.node.input.get(i).map(String::as_str) {
            Some(name) if !name.is_empty() => Ok(name),
            _ => Err(self.node_error(format!("input {i} is missing"))),
        }
    }

    /// The name of output `i`, or None when the node leaves it unnamed.
    pub fn output(&self, i: usize) -> Option<&'a str> {
        self.node
            .output
            .get(i)
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// Declares the fragment's input (its element type is only a declaration:
/// the input port is dropped when the fragment is spliced in).
pub fn fragment_input(g: &mut Graph, name: &str) -> Value {
    g.input(name, ElemType::F32, vec![Dim::Batch])
}

/// onnxruntime's SVM and linear kernels first cast their input to float32
/// (docs/ONNX_ML.md §1); the fragment then computes in its own precision.
pub fn float32_input(g: &mut Graph, x: Value) -> Value {
    let x = g.cast(x, ElemType::F32);
    match g.float {
        FloatType::F32 => x,
        FloatType::F64 => g.cast(x, ElemType::F64),
    }
}

/// A float value as the float32 tensor the ml op outputs.
pub fn float32_output(g: &mut Graph, v: Value) -> Value {
    match g.float {
        FloatType::F32 => v,
        FloatType::F64 => g.cast(v, ElemType::F32),
    }
}
