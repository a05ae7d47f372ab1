//! Element types and float precision of graph tensors.

/// Floating-point precision of a graph's input, constants and float outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FloatType {
    /// float32: what TensorFlow, TFLite and most accelerators run.
    #[default]
    F32,
    /// float64: bit-level agreement with scikit-learn.
    F64,
}

impl FloatType {
    /// `f32` or `f64`, as `--dtype` spells it.
    pub fn name(self) -> &'static str {
        match self {
            FloatType::F32 => "f32",
            FloatType::F64 => "f64",
        }
    }

    /// Rounds an f64 to this precision (the value the graph will hold).
    pub fn round(self, v: f64) -> f64 {
        match self {
            FloatType::F32 => v as f32 as f64,
            FloatType::F64 => v,
        }
    }

    /// The element type of float tensors at this precision.
    pub fn elem(self) -> ElemType {
        match self {
            FloatType::F32 => ElemType::F32,
            FloatType::F64 => ElemType::F64,
        }
    }
}

impl std::str::FromStr for FloatType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "f32" | "float32" | "float" => Ok(FloatType::F32),
            "f64" | "float64" | "double" => Ok(FloatType::F64),
            other => Err(format!("unknown dtype '{other}' (expected f32 or f64)")),
        }
    }
}

/// Element types that appear in our graphs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElemType {
    /// float32
    F32,
    /// float64
    F64,
    /// int64 (labels as indices, integer labels, shapes)
    I64,
    /// bool (comparisons)
    Bool,
    /// string (string class labels)
    Str,
}

impl ElemType {
    /// The ONNX `TensorProto.DataType` code of this element type.
    pub fn onnx_type(self) -> crate::onnx::tensor_proto::DataType {
        use crate::onnx::tensor_proto::DataType;
        match self {
            ElemType::F32 => DataType::Float,
            ElemType::F64 => DataType::Double,
            ElemType::I64 => DataType::Int64,
            ElemType::Bool => DataType::Bool,
            ElemType::Str => DataType::String,
        }
    }
}
