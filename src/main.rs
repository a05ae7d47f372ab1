//! The `svm2onnx` command line: parse flags, call the library, report.
//! Exit codes: 0 success, 1 validation mismatch, 2 bad input or usage.

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use svm2onnx::graph::FloatType;
use svm2onnx::lower::{label_elem, scores_width, LowerOptions};
use svm2onnx::model::{DualKind, Kernel, Model, Task};
use svm2onnx::validate::Report;
use svm2onnx::{compile, load_path, validate_onnx, CompileOptions, LoadedModel};

#[derive(Parser)]
#[command(
    name = "svm2onnx",
    version,
    about = "Compile trained SVMs into exact ONNX graphs of standard ops",
    long_about = "Compile trained support vector machines (scikit-learn SVC, NuSVC, SVR, NuSVR, OneClassSVM, \
LinearSVC, LinearSVR, pipelines and searches around them; pickle, joblib or svm2onnx JSON files) \
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
    /// The model file: pickle, joblib (any compression), svm2onnx JSON, or an
    /// ONNX graph with ai.onnx.ml SVM ops (skl2onnx) to rewrite into standard ops.
    model: PathBuf,
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
}

/// Failures that are not bad input: the graph disagrees with the model.
struct Mismatch;

fn load(path: &Path) -> Result<LoadedModel> {
    let loaded = load_path(path).with_context(|| format!("{}", path.display()))?;
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

/// Writes through a temporary file in the same directory and renames it, so
/// a failure never leaves a partial output file behind.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .context("the output path has no file name")?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn convert(args: &ConvertArgs) -> Result<Result<(), Mismatch>> {
    check_tolerance(args.tolerance)?;
    let bytes = std::fs::read(&args.model)
        .with_context(|| format!("cannot read {}", args.model.display()))?;
    if svm2onnx::onnxml::recognise(&bytes) {
        return convert_onnx(args, &bytes).map(Ok);
    }
    let loaded =
        svm2onnx::load_bytes(&bytes).with_context(|| format!("{}", args.model.display()))?;
    for w in &loaded.warnings {
        eprintln!("warning: {}: {w}", args.model.display());
    }
    let dtype = args.dtype.unwrap_or(FloatType::F32);
    let options = CompileOptions {
        float: dtype,
        opset: args.opset,
        label_index: args.label_index,
    };
    let onnx = compile(&loaded.model, &options)?;
    if !args.no_validate {
        let report = validate_onnx(&onnx, &loaded, None, args.tolerance)?;
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
    write_atomically(&args.output, &onnx)?;
    eprintln!(
        "wrote {} ({} bytes, {}, opset {})",
        args.output.display(),
        onnx.len(),
        loaded.model.describe(),
        args.opset
    );
    Ok(Ok(()))
}

/// `convert` for an ONNX graph with ai.onnx.ml ops: rewrite it into standard
/// ops (docs/ONNX_ML.md), check that tract runs it, write it.
fn convert_onnx(args: &ConvertArgs, bytes: &[u8]) -> Result<()> {
    if args.label_index || args.opset != 17 || args.tolerance.is_some() || args.json {
        bail!("--label-index, --opset, --tolerance and --json do not apply to ONNX input: the rewritten graph keeps the original's interface and opset");
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
    write_atomically(&args.output, &converted.onnx)?;
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
    let onnx = std::fs::read(&args.onnx)
        .with_context(|| format!("cannot read {}", args.onnx.display()))?;
    let loaded = load(&args.reference)?;
    let data = match &args.data {
        None => None,
        Some(p) => {
            let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
            Some(svm2onnx::data::read_rows(&bytes).with_context(|| format!("{}", p.display()))?)
        }
    };
    let report = validate_onnx(&onnx, &loaded, data, args.tolerance)
        .with_context(|| format!("{}", args.onnx.display()))?;
    print_report(&report, args.json)?;
    Ok(if report.passed { Ok(()) } else { Err(Mismatch) })
}

fn inspect(args: &InspectArgs) -> Result<()> {
    let loaded = load(&args.model)?;
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
                if m.platt().is_some() {
                    "yes (libsvm Platt scaling + pairwise coupling)"
                } else {
                    "no"
                }
            );
        }
        Model::Dual(m) => {
            out += &format!("support vectors: {}\n", m.support_vectors.nrows());
            if m.kind == DualKind::OneClassSvm {
                out += &format!(
                    "offset:          {} (score_samples = scores + offset)\n",
                    -m.intercept
                );
            }
        }
        Model::Linear(m) => {
            out += &format!("coefficients:    {} x {}\n", m.coef.nrows(), m.coef.ncols())
        }
        Model::Calibrated(m) => {
            out += &format!(
                "calibration:     {} ({} calibrated classifiers)\n",
                m.method,
                m.members.len()
            );
            out += &format!("base estimator:  {}\n", m.members[0].base.describe());
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
    match model.task() {
        Task::Regress => out += "  output prediction [N] float (= predict)\n",
        _ => {
            let classes = model
                .label_classes()
                .unwrap_or(svm2onnx::model::Classes::Int(vec![]));
            let label = label_elem(&classes, &LowerOptions::default());
            out += &format!(
                "  output label  [N] {label:?} (= predict; int64 indices with --label-index)\n"
            );
            let scores = match scores_width(model) {
                None => "[N]".to_string(),
                Some(w) => format!("[N, {w}]"),
            };
            if let Model::Calibrated(m) = model {
                out += &format!(
                    "  output probabilities [N, {}] float (= predict_proba)\n",
                    m.classes.len()
                );
            } else {
                out += &format!("  output scores {scores} float (= decision_function)\n");
            }
        }
    }
    if let Some(m) = model.svc().filter(|m| m.platt().is_some()) {
        out += &format!(
            "  output probabilities [N, {}] float (= predict_proba)\n",
            m.n_classes()
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
