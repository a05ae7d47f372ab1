#!/usr/bin/env bash
# Python package tier (docs/PYTHON.md): `pip install .` into target/venv-python,
# building the extension ONCE in the dev (debug) profile so that it reuses the
# debug dependencies `cargo test --workspace` built (a release build of tract
# would take minutes; the dev-dependencies' features make tract's upper crates
# compile once more: ~50 s), then the pytest tier tests/python/ against the
# installed package. python/build_wheel.sh does the same with the release manylinux2014 wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

venv="$root/target/venv-python"
t0=$SECONDS
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade pytest numpy scikit-learn onnxruntime joblib
echo "   venv ready after $((SECONDS - t0)) s"

t_build=$SECONDS
# maturin (pinned in pyproject.toml) is the PEP 517 backend; --profile dev
# keeps the debug build. --force-reinstall: the version does not change
# between commits.
MATURIN_PEP517_ARGS="--profile dev" "$venv/bin/pip" install --quiet --disable-pip-version-check \
  --force-reinstall --no-deps "$root"
echo "   extension built and installed (dev profile) in $((SECONDS - t_build)) s"
"$venv/bin/python" -c "import svm2onnx, sklearn, onnxruntime; print('svm2onnx', svm2onnx.__version__, '| scikit-learn', sklearn.__version__, '| onnxruntime', onnxruntime.__version__)"

t_test=$SECONDS
# From the tests folder, so that `import svm2onnx` finds the installed package.
(cd "$root/tests/python" && "$venv/bin/python" -m pytest -q -p no:cacheprovider .)
echo "   pytest tier took $((SECONDS - t_test)) s"
