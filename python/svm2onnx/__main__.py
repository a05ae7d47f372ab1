"""The ``svm2onnx`` command line, from the wheel: ``svm2onnx ...`` (the
console script) or ``python -m svm2onnx ...``. It is the Rust binary's own
code (src/cli/), compiled into the extension: same flags, messages and exit
codes (0 success, 1 validation mismatch, 2 bad input)."""

from __future__ import annotations

import signal
import sys
from typing import List, Optional

from . import _native


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``) and return
    its exit code (the console script exits with it)."""
    args = sys.argv[1:] if argv is None else list(argv)
    # Ctrl-C stops the command as it stops the binary (the conversion runs in
    # Rust, where Python's KeyboardInterrupt cannot reach it).
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.stdout.flush()
    sys.stderr.flush()
    return _native.main(["svm2onnx", *args])


if __name__ == "__main__":
    sys.exit(main())
