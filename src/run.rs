//! Executes an emitted ONNX graph with tract (the `tract` feature).

use crate::facts::{INPUT, LABEL, PREDICTION, PROBABILITIES, PROBABILITY_LABEL, SCORES};
use crate::graph::ElemType;
use crate::onnx::{tensor_proto::DataType, type_proto, ModelProto};
use ndarray::{Array2, ArrayView2, Axis};
use prost::Message;
use tract_linalg::multithread::{multithread_tract_scope, Executor};
use tract_onnx::prelude::*;

/// Why a graph could not be executed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The bytes (or file) are not a readable ONNX model.
    #[error("not an ONNX model: {0}")]
    Decode(String),
    /// A part of the graph the runner needs is absent.
    #[error("the graph has no {0}")]
    Missing(String),
    /// The input's type, or the rows' or an output's shape, does not fit.
    #[error("{0}")]
    Shape(String),
    /// tract failed to load, optimise or run the graph.
    #[error("tract: {0}")]
    Tract(String),
}

/// Runs tract code, turning a panic inside tract (on a malformed graph that
/// is not ours) into an error instead of aborting the command.
fn guarded<T>(f: impl FnOnce() -> Result<T, RunError>) -> Result<T, RunError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(RunError::Tract("tract panicked on this graph".into())))
}

fn tract_error(e: impl std::fmt::Display) -> RunError {
    // `{:#}` would print the whole anyhow chain over several lines; the first
    // cause is enough for a one-line report.
    RunError::Tract(e.to_string())
}

/// What the runner and the validator need to know about an emitted graph.
#[derive(Debug, Clone)]
pub struct GraphInfo {
    /// The input's element type: f32 or f64.
    pub input_elem: ElemType,
    /// The input's second dimension, when fixed.
    pub n_features: Option<usize>,
    /// Output names in graph order, with their element types.
    pub outputs: Vec<(String, ElemType)>,
    /// The model's metadata_props, as (key, value) in file order.
    pub metadata: Vec<(String, String)>,
}

impl GraphInfo {
    /// Reads the interface and metadata of an ONNX model file.
    pub(crate) fn from_path(path: &std::path::Path) -> Result<GraphInfo, RunError> {
        let bytes = std::fs::read(path)
            .map_err(|e| RunError::Decode(format!("cannot read {}: {e}", path.display())))?;
        GraphInfo::from_bytes(&bytes)
    }

    /// Reads the interface and metadata of an ONNX model.
    pub fn from_bytes(bytes: &[u8]) -> Result<GraphInfo, RunError> {
        let model = ModelProto::decode(bytes).map_err(|e| RunError::Decode(e.to_string()))?;
        let graph = model
            .graph
            .as_ref()
            .ok_or_else(|| RunError::Missing("graph".into()))?;
        let tensor_type = |vi: &crate::onnx::ValueInfoProto| match vi
            .r#type
            .as_ref()
            .and_then(|t| t.value.as_ref())
        {
            Some(type_proto::Value::TensorType(t)) => Some(t.clone()),
            _ => None,
        };
        let elem = |code: Option<i32>| match code.and_then(|c| DataType::try_from(c).ok()) {
            Some(DataType::Float) => Some(ElemType::F32),
            Some(DataType::Double) => Some(ElemType::F64),
            Some(DataType::Int64) => Some(ElemType::I64),
            Some(DataType::String) => Some(ElemType::Str),
            Some(DataType::Bool) => Some(ElemType::Bool),
            _ => None,
        };
        // Our graphs name their input `X`; a rewritten skl2onnx graph keeps
        // its own single input name.
        let input = graph
            .input
            .iter()
            .find(|i| i.name.as_deref() == Some(INPUT))
            .or(match graph.input.as_slice() {
                [only] => Some(only),
                _ => None,
            })
            .ok_or_else(|| RunError::Missing(format!("input named '{INPUT}'")))?;
        let input_type =
            tensor_type(input).ok_or_else(|| RunError::Missing("tensor type on input X".into()))?;
        let input_elem = elem(input_type.elem_type)
            .filter(|e| matches!(e, ElemType::F32 | ElemType::F64))
            .ok_or_else(|| RunError::Shape("input X must be float or double".into()))?;
        let n_features = input_type
            .shape
            .as_ref()
            .and_then(|s| s.dim.get(1))
            .and_then(|d| match d.value {
                Some(crate::onnx::tensor_shape_proto::dimension::Value::DimValue(v)) => {
                    usize::try_from(v).ok()
                }
                _ => None,
            });
        let outputs = graph
            .output
            .iter()
            .map(|o| {
                let t = tensor_type(o)
                    .and_then(|t| elem(t.elem_type))
                    .unwrap_or(ElemType::F32);
                (o.name.clone().unwrap_or_default(), t)
            })
            .collect();
        let metadata = model
            .metadata_props
            .iter()
            .map(|p| {
                (
                    p.key.clone().unwrap_or_default(),
                    p.value.clone().unwrap_or_default(),
                )
            })
            .collect();
        Ok(GraphInfo {
            input_elem,
            n_features,
            outputs,
            metadata,
        })
    }

    /// A metadata value by key.
    pub(crate) fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Any output of a run: floats widened to f64, integers as i64 (tract may
/// hold them as TDim), strings.
#[derive(Debug, Clone, PartialEq)]
pub enum NamedOutput {
    /// A float output, widened to f64.
    Float(ndarray::ArrayD<f64>),
    /// An integer output (int64, or TDim in tract).
    Int(ndarray::ArrayD<i64>),
    /// A string output.
    Str(ndarray::ArrayD<String>),
}

/// The `label` output, whatever its element type.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelColumn {
    /// int64 labels, or class indices (`--label-index`).
    Int(Vec<i64>),
    /// Float labels, widened to f64.
    Float(Vec<f64>),
    /// String labels.
    Str(Vec<String>),
}

/// The outputs of one run, widened to f64 where they are floats.
#[derive(Debug, Clone)]
pub struct GraphOutputs {
    /// `label`, the classes `predict` returns.
    pub label: Option<LabelColumn>,
    /// `scores`, as N×1 when the graph output is 1-D.
    pub scores: Option<Array2<f64>>,
    /// `probabilities`, N×k.
    pub probabilities: Option<Array2<f64>>,
    /// A regressor's `prediction`, as N×1.
    pub prediction: Option<Array2<f64>>,
    /// LIBSVM models with probabilities: `probability_label`.
    pub probability_label: Option<LabelColumn>,
}

impl LabelColumn {
    fn append(&mut self, more: LabelColumn) {
        match (self, more) {
            (LabelColumn::Int(a), LabelColumn::Int(b)) => a.extend(b),
            (LabelColumn::Float(a), LabelColumn::Float(b)) => a.extend(b),
            (LabelColumn::Str(a), LabelColumn::Str(b)) => a.extend(b),
            _ => unreachable!("one graph gives one label type"),
        }
    }
}

impl GraphOutputs {
    /// The outputs of consecutive row blocks of one graph, as one run.
    pub fn concat(parts: Vec<GraphOutputs>) -> GraphOutputs {
        let mut parts = parts.into_iter();
        let mut all = parts.next().expect("at least one block");
        let rows = |a: &mut Option<Array2<f64>>, b: Option<Array2<f64>>| {
            if let (Some(a), Some(b)) = (a.as_mut(), b) {
                a.append(ndarray::Axis(0), b.view())
                    .expect("blocks of one graph have equal widths");
            }
        };
        let labels = |a: &mut Option<LabelColumn>, b: Option<LabelColumn>| {
            if let (Some(a), Some(b)) = (a.as_mut(), b) {
                a.append(b);
            }
        };
        for part in parts {
            labels(&mut all.label, part.label);
            rows(&mut all.scores, part.scores);
            rows(&mut all.probabilities, part.probabilities);
            rows(&mut all.prediction, part.prediction);
            labels(&mut all.probability_label, part.probability_label);
        }
        all
    }
}

/// One rayon pool for tract's matrix products, as wide as the machine.
/// tract only splits products above its own size threshold, so small
/// graphs run as before.
fn matmul_executor() -> Executor {
    static EXECUTOR: std::sync::OnceLock<Executor> = std::sync::OnceLock::new();
    EXECUTOR
        .get_or_init(|| {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            if threads < 2 {
                Executor::SingleThread
            } else {
                Executor::multithread_with_name(threads, "svm2onnx-matmul")
            }
        })
        .clone()
}

fn optimise(model: InferenceModel) -> Result<std::sync::Arc<TypedRunnableModel>, RunError> {
    model
        .into_optimized()
        .map_err(tract_error)?
        .into_runnable()
        .map_err(tract_error)
}

/// A graph loaded into tract, ready to run on batches of any size.
pub struct Runner {
    info: GraphInfo,
    plan: std::sync::Arc<TypedRunnableModel>,
}

impl Runner {
    /// Parses and optimises the graph once.
    pub fn new(bytes: &[u8]) -> Result<Runner, RunError> {
        let info = GraphInfo::from_bytes(bytes)?;
        let plan = guarded(|| {
            optimise(
                tract_onnx::onnx()
                    .model_for_read(&mut &bytes[..])
                    .map_err(tract_error)?,
            )
        })?;
        Ok(Runner { info, plan })
    }

    /// Loads a model file, resolving ONNX external data relative to it (the
    /// way to run models past protobuf's 2 GB limit).
    pub(crate) fn from_path(path: &std::path::Path) -> Result<Runner, RunError> {
        let info = GraphInfo::from_path(path)?;
        let plan = guarded(|| {
            optimise(
                tract_onnx::onnx()
                    .model_for_path(path)
                    .map_err(tract_error)?,
            )
        })?;
        Ok(Runner { info, plan })
    }

    /// The graph's interface and metadata.
    pub(crate) fn info(&self) -> &GraphInfo {
        &self.info
    }

    /// Runs the graph and returns every output by name, in graph order,
    /// whatever it is called (rewritten skl2onnx graphs keep their names).
    pub fn run_all(&self, x: ArrayView2<f64>) -> Result<Vec<(String, NamedOutput)>, RunError> {
        let results = self.execute(x)?;
        self.info
            .outputs
            .iter()
            .zip(results.iter())
            .map(|((name, elem), value)| {
                let out = match elem {
                    ElemType::Str => NamedOutput::Str(
                        value
                            .to_plain_array_view::<String>()
                            .map_err(tract_error)?
                            .to_owned(),
                    ),
                    ElemType::F32 | ElemType::F64 => {
                        let t = value.cast_to::<f64>().map_err(tract_error)?;
                        NamedOutput::Float(
                            t.to_plain_array_view::<f64>()
                                .map_err(tract_error)?
                                .to_owned(),
                        )
                    }
                    _ => {
                        let t = value.cast_to::<i64>().map_err(tract_error)?;
                        NamedOutput::Int(
                            t.to_plain_array_view::<i64>()
                                .map_err(tract_error)?
                                .to_owned(),
                        )
                    }
                };
                Ok((name.clone(), out))
            })
            .collect()
    }

    fn execute(&self, x: ArrayView2<f64>) -> Result<TVec<TValue>, RunError> {
        if let Some(d) = self.info.n_features {
            if x.ncols() != d {
                return Err(RunError::Shape(format!(
                    "input rows have {} columns, the graph expects {d}",
                    x.ncols()
                )));
            }
        }
        let input: Tensor = match self.info.input_elem {
            ElemType::F64 => x.to_owned().into_dyn().into(),
            _ => x.mapv(|v| v as f32).into_dyn().into(),
        };
        // tract multiplies on every core for this call only (a scoped
        // executor, not tract's process-wide default, which embedders own).
        guarded(|| {
            multithread_tract_scope(matmul_executor(), || {
                self.plan
                    .run(tvec!(input.into_tvalue()))
                    .map_err(tract_error)
            })
        })
    }

    /// Runs the graph on rows given in f64 (rounded to f32 for f32 graphs).
    pub fn run(&self, x: ArrayView2<f64>) -> Result<GraphOutputs, RunError> {
        let results = self.execute(x)?;
        let mut out = GraphOutputs {
            label: None,
            scores: None,
            probabilities: None,
            prediction: None,
            probability_label: None,
        };
        for ((name, elem), value) in self.info.outputs.iter().zip(results.iter()) {
            if name == LABEL {
                out.label = Some(label_column(value, *elem)?);
            } else if name == PROBABILITY_LABEL {
                out.probability_label = Some(label_column(value, *elem)?);
            } else if name == PROBABILITIES {
                let t = value.cast_to::<f64>().map_err(tract_error)?;
                let view = t.to_plain_array_view::<f64>().map_err(tract_error)?;
                let p = view
                    .to_owned()
                    .into_dimensionality::<ndarray::Ix2>()
                    .map_err(|e| RunError::Shape(format!("probabilities: {e}")))?;
                out.probabilities = Some(p);
            } else if name == PREDICTION {
                let t = value.cast_to::<f64>().map_err(tract_error)?;
                let view = t.to_plain_array_view::<f64>().map_err(tract_error)?;
                let column: Vec<f64> = view.iter().copied().collect();
                let n = column.len();
                out.prediction = Some(
                    Array2::from_shape_vec((n, 1), column)
                        .map_err(|e| RunError::Shape(e.to_string()))?,
                );
            } else if name == SCORES {
                let t = value.cast_to::<f64>().map_err(tract_error)?;
                let view = t.to_plain_array_view::<f64>().map_err(tract_error)?;
                let scores = match view.ndim() {
                    1 => view
                        .to_owned()
                        .into_dimensionality::<ndarray::Ix1>()
                        .map(|a| a.insert_axis(Axis(1))),
                    _ => view.to_owned().into_dimensionality::<ndarray::Ix2>(),
                }
                .map_err(|e| RunError::Shape(format!("scores: {e}")))?;
                out.scores = Some(scores);
            }
        }
        Ok(out)
    }
}

fn label_column(value: &TValue, elem: ElemType) -> Result<LabelColumn, RunError> {
    Ok(match elem {
        ElemType::Str => {
            let view = value.to_plain_array_view::<String>().map_err(tract_error)?;
            LabelColumn::Str(view.iter().cloned().collect())
        }
        ElemType::F32 | ElemType::F64 => {
            let t = value.cast_to::<f64>().map_err(tract_error)?;
            let view = t.to_plain_array_view::<f64>().map_err(tract_error)?;
            LabelColumn::Float(view.iter().copied().collect())
        }
        _ => {
            // tract may hand back int64 outputs as TDim (ONNX_AND_RUST.md §2).
            let t = value.cast_to::<i64>().map_err(tract_error)?;
            let view = t.to_plain_array_view::<i64>().map_err(tract_error)?;
            LabelColumn::Int(view.iter().copied().collect())
        }
    })
}
