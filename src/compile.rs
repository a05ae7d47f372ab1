//! SvmModel + options → ONNX bytes: lowering, metadata, encoding.

use crate::emit;
use crate::graph::{FloatType, Graph};
use crate::lower::{self, LowerOptions};
use crate::model::{Convention, Model, Task};

/// Options for [`compile`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileOptions {
    /// Precision of input, constants and float outputs (default f32).
    pub float: FloatType,
    /// Default-domain opset, 13 to 18 (default 17).
    pub opset: i64,
    /// Emit `label` as int64 class indices; class names go to metadata.
    pub label_index: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            float: FloatType::F32,
            opset: 17,
            label_index: false,
        }
    }
}

/// Why a model could not be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    #[error("the model has no output `{missing}` (its outputs: {available})")]
    Output { missing: String, available: String },
    #[error("opset {0} is not supported (choose {lo} to {hi})", lo = emit::OPSETS.start(), hi = emit::OPSETS.end())]
    Opset(i64),
}

/// Metadata keys written into every model (see the README).
pub mod meta {
    pub const ESTIMATOR: &str = "estimator";
    pub const KERNEL: &str = "kernel";
    pub const CLASSES: &str = "classes";
    pub const DTYPE: &str = "dtype";
    pub const LABEL_OUTPUT: &str = "label_output";
    pub const DECISION_FUNCTION_SHAPE: &str = "decision_function_shape";
    pub const BREAK_TIES: &str = "break_ties";
    pub const SKLEARN_VERSION: &str = "sklearn_version";
    pub const PREPROCESSING: &str = "preprocessing";
    pub const OFFSET: &str = "offset";
    /// `libsvm` for models read from LIBSVM files (their outputs follow
    /// LIBSVM's conventions, docs/LIBSVM.md); absent for scikit-learn.
    pub const CONVENTION: &str = "convention";
    /// LIBSVM SVR `-b 1`: the Laplace σ of the residuals (no output uses it).
    pub const SVR_LAPLACE_SIGMA: &str = "svr_laplace_sigma";
}

/// The metadata_props of a compiled model.
pub fn metadata(model: &Model, options: &CompileOptions) -> Vec<(String, String)> {
    let mut m = vec![(meta::ESTIMATOR, model.name().to_string())];
    if let Some(kernel) = model.kernel() {
        m.push((meta::KERNEL, kernel.name().to_string()));
    }
    if let Some(classes) = model.label_classes() {
        m.push((meta::CLASSES, classes.to_json()));
    }
    m.push((meta::DTYPE, options.float.name().to_string()));
    if model.task() != Task::Regress {
        let label = if options.label_index {
            "index"
        } else {
            "class"
        };
        m.push((meta::LABEL_OUTPUT, label.to_string()));
    }
    if let Some(svc) = model.svc() {
        m.push((
            meta::DECISION_FUNCTION_SHAPE,
            svc.decision_shape().name().to_string(),
        ));
        m.push((meta::BREAK_TIES, svc.break_ties().to_string()));
    }
    let libsvm = match model {
        crate::model::Model::Svc(m) => m.convention() == Convention::Libsvm,
        crate::model::Model::Dual(d) => d.convention == Convention::Libsvm,
        _ => false,
    };
    if libsvm {
        m.push((meta::CONVENTION, "libsvm".to_string()));
    }
    if let crate::model::Model::Dual(d) = model {
        if let Some(sigma) = d.svr_sigma {
            m.push((meta::SVR_LAPLACE_SIGMA, format!("{sigma:?}")));
        }
        if d.kind == crate::model::DualKind::OneClassSvm && !libsvm {
            // score_samples = scores + offset (offset_ = −intercept_, §2).
            m.push((meta::OFFSET, format!("{:?}", -d.intercept)));
        }
    }
    if !model.preprocessing().is_empty() {
        let steps: Vec<String> = model.preprocessing().iter().map(|p| p.describe()).collect();
        m.push((meta::PREPROCESSING, steps.join(" -> ")));
    }
    if let Some(v) = model.sklearn_version() {
        m.push((meta::SKLEARN_VERSION, v.to_string()));
    }
    m.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// A lowered model with its metadata, ready to be written.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub graph: Graph,
    pub opset: i64,
    pub metadata: Vec<(String, String)>,
    pub doc: String,
}

/// Above this many bytes of initializers a model is written with external
/// data even when not asked to: protobuf cannot encode messages of 2 GiB or
/// more, and the rest of the model needs some headroom.
pub const AUTO_EXTERNAL_BYTES: u64 = 1_800_000_000;

impl Compiled {
    /// Bytes of numeric constants in the graph.
    pub fn initializer_bytes(&self) -> u64 {
        emit::initializer_bytes(&self.graph)
    }

    /// Whether the model must be written with external data.
    pub fn needs_external_data(&self) -> bool {
        self.initializer_bytes() > AUTO_EXTERNAL_BYTES
    }

    /// Streams the model to `out`; with `external`, large initializers go to
    /// its data sink (ONNX external data).
    pub fn write(
        &self,
        out: &mut dyn std::io::Write,
        external: Option<emit::ExternalSink<'_>>,
    ) -> std::io::Result<emit::Written> {
        emit::write_model(
            &self.graph,
            self.opset,
            &self.metadata,
            &self.doc,
            out,
            external,
        )
    }

    /// Keeps only the named outputs (`--outputs`) and drops the nodes only
    /// the others needed.
    pub fn keep_outputs(&mut self, names: &[&str]) -> Result<(), CompileError> {
        let available: Vec<String> = self
            .graph
            .outputs
            .iter()
            .map(|p| self.graph.name(p.value).to_string())
            .collect();
        match self.graph.keep_outputs(names).first() {
            Some(missing) => Err(CompileError::Output {
                missing: missing.clone(),
                available: available.join(", "),
            }),
            None => Ok(()),
        }
    }

    /// The model as bytes, every initializer inline.
    pub fn to_bytes(&self) -> Vec<u8> {
        emit::encode(&self.graph, self.opset, &self.metadata, &self.doc)
    }
}

/// Compiles a model into ONNX bytes.
pub fn compile(model: &Model, options: &CompileOptions) -> Result<Vec<u8>, CompileError> {
    Ok(lower_model(model, options)?.to_bytes())
}

/// Lowers a model into a graph with its metadata, to be written in memory
/// ([`Compiled::to_bytes`]) or streamed ([`Compiled::write`]).
pub fn lower_model(model: &Model, options: &CompileOptions) -> Result<Compiled, CompileError> {
    if !emit::OPSETS.contains(&options.opset) {
        return Err(CompileError::Opset(options.opset));
    }
    let graph = lower::lower(
        model,
        &LowerOptions {
            float: options.float,
            label_index: options.label_index,
            opset: options.opset,
        },
    );
    let doc = format!(
        "{} compiled by svm2onnx {}: {}",
        model.describe(),
        env!("CARGO_PKG_VERSION"),
        match model.task() {
            Task::Regress => "output `prediction` (= predict)",
            _ => "outputs `label` (= predict) and `scores` (= decision_function)",
        }
    );
    Ok(Compiled {
        graph,
        opset: options.opset,
        metadata: metadata(model, options),
        doc,
    })
}
