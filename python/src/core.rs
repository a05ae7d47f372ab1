//! What the Python functions do, in plain Rust (no Python types): the same
//! library calls as the CLI's `convert`, `validate` and `inspect`
//! (src/cli/), on a model given as a path or as bytes, with the result
//! kept in memory. Errors are the CLI's one-line messages.

use ndarray::Array2;
use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use svm2onnx::graph::FloatType;
use svm2onnx::inspect::{inspect_bytes, inspect_path, Inspection};
use svm2onnx::publish::stage_bytes;
use svm2onnx::smoke::{smoke_run, SmokeError};
use svm2onnx::validate::Report;
use svm2onnx::{
    keras_options, load_bytes_with, lower_model, onnxml, validate_onnx, validate_onnx_path,
    CompileOptions, LoadOptions, LoadedModel, ModelFile,
};

/// Where a model (or a graph) comes from.
pub enum Source<'a> {
    /// A file: mapped, as the CLI reads it.
    Path(PathBuf),
    /// The bytes of a file, or of `pickle.dumps(estimator, protocol=5)`.
    Bytes(&'a [u8]),
}

impl Source<'_> {
    /// The prefix of error messages: the path, as the CLI puts it.
    fn context(&self) -> Option<String> {
        match self {
            Source::Path(p) => Some(p.display().to_string()),
            Source::Bytes(_) => None,
        }
    }
}

/// Why a call failed.
#[derive(Debug)]
pub enum Failure {
    /// Bad input or options (the CLI's exit code 2): one line.
    BadInput(String),
    /// The graph disagrees with the model (the CLI's exit code 1).
    Mismatch {
        /// One line, as the CLI prints it.
        message: String,
        /// What validation found.
        report: Report,
    },
}

/// An error and its causes joined by ": " (what the CLI's `{e:#}` prints),
/// after the optional context, on one line.
pub fn one_line(context: Option<&str>, e: &dyn StdError) -> String {
    let mut parts: Vec<String> = context.map(str::to_string).into_iter().collect();
    let mut cur: Option<&dyn StdError> = Some(e);
    while let Some(err) = cur {
        parts.push(err.to_string());
        cur = err.source();
    }
    parts.join(": ").replace('\n', " ")
}

fn bad(context: Option<&str>) -> impl Fn(&dyn StdError) -> Failure + '_ {
    move |e| Failure::BadInput(one_line(context, e))
}

/// The options of `to_onnx` and `to_keras`.
#[derive(Debug, Clone)]
pub struct Request {
    /// `float32`/`float64`; `None`: f32 for models, f64 for skl2onnx graphs.
    pub dtype: Option<String>,
    /// Default-domain opset.
    pub opset: i64,
    /// `label` as class indices.
    pub label_index: bool,
    /// Keep only these outputs.
    pub outputs: Option<Vec<String>>,
    /// Run the graph with tract before returning it.
    pub validate: bool,
    /// Validation tolerance (default by dtype).
    pub tolerance: Option<f64>,
    /// LIBSVM only: the feature count.
    pub n_features: Option<usize>,
}

/// What a conversion gives.
pub struct Converted {
    /// ONNX (or `.keras`) bytes; empty for `to_keras`, which wrote a file.
    pub bytes: Vec<u8>,
    /// The validation report, when validated (models, not skl2onnx graphs).
    pub report: Option<Report>,
    /// Loader and rewriter warnings.
    pub warnings: Vec<String>,
}

fn parse_dtype(dtype: &str) -> Result<FloatType, Failure> {
    match dtype {
        "float32" | "f32" => Ok(FloatType::F32),
        "float64" | "f64" => Ok(FloatType::F64),
        other => Err(Failure::BadInput(format!(
            "dtype must be \"float32\" or \"float64\", got \"{other}\""
        ))),
    }
}

/// `tolerance` must be a non-negative number (the CLI's `--tolerance` rule).
pub fn check_tolerance(t: Option<f64>) -> Result<Option<f64>, Failure> {
    match t {
        Some(t) if !(t.is_finite() && t >= 0.0) => Err(Failure::BadInput(format!(
            "tolerance must be a non-negative number, got {t}"
        ))),
        t => Ok(t),
    }
}

/// A model file held open (paths are mapped, as in the CLI).
enum Opened<'a> {
    File(ModelFile),
    Bytes(&'a [u8]),
}

impl Opened<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Opened::File(f) => f.bytes(),
            Opened::Bytes(b) => b,
        }
    }

    fn load(&self, options: &LoadOptions) -> Result<LoadedModel, svm2onnx::LoadError> {
        match self {
            Opened::File(f) => f.load(options),
            Opened::Bytes(b) => load_bytes_with(b, options),
        }
    }
}

fn open<'a>(source: &'a Source<'a>) -> Result<Opened<'a>, Failure> {
    match source {
        Source::Path(p) => ModelFile::open(p)
            .map(Opened::File)
            .map_err(|e| bad(None)(&e)),
        Source::Bytes(b) => Ok(Opened::Bytes(b)),
    }
}

/// Loads a reference model from a path or bytes.
pub fn load(source: &Source, n_features: Option<usize>) -> Result<LoadedModel, Failure> {
    let context = source.context();
    let options = LoadOptions { n_features };
    open(source)?
        .load(&options)
        .map_err(|e| bad(context.as_deref())(&e))
}

/// Where `to_keras` writes, or nothing for `to_onnx`.
pub type Destination<'a> = Option<&'a Path>;

/// `to_onnx` (no destination) and `to_keras` (a `.keras` path): the CLI's
/// `convert`, in memory. A Keras file is written atomically after the ONNX
/// graph it is translated from passed validation.
pub fn convert(
    source: &Source,
    request: &Request,
    keras_dest: Destination,
) -> Result<Converted, Failure> {
    let Checked { float, tolerance } = check(request, keras_dest)?;
    let context = source.context();
    let file = open(source)?;
    if onnxml::recognise(file.bytes()) {
        if keras_dest.is_some() {
            return Err(Failure::BadInput(format!(
                "{}Keras output from an skl2onnx graph is not supported; convert the scikit-learn model itself to .keras",
                context.map(|c| c + ": ").unwrap_or_default()
            )));
        }
        return convert_onnx(file.bytes(), float, request, tolerance, context.as_deref());
    }
    let loaded = file
        .load(&LoadOptions {
            n_features: request.n_features,
        })
        .map_err(|e| bad(context.as_deref())(&e))?;
    drop(file);
    convert_loaded(loaded, Checked { float, tolerance }, request, keras_dest)
}

/// A request's options checked before any model is read.
pub struct Checked {
    float: Option<FloatType>,
    tolerance: Option<f64>,
}

/// Checks the options that need no model: dtype, tolerance, the Keras name.
pub fn check(request: &Request, keras_dest: Destination) -> Result<Checked, Failure> {
    let tolerance = check_tolerance(request.tolerance)?;
    let float = request.dtype.as_deref().map(parse_dtype).transpose()?;
    if let Some(dest) = keras_dest {
        check_keras_name(dest)?;
    }
    Ok(Checked { float, tolerance })
}

/// Loads a live estimator's pickle: a protocol-5 stream and its
/// out-of-band buffers (`pickle.dumps(model, protocol=5,
/// buffer_callback=...)`), read without executing anything.
pub fn load_pickle(
    stream: &[u8],
    buffers: &[&[u8]],
    n_features: Option<usize>,
) -> Result<LoadedModel, Failure> {
    svm2onnx::load_pickle_with_buffers(stream, buffers, &LoadOptions { n_features })
        .map_err(|e| bad(None)(&e))
}

/// The default validation rows and the thread evaluating the reference on
/// them.
type Ahead<'scope, 'env> = (
    &'env [svm2onnx::validate::Batch],
    std::thread::ScopedJoinHandle<'scope, svm2onnx::validate::Expected>,
);

/// [`convert`] of a model already loaded (by [`load_pickle`]), with the
/// options [`check`] accepted.
pub fn convert_loaded(
    loaded: LoadedModel,
    checked: Checked,
    request: &Request,
    keras_dest: Destination,
) -> Result<Converted, Failure> {
    let Checked { float, tolerance } = checked;
    let options = CompileOptions {
        float: float.unwrap_or(FloatType::F32),
        opset: request.opset,
        label_index: request.label_index,
    };
    // A Keras model cannot hold strings: its labels are class indices.
    let options = match keras_dest {
        Some(_) => keras_options(&loaded.model, &options).0,
        None => options,
    };
    // As in the CLI, the reference is evaluated on the validation rows while
    // the graph is compiled, loaded into tract and run: it needs no graph.
    let batches = request
        .validate
        .then(|| svm2onnx::validate::default_batches(&loaded.model, loaded.samples.as_ref()));
    std::thread::scope(|scope| {
        let ahead = batches.as_deref().map(|batches| {
            let model = &loaded.model;
            let float = options.float.elem();
            let handle =
                scope.spawn(move || svm2onnx::validate::Expected::compute(model, batches, float));
            (batches, handle)
        });
        compile_and_check(&loaded, options, tolerance, request, keras_dest, ahead)
    })
}

/// The rest of [`convert_loaded`]: compile, write into memory, validate
/// against the reference evaluated `ahead`, translate to Keras.
fn compile_and_check(
    loaded: &LoadedModel,
    options: CompileOptions,
    tolerance: Option<f64>,
    request: &Request,
    keras_dest: Destination,
    ahead: Option<Ahead<'_, '_>>,
) -> Result<Converted, Failure> {
    let mut compiled = lower_model(&loaded.model, &options).map_err(|e| bad(None)(&e))?;
    if let Some(names) = &loaded.feature_names {
        compiled.record_feature_names(names);
    }
    if let Some(outputs) = &request.outputs {
        let names: Vec<&str> = outputs.iter().map(|s| s.trim()).collect();
        compiled.keep_outputs(&names).map_err(|e| bad(None)(&e))?;
    }
    if compiled.needs_external_data() {
        return Err(Failure::BadInput(format!(
            "the model's constants take {} bytes, beyond what one in-memory ONNX model can hold (protobuf's 2 GB); use the command line, `svm2onnx convert MODEL -o OUT.onnx`, which writes them as external data",
            compiled.initializer_bytes()
        )));
    }
    // As in the CLI, the Keras file is translated from the graph that is
    // validated next; an op without a Keras equivalent is refused first.
    let keras = match keras_dest {
        Some(_) => Some(compiled.to_keras().map_err(|e| bad(None)(&e))?),
        None => None,
    };
    // Streamed into one buffer: `to_bytes` would build the whole
    // ModelProto first and copy it (a big model's constants twice).
    let mut onnx = Vec::with_capacity(compiled.initializer_bytes() as usize + (1 << 16));
    compiled
        .write(&mut onnx, None)
        .expect("writing into memory cannot fail");
    drop(compiled);
    let report = if request.validate {
        let report = match ahead {
            Some((batches, handle)) => {
                let pending: svm2onnx::validate::Pending = Box::new(move || {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                });
                svm2onnx::validate_onnx_expecting(&onnx, loaded, (batches, pending), tolerance)
            }
            None => validate_onnx(&onnx, loaded, None, tolerance),
        }
        .map_err(|e| bad(None)(&e))?;
        if !report.passed {
            let what = match keras_dest {
                Some(dest) => format!("{} was not written", dest.display()),
                None => "no graph is returned".into(),
            };
            let hint = if options.float == FloatType::F32 {
                " (float32 may be unable to represent this model's inputs or cancel its coefficients precisely enough; dtype=\"float64\" keeps scikit-learn's precision, tolerance= accepts a larger error)"
            } else {
                " (tolerance= accepts a larger error)"
            };
            return Err(Failure::Mismatch {
                message: format!(
                    "validation failed; {what}{hint}{}",
                    report
                        .diagnosis()
                        .map(|d| format!("; {d}"))
                        .unwrap_or_default()
                ),
                report,
            });
        }
        Some(report)
    } else {
        None
    };
    let bytes = match (keras, keras_dest) {
        (Some(keras), Some(dest)) => {
            stage_bytes(&keras, dest)
                .and_then(|staged| staged.publish())
                .map_err(|e| bad(None)(&e))?;
            Vec::new()
        }
        _ => onnx,
    };
    Ok(Converted {
        bytes,
        report,
        warnings: loaded.warnings.clone(),
    })
}

/// Keras loads only files named `.keras`.
fn check_keras_name(dest: &Path) -> Result<(), Failure> {
    let keras_name = dest
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("keras"));
    if keras_name {
        Ok(())
    } else {
        Err(Failure::BadInput(format!(
            "{}: a Keras model's file name must end in .keras (keras.saving.load_model refuses any other)",
            dest.display()
        )))
    }
}

/// An skl2onnx graph: rewritten into standard ops (the CLI's
/// `convert_onnx`), smoke-run in tract when validating.
fn convert_onnx(
    bytes: &[u8],
    float: Option<FloatType>,
    request: &Request,
    tolerance: Option<f64>,
    context: Option<&str>,
) -> Result<Converted, Failure> {
    if request.label_index
        || request.opset != 17
        || tolerance.is_some()
        || request.outputs.is_some()
        || request.n_features.is_some()
    {
        return Err(Failure::BadInput("label_index, opset, tolerance, outputs and n_features do not apply to ONNX input: the rewritten graph keeps the original's interface and opset".into()));
    }
    let options = onnxml::ConvertOptions {
        float: float.unwrap_or(FloatType::F64),
    };
    let converted = onnxml::convert(bytes, &options).map_err(|e| bad(context)(&e))?;
    if request.validate {
        match smoke_run(&converted.onnx) {
            Err(SmokeError::NoFeatureCount) => {
                return Err(Failure::BadInput(format!(
                    "{}; pass validate=False",
                    SmokeError::NoFeatureCount
                )))
            }
            Err(e) => return Err(bad(Some("the rewritten graph"))(&e)),
            Ok(_) => {}
        }
    }
    Ok(Converted {
        bytes: converted.onnx,
        report: None,
        warnings: converted.warnings,
    })
}

/// `validate`: runs the graph with tract against the reference model, on
/// `data` if given, otherwise on the recorded samples and probes. A
/// mismatch is a report that did not pass, not an error.
pub fn validate(
    onnx: &Source,
    reference: &Source,
    data: Option<Array2<f64>>,
    tolerance: Option<f64>,
    n_features: Option<usize>,
) -> Result<(Report, Vec<String>), Failure> {
    let tolerance = check_tolerance(tolerance)?;
    let loaded = load(reference, n_features)?;
    let context = onnx.context();
    let report = match onnx {
        Source::Path(p) => validate_onnx_path(p, &loaded, data, tolerance),
        Source::Bytes(b) => validate_onnx(b, &loaded, data, tolerance),
    }
    .map_err(|e| bad(context.as_deref())(&e))?;
    Ok((report, loaded.warnings))
}

/// `inspect`: a model, or an ONNX graph of standard ops.
pub fn inspect(source: &Source, n_features: Option<usize>) -> Result<Inspection, Failure> {
    let options = LoadOptions { n_features };
    let context = source.context();
    match source {
        Source::Path(p) => inspect_path(p, &options),
        Source::Bytes(b) => inspect_bytes(b, &options),
    }
    .map_err(|e| bad(context.as_deref())(&e))
}
