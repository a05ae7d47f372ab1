//! `svm2onnx convert`: compile a model (or rewrite an skl2onnx graph),
//! validate it with tract in a staging folder, then publish it.

use super::args::{ConvertArgs, OutputFormat};
use super::{
    check_tolerance, print_report, read_rows, validate_with_progress, warn, Mismatch, Outcome,
    Validation,
};
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use svm2onnx::graph::FloatType;
use svm2onnx::model::Model;
use svm2onnx::publish::{stage_bytes, stage_compiled, Published};
use svm2onnx::smoke::{smoke_run, SmokeError};
use svm2onnx::validate::{check_width, Batch, Expected, Rows, EXPECT_AHEAD_ROWS};
use svm2onnx::{keras_options, lower_model, CompileError, CompileOptions, LoadOptions};
use svm2onnx::{onnxml, ModelFile};

/// The checked flags, for a model file.
struct Plan {
    model: PathBuf,
    output: PathBuf,
    load: LoadOptions,
    compile: CompileOptions,
    outputs: Option<Vec<String>>,
    external_data: bool,
    validate: bool,
    tolerance: Option<f64>,
    /// Validation rows (`--data` or `--probes`), read before any work.
    rows: Rows,
    json: bool,
    keras: bool,
}

/// The format to write: `--format`, else by the output's extension. Keras
/// loads only files named `.keras`, so the two must agree.
fn output_format(args: &ConvertArgs) -> Result<OutputFormat> {
    let keras_name = args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("keras"));
    match (args.format, keras_name) {
        (None, true) | (Some(OutputFormat::Keras), true) => Ok(OutputFormat::Keras),
        (None, false) | (Some(OutputFormat::Onnx), false) => Ok(OutputFormat::Onnx),
        (Some(OutputFormat::Keras), false) => bail!(
            "{}: a Keras model's file name must end in .keras (keras.saving.load_model refuses any other)",
            args.output.display()
        ),
        (Some(OutputFormat::Onnx), true) => bail!(
            "{}: --format onnx with a .keras name; name the ONNX file .onnx, or drop --format onnx to write a Keras model",
            args.output.display()
        ),
    }
}

impl Plan {
    fn new(args: &ConvertArgs) -> Result<Plan> {
        let keras = output_format(args)? == OutputFormat::Keras;
        if keras && args.external_data {
            bail!("--external-data applies to ONNX output only: a .keras file keeps its weights in model.weights.h5");
        }
        Ok(Plan {
            model: args.model.clone(),
            output: args.output.clone(),
            load: args.load.options(),
            compile: CompileOptions {
                float: args.dtype.unwrap_or(FloatType::F32),
                opset: args.opset,
                label_index: args.label_index,
            },
            outputs: args
                .outputs
                .as_ref()
                .map(|o| o.iter().map(|s| s.trim().to_string()).collect()),
            external_data: args.external_data,
            validate: !args.no_validate,
            tolerance: check_tolerance(args.tolerance)?,
            rows: read_rows(args.data.as_deref(), args.probes)?,
            json: args.json,
            keras,
        })
    }
}

/// The checked flags, for an ONNX graph with ai.onnx.ml ops.
struct OnnxPlan {
    model: PathBuf,
    output: PathBuf,
    float: FloatType,
    validate: bool,
}

impl OnnxPlan {
    fn new(args: &ConvertArgs) -> Result<OnnxPlan> {
        if args.label_index
            || args.opset != 17
            || args.tolerance.is_some()
            || args.json
            || args.outputs.is_some()
            || args.external_data
            || args.load.n_features.is_some()
            || args.data.is_some()
            || args.probes.is_some()
        {
            bail!("--label-index, --opset, --tolerance, --json, --outputs, --external-data, --n-features, --data and --probes do not apply to ONNX input: the rewritten graph keeps the original's interface and opset");
        }
        Ok(OnnxPlan {
            model: args.model.clone(),
            output: args.output.clone(),
            float: args.dtype.unwrap_or(FloatType::F64),
            validate: !args.no_validate,
        })
    }
}

pub fn run(args: &ConvertArgs) -> Outcome {
    check_tolerance(args.tolerance)?;
    // Big files are mapped, and their array blocks released as they are
    // decoded (svm2onnx::ModelFile): loading peaks near the model's size.
    let file = ModelFile::open(&args.model)?;
    if onnxml::recognise(file.bytes()) {
        if output_format(args)? == OutputFormat::Keras {
            bail!(
                "{}: Keras output from an skl2onnx graph is not supported; convert the scikit-learn model itself (its pickle or joblib file) to .keras",
                args.model.display()
            );
        }
        return convert_onnx(&OnnxPlan::new(args)?, file.bytes()).map(Ok);
    }
    convert_model(&Plan::new(args)?, file)
}

fn convert_model(plan: &Plan, file: ModelFile) -> Outcome {
    let loaded = file
        .load(&plan.load)
        .with_context(|| plan.model.display().to_string())?;
    drop(file);
    warn(&plan.model, &loaded.warnings);
    // A Keras model cannot hold strings: its labels are class indices.
    let (options, indices_forced) = if plan.keras {
        keras_options(&loaded.model, &plan.compile)
    } else {
        (plan.compile, false)
    };
    // The reference needs no graph: it is evaluated on the validation rows
    // while the graph is compiled, written, loaded into tract and run (a big
    // model's validation is mostly the f64 reference). Many rows are left
    // to validation's blocks, which report progress.
    let few_data_rows = match &plan.rows {
        Rows::Data(x) => x.nrows() <= EXPECT_AHEAD_ROWS,
        Rows::Default { .. } => true,
    };
    let ahead_rows = (plan.validate && few_data_rows)
        .then(|| {
            plan.rows
                .clone()
                .batches(&loaded.model, loaded.samples.as_ref())
        })
        .filter(|b| b.iter().map(|b| b.x.nrows()).sum::<usize>() <= EXPECT_AHEAD_ROWS)
        // Rows of the wrong width (or none) get validation's one-line error
        // instead: the reference must not see them.
        .filter(|b| b.iter().all(|b| check_width(&loaded.model, b).is_ok()));
    // An error while compiling or writing returns only once the reference
    // thread has finished (the scope joins it): at most 4,096 rows' work.
    std::thread::scope(|scope| {
        let ahead = ahead_rows.as_deref().map(|batches| {
            let model = &loaded.model;
            let float = options.float.elem();
            let handle = scope.spawn(move || Expected::compute(model, batches, float));
            (batches, handle)
        });
        compile_and_write(plan, &loaded, (options, indices_forced), ahead)
    })
}

/// The validation rows and the thread evaluating the reference on them.
type Ahead<'scope, 'env> = Option<(
    &'env [Batch],
    std::thread::ScopedJoinHandle<'scope, Expected>,
)>;

/// Compiles, writes to the staging folder, validates, publishes.
fn compile_and_write(
    plan: &Plan,
    loaded: &svm2onnx::LoadedModel,
    (options, indices_forced): (CompileOptions, bool),
    ahead: Ahead<'_, '_>,
) -> Outcome {
    let mut compiled = lower_model(&loaded.model, &options)?;
    if let Some(names) = &loaded.feature_names {
        compiled.record_feature_names(names);
    }
    if let Some(outputs) = &plan.outputs {
        let names: Vec<&str> = outputs.iter().map(String::as_str).collect();
        compiled
            .keep_outputs(&names)
            .map_err(|e| missing_output(e, &loaded.model))?;
    }
    // The Keras file is translated from the graph that is validated next;
    // a graph op without a Keras equivalent is refused before any work.
    let keras = if plan.keras {
        Some(compiled.to_keras()?)
    } else {
        None
    };
    if let Some(keras) = keras {
        if plan.validate {
            let staged = stage_compiled(&compiled, &plan.output, false)?;
            drop(compiled);
            if !validated(plan, &staged.model_path(), loaded, ahead)? {
                return Ok(Err(Mismatch));
            }
        }
        let published = stage_bytes(&keras, &plan.output)?.publish()?;
        eprintln!(
            "wrote {}: {}; {} bytes, Keras 3, {}",
            plan.output.display(),
            loaded.model.describe_pipeline(),
            published.written.model,
            options.float.name()
        );
        if indices_forced {
            if let Some(classes) = loaded.model.label_classes() {
                eprintln!(
                    "note: `label` is the class index (a Keras model cannot hold strings); the classes, in index order: {} (also in the file's metadata.json, svm2onnx.classes)",
                    classes.to_json()
                );
            }
        }
        return Ok(Ok(()));
    }
    let external = plan.external_data || compiled.needs_external_data();
    let staged = stage_compiled(&compiled, &plan.output, external)?;
    // The graph's constants are on disk now; free them before tract loads
    // its own copy.
    drop(compiled);
    if plan.validate && !validated(plan, &staged.model_path(), loaded, ahead)? {
        return Ok(Err(Mismatch));
    }
    let published = staged.publish()?;
    eprintln!(
        "wrote {}: {}; {}, opset {}, {}",
        plan.output.display(),
        loaded.model.describe_pipeline(),
        sizes(&published),
        plan.compile.opset,
        plan.compile.float.name()
    );
    Ok(Ok(()))
}

/// Runs the staged ONNX graph with tract against the reference and the
/// recorded outputs, prints the report, and says whether it passed.
fn validated(
    plan: &Plan,
    onnx: &Path,
    loaded: &svm2onnx::LoadedModel,
    ahead: Ahead<'_, '_>,
) -> Result<bool> {
    let rows = match ahead {
        Some((batches, handle)) => Validation::Ready(
            batches,
            Box::new(move || {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }),
        ),
        None => Validation::Rows(plan.rows.clone()),
    };
    let report = validate_with_progress(onnx, loaded, rows, plan.tolerance, plan.json)?;
    print_report(&report, plan.json)?;
    if !report.passed {
        let hint = if plan.compile.float == FloatType::F32 {
            " (float32 may be unable to represent this model's inputs or cancel its coefficients \
             precisely enough; --dtype f64 keeps scikit-learn's precision, --tolerance accepts a \
             larger error)"
        } else {
            " (--tolerance accepts a larger error)"
        };
        let why = report
            .diagnosis()
            .map(|d| format!("; {d}"))
            .unwrap_or_default();
        eprintln!(
            "error: validation failed; {} was not written{hint}{why}",
            plan.output.display()
        );
    }
    Ok(report.passed)
}

/// `123 bytes`, or `123 bytes + m.onnx.data (456 bytes)`.
fn sizes(p: &Published) -> String {
    let mut s = format!("{} bytes", p.written.model);
    if let Some(name) = p.data.as_deref().and_then(Path::file_name) {
        s += &format!(
            " + {} ({} bytes)",
            name.to_string_lossy(),
            p.written.external
        );
    }
    s
}

/// `--outputs` named an output the model lacks; for `probabilities`, say
/// how to fit a model that has them.
fn missing_output(e: CompileError, model: &Model) -> anyhow::Error {
    match &e {
        CompileError::Output { missing, .. } if missing == "probabilities" => {
            anyhow!("{e}; {}", probability_hint(model))
        }
        _ => e.into(),
    }
}

fn probability_hint(model: &Model) -> String {
    match model.name() {
        name @ ("SVC" | "NuSVC") => format!(
            "to get them, fit CalibratedClassifierCV({name}(), ensemble=False) (or {name}(probability=True), which scikit-learn 1.9 deprecates)"
        ),
        "LinearSVC" => "to get them, fit CalibratedClassifierCV(LinearSVC(), ensemble=False)".into(),
        "LIBSVM c_svc" | "LIBSVM nu_svc" => "to get them, train with `svm-train -b 1`".into(),
        "LIBSVM one_class" => {
            "to get them, train with `svm-train -s 2 -b 1` (LIBSVM 3.30 or later)".into()
        }
        name => format!("{name} has no predict_proba"),
    }
}

/// `convert` for an ONNX graph with ai.onnx.ml ops: rewrite it into standard
/// ops (docs/ONNX_ML.md), check that tract runs it, write it.
fn convert_onnx(plan: &OnnxPlan, bytes: &[u8]) -> Result<()> {
    let options = onnxml::ConvertOptions { float: plan.float };
    let converted =
        onnxml::convert(bytes, &options).with_context(|| plan.model.display().to_string())?;
    for w in &converted.warnings {
        eprintln!("warning: {w}");
    }
    if plan.validate {
        let rows = match smoke_run(&converted.onnx) {
            Err(SmokeError::NoFeatureCount) => {
                bail!("{}; use --no-validate", SmokeError::NoFeatureCount)
            }
            r => r.context("the rewritten graph")?,
        };
        eprintln!(
            "ran the rewritten graph in tract on {rows} probe rows (its agreement with onnxruntime is tested on recorded outputs: docs/ONNX_ML.md)"
        );
    }
    let published = stage_bytes(&converted.onnx, &plan.output)?.publish()?;
    eprintln!(
        "wrote {} ({} bytes; replaced {} with standard ops at the graph's opset {}, {} arithmetic)",
        plan.output.display(),
        published.written.model,
        converted.replaced.join(", "),
        converted.opset,
        plan.float.name()
    );
    Ok(())
}
