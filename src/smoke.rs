//! A smoke run of an ONNX graph with tract (the `tract` feature): a few
//! fixed rows, every float output finite. It shows that a graph rewritten by
//! [`crate::onnxml`] is well-formed for tract; it does not check its values
//! (docs/ONNX_ML.md tests those against onnxruntime's recorded outputs).

use crate::run::{NamedOutput, RunError, Runner};

/// Why the smoke run failed.
#[derive(Debug, thiserror::Error)]
pub enum SmokeError {
    /// tract could not load or type the graph.
    #[error("tract cannot load the graph")]
    Load(#[source] RunError),
    /// The input's second dimension is symbolic, so no rows can be made.
    #[error("the graph input has no fixed feature count")]
    NoFeatureCount,
    /// tract failed while executing the graph.
    #[error("tract cannot run the graph")]
    Run(#[source] RunError),
    /// An output held NaN or an infinity.
    #[error("output '{0}' of the graph is not finite on a probe row")]
    NotFinite(String),
}

/// Number of rows [`smoke_run`] executes (and returns).
pub(crate) const SMOKE_ROWS: usize = 8;

/// Executes the graph on `SMOKE_ROWS` (8) fixed rows (zeros, ones, a spread
/// of values in [−3, 3]) and checks that every float output is finite.
pub fn smoke_run(onnx: &[u8]) -> Result<usize, SmokeError> {
    let runner = Runner::new(onnx).map_err(SmokeError::Load)?;
    let d = runner.info().n_features.ok_or(SmokeError::NoFeatureCount)?;
    let x = ndarray::Array2::from_shape_fn((SMOKE_ROWS, d), |(r, c)| match r {
        0 => 0.0,
        1 => 1.0,
        _ => (((r * 7 + c * 13) % 17) as f64 - 8.0) * 0.375,
    });
    for (name, out) in runner.run_all(x.view()).map_err(SmokeError::Run)? {
        if let NamedOutput::Float(a) = out {
            if a.iter().any(|v| !v.is_finite()) {
                return Err(SmokeError::NotFinite(name));
            }
        }
    }
    Ok(SMOKE_ROWS)
}
