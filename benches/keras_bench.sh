#!/usr/bin/env bash
# Keras 3 (.keras) against ONNX on rbf_bin (8,502 SVs x 300 features), one command:
#     bash benches/keras_bench.sh [--runs N] [--rounds N] [--ort-threads 1,2] [--tf-threads 0]
# 1. the model: benches/peers/bench.py's own build_models (cached in target/bench/models/,
#    trained once, ~35 s; its 2,000 bench rows are saved beside it as .X.npy);
# 2. conversion: `svm2onnx convert MODEL -o m.DTYPE.keras --no-validate` against the same to
#    m.DTYPE.onnx, whole processes in turns (A B A B ...) after one warm-up pair, f32 and f64;
#    wall clock around each process, its CPU time and peak RSS from os.wait4, ratio pair by pair;
# 3. inference: benches/keras_infer.py (load_model, model(x) eager and tf.function against
#    onnxruntime 1 and 2 threads, interleaved, batch 2,000, agreement with scikit-learn).
# PYTHON: an interpreter with tensorflow (Keras 3), onnxruntime, scikit-learn and joblib
# (default target/venv-tf/bin/python, the interop tier's TensorFlow venv). BIN: the CLI
# (default target/release/svm2onnx, built here if missing, not rebuilt if stale). OUT: default
# target/bench/keras.
# Takes about 40-60 s on 2 shared cores once the model and the release CLI exist (+ ~35 s to
# train the model the first time, + ~9 minutes for a cold `cargo build --release`).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=10
INFER_ARGS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=${2:?}; shift 2 ;;
        *) INFER_ARGS+=("$1"); shift ;;
    esac
done

PY=${PYTHON:-target/venv-tf/bin/python}
BIN=${BIN:-target/release/svm2onnx}
OUT=${OUT:-target/bench/keras}
MODELS=target/bench/models
mkdir -p "$OUT" "$MODELS"
[ -x "$PY" ] || { echo "no Python at $PY (set PYTHON=... to one with tensorflow, onnxruntime, scikit-learn)" >&2; exit 2; }
if [ ! -x "$BIN" ]; then
    echo "== cargo build --release"
    cargo build --release --quiet
fi
export KERAS_BACKEND=tensorflow TF_CPP_MIN_LOG_LEVEL=2

echo "== $(nproc) CPUs, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== model (benches/peers/bench.py build_models, cached)"
MODEL_INFO=$("$PY" -c '
import sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, "benches/peers")
import bench
m = bench.build_models(["rbf_bin"], False, sys.argv[1], 2000)["rbf_bin"]
print(m["path"], m["xpath"], m["meta"]["support_vectors"], m["meta"]["features"])' "$MODELS")
read -r MODEL XNPY NSV NFEAT <<<"$MODEL_INFO"
echo "   $MODEL: $NSV SVs x $NFEAT features ($(du -h "$MODEL" | cut -f1))"

echo "== conversion, whole processes in turns, $RUNS pairs after 1 warm-up pair"
"$PY" - "$BIN" "$MODEL" "$OUT" "$RUNS" <<'EOF' | tee "$OUT/conversion.txt"
import os, statistics, sys, time
binp, model, out, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
log = os.path.join(out, "convert.log")  # what the runs print
open(log, "w").close()

def run(cmd):
    t = time.perf_counter()
    pid = os.posix_spawn(cmd[0], cmd, os.environ,
                         file_actions=[(os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644),
                                       (os.POSIX_SPAWN_DUP2, 1, 2)])
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(cmd)} failed; see {log}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss * 1024

print(f"svm2onnx convert {model} -o {out}/m.DTYPE.{{keras,onnx}} --dtype DTYPE --no-validate")
for dt in ("f32", "f64"):
    cmds = {fmt: [binp, "convert", model, "-o", f"{out}/m.{dt}.{fmt}", "--dtype", dt, "--no-validate"]
            for fmt in ("keras", "onnx")}
    res = {fmt: [] for fmt in cmds}
    for i in range(runs + 1):
        for fmt, cmd in cmds.items():
            r = run(cmd)
            if i:
                res[fmt].append(r)
    sizes = {fmt: os.path.getsize(f"{out}/m.{dt}.{fmt}") for fmt in cmds}
    print(f"{dt}:")
    for fmt, rs in res.items():
        w = [r[0] for r in rs]
        print(f"  {fmt:5s} wall min {min(w) * 1e3:7.1f} median {statistics.median(w) * 1e3:7.1f} "
              f"max {max(w) * 1e3:7.1f} ms; cpu median {statistics.median(r[1] for r in rs) * 1e3:7.1f} ms; "
              f"peak RSS {max(r[2] for r in rs) / 1e6:.0f} MB; file {sizes[fmt] / 1e6:.2f} MB")
    pr = [k[0] / o[0] for k, o in zip(res["keras"], res["onnx"])]
    print(f"  keras/onnx wall, pair by pair: median {statistics.median(pr):.2f} "
          f"(range {min(pr):.2f}-{max(pr):.2f}, {len(pr)} pairs)")
EOF

echo "== inference (benches/keras_infer.py)"
"$PY" benches/keras_infer.py --model "$MODEL" --x "$XNPY" --graphs "$OUT" --json "$OUT/infer.json" \
    ${INFER_ARGS[@]+"${INFER_ARGS[@]}"} | tee "$OUT/infer.txt"
echo "== load average at end: $(cut -d' ' -f1-3 /proc/loadavg); $SECONDS s in all"
echo "== wrote $OUT/conversion.txt, $OUT/infer.txt, $OUT/infer.json"
