//! `svm2onnx inspect`: describe a model file or an svm2onnx graph.

use super::args::InspectArgs;
use super::warn;
use anyhow::{Context, Result};
use svm2onnx::inspect::inspect_path;

pub fn run(args: &InspectArgs) -> Result<()> {
    let report = inspect_path(&args.model, &args.load.options())
        .with_context(|| args.model.display().to_string())?;
    warn(&args.model, &report.warnings);
    print!("{}", report.render());
    Ok(())
}
