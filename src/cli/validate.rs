//! `svm2onnx validate`: run an ONNX file with tract and compare it with the
//! model it was compiled from.

use super::args::ValidateArgs;
use super::{
    check_tolerance, print_report, read_rows, validate_with_progress, warn, Mismatch, Outcome,
    Validation,
};
use anyhow::Context;
use std::path::PathBuf;
use svm2onnx::{load_path_with, LoadOptions};

/// The checked flags.
struct Plan {
    onnx: PathBuf,
    reference: PathBuf,
    load: LoadOptions,
    data: Option<PathBuf>,
    probes: Option<u32>,
    tolerance: Option<f64>,
    json: bool,
}

impl Plan {
    fn new(args: &ValidateArgs) -> anyhow::Result<Plan> {
        Ok(Plan {
            onnx: args.onnx.clone(),
            reference: args.reference.clone(),
            load: args.load.options(),
            data: args.data.clone(),
            probes: args.probes,
            tolerance: check_tolerance(args.tolerance)?,
            json: args.json,
        })
    }
}

pub fn run(args: &ValidateArgs) -> Outcome {
    let plan = Plan::new(args)?;
    let loaded = load_path_with(&plan.reference, &plan.load)
        .with_context(|| plan.reference.display().to_string())?;
    warn(&plan.reference, &loaded.warnings);
    let rows = read_rows(plan.data.as_deref(), plan.probes)?;
    let report = validate_with_progress(
        &plan.onnx,
        &loaded,
        Validation::Rows(rows),
        plan.tolerance,
        plan.json,
    )
    .with_context(|| plan.onnx.display().to_string())?;
    print_report(&report, plan.json)?;
    if let Some(why) = report.diagnosis() {
        eprintln!("error: {why}");
    }
    Ok(if report.passed { Ok(()) } else { Err(Mismatch) })
}
