#!/usr/bin/env bash
# Interop tier for ONNX graphs with ai.onnx.ml ops (docs/ONNX_ML.md):
#  a) re-make the skl2onnx fixtures with the current scikit-learn, skl2onnx
#     and onnxruntime (opsets/: each model from to_onnx(model, X) and at
#     target_opset 9, 13, 17, 21, with and without ZipMap), and rerun the Rust
#     fixture test on them (tract vs the onnxruntime outputs of the ORIGINAL
#     graphs; five opset-9 graphs also re-declared at opsets 10-20);
#  b) run every rewritten graph (f64 and f32 arithmetic) through onnx.checker
#     and onnxruntime and compare it with onnxruntime on the original, the
#     same opset sweep included; print the max error per model.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/target/interop/onnxml"
rm -rf "$work"
mkdir -p "$work"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

bin="$root/target/debug/svm2onnx"
[ -x "$bin" ] || cargo build --quiet

echo "-- venv (current scikit-learn, skl2onnx, onnx, onnxruntime)"
venv="$root/target/venv-onnxml"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade scikit-learn numpy onnx onnxruntime skl2onnx
"$venv/bin/python" -c "import sklearn, skl2onnx, onnx, onnxruntime; print('scikit-learn', sklearn.__version__, '| skl2onnx', skl2onnx.__version__, '| onnx', onnx.__version__, '| onnxruntime', onnxruntime.__version__)"

echo "-- a) fixtures re-made, tract against onnxruntime"
"$venv/bin/python" tests/fixtures/make_onnxml_fixtures.py --out "$work/fixtures"
SVM2ONNX_ONNXML_FIXTURES="$work/fixtures" cargo test --quiet --test onnxml_fixtures

echo "-- b) rewritten graphs in onnxruntime against the originals"
"$venv/bin/python" tests/interop/check_onnxml.py --bin "$bin" --fixtures "$work/fixtures" --workdir "$work/rewritten"
