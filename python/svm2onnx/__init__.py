"""svm2onnx: compile trained SVMs into exact ONNX graphs made of standard ops.

    import svm2onnx
    onnx_bytes = svm2onnx.to_onnx(fitted_svc)                # validated in tract
    svm2onnx.to_keras(fitted_svc, "model.keras")           # a Keras 3 file
    report = svm2onnx.validate(onnx_bytes, fitted_svc, X=X)  # .passed, str(report)
    svm2onnx.inspect("model.joblib")["fields"]["estimator"]

A *model* is a fitted scikit-learn estimator (SVC, NuSVC, SVR, NuSVR,
OneClassSVM, LinearSVC, LinearSVR, SGDClassifier, SGDRegressor, SGDOneClassSVM,
CalibratedClassifierCV, a Pipeline ending in one, a GridSearchCV/RandomizedSearchCV), a path (pickle, joblib, svm2onnx
JSON, LIBSVM model, skl2onnx .onnx), or the bytes of such a file.

Safety: a live estimator is serialised in this process with
``pickle.dumps(model, protocol=5, buffer_callback=...)`` (its numpy arrays
stay out of band, read where they lie instead of copied); the stream is read
by svm2onnx's Rust loader, a restricted pickle interpreter that never imports
a module or calls anything (docs/PICKLE_SAFETY.md). Files and bytes are read the same way, so
converting an untrusted pickle or joblib file cannot run its code. Nothing
here calls ``pickle.load``.

All work happens in the Rust library with the GIL released; the functions
may be called from several threads at once. Errors are ``svm2onnx.Error``:
``BadInputError`` (the command line's exit code 2) and ``ValidationError``
(exit code 1), with the command line's one-line messages.
docs/PYTHON.md has the details.
"""

from __future__ import annotations

import json
import os
import pickle
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _native
from ._native import BadInputError, Error, ValidationError

__version__: str = _native.__version__

__all__ = [
    "to_onnx",
    "to_keras",
    "validate",
    "inspect",
    "Report",
    "Error",
    "BadInputError",
    "ValidationError",
]

PathLike = Union[str, "os.PathLike[str]"]
Model = Any  # a fitted estimator, a path, or bytes / bytearray / memoryview


class Report:
    """What validation found: the command line's report as an object.

    ``passed`` is True when every comparison is within the tolerance (labels:
    at least 99.9 % agree and every disagreement is a near tie); with the
    default tolerance, a float32 graph's decision values also pass where their
    error is within what float32 arithmetic explains on the row
    (docs/PRECISION.md). ``comparisons`` lists every comparison (one output,
    one batch of rows, one source of truth: ``"reference"`` or
    ``"scikit-learn"``) as a dict with ``inputs``, ``output``, ``against``,
    ``rows``, ``passed`` and, as they apply, ``max_abs_error``,
    ``max_rel_error``, ``worst_row``, ``label_agreement``, ``label_mismatches``
    and ``f32_bound`` (``max_ratio``, ``bound_at_max_ratio``, ``max_bound``,
    ``explained``, ``beyond``, ``first_beyond``).
    ``outputs`` summarises them per graph output. ``str(report)`` is the text
    the command line prints; ``to_json()`` the JSON of ``--json``.
    """

    __slots__ = ("_json", "_text", "passed", "dtype", "tolerance", "comparisons")

    def __init__(self, json_text: str, text: str) -> None:
        data = json.loads(json_text)
        self._json = json_text
        self._text = text
        self.passed: bool = bool(data["passed"])
        self.dtype: str = data["dtype"]
        self.tolerance: float = float(data["tolerance"])
        self.comparisons: List[Dict[str, Any]] = data["comparisons"]

    @property
    def outputs(self) -> Dict[str, Dict[str, Any]]:
        """Per graph output: the largest ``max_abs_error`` and ``max_rel_error``
        and the smallest ``label_agreement`` over its comparisons (None where
        they do not apply), and whether all of them ``passed``."""
        out: Dict[str, Dict[str, Any]] = {}
        for c in self.comparisons:
            o = out.setdefault(
                c["output"],
                {"max_abs_error": None, "max_rel_error": None, "label_agreement": None, "passed": True},
            )
            for key, pick in (("max_abs_error", max), ("max_rel_error", max), ("label_agreement", min)):
                if c.get(key) is not None:
                    o[key] = c[key] if o[key] is None else pick(o[key], c[key])
            o["passed"] = o["passed"] and bool(c["passed"])
        return out

    def to_json(self) -> str:
        """The report as JSON, as ``svm2onnx validate --json`` prints it."""
        return self._json

    def __str__(self) -> str:
        return self._text

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return f"<svm2onnx.Report {verdict}: {self.dtype} graph, {len(self.comparisons)} comparisons, tolerance {self.tolerance:g}>"

    def __bool__(self) -> bool:
        return self.passed


def _source(model: Model, what: str = "model") -> Tuple[Optional[str], Optional[bytes]]:
    """(path, None) or (None, bytes) for the native layer."""
    if isinstance(model, bytes):
        return None, model
    if isinstance(model, (bytearray, memoryview)):
        return None, bytes(model)  # one copy: the native layer reads bytes
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return path, None
    if what == "onnx":
        raise BadInputError(f"onnx must be a path or bytes, got {type(model).__name__}")
    # A live object: its pickle, read by the Rust loader (which never
    # executes pickle code). protocol=5 without a buffer_callback keeps every
    # array in band.
    try:
        data = pickle.dumps(model, protocol=5)
    except Exception as e:  # an object that cannot be pickled
        raise BadInputError(f"cannot serialise the {type(model).__name__} object with pickle: {e}") from e
    return None, data


def _pickled(model: Any) -> Tuple[bytes, List[Any], List[Tuple[int, int]]]:
    """A live object's protocol-5 pickle with its large arrays out of band:
    (stream, the PickleBuffers, their (address, length)). The arrays are
    not copied: the Rust loader reads them where they lie, while the
    caller keeps the PickleBuffers alive and the GIL held (it never
    executes pickle code either way)."""
    buffers: List[Any] = []
    try:
        stream = pickle.dumps(model, protocol=5, buffer_callback=buffers.append)
    except Exception as e:  # an object that cannot be pickled
        raise BadInputError(f"cannot serialise the {type(model).__name__} object with pickle: {e}") from e
    if not buffers:
        return stream, buffers, []
    import numpy as np  # the buffers come from numpy arrays (their __reduce_ex__)

    views = [b.raw() for b in buffers]  # contiguous bytes; BufferError otherwise
    buffers.extend(views)
    spans = [(np.frombuffer(v, dtype=np.uint8).ctypes.data, v.nbytes) if v.nbytes else (0, 0) for v in views]
    return stream, buffers, spans


def _dtype(dtype: Any) -> Optional[str]:
    if dtype is None or isinstance(dtype, str):
        return dtype
    # numpy.float32, numpy.dtype("float64"), ...
    name = getattr(dtype, "__name__", None) or str(dtype)
    return str(name)


def _warn(messages: Sequence[str]) -> None:
    for m in messages:
        warnings.warn(m, stacklevel=3)


def _validation_error(e: ValidationError) -> ValidationError:
    """The native layer raises ValidationError(message, json, text): give it
    one message and a Report."""
    message, json_text, text = e.args
    err = ValidationError(message)
    err.report = Report(json_text, text)  # type: ignore[attr-defined]
    return err


def _convert(
    model: Model,
    keras_path: Optional[str],
    dtype: Any,
    opset: int,
    label_index: bool,
    outputs: Optional[Sequence[str]],
    validate: bool,
    tolerance: Optional[float],
    n_features: Optional[int],
) -> bytes:
    if isinstance(outputs, str):
        outputs = outputs.split(",")
    live = not isinstance(model, (bytes, bytearray, memoryview, str, os.PathLike))
    held: List[Any] = []
    spans: Optional[List[Tuple[int, int]]] = None
    if live:
        try:
            data, held, spans = _pickled(model)
        except (BufferError, ImportError):  # not plain contiguous arrays: all in band
            path, data = _source(model)
        else:
            path = None
    else:
        path, data = _source(model)
    try:
        onnx, _report, warns = _native.convert(
            path,
            data,
            dtype=_dtype(dtype),
            opset=int(opset),
            label_index=bool(label_index),
            outputs=list(outputs) if outputs is not None else None,
            validate=bool(validate),
            tolerance=None if tolerance is None else float(tolerance),
            n_features=n_features,
            keras_path=keras_path,
            buffers=spans,
        )
    except ValidationError as e:
        raise _validation_error(e) from None
    del held  # the out-of-band arrays were needed until the call returned
    _warn(warns)
    return onnx


def to_onnx(
    model: Model,
    *,
    dtype: Any = None,
    opset: int = 17,
    label_index: bool = False,
    outputs: Optional[Sequence[str]] = None,
    validate: bool = True,
    tolerance: Optional[float] = None,
    n_features: Optional[int] = None,
) -> bytes:
    """Compile a model into the bytes of an ONNX graph of standard ops.

    ``model``: a fitted estimator, a path or bytes (see the module docstring).
    ``dtype``: ``"float32"`` (the default for models; TensorFlow, TFLite) or
    ``"float64"`` (bit-level agreement with scikit-learn); for an skl2onnx
    graph, the precision of the rewritten ops, default ``"float64"``, as on the
    command line. ``opset``: 13 to 18. ``label_index``: ``label`` as int64
    class indices. ``outputs``: keep only these (``label``, ``scores``,
    ``probabilities``, ``prediction``). ``validate``: run the graph in tract on
    the recorded samples and generated probes first and raise
    ``ValidationError`` (with ``.report``) if it disagrees with the reference;
    ``tolerance`` defaults to 1e-9 (f64) or 1e-4 (f32). ``n_features``: LIBSVM
    files only. Raises ``BadInputError`` for bad input or options.
    """
    return _convert(model, None, dtype, opset, label_index, outputs, validate, tolerance, n_features)


def to_keras(
    model: Model,
    path: PathLike,
    *,
    dtype: Any = None,
    opset: int = 17,
    label_index: bool = False,
    outputs: Optional[Sequence[str]] = None,
    validate: bool = True,
    tolerance: Optional[float] = None,
    n_features: Optional[int] = None,
) -> None:
    """Compile a model into a Keras 3 ``.keras`` file at ``path``.

    The file is translated from the same graph ``to_onnx`` gives, validated
    first (as ONNX, in tract) unless ``validate=False``, and written
    atomically: on any error nothing is left at ``path``. The name must end in
    ``.keras``. String class labels become class indices (a Keras model cannot
    hold strings; the class names are in the file's metadata.json under
    ``svm2onnx.classes``). Options as for ``to_onnx``; skl2onnx graphs are
    refused.
    """
    _convert(model, os.fsdecode(os.fspath(path)), dtype, opset, label_index, outputs, validate, tolerance, n_features)


def validate(
    onnx: Union[bytes, bytearray, memoryview, PathLike],
    reference: Model,
    X: Any = None,
    tolerance: Optional[float] = None,
    *,
    n_features: Optional[int] = None,
) -> Report:
    """Run an ONNX graph in tract and compare it with its reference model.

    ``onnx``: the graph's bytes or path (a path may use ONNX external data).
    ``reference``: the model it was compiled from (estimator, path, bytes).
    ``X``: rows to compare on (a 2-D array-like, any float dtype or memory
    order; converted with ``numpy.ascontiguousarray(X, dtype=float64)``, which
    copies nothing for a C-ordered float64 array, then read once into Rust);
    by default the samples recorded in the model file
    and generated probes. ``tolerance`` defaults to 1e-9 for f64 graphs and
    1e-4 for f32 graphs. A disagreement is a report whose ``passed`` is False,
    not an exception; a graph that does not fit the model raises
    ``BadInputError``.
    """
    onnx_path, onnx_data = _source(onnx, "onnx")
    ref_path, ref_data = _source(reference)
    x = None
    if X is not None:
        import numpy as np

        # No copy for a C-ordered float64 array; Rust copies the values once.
        arr = np.ascontiguousarray(X, dtype=np.float64)
        if arr.ndim != 2:
            raise BadInputError(f"X must be 2-D (rows, features), got shape {arr.shape}")
        x = (arr.ctypes.data if arr.size else 0, arr.shape[0], arr.shape[1])
    (json_text, text), warns = _native.validate(
        onnx_path,
        onnx_data,
        ref_path,
        ref_data,
        x=x,
        tolerance=None if tolerance is None else float(tolerance),
        n_features=n_features,
    )
    _warn(warns)
    return Report(json_text, text)


def inspect(model: Model, *, n_features: Optional[int] = None) -> Dict[str, Any]:
    """Describe a model, or an ONNX graph svm2onnx wrote.

    Returns a dict: ``fields`` (estimator, kernel, classes, support vectors,
    features, ... as strings, in report order), ``ports`` (the graph's input
    and outputs: ``direction``, ``name``, ``shape``, ``elem``, ``meaning``),
    ``warnings`` and ``text`` (what ``svm2onnx inspect`` prints).
    """
    path, data = _source(model)
    return _native.inspect(path, data, n_features=n_features)
