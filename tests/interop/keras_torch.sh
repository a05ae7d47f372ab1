#!/usr/bin/env bash
# Opt-in: svm2onnx's own .keras files on Keras 3's PyTorch backend. Not run by CI: PyTorch's
# wheel from PyPI pulls about 5.7 GB (CUDA libraries included). It runs the same check as CI's
# TensorFlow and JAX tier (tests/interop/keras_native_check.py: every scikit-learn fixture and
# LIBSVM model, f32 and f64, in a fresh process with KERAS_BACKEND=torch) and writes the rows to
# tests/interop/recorded/keras3-torch.json, which CI's compatibility table includes with its
# date. Commit that file after a run.
#
#     bash tests/interop/keras_torch.sh [--venv DIR] [--bin PATH]
#
# Defaults: the venv target/venv-torch (made here: keras 3.15.1, torch, h5py, numpy), the debug
# binary (built if missing), the light venv of .ci/interop.sh for the comparison's parent
# process (any Python with numpy works: set PARENT_PYTHON).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
venv="$root/target/venv-torch"
bin="$root/target/debug/svm2onnx"
while [ $# -gt 0 ]; do
  case $1 in
    --venv) venv=$2; shift 2 ;;
    --bin) bin=$2; shift 2 ;;
    *) echo "keras_torch.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
[ -x "$bin" ] || cargo build --quiet
if [ ! -x "$venv/bin/python" ]; then
  echo "-- making $venv (keras 3.15.1, torch: about 5.7 GB)"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check keras==3.15.1 torch h5py numpy
fi
KERAS_BACKEND=torch "$venv/bin/python" -c "import keras, torch; print('keras', keras.__version__, '| torch', torch.__version__)"
parent=${PARENT_PYTHON:-$root/target/venv-light/bin/python}
[ -x "$parent" ] || parent="$venv/bin/python"
out="$root/tests/interop/recorded/keras3-torch.json"
mkdir -p "$(dirname "$out")"
rm -f "$out"
fixtures="$root/tests/fixtures"
status=0
"$parent" tests/interop/keras_native_check.py --bin "$bin" --fixtures "$fixtures" \
  --libsvm "$fixtures/libsvm" --workdir "$root/target/interop/keras_torch" \
  --python torch="$venv/bin/python" --results "$out" || status=1
echo "wrote $out (run of $(date -u +%Y-%m-%d)); status $status"
exit $status
