#!/usr/bin/env bash
# Interop tier: everything Python lives in venvs under target/, made here.
#  a) re-make the fixtures with the current scikit-learn and rerun the fixture
#     tests on them (tract);
#  b) every fixture converted (f64, f32, one opset 13) → onnx.checker and
#     onnxruntime vs scikit-learn, plus `svm2onnx validate` (tract);
#  c) models through onnx2tf to Keras (.keras, SavedModel) and float32 TFLite,
#     compared with scikit-learn (tests/interop/keras_check.py).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/target/interop"
rm -rf "$work"
mkdir -p "$work"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

bin="$root/target/debug/svm2onnx"
[ -x "$bin" ] || cargo build --quiet

echo "-- light venv (current scikit-learn, onnx, onnxruntime)"
light="$root/target/venv-light"
[ -x "$light/bin/python" ] || "$python" -m venv "$light"
"$light/bin/pip" install --quiet --disable-pip-version-check --upgrade scikit-learn numpy onnx onnxruntime lz4
"$light/bin/python" -c "import sklearn, onnx, onnxruntime; print('scikit-learn', sklearn.__version__, '| onnx', onnx.__version__, '| onnxruntime', onnxruntime.__version__)"

echo "-- a) fixtures re-made with the current scikit-learn"
"$light/bin/python" tests/fixtures/make_fixtures.py --out "$work/fixtures" --examples "$work/examples"
SVM2ONNX_FIXTURES="$work/fixtures" cargo test --quiet --test sklearn_fixtures --test graph_structure --test pickle_fixtures

echo "-- b) onnx.checker + onnxruntime + tract on every fixture"
"$light/bin/python" tests/interop/check_onnx.py --bin "$bin" --fixtures "$work/fixtures" --workdir "$work/onnx" --tract

echo "-- c) onnx2tf → Keras / SavedModel / TFLite"
tf="$root/target/venv-tf"
[ -x "$tf/bin/python" ] || "$python" -m venv "$tf"
# --no-deps: the file is a complete pinned closure (see its header).
"$tf/bin/pip" install --quiet --disable-pip-version-check --no-deps -r tests/interop/requirements-tf.txt
export PATH="$tf/bin:$PATH"
status=0
for name in svc_rbf_iris_k3_ovr_str svc_rbf_unscaled_k3 svc_sigmoid_clf_k2 svc_poly3_cancer_k2_str svc_linear_wine_k3_ovo_int3711 pipe_minmax_clip_svc_rbf_k3 pipe_normalizer_max_svc_rbf svc_rbf_wine_k3_ovr_proba svr_rbf_diabetes oneclass_rbf linearsvc_ovr_k4_str linearsvr nusvr_poly2 nusvc_rbf_wine_k3_ovr cal_isotonic_nusvc_k5 cal_temperature_linearsvc_k2_noens; do
  fixture="$work/fixtures/$name.json"
  onnx="$work/keras/$name.onnx"
  mkdir -p "$work/keras"
  # String labels cannot enter TensorFlow's Keras path: emit class indices.
  "$bin" convert "$fixture" -o "$onnx" --label-index 2>/dev/null
  echo "   $name"
  "$tf/bin/python" tests/interop/keras_check.py "$onnx" --fixture "$fixture" --workdir "$work/keras/$name" || status=1
done
exit $status
