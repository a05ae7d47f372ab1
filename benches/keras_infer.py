#!/usr/bin/env python3
"""A `.keras` file from svm2onnx on Keras 3's TensorFlow backend against the same model's `.onnx`
in onnxruntime, timed in turns in one process.

    KERAS_BACKEND=tensorflow python benches/keras_infer.py --model MODEL.joblib --x ROWS.npy \
        --graphs DIR [--dtypes f32,f64] [--batch 2000] [--rounds 10] [--warmup 2] \
        [--ort-threads 1,2] [--tf-threads 0] [--load-reps 3] [--json OUT.json]

DIR holds m.f32.keras, m.f32.onnx, m.f64.keras, m.f64.onnx (benches/keras_bench.sh writes them
with `svm2onnx convert MODEL -o DIR/m.DTYPE.{keras,onnx} --dtype DTYPE --no-validate`).

For each dtype, on the first BATCH rows of ROWS.npy cast to the graph's dtype:
  load       `keras.saving.load_model(path)` (default safe mode, no custom objects), LOAD_REPS
             times, wall clock; beside it onnxruntime's InferenceSession creation. The first
             Keras load of the process also pays TensorFlow's lazy initialisation: it is
             reported apart and left out of the median.
  runtimes   keras-eager  `model(x)` (x a tf.constant made once; `model.predict` would cast
                          to keras.config.floatx(), float32);
             keras-tf.function  `tf.function(model, jit_compile=False)` with a fixed input
                          signature [None, d] (traced during the warm-up), what a TF serving
                          path runs;
             ort-tN       onnxruntime, intra_op_num_threads N, inter_op 1, sequential.
             Every call ends with its outputs as NumPy arrays. TensorFlow's thread pools are
             its defaults (one intra-op thread per core) unless --tf-threads N sets both pools
             to N (they can only be set once per process).
  timing     WARMUP rounds, then ROUNDS rounds of every runtime in turn (A B C D, A B C D, ...);
             per runtime min / median / max; per Keras runtime the ratio to each onnxruntime
             configuration taken round by round (same round = same machine state), median and
             range; and per runtime the process's CPU seconds per wall second over its calls
             (about the number of threads it kept busy).
  agreement  max |a-b| / (1 + max|b|) of `scores` (the project's score error) between Keras and
             onnxruntime, and of each against scikit-learn's decision_function (float64) on
             the same rows; labels: count of rows that differ.
Prints a table; --json also writes every figure. A benchmark report: exit code 0 whatever the
numbers (1 if a file fails to load or run).
"""
import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

# The onnxruntime session the peers' interleaved benchmark uses (1 inter-op thread, sequential).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers"))
from interleaved import session as ort_session  # noqa: E402

NP = {"f32": np.float32, "f64": np.float64}


def score_error(a, b):
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    return float(np.max(np.abs(a - b)) / (1 + np.max(np.abs(b))))


def stats(ts):
    return dict(min=min(ts), median=statistics.median(ts), max=max(ts), n=len(ts))


def ms(s):
    return f"{s * 1e3:8.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the scikit-learn joblib the graphs were made from")
    ap.add_argument("--x", required=True, help=".npy of float64 rows (the first --batch are used)")
    ap.add_argument("--graphs", required=True)
    ap.add_argument("--dtypes", default="f32,f64")
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--ort-threads", default="1,2")
    ap.add_argument("--tf-threads", type=int, default=0, help="0: TensorFlow's defaults")
    ap.add_argument("--load-reps", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()

    t0 = time.perf_counter()
    import tensorflow as tf

    if a.tf_threads:
        tf.config.threading.set_intra_op_parallelism_threads(a.tf_threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.tf_threads)
    import keras
    import onnxruntime as ort
    import joblib
    import sklearn

    import_s = time.perf_counter() - t0
    assert keras.backend.backend() == "tensorflow", keras.backend.backend()

    X64 = np.load(a.x)[: a.batch]
    if len(X64) < a.batch:
        sys.exit(f"{a.x} has {len(X64)} rows, fewer than --batch {a.batch}")
    ref = joblib.load(a.model).decision_function(X64)
    ref_labels = None
    ort_threads = [int(t) for t in a.ort_threads.split(",") if t]
    report = {
        "versions": {"tensorflow": tf.__version__, "keras": keras.__version__, "onnxruntime": ort.__version__,
                     "numpy": np.__version__, "scikit-learn": sklearn.__version__, "python": sys.version.split()[0]},
        "tf_threads": a.tf_threads or "default (one intra-op thread per core)",
        "cpus": os.cpu_count(), "batch": a.batch, "rounds": a.rounds, "warmup": a.warmup,
        "import_s": import_s, "dtypes": {},
    }
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__} (backend {keras.backend.backend()}), "
          f"onnxruntime {ort.__version__}; TF threads: {report['tf_threads']}; {os.cpu_count()} CPUs; "
          f"imports {import_s:.1f} s", flush=True)

    first_load_done = False
    for dt in [d for d in a.dtypes.split(",") if d]:
        kpath = os.path.join(a.graphs, f"m.{dt}.keras")
        opath = os.path.join(a.graphs, f"m.{dt}.onnx")
        x = np.ascontiguousarray(X64, dtype=NP[dt])
        r = {"keras_bytes": os.path.getsize(kpath), "onnx_bytes": os.path.getsize(opath)}

        # ---- load
        loads, model = [], None
        first_load = None
        for i in range(a.load_reps + (0 if first_load_done else 1)):
            t = time.perf_counter()
            model = keras.saving.load_model(kpath)
            el = time.perf_counter() - t
            if not first_load_done:
                first_load, first_load_done = el, True
            else:
                loads.append(el)
        ort_loads, sessions = [], {}
        for th in ort_threads:
            t = time.perf_counter()
            sessions[th] = ort_session(opath, th)
            ort_loads.append(time.perf_counter() - t)
        r["keras_load"] = stats(loads) if loads else None
        r["keras_first_load_s"] = first_load
        r["ort_session_s"] = stats(ort_loads)

        # ---- runtimes
        d = x.shape[1]
        xt = tf.constant(x)
        tf_dtype = tf.float32 if dt == "f32" else tf.float64
        fn = tf.function(model, jit_compile=False, input_signature=[tf.TensorSpec([None, d], tf_dtype)])

        def keras_eager():
            return {k: v.numpy() for k, v in model(xt).items()}

        def keras_fn():
            return {k: v.numpy() for k, v in fn(xt).items()}

        runners = {"keras-eager": keras_eager, "keras-tf.function": keras_fn}
        for th, sess in sessions.items():
            feed = {sess.get_inputs()[0].name: x}
            names = [o.name for o in sess.get_outputs()]
            runners[f"ort-t{th}"] = (lambda s=sess, f=feed, n=names: dict(zip(n, s.run(None, f))))

        # ---- agreement (first call of each = the first warm-up round)
        outs = {}
        t = time.perf_counter()
        outs["keras-eager"] = keras_eager()
        r["keras_eager_first_call_s"] = time.perf_counter() - t
        t = time.perf_counter()
        outs["keras-tf.function"] = keras_fn()
        r["keras_fn_first_call_s"] = time.perf_counter() - t  # includes tracing
        for name in runners:
            if name.startswith("ort"):
                outs[name] = runners[name]()
        o_ort = outs[f"ort-t{ort_threads[0]}"]
        out_dtypes = {k: str(v.dtype) for k, v in outs["keras-eager"].items()}
        agree = {"keras_output_dtypes": out_dtypes}
        for name in ("keras-eager", "keras-tf.function"):
            o = outs[name]
            agree[f"{name} vs ort scores"] = score_error(o["scores"], o_ort["scores"])
            agree[f"{name} vs sklearn scores"] = score_error(o["scores"], ref)
            agree[f"{name} vs ort label rows differing"] = int(
                np.sum(np.asarray(o["label"]).reshape(-1) != np.asarray(o_ort["label"]).reshape(-1)))
        agree["ort vs sklearn scores"] = score_error(o_ort["scores"], ref)
        skl_label_idx = (np.asarray(ref) > 0).astype(np.int64)  # binary: classes_[1] when decision > 0
        ort_lab = np.asarray(o_ort["label"]).reshape(-1)
        agree["ort label values"] = sorted(set(ort_lab.tolist()))[:4]
        model_classes = joblib.load(a.model).classes_
        skl_labels = model_classes[skl_label_idx]
        agree["ort vs sklearn label rows differing (as class)"] = int(np.sum(ort_lab != skl_labels))
        agree["ort vs sklearn label rows differing (as index)"] = int(np.sum(ort_lab != skl_label_idx))
        agree["rows with |decision| < 1e-4"] = int(np.sum(np.abs(ref) < 1e-4))
        r["agreement"] = agree

        # ---- timing, interleaved
        for _ in range(max(0, a.warmup - 1)):
            for f in runners.values():
                f()
        times = {k: [] for k in runners}
        cpu = {k: [] for k in runners}
        for _ in range(a.rounds):
            for k, f in runners.items():
                c, t = time.process_time(), time.perf_counter()
                f()
                times[k].append(time.perf_counter() - t)
                cpu[k].append(time.process_time() - c)
        r["times"] = {k: stats(v) for k, v in times.items()}
        # CPU seconds of the whole process (all threads) per second of wall: the threads really used
        r["cpu_per_wall"] = {k: sum(cpu[k]) / sum(times[k]) for k in runners}
        r["ratios"] = {}
        for k in ("keras-eager", "keras-tf.function"):
            for th in ort_threads:
                pr = [kt / ot for kt, ot in zip(times[k], times[f"ort-t{th}"])]
                r["ratios"][f"{k} / ort-t{th}"] = stats(pr)
        r["raw_times"] = times
        report["dtypes"][dt] = r

        # ---- print
        print(f"\n{dt}: batch {a.batch}, {a.rounds} interleaved rounds after {a.warmup} warm-up; "
              f".keras {r['keras_bytes'] / 1e6:.1f} MB, .onnx {r['onnx_bytes'] / 1e6:.1f} MB")
        ld = r["keras_load"]
        print(f"  load_model: median {ms(ld['median'])} ms (min {ms(ld['min'])}, max {ms(ld['max'])}, "
              f"{ld['n']} loads)" if ld else "  load_model: -", end="")
        print(f"; first load of the process (TF initialisation included) {ms(first_load)} ms"
              if first_load is not None else "")
        print(f"  onnxruntime session: median {ms(r['ort_session_s']['median'])} ms")
        print(f"  first call: eager {ms(r['keras_eager_first_call_s'])} ms, tf.function (with tracing) "
              f"{ms(r['keras_fn_first_call_s'])} ms")
        print(f"  {'runtime':20s} {'min ms':>8s} {'median':>8s} {'max':>8s}  cpu/wall")
        for k, s in r["times"].items():
            print(f"  {k:20s} {ms(s['min'])} {ms(s['median'])} {ms(s['max'])}  {r['cpu_per_wall'][k]:8.2f}")
        for k, s in r["ratios"].items():
            print(f"  ratio {k:28s} median {s['median']:.2f} (range {s['min']:.2f}-{s['max']:.2f})")
        for k, v in agree.items():
            print(f"  {k}: {v:.1e}" if isinstance(v, float) else f"  {k}: {v}")
        sys.stdout.flush()
        del model, fn, sessions, runners

    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
        print(f"\nwrote {a.json}")


if __name__ == "__main__":
    main()
