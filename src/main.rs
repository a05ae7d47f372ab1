//! The `svm2onnx` command line: parse flags, call the library, report.
//! Exit codes: 0 success, 1 validation mismatch, 2 bad input or usage.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use svm2onnx::graph::FloatType;
use svm2onnx::model::Convention;
use svm2onnx::model::{DualKind, Kernel, Model};
use svm2onnx::model::{OutputOptions, OutputType};
use svm2onnx::validate::Report;
use svm2onnx::{
    load_path_with, lower_model, validate_onnx_path, CompileOptions, Compiled, LoadOptions,
    LoadedModel,
};

#[derive(Parser)]
#[command(
    name = "svm2onnx",
    version,
    about = "Compile trained SVMs into exact ONNX graphs of standard ops",
    long_about = "Compile trained support vector machines (scikit-learn SVC, NuSVC, SVR, NuSVR, OneClassSVM, \
LinearSVC, LinearSVR, pipelines and searches around them; pickle, joblib or svm2onnx JSON files; \
LIBSVM model files of every svm_type) \
into exact ONNX graphs made of standard ops only, checked by executing them with tract.\n\n\
Exit codes: 0 success, 1 validation mismatch, 2 bad input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a model into ONNX, validate it with tract, then write it.
    ///
    /// The graph has input `X` [N, n_features]. Classifiers and OneClassSVM output
    /// `label` [N] (= predict) and `scores` (= decision_function: [N] for binary models,
    /// [N, k] for ovr, [N, k(k-1)/2] for ovo), plus `probabilities` [N, k] (= predict_proba)
    /// for SVC/NuSVC fitted with probabilities; regressors output `prediction` [N].
    /// Unless --no-validate is given, the graph is run on the
    /// samples recorded in the model file and on generated probes, and nothing is
    /// written if it disagrees with the reference or with scikit-learn.
    Convert(ConvertArgs),
    /// Run an ONNX file with tract and compare it with its source model.
    ///
    /// Compares every output with the f64 reference evaluator and, where the model
    /// file recorded them, with scikit-learn's outputs. Inputs: --data if given,
    /// otherwise the recorded samples plus generated probes (support vectors,
    /// midpoints between support vectors of different classes, random rows in
    /// their bounding box).
    Validate(ValidateArgs),
    /// Describe a model: estimator, kernel, classes, support vectors, graph outputs.
    Inspect(InspectArgs),
}

#[derive(Args)]
struct ConvertArgs {
    /// The model file: pickle, joblib (any compression), svm2onnx JSON, LIBSVM,
    /// or an ONNX graph with ai.onnx.ml SVM ops (skl2onnx) to rewrite into standard ops.
    model: PathBuf,
    #[command(flatten)]
    load: LoadArgs,
    /// Where to write the ONNX model.
    #[arg(short, long)]
    output: PathBuf,
    /// Graph precision: f32 (TensorFlow, TFLite) or f64 (bit-level agreement).
    /// Default f32; for an ONNX graph with ai.onnx.ml ops, the precision of the
    /// rewritten ops, default f64 (onnxruntime's values to ~1e-6).
    #[arg(long)]
    dtype: Option<FloatType>,
    /// ONNX default-domain opset, 13 to 18.
    #[arg(long, default_value_t = 17)]
    opset: i64,
    /// Emit `label` as int64 class indices (class names go to metadata "classes").
    #[arg(long)]
    label_index: bool,
    /// Emit only these outputs (comma-separated: label, scores, probabilities,
    /// prediction); nodes only the others need are left out of the graph.
    #[arg(long, value_delimiter = ',', num_args = 1..)]
    outputs: Option<Vec<String>>,
    /// Write large initializers to `<output>.data` next to the model (ONNX
    /// external data). Automatic above 1.8 GB, protobuf's limit being 2 GB.
    #[arg(long)]
    external_data: bool,
    /// Write the graph without executing it first.
    #[arg(long)]
    no_validate: bool,
    /// Relative tolerance for validation (default 1e-9 for f64, 1e-4 for f32).
    #[arg(long)]
    tolerance: Option<f64>,
    /// Print the validation report as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ValidateArgs {
    /// The ONNX file to check.
    onnx: PathBuf,
    /// The model file it was compiled from.
    #[arg(long)]
    reference: PathBuf,
    #[command(flatten)]
    load: LoadArgs,
    /// Input rows: a 2-D .npy file or a CSV file (an optional header line).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Relative tolerance (default 1e-9 for f64 graphs, 1e-4 for f32 graphs).
    #[arg(long)]
    tolerance: Option<f64>,
    /// Print the report as JSON (for build tooling).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct InspectArgs {
    /// The model file.
    model: PathBuf,
    #[command(flatten)]
    load: LoadArgs,
}

#[derive(Args)]
struct LoadArgs {
    /// LIBSVM models only: the number of input features, when the data has
    /// features beyond the largest index any support vector uses (they still
    /// count in RBF distances). At least that largest index.
    #[arg(long, value_name = "N")]
    n_features: Option<usize>,
}

impl LoadArgs {
    fn options(&self) -> LoadOptions {
        LoadOptions {
            n_features: self.n_features,
        }
    }
}

/// Failures that are not bad input: the graph disagrees with the model.
struct Mismatch;

fn load(path: &Path, args: &LoadArgs) -> Result<LoadedModel> {
    let loaded =
        load_path_with(path, &args.options()).with_context(|| format!("{}", path.display()))?;
    for w in &loaded.warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(loaded)
}

fn check_tolerance(t: Option<f64>) -> Result<()> {
    if let Some(t) = t {
        if !(t.is_finite() && t >= 0.0) {
            bail!("--tolerance must be a non-negative number, got {t}");
        }
    }
    Ok(())
}

fn print_report(report: &Report, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        eprint!("{}", report.render());
    }
    Ok(())
}

/// A hidden directory next to the destination where the model (and its
/// external data) is written and validated before being moved into place, so
/// a failure never leaves a partial output behind. Removed on drop.
struct Staging {
    dir: PathBuf,
}

impl Staging {
    fn next_to(path: &Path) -> Result<Staging> {
        let parent = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = path
            .file_name()
            .context("the output path has no file name")?;
        let dir = parent.join(format!(
            ".{}.tmp-{}",
            name.to_string_lossy(),
            std::process::id()
        ));
        std::fs::create_dir(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Staging { dir })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn create(path: &Path) -> Result<std::io::BufWriter<std::fs::File>> {
    let f =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(std::io::BufWriter::with_capacity(1 << 20, f))
}

fn finish(w: std::io::BufWriter<std::fs::File>, path: &Path) -> Result<()> {
    let f = w
        .into_inner()
        .map_err(|e| e.into_error())
        .with_context(|| format!("cannot write {}", path.display()))?;
    f.sync_all()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The staged files of a written model.
struct Staged {
    model: PathBuf,
    /// The external data file and its name relative to the model.
    data: Option<(PathBuf, String)>,
    written: svm2onnx::emit::Written,
}

/// Streams the compiled model into the staging directory under the final
/// file names (external data is located relative to the model file).
fn stage(compiled: &Compiled, staging: &Staging, output: &Path, external: bool) -> Result<Staged> {
    let name = output
        .file_name()
        .context("the output path has no file name")?
        .to_string_lossy()
        .to_string();
    let model = staging.dir.join(&name);
    let mut model_w = create(&model)?;
    let (written, data) = if external {
        let data_name = format!("{name}.data");
        let data_path = staging.dir.join(&data_name);
        let mut data_w = create(&data_path)?;
        let sink = svm2onnx::emit::ExternalSink {
            location: &data_name,
            data: &mut data_w,
        };
        let written = compiled
            .write(&mut model_w, Some(sink))
            .with_context(|| format!("cannot write {}", data_path.display()))?;
        finish(data_w, &data_path)?;
        (written, Some((data_path, data_name)))
    } else {
        let written = compiled
            .write(&mut model_w, None)
            .with_context(|| format!("cannot write {}", model.display()))?;
        (written, None)
    };
    finish(model_w, &model)?;
    Ok(Staged {
        model,
        data,
        written,
    })
}

/// Moves the staged files into place: the data file first, so the model
/// never points at data that is not there.
fn publish(staged: &Staged, output: &Path) -> Result<()> {
    if let Some((path, name)) = &staged.data {
        let dest = output.with_file_name(name);
        std::fs::rename(path, &dest).with_context(|| format!("cannot write {}", dest.display()))?;
    }
    std::fs::rename(&staged.model, output)
        .with_context(|| format!("cannot write {}", output.display()))
}

fn convert(args: &ConvertArgs) -> Result<Result<(), Mismatch>> {
    check_tolerance(args.tolerance)?;
    // Big files are mapped, and their array blocks released as they are
    // decoded (svm2onnx::ModelFile): loading peaks near the model's size.
    let file = svm2onnx::ModelFile::open(&args.model)?;
    if svm2onnx::onnxml::recognise(file.bytes()) {
        return convert_onnx(args, file.bytes()).map(Ok);
    }
    let loaded = file
        .load(&args.load.options())
        .with_context(|| format!("{}", args.model.display()))?;
    drop(file);
    for w in &loaded.warnings {
        eprintln!("warning: {}: {w}", args.model.display());
    }
    let dtype = args.dtype.unwrap_or(FloatType::F32);
    let options = CompileOptions {
        float: dtype,
        opset: args.opset,
        label_index: args.label_index,
    };
    let mut compiled = lower_model(&loaded.model, &options)?;
    if let Some(outputs) = &args.outputs {
        let names: Vec<&str> = outputs.iter().map(|s| s.trim()).collect();
        compiled.keep_outputs(&names)?;
    }
    let external = args.external_data || compiled.needs_external_data();
    let staging = Staging::next_to(&args.output)?;
    let staged = stage(&compiled, &staging, &args.output, external)?;
    // The graph's constants are on disk now; free them before tract loads
    // its own copy.
    drop(compiled);
    if !args.no_validate {
        let report = validate_onnx_path(&staged.model, &loaded, None, args.tolerance)?;
        print_report(&report, args.json)?;
        if !report.passed {
            let hint = if dtype == FloatType::F32 {
                " (float32 may be unable to represent this model's inputs or cancel its coefficients \
                 precisely enough; --dtype f64 keeps scikit-learn's precision)"
            } else {
                ""
            };
            eprintln!(
                "error: validation failed; {} was not written{hint}",
                args.output.display()
            );
            return Ok(Err(Mismatch));
        }
    }
    publish(&staged, &args.output)?;
    let data = match &staged.data {
        Some((_, name)) => format!(" + {name} ({} bytes)", staged.written.external),
        None => String::new(),
    };
    eprintln!(
        "wrote {} ({} bytes{data}, {}, opset {})",
        args.output.display(),
        staged.written.model,
        loaded.model.describe(),
        args.opset
    );
    Ok(Ok(()))
}

/// `convert` for an ONNX graph with ai.onnx.ml ops: rewrite it into standard
/// ops (docs/ONNX_ML.md), check that tract runs it, write it.
fn convert_onnx(args: &ConvertArgs, bytes: &[u8]) -> Result<()> {
    if args.label_index
        || args.opset != 17
        || args.tolerance.is_some()
        || args.json
        || args.outputs.is_some()
        || args.external_data
        || args.load.n_features.is_some()
    {
        bail!("--label-index, --opset, --tolerance, --json, --outputs, --external-data and --n-features do not apply to ONNX input: the rewritten graph keeps the original's interface and opset");
    }
    let options = svm2onnx::onnxml::ConvertOptions {
        float: args.dtype.unwrap_or(FloatType::F64),
    };
    let converted = svm2onnx::onnxml::convert(bytes, &options)
        .with_context(|| format!("{}", args.model.display()))?;
    for w in &converted.warnings {
        eprintln!("warning: {w}");
    }
    if !args.no_validate {
        let rows = smoke_run(&converted.onnx)?;
        eprintln!(
            "ran the rewritten graph in tract on {rows} probe rows (its agreement with onnxruntime is tested on recorded outputs: docs/ONNX_ML.md)"
        );
    }
    let staging = Staging::next_to(&args.output)?;
    let name = args
        .output
        .file_name()
        .context("the output path has no file name")?;
    let staged = staging.dir.join(name);
    let mut w = create(&staged)?;
    w.write_all(&converted.onnx)
        .with_context(|| format!("cannot write {}", staged.display()))?;
    finish(w, &staged)?;
    std::fs::rename(&staged, &args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "wrote {} ({} bytes; replaced {} with standard ops, {} arithmetic)",
        args.output.display(),
        converted.onnx.len(),
        converted.replaced.join(", "),
        options.float.name()
    );
    Ok(())
}

/// Executes a rewritten graph on a few fixed rows and checks that every
/// float output is finite: the graph is well-formed for tract.
fn smoke_run(onnx: &[u8]) -> Result<usize> {
    let runner =
        svm2onnx::run::Runner::new(onnx).context("tract cannot load the rewritten graph")?;
    let d = runner
        .info()
        .n_features
        .context("the graph input has no fixed feature count; use --no-validate")?;
    let rows = 8;
    // Zeros, ones, and a fixed spread of values in [−3, 3].
    let x = ndarray::Array2::from_shape_fn((rows, d), |(r, c)| match r {
        0 => 0.0,
        1 => 1.0,
        _ => (((r * 7 + c * 13) % 17) as f64 - 8.0) * 0.375,
    });
    for (name, out) in runner
        .run_all(x.view())
        .context("tract cannot run the rewritten graph")?
    {
        if let svm2onnx::run::NamedOutput::Float(a) = out {
            if a.iter().any(|v| !v.is_finite()) {
                bail!("output '{name}' of the rewritten graph is not finite on a probe row");
            }
        }
    }
    Ok(rows)
}

fn validate(args: &ValidateArgs) -> Result<Result<(), Mismatch>> {
    check_tolerance(args.tolerance)?;
    let loaded = load(&args.reference, &args.load)?;
    let data = match &args.data {
        None => None,
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            Some(svm2onnx::data::read_rows(&bytes).with_context(|| format!("{}", p.display()))?)
        }
    };
    let report = validate_onnx_path(&args.onnx, &loaded, data, args.tolerance)
        .with_context(|| format!("{}", args.onnx.display()))?;
    print_report(&report, args.json)?;
    Ok(if report.passed { Ok(()) } else { Err(Mismatch) })
}

fn inspect(args: &InspectArgs) -> Result<()> {
    let loaded = load(&args.model, &args.load)?;
    let model = &loaded.model;
    let mut out = String::new();
    out += &format!("estimator:       {}\n", model.name());
    if let Some(kernel) = model.kernel() {
        out += &format!("kernel:          {}", kernel.name());
        match *kernel {
            Kernel::Linear => {}
            Kernel::Rbf { gamma } => out += &format!(" (gamma={gamma})"),
            Kernel::Poly {
                gamma,
                coef0,
                degree,
            } => out += &format!(" (gamma={gamma}, coef0={coef0}, degree={degree})"),
            Kernel::Sigmoid { gamma, coef0 } => out += &format!(" (gamma={gamma}, coef0={coef0})"),
        }
        out += "\n";
    }
    out += &format!("features:        {}\n", model.n_features());
    if !model.preprocessing().is_empty() {
        let steps: Vec<String> = model.preprocessing().iter().map(|p| p.describe()).collect();
        out += &format!(
            "pipeline:        {} -> {}\n",
            steps.join(" -> "),
            model.name()
        );
    }
    if let Some(classes) = model.label_classes() {
        out += &format!("classes:         {} {}\n", classes.len(), classes.to_json());
    }
    match model {
        Model::Svc(m) => {
            out += &format!(
                "support vectors: {} (per class: {:?})\n",
                m.support_vectors().nrows(),
                m.n_support()
            );
            if m.n_classes() > 2 {
                out += &format!(
                    "decision shape:  {}{}\n",
                    m.decision_shape().name(),
                    if m.break_ties() { ", break_ties" } else { "" }
                );
            }
            out += &format!(
                "probabilities:   {}\n",
                match (m.platt().is_some(), m.convention()) {
                    (false, _) => "no",
                    (true, Convention::Sklearn) => "yes (libsvm Platt scaling + pairwise coupling)",
                    (true, Convention::Libsvm) if m.n_classes() == 2 =>
                        "yes (LIBSVM >= 3.22: Platt scaling, no coupling for two classes)",
                    (true, Convention::Libsvm) => "yes (LIBSVM Platt scaling + pairwise coupling)",
                }
            );
        }
        Model::Dual(m) => {
            out += &format!("support vectors: {}\n", m.support_vectors().nrows());
            if m.kind() == DualKind::OneClassSvm && m.convention() == Convention::Sklearn {
                out += &format!(
                    "offset:          {} (score_samples = scores + offset)\n",
                    -m.intercept()
                );
            }
            if m.density_marks().is_some() {
                out += "probabilities:   yes (LIBSVM >= 3.30 one-class density marks)\n";
            }
            if let Some(sigma) = m.svr_sigma() {
                out += &format!("laplace sigma:   {sigma} (LIBSVM -b 1; metadata only)\n");
            }
        }
        Model::Linear(m) => {
            out += &format!(
                "coefficients:    {} x {}\n",
                m.coef().nrows(),
                m.coef().ncols()
            )
        }
        Model::Calibrated(m) => {
            out += &format!(
                "calibration:     {} ({} calibrated classifiers)\n",
                m.method(),
                m.members().len()
            );
            out += &format!("base estimator:  {}\n", m.members()[0].base.describe());
        }
    }
    if let Some(v) = model.sklearn_version() {
        out += &format!("scikit-learn:    {v}\n");
    }
    if let Some(s) = &loaded.samples {
        out += &format!("recorded rows:   {}\n", s.x.nrows());
    }
    out += "graph:\n";
    out += &format!(
        "  input  X      [N, {}] float (f32 or f64 by --dtype)\n",
        model.n_features()
    );
    for spec in model.outputs(&OutputOptions::default()) {
        let ty = match spec.ty {
            OutputType::Float => "float".to_string(),
            OutputType::Label(t) => format!("{t:?}"),
        };
        out += &format!(
            "  output {} {} {ty} (= {})\n",
            spec.name(),
            spec.shape,
            spec.method
        );
    }
    print!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match &cli.command {
        Command::Convert(a) => convert(a),
        Command::Validate(a) => validate(a),
        Command::Inspect(a) => inspect(a).map(Ok),
    };
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(Mismatch)) => ExitCode::from(1),
        Err(e) => {
            // One line: the context chain joined with ': '.
            let line = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {line}");
            ExitCode::from(2)
        }
    }
}
