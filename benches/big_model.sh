#!/usr/bin/env bash
# Past protobuf's 2 GB limit: a > 2 GB SVC converts with ONNX external data,
# validates in tract and runs in onnxruntime (issue 6; a benchmark, not CI).
#
#   bash benches/big_model.sh [GB]     # default 2.2 (GB of f64 support vectors)
#
# Needs ~4x GB of free RAM and ~3x GB of disk under target/big-model.
# Prints the conversion's wall time and peak RSS (GNU time), the file sizes,
# the validation report, and onnxruntime's agreement with scikit-learn.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
gb=${1:-2.2}
work="$root/target/big-model"
mkdir -p "$work"
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3
venv="$root/target/bench-venv-big"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check scikit-learn numpy joblib onnxruntime
cargo build --release --quiet
bin="$root/target/release/svm2onnx"
[ -x /usr/bin/time ] || { echo "needs GNU time (apt-get install time)"; exit 2; }

model="$work/big.joblib"
mb=$("$venv/bin/python" -c "print(float('$gb') * 1000)")
[ -f "$model" ] || "$venv/bin/python" benches/make_big_joblib.py "$model" --mb "$mb" --features 1000
ls -l "$model"

echo "-- convert (f64 graph, external data chosen automatically), no validation"
rm -f "$work/big.onnx" "$work/big.onnx.data"
/usr/bin/time -f "convert: %e s wall, peak RSS %M KB" \
  "$bin" convert "$model" -o "$work/big.onnx" --dtype f64 --no-validate
ls -l "$work/big.onnx" "$work/big.onnx.data"

echo "-- validate (tract, f64: support vectors, midpoints and random probes)"
/usr/bin/time -f "validate: %e s wall, peak RSS %M KB" \
  "$bin" validate "$work/big.onnx" --reference "$model"

echo "-- onnxruntime vs scikit-learn"
"$venv/bin/python" - "$model" "$work/big.onnx" <<'PY'
import sys, time
import joblib, numpy as np, onnxruntime as ort
model = joblib.load(sys.argv[1])
rng = np.random.default_rng(1)
x = rng.normal(size=(64, model.n_features_in_))
want = model.decision_function(x)
t = time.perf_counter()
sess = ort.InferenceSession(sys.argv[2], providers=["CPUExecutionProvider"])
load = time.perf_counter() - t
label, scores = sess.run(["label", "scores"], {"X": x})
err = np.max(np.abs(scores - want)) / (1 + np.max(np.abs(want)))
agree = np.mean(label == model.predict(x))
print(f"onnxruntime: session {load:.1f} s; scores rel. error {err:.2e}; labels agree {agree:.0%}")
assert err < 1e-9 and agree == 1.0
PY
