//! The command line: clap's record of the flags ([`args`]) → checked
//! options → library calls → a rendered report. Each command has its file.

pub mod args;
mod convert;
mod inspect;
mod validate;

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::ffi::OsString;
use std::path::Path;
use svm2onnx::validate::{Report, Rows};

/// A run that worked but found the graph disagreeing with the model
/// (exit code 1), as opposed to bad input (an error, exit code 2).
pub struct Mismatch;

/// What a command ends with.
pub type Outcome = Result<Result<(), Mismatch>>;

/// The whole command line: parses `args` (the program name first), runs
/// the command, prints any error as one `error: ...` line, and returns the
/// exit code: 0 success, 1 validation mismatch, 2 bad input or usage (0 for
/// `--help` and `--version`). Shared by the `svm2onnx` binary and the
/// Python package's console script (python/src/lib.rs compiles this folder).
pub fn main_from<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // What clap's `parse` prints before exiting.
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match run(&cli) {
        Ok(Ok(())) => 0,
        Ok(Err(Mismatch)) => 1,
        Err(e) => {
            // One line: the context chain joined with ': '.
            let line = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {line}");
            2
        }
    }
}

/// Runs the parsed command.
pub fn run(cli: &args::Cli) -> Outcome {
    match &cli.command {
        args::Command::Convert(a) => convert::run(a),
        args::Command::Validate(a) => validate::run(a),
        args::Command::Inspect(a) => inspect::run(a).map(Ok),
    }
}

/// Prints a loader's warnings about `path`.
fn warn(path: &Path, warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
}

/// `--tolerance` must be a non-negative number.
/// The progress line of a long validation on stderr: drawn only when
/// stderr is a terminal (not piped), not with `--json`, and only once the
/// validation has taken a second; erased when it ends.
struct ProgressLine {
    start: std::time::Instant,
    enabled: bool,
    drawn: std::cell::Cell<bool>,
}

impl ProgressLine {
    fn new(json: bool) -> Self {
        use std::io::IsTerminal;
        ProgressLine {
            start: std::time::Instant::now(),
            enabled: !json && std::io::stderr().is_terminal(),
            drawn: std::cell::Cell::new(false),
        }
    }

    fn update(&self, done: usize, total: usize) {
        if self.enabled && self.start.elapsed() >= std::time::Duration::from_secs(1) {
            const WIDTH: usize = 30;
            let filled = (done * WIDTH).checked_div(total).unwrap_or(WIDTH);
            eprint!(
                "\rvalidating [{}{}] {done}/{total} rows",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled)
            );
            self.drawn.set(true);
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        if self.drawn.get() {
            eprint!("\r\x1b[2K");
        }
    }
}

/// Validates an ONNX file with a progress line (see [`ProgressLine`]).
fn validate_with_progress(
    onnx: &Path,
    loaded: &svm2onnx::LoadedModel,
    rows: Validation<'_>,
    tolerance: Option<f64>,
    json: bool,
) -> std::result::Result<Report, svm2onnx::Error> {
    let line = ProgressLine::new(json);
    let progress = |done, total| line.update(done, total);
    match rows {
        Validation::Rows(rows) => {
            svm2onnx::validate_onnx_path_reporting(onnx, loaded, rows, tolerance, &progress)
        }
        Validation::Ready(batches, pending) => svm2onnx::validate_onnx_path_expecting(
            onnx,
            loaded,
            (batches, pending),
            tolerance,
            &progress,
        ),
    }
}

/// What validation runs on: rows whose reference is still to evaluate, or
/// batches whose reference is being evaluated in a thread (`convert`).
enum Validation<'a> {
    /// `--data` or the default rows, evaluated as validation goes.
    Rows(Rows),
    /// Batches and the thread that is evaluating the reference on them.
    Ready(
        &'a [svm2onnx::validate::Batch],
        svm2onnx::validate::Pending<'a>,
    ),
}

/// Input rows for validation: `--data` (a 2-D .npy or CSV file), or the
/// recorded samples and `--probes` generated rows.
fn read_rows(path: Option<&Path>, probes: Option<u32>) -> Result<Rows> {
    let Some(p) = path else {
        return Ok(Rows::Default {
            probes: probes.map(|n| n as usize),
        });
    };
    let bytes = std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
    let rows = svm2onnx::data::read_rows(&bytes).with_context(|| p.display().to_string())?;
    Ok(Rows::Data(rows))
}

fn check_tolerance(t: Option<f64>) -> Result<Option<f64>> {
    match t {
        Some(t) if !(t.is_finite() && t >= 0.0) => {
            bail!("--tolerance must be a non-negative number, got {t}")
        }
        t => Ok(t),
    }
}

/// A validation report: JSON on stdout, or text on stderr.
fn print_report(report: &Report, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(report)?);
    } else {
        eprint!("{}", report.render());
    }
    Ok(())
}
