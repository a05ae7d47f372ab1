//! `svm2onnx._native`: the Python binding of the svm2onnx library. Thin:
//! the Python layer (python/svm2onnx/__init__.py) turns estimators, paths,
//! buffers and arrays into paths or bytes, this module converts them in
//! Rust with the GIL released ([`core`]), and the command line is the
//! binary's own code (src/cli/, compiled here).

mod core;

// The CLI's modules, compiled into the extension so that the wheel's
// `svm2onnx` console script and `python -m svm2onnx` are the same code as
// the `svm2onnx` binary (same flags, messages and exit codes). anyhow
// stays confined to them, as in the binary.
#[path = "../../src/cli/mod.rs"]
mod cli;

use crate::core::{Failure, Request, Source};
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};
use std::io::Write;
use std::path::PathBuf;

create_exception!(
    svm2onnx,
    Error,
    PyException,
    "Any error raised by svm2onnx."
);
create_exception!(
    svm2onnx,
    BadInputError,
    Error,
    "Bad input: an unreadable or unsupported model, a bad option, an unwritable destination (the CLI's exit code 2)."
);
create_exception!(
    svm2onnx,
    ValidationError,
    Error,
    "The compiled graph disagrees with the model (the CLI's exit code 1); `.report` holds what validation found."
);

/// A model as the Python layer passes it: a path, or bytes.
fn source<'a>(path: Option<PathBuf>, data: Option<&'a [u8]>) -> PyResult<Source<'a>> {
    match (path, data) {
        (Some(p), None) => Ok(Source::Path(p)),
        (None, Some(b)) => Ok(Source::Bytes(b)),
        _ => Err(pyo3::exceptions::PyTypeError::new_err(
            "exactly one of path and data",
        )),
    }
}

/// A failure as a Python value: `BadInputError` is raised here; a
/// mismatch is returned to the Python layer, which raises
/// `ValidationError` with its report.
fn raise(f: Failure) -> PyErr {
    match f {
        Failure::BadInput(m) => BadInputError::new_err(m),
        Failure::Mismatch { message, report } => {
            let json = serde_json::to_string(&report).unwrap_or_default();
            ValidationError::new_err((message, json, report.render()))
        }
    }
}

/// A validation report as (json, text).
type ReportParts = Option<(String, String)>;

fn report_parts(report: Option<&svm2onnx::validate::Report>) -> ReportParts {
    report.map(|r| (serde_json::to_string(r).unwrap_or_default(), r.render()))
}

/// Converts a model: `(onnx_bytes, report, warnings)`; with `keras_path`,
/// writes a `.keras` file there instead and returns empty bytes. With
/// `buffers`, `data` is a protocol-5 pickle stream and `buffers` the
/// (address, length) of its out-of-band buffers, in order.
#[pyfunction]
#[pyo3(signature = (path, data, *, dtype, opset, label_index, outputs, validate, tolerance, n_features, keras_path, buffers=None))]
#[allow(clippy::too_many_arguments)]
fn convert<'py>(
    py: Python<'py>,
    path: Option<PathBuf>,
    data: Option<Bound<'py, PyBytes>>,
    dtype: Option<String>,
    opset: i64,
    label_index: bool,
    outputs: Option<Vec<String>>,
    validate: bool,
    tolerance: Option<f64>,
    n_features: Option<usize>,
    keras_path: Option<PathBuf>,
    buffers: Option<Vec<(usize, usize)>>,
) -> PyResult<(Bound<'py, PyBytes>, ReportParts, Vec<String>)> {
    let request = Request {
        dtype,
        opset,
        label_index,
        outputs,
        validate,
        tolerance,
        n_features,
    };
    let out = match buffers {
        Some(buffers) => {
            let stream = data.as_ref().map(|b| b.as_bytes()).unwrap_or_default();
            // SAFETY: each (address, length) is the memory of a
            // `pickle.PickleBuffer` that the Python caller (`_convert` in
            // python/svm2onnx/__init__.py, the only caller of this private
            // function) keeps alive for the whole call. The slices are read
            // only while the GIL is held (pickle.dumps read the same memory
            // under the same lock) and dropped before it is released.
            let slices: Vec<&[u8]> = buffers
                .iter()
                .map(|&(address, len)| match len {
                    0 => &[][..],
                    _ => unsafe { std::slice::from_raw_parts(address as *const u8, len) },
                })
                .collect();
            // Bad options are refused before the model is read.
            let checked = core::check(&request, keras_path.as_deref()).map_err(raise)?;
            let loaded = core::load_pickle(stream, &slices, request.n_features).map_err(raise)?;
            drop(slices);
            py.detach(|| core::convert_loaded(loaded, checked, &request, keras_path.as_deref()))
        }
        None => {
            let src = source(path, data.as_ref().map(|b| b.as_bytes()))?;
            py.detach(|| core::convert(&src, &request, keras_path.as_deref()))
        }
    }
    .map_err(raise)?;
    Ok((
        PyBytes::new(py, &out.bytes),
        report_parts(out.report.as_ref()),
        out.warnings,
    ))
}

/// Validates a graph against a reference model: `(report, warnings)`.
/// `x` is `(address, rows, columns)` of a C-ordered float64 array.
#[pyfunction]
#[pyo3(signature = (onnx_path, onnx_data, ref_path, ref_data, *, x, tolerance, n_features))]
#[allow(clippy::too_many_arguments)]
fn validate<'py>(
    py: Python<'py>,
    onnx_path: Option<PathBuf>,
    onnx_data: Option<Bound<'py, PyBytes>>,
    ref_path: Option<PathBuf>,
    ref_data: Option<Bound<'py, PyBytes>>,
    x: Option<(usize, usize, usize)>,
    tolerance: Option<f64>,
    n_features: Option<usize>,
) -> PyResult<((String, String), Vec<String>)> {
    let onnx = source(onnx_path, onnx_data.as_ref().map(|b| b.as_bytes()))?;
    let reference = source(ref_path, ref_data.as_ref().map(|b| b.as_bytes()))?;
    // SAFETY: `x` is (address, rows, columns) of a C-ordered float64 numpy
    // array that the Python caller (`validate` in python/svm2onnx/__init__.py,
    // the only caller of this private function) keeps alive for the call;
    // its values are copied into Rust here, while the GIL is held, and the
    // slice is not used after.
    let data = x
        .map(|(address, rows, cols)| {
            let n = rows
                .checked_mul(cols)
                .ok_or_else(|| Failure::BadInput(format!("X: {rows} x {cols} is too large")))?;
            let values: &[f64] = match n {
                0 => &[],
                _ => unsafe { std::slice::from_raw_parts(address as *const f64, n) },
            };
            ndarray::Array2::from_shape_vec((rows, cols), values.to_vec())
                .map_err(|e| Failure::BadInput(format!("X: {e}")))
        })
        .transpose()
        .map_err(raise)?;
    let (report, warnings) = py
        .detach(|| core::validate(&onnx, &reference, data, tolerance, n_features))
        .map_err(raise)?;
    let (json, text) = report_parts(Some(&report)).unwrap_or_default();
    Ok(((json, text), warnings))
}

/// Describes a model or an svm2onnx graph: `(fields, ports, warnings)`,
/// fields as (key, value) pairs, ports as (direction, name, shape, elem,
/// meaning).
#[pyfunction]
#[pyo3(signature = (path, data, *, n_features))]
fn inspect<'py>(
    py: Python<'py>,
    path: Option<PathBuf>,
    data: Option<Bound<'py, PyBytes>>,
    n_features: Option<usize>,
) -> PyResult<Bound<'py, PyDict>> {
    let src = source(path, data.as_ref().map(|b| b.as_bytes()))?;
    let inspection = py
        .detach(|| core::inspect(&src, n_features))
        .map_err(raise)?;
    let fields = PyDict::new(py);
    for (k, v) in &inspection.fields {
        fields.set_item(k, v)?;
    }
    let ports = PyList::empty(py);
    for p in &inspection.ports {
        let port = PyDict::new(py);
        port.set_item("direction", p.direction.name())?;
        port.set_item("name", &p.name)?;
        port.set_item("shape", &p.shape)?;
        port.set_item("elem", &p.elem)?;
        port.set_item("meaning", &p.meaning)?;
        ports.append(port)?;
    }
    let out = PyDict::new(py);
    out.set_item("fields", fields)?;
    out.set_item("ports", ports)?;
    out.set_item("warnings", &inspection.warnings)?;
    out.set_item("text", inspection.render())?;
    Ok(out)
}

/// Runs the command line on `argv` (program name first) and returns its
/// exit code: the `svm2onnx` binary's `main`, with the GIL released.
#[pyfunction]
fn main(py: Python<'_>, argv: Vec<String>) -> u8 {
    let code = py.detach(|| cli::main_from(argv));
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    code
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<Error>())?;
    m.add("BadInputError", py.get_type::<BadInputError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(convert, m)?)?;
    m.add_function(wrap_pyfunction!(validate, m)?)?;
    m.add_function(wrap_pyfunction!(inspect, m)?)?;
    m.add_function(wrap_pyfunction!(main, m)?)?;
    Ok(())
}
