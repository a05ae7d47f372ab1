#!/usr/bin/env bash
# LIBSVM interop tier: retrain the LIBSVM fixtures with the installed
# svm-train/svm-predict and the current libsvm-official wheel, then run the
# LIBSVM fixture tests (reference and tract graphs) against them.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/target/interop/libsvm"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

if ! command -v svm-train >/dev/null || ! command -v svm-predict >/dev/null; then
  echo "-- installing libsvm-tools (svm-train, svm-predict)"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq libsvm-tools
fi

echo "-- LIBSVM venv (numpy, scikit-learn, libsvm-official)"
venv="$root/target/venv-libsvm"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade numpy scikit-learn libsvm-official
"$venv/bin/python" -c "import libsvm, numpy; print('libsvm-official', __import__('importlib.metadata').metadata.version('libsvm-official'), '| numpy', numpy.__version__)"

echo "-- LIBSVM fixtures re-made into $work"
rm -rf "$work"
"$venv/bin/python" tests/fixtures/make_libsvm_fixtures.py --out "$work"
SVM2ONNX_LIBSVM_FIXTURES="$work" cargo test --quiet --test libsvm_fixtures
