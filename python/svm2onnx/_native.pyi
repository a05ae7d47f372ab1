# Type stub of the compiled extension (python/src/lib.rs). The public API is
# in __init__.py; these are its building blocks.
from typing import Any, Dict, List, Optional, Tuple

__version__: str

class Error(Exception):
    """Any error raised by svm2onnx."""

class BadInputError(Error):
    """Bad input (the CLI's exit code 2)."""

class ValidationError(Error):
    """The graph disagrees with the model (the CLI's exit code 1)."""

_ReportParts = Tuple[str, str]  # (JSON, text)

def convert(
    path: Optional[str],
    data: Optional[bytes],
    *,
    dtype: Optional[str],
    opset: int,
    label_index: bool,
    outputs: Optional[List[str]],
    validate: bool,
    tolerance: Optional[float],
    n_features: Optional[int],
    keras_path: Optional[str],
    buffers: Optional[List[Tuple[int, int]]] = None,
) -> Tuple[bytes, Optional[_ReportParts], List[str]]: ...
def validate(
    onnx_path: Optional[str],
    onnx_data: Optional[bytes],
    ref_path: Optional[str],
    ref_data: Optional[bytes],
    *,
    x: Optional[Tuple[int, int, int]],
    tolerance: Optional[float],
    n_features: Optional[int],
) -> Tuple[_ReportParts, List[str]]: ...
def inspect(path: Optional[str], data: Optional[bytes], *, n_features: Optional[int]) -> Dict[str, Any]: ...
def main(argv: List[str]) -> int: ...
