//! `svm2onnx validate`: run an ONNX file with tract and compare it with the
//! model it was compiled from.

use super::args::ValidateArgs;
use super::{
    check_tolerance, print_report, read_data, validate_with_progress, warn, Mismatch, Outcome,
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
    let data = read_data(plan.data.as_deref())?;
    let report = validate_with_progress(&plan.onnx, &loaded, data, plan.tolerance, plan.json)
        .with_context(|| plan.onnx.display().to_string())?;
    print_report(&report, plan.json)?;
    Ok(if report.passed { Ok(()) } else { Err(Mismatch) })
}
