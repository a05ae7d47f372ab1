#!/usr/bin/env bash
# One command for the side-by-side benchmark (see benches/peers/bench.py and BENCHMARKS.md):
#     bash benches/peers/run.sh            # full run (trains the models once, cached in target/bench/models)
#     bash benches/peers/run.sh --quick    # smoke test with small models, a minute or two
#     bash benches/peers/run.sh --big-model 2.2   # also the > 2 GB model (benches/big_model.sh; ~7 GB RAM)
# Any other option is passed to bench.py (--models rbf_bin,rbf_10c --batches 1,64,2000 --threads 1,2 ...).
# PYTHON selects the interpreter for the venv (default python3.11, else python3).
set -euo pipefail
cd "$(dirname "$0")/../.."

BIG_GB=""
ARGS=()
while [ $# -gt 0 ]; do
    if [ "$1" = "--big-model" ]; then
        BIG_GB=${2:?--big-model needs a size in GB}
        shift 2
    else
        ARGS+=("$1")
        shift
    fi
done
set -- ${ARGS[@]+"${ARGS[@]}"}

PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=target/bench-venv
REQ=benches/peers/requirements.txt
if [ ! -x "$VENV/bin/python" ] || ! cmp -s "$REQ" "$VENV/requirements.txt"; then
    echo "== making $VENV with $PY"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    "$VENV/bin/python" -m pip install --quiet -r "$REQ"
    cp "$REQ" "$VENV/requirements.txt"
fi

echo "== cargo build --release (svm2onnx CLI)"
cargo build --release --quiet
# Built with the release profile (`cargo bench` would use the bench profile and compile tract again).
echo "== cargo build --release --bench tract_infer"
TRACT_BENCH=$(cargo build --release --quiet --bench tract_infer --message-format=json \
    | "$VENV/bin/python" -c '
import json, sys
for line in sys.stdin:
    j = json.loads(line)
    if j.get("reason") == "compiler-artifact" and j["target"]["name"] == "tract_infer" and j.get("executable"):
        print(j["executable"])')
[ -x "$TRACT_BENCH" ] || { echo "tract_infer bench executable not found" >&2; exit 1; }

echo "== benchmark"
"$VENV/bin/python" benches/peers/bench.py --bin target/release/svm2onnx --tract-bench "$TRACT_BENCH" "$@"
# The roofline ratio again, our graph and the MatMul timed in turns (no drift between cells).
OUT=target/bench
prev=""
for arg in "$@"; do
    [ "$prev" = "--out" ] && OUT=$arg
    prev=$arg
done
echo "== interleaved roofline check"
"$VENV/bin/python" benches/peers/interleaved.py --bench-dir "$OUT"
if [ -n "$BIG_GB" ]; then
    echo "== past 2 GB: benches/big_model.sh $BIG_GB"
    bash benches/big_model.sh "$BIG_GB"
fi
