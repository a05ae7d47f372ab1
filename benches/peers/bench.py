#!/usr/bin/env python3
"""svm2onnx against its peers, side by side: inference and conversion.

    bash benches/peers/run.sh [--quick] [--models rbf_bin,rbf_10c,...] [--skip-conversion] ...

(run.sh builds the release CLI and the tract bench, makes target/bench-venv, then runs this file.)

Models (trained once with scikit-learn, cached as joblib under OUT/models/):
  rbf_bin   binary RBF SVC, ~8k support vectors x 300 features
  rbf_10c   10-class RBF SVC on 784 features (synthetic MNIST-like digits), ~5k+ support vectors
  linear    binary linear-kernel SVC, 300 features
  poly      3-class poly (degree 3) SVC, 100 features
  sigmoid   binary sigmoid SVC, 100 features
  pipeline  Pipeline(StandardScaler, SVC rbf), 4 classes, 50 unscaled features
  proba     3-class RBF SVC with probability=True, 100 features
Runtimes, at batch 1, 64 and 2,000, intra-op threads 1 and 2:
  sklearn       decision_function (predict_proba for proba), float64 (libsvm computes in double);
                threads set with threadpoolctl (libsvm itself is single-threaded)
  skl2onnx-ort  skl2onnx's graph (SVMClassifier, zipmap off) in onnxruntime, float and double input
  ours-ort      `svm2onnx convert MODEL --dtype f32|f64` in onnxruntime (all outputs computed)
  ours-tract    the same graphs in tract (benches/tract_infer.rs; tract is single-threaded here)
  matmul-ort    one MatMul [N x d]·[d x S] in onnxruntime: the roofline of a kernel SVM
Timings: warm-up runs first, then repeats until --min-time seconds and --min-reps runs; the table
uses the minimum (least disturbed by other load), the JSON also keeps the median.
Conversion: `svm2onnx convert MODEL -o OUT` (with and without tract validation) against a Python
process loading the joblib and converting + saving with skl2onnx; wall time and peak RSS of each
child process (os.wait4).
Also: onnxruntime's profile of our RBF graphs at batch 2,000 (time per op type and per node), and a
sanity check of every graph's scores against scikit-learn.
Writes OUT/results.json and OUT/results.md; prints PASS/FAIL for the issue's targets (a report,
not a test: the exit code is 0 whatever the verdicts).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")

MODEL_VERSION = "v1"  # bump when a model recipe changes (invalidates the joblib cache)
ALL_MODELS = ["rbf_bin", "rbf_10c", "linear", "poly", "sigmoid", "pipeline", "proba"]
RBF_MODELS = ["rbf_bin", "rbf_10c"]


# ----------------------------------------------------------------------------- models

def digits_like(n, rng, protos=None):
    """Synthetic 28x28 'digits': 10 smooth stroke prototypes, shifted, with pixel noise, in [0, 1]."""
    yy, xx = np.mgrid[0:28, 0:28]
    if protos is None:
        prng = np.random.default_rng(1234)
        protos = np.zeros((10, 28, 28))
        for c in range(10):
            for _ in range(6):
                cy, cx = prng.uniform(6, 22, size=2)
                s = prng.uniform(1.5, 3.5)
                protos[c] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * s * s))
            protos[c] /= protos[c].max()
    y = rng.integers(0, 10, size=n)
    X = np.empty((n, 784))
    for i in range(n):
        img = np.roll(protos[y[i]], tuple(rng.integers(-3, 4, size=2)), axis=(0, 1))
        img = img * rng.uniform(0.6, 1.0) + rng.normal(0, 0.35, size=(28, 28))
        X[i] = np.clip(img, 0, 1).ravel()
    return X, y


def blobs(n, d, k, rng, spread, centers_seed=99):
    crng = np.random.default_rng(centers_seed)
    centers = crng.normal(size=(k, d))
    y = rng.integers(0, k, size=n)
    return centers[y] + spread * rng.normal(size=(n, d)), y


def make_model(name, quick, rng):
    """Returns (estimator, X_train, y_train, X_bench_generator)."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if name == "rbf_bin":
        d, n = 300, (600 if quick else 9500)
        w = np.random.default_rng(7).normal(size=d) / np.sqrt(d)

        def gen(m, r):
            X = r.normal(size=(m, d))
            return X, (X @ w + 1.5 * r.normal(size=m) > 0).astype(int)

        return SVC(kernel="rbf", C=1.0, cache_size=1000), gen, n
    if name == "rbf_10c":
        n = 600 if quick else 6000
        return SVC(kernel="rbf", C=1.0, cache_size=1000), (lambda m, r: digits_like(m, r)), n
    if name == "linear":
        d, n = 300, (400 if quick else 3000)
        return SVC(kernel="linear", C=0.01), (lambda m, r: blobs(m, d, 2, r, 6.0)), n
    if name == "poly":
        d, n = 100, (400 if quick else 3000)
        return (SVC(kernel="poly", degree=3, C=1.0, coef0=1.0),
                (lambda m, r: blobs(m, d, 3, r, 3.0)), n)
    if name == "sigmoid":
        d, n = 100, (400 if quick else 3000)
        return (SVC(kernel="sigmoid", gamma=0.001, coef0=0.0, C=1.0),
                (lambda m, r: blobs(m, d, 2, r, 3.0)), n)
    if name == "pipeline":
        d, n = 50, (400 if quick else 3000)

        def gen(m, r):
            X, y = blobs(m, d, 4, r, 3.0)
            return X * 1e3 + 5e3, y

        return make_pipeline(StandardScaler(), SVC(kernel="rbf", C=1.0)), gen, n
    if name == "proba":
        d, n = 100, (300 if quick else 2000)
        return (SVC(kernel="rbf", C=1.0, probability=True, random_state=0),
                (lambda m, r: blobs(m, d, 3, r, 3.0)), n)
    raise ValueError(name)


def svc_of(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def build_models(names, quick, model_dir, bench_rows):
    import joblib

    os.makedirs(model_dir, exist_ok=True)
    out = {}
    for name in names:
        tag = f"{name}-{'quick' if quick else 'full'}-{MODEL_VERSION}"
        path = os.path.join(model_dir, tag + ".joblib")
        xpath = os.path.join(model_dir, tag + ".X.npy")
        mpath = os.path.join(model_dir, tag + ".meta.json")
        if not (os.path.exists(path) and os.path.exists(xpath) and os.path.exists(mpath)):
            est, gen, n = make_model(name, quick, None)
            Xtr, ytr = gen(n, np.random.default_rng(2026))
            t0 = time.perf_counter()
            est.fit(Xtr, ytr)
            fit_s = time.perf_counter() - t0
            Xb, _ = gen(bench_rows, np.random.default_rng(4242))
            svc = svc_of(est)
            meta = {
                "name": name, "fit_seconds": fit_s, "train_rows": n,
                "kernel": svc.kernel, "classes": len(svc.classes_),
                "support_vectors": int(svc.support_vectors_.shape[0]),
                "features": int(svc.support_vectors_.shape[1]),
                # sklearn 1.9's `probability` parameter may hold a deprecation sentinel: read the fit
                "probability": len(getattr(svc, "probA_", [])) > 0,
                "pipeline": hasattr(est, "steps"),
            }
            joblib.dump(est, path)
            np.save(xpath, np.ascontiguousarray(Xb, dtype=np.float64))
            with open(mpath, "w") as f:
                json.dump(meta, f)
            print(f"  trained {tag}: {meta['support_vectors']} SVs x {meta['features']} features, "
                  f"{meta['classes']} classes, fit {fit_s:.1f} s", flush=True)
        with open(mpath) as f:
            meta = json.load(f)
        meta["probability"] = len(getattr(svc_of(joblib.load(path)), "probA_", [])) > 0
        meta["joblib_bytes"] = os.path.getsize(path)
        out[name] = dict(meta=meta, path=path, xpath=xpath, tag=tag)
    return out


# ----------------------------------------------------------------------------- graphs

def run(cmd, timeout=3600):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-2000:]}\n{p.stdout[-2000:]}")
    return p.stdout


def ours_graph(binp, m, dtype, graph_dir):
    out = os.path.join(graph_dir, f"{m['tag']}.ours.{dtype}.onnx")
    if not os.path.exists(out) or os.path.getmtime(out) < max(os.path.getmtime(m["path"]), os.path.getmtime(binp)):
        run([binp, "convert", m["path"], "-o", out, "--dtype", dtype, "--no-validate"])
    return out


def skl2onnx_graph(model, m, dtype, graph_dir):
    from skl2onnx import to_onnx
    from sklearn.svm import SVC

    out = os.path.join(graph_dir, f"{m['tag']}.skl2onnx.{dtype}.onnx")
    if not os.path.exists(out) or os.path.getmtime(out) < os.path.getmtime(m["path"]):
        npdt = np.float32 if dtype == "f32" else np.float64
        X1 = np.zeros((1, m["meta"]["features"]), dtype=npdt)
        onx = to_onnx(model, X1, options={SVC: {"zipmap": False}})
        with open(out, "wb") as f:
            f.write(onx.SerializeToString())
    return out


def matmul_graph(m, dtype, graph_dir):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    d, s = m["meta"]["features"], m["meta"]["support_vectors"]
    out = os.path.join(graph_dir, f"matmul-{d}x{s}.{dtype}.onnx")
    if not os.path.exists(out):
        npdt, et = (np.float32, TensorProto.FLOAT) if dtype == "f32" else (np.float64, TensorProto.DOUBLE)
        W = np.random.default_rng(0).normal(size=(d, s)).astype(npdt)
        g = helper.make_graph(
            [helper.make_node("MatMul", ["X", "W"], ["Y"])], "roofline",
            [helper.make_tensor_value_info("X", et, ["N", d])],
            [helper.make_tensor_value_info("Y", et, ["N", s])],
            [numpy_helper.from_array(W, "W")])
        model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
        model.ir_version = 8
        onnx.save(model, out)
    return out


# ----------------------------------------------------------------------------- timing

class Timer:
    def __init__(self, min_time, min_reps, warmup, max_reps=10000):
        self.min_time, self.min_reps, self.warmup, self.max_reps = min_time, min_reps, warmup, max_reps

    def __call__(self, fn):
        t0 = time.perf_counter()
        fn()
        first = time.perf_counter() - t0
        # slow configurations: the first run is the warm-up, then three runs (two past 2 s a run)
        warmup = self.warmup - 1 if first < 0.5 else 0
        min_reps = self.min_reps if first < 0.5 else min(self.min_reps, 3 if first < 2 else 2)
        for _ in range(warmup):
            fn()
        times = []
        while len(times) < self.max_reps and (len(times) < min_reps or sum(times) < self.min_time):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        return dict(min=min(times), median=statistics.median(times), reps=len(times))


def ort_session(path, threads, profile_prefix=None):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    if profile_prefix:
        so.enable_profiling = True
        so.profile_file_prefix = profile_prefix
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def ort_feed(sess, X):
    inp = sess.get_inputs()[0]
    dt = np.float64 if inp.type == "tensor(double)" else np.float32
    return {inp.name: np.ascontiguousarray(X, dtype=dt)}


# ----------------------------------------------------------------------------- profiling

def ort_profile(path, X, threads, runs, prefix):
    sess = ort_session(path, threads, profile_prefix=prefix)
    feed = ort_feed(sess, X)
    for _ in range(runs + 1):
        sess.run(None, feed)
    prof_file = sess.end_profiling()
    with open(prof_file) as f:
        events = json.load(f)
    os.remove(prof_file)
    per_op, per_node, total_run = {}, {}, []
    for e in events:
        if e.get("cat") == "Session" and e.get("name") == "model_run":
            total_run.append(e["dur"])
        if e.get("cat") != "Node" or not e.get("name", "").endswith("_kernel_time"):
            continue
        op = e.get("args", {}).get("op_name", "?")
        node = e["name"][: -len("_kernel_time")]
        shape = e.get("args", {}).get("output_type_shape")
        per_op[op] = per_op.get(op, 0) + e["dur"]
        k = (node, op)
        if k not in per_node:
            per_node[k] = [0, shape]
        per_node[k][0] += e["dur"]
    n = runs + 1
    tot = sum(per_op.values()) or 1
    return {
        "runs_profiled": n,
        "model_run_us_median": statistics.median(total_run) if total_run else None,
        "per_op_us": {k: v / n for k, v in sorted(per_op.items(), key=lambda kv: -kv[1])},
        "per_op_share": {k: v / tot for k, v in sorted(per_op.items(), key=lambda kv: -kv[1])},
        "top_nodes": [
            {"node": k[0], "op": k[1], "us": v[0] / n, "share": v[0] / tot, "output": v[1]}
            for k, v in sorted(per_node.items(), key=lambda kv: -kv[1][0])[:12]
        ],
    }


# ----------------------------------------------------------------------------- conversion

# Forks the command from a small process and reports its wall time and ru_maxrss. Measuring
# straight from this process would be wrong: Linux keeps the pre-exec high-water mark of the
# forked (or vforked) parent in the child's ru_maxrss, and this process holds onnxruntime.
# The wrapper's own size (a few MB, reported as `rss_floor`) is the floor of what it can measure.
RSS_WRAPPER = r"""
import json, os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
print(json.dumps({"rc": os.waitstatus_to_exitcode(status), "wall": wall, "maxrss": ru.ru_maxrss * 1024}))
"""


def measured(cmd, log_path):
    """Wall time and peak RSS (bytes) of one child process."""
    p = subprocess.run([sys.executable, "-c", RSS_WRAPPER, log_path] + cmd, capture_output=True, text=True)
    j = json.loads(p.stdout)
    if j["rc"] != 0:
        with open(log_path) as f:
            raise RuntimeError(f"{' '.join(cmd)} exited {j['rc']}: {f.read()[-2000:]}")
    return j["wall"], j["maxrss"]


SKL2ONNX_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import joblib, numpy as np
from skl2onnx import to_onnx
from sklearn.svm import SVC
t1 = time.perf_counter()
model = joblib.load(sys.argv[1])
onx = to_onnx(model, np.zeros((1, int(sys.argv[3])), dtype=np.float32), options={SVC: {"zipmap": False}})
with open(sys.argv[2], "wb") as f:
    f.write(onx.SerializeToString())
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "work_s": t2 - t1}))
"""


def conversion_bench(binp, m, work, reps):
    out = {"rss_floor": measured(["true"], os.devnull)[1]}
    tmp = os.path.join(work, "conv")
    os.makedirs(tmp, exist_ok=True)
    onnx_out = os.path.join(tmp, m["tag"] + ".onnx")
    log = os.path.join(tmp, m["tag"] + ".log")
    variants = {
        "ours": [binp, "convert", m["path"], "-o", onnx_out, "--dtype", "f32", "--no-validate"],
        "ours_validated": [binp, "convert", m["path"], "-o", onnx_out, "--dtype", "f32"],
        "skl2onnx": [sys.executable, "-c", SKL2ONNX_CHILD, m["path"], onnx_out, str(m["meta"]["features"])],
    }
    for key, cmd in variants.items():
        walls, rss, inproc = [], [], []
        for _ in range(reps):
            try:
                w, r = measured(cmd, log)
            except RuntimeError as e:  # e.g. the default convert refusing a graph it could not verify
                out[key] = {"failed": str(e).strip().splitlines()[-6:]}
                print(f"  {m['tag']} {key}: FAILED\n    " + "\n    ".join(out[key]["failed"]), flush=True)
                break
            walls.append(w)
            rss.append(r)
            if key == "skl2onnx":
                with open(log) as f:
                    inproc.append(json.loads(f.read().strip().splitlines()[-1]))
        if key in out:
            continue
        i = int(np.argmin(walls))
        out[key] = {"wall_min": walls[i], "wall_median": statistics.median(walls), "peak_rss": max(rss),
                    "onnx_bytes": os.path.getsize(onnx_out), "reps": reps}
        if inproc:
            out[key]["import_s"] = inproc[i]["import_s"]
            out[key]["load_convert_save_s"] = inproc[i]["work_s"]
    return out


# ----------------------------------------------------------------------------- sanity

def score_error(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        a = a.reshape(b.shape) if a.size == b.size else a
    if a.shape != b.shape:
        return float("nan")
    return float(np.max(np.abs(a - b)) / (1 + np.max(np.abs(b))))


def sanity(model, meta, X, graphs):
    """Max relative error of each graph's scores/probabilities against scikit-learn (informative)."""
    res = {}
    if meta["probability"]:
        ref, key = model.predict_proba(X), "probabilities"
    else:
        ref, key = model.decision_function(X), "scores"
    for gname, path in graphs.items():
        sess = ort_session(path, 1)
        names = [o.name for o in sess.get_outputs()]
        outs = dict(zip(names, sess.run(None, ort_feed(sess, X))))
        if gname.startswith("ours"):
            got = outs.get(key)
        else:  # skl2onnx: (label, probabilities-or-scores)
            got = outs.get("probabilities")
            if got is not None and not meta["probability"] and meta["classes"] == 2 and got.ndim == 2:
                # skl2onnx's binary layout is [-dec, dec] (or the reverse); take the closer column
                got = min((got[:, 0], got[:, 1]), key=lambda c: score_error(c, ref))
        res[gname] = score_error(got, ref) if got is not None else None
    return res


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="release svm2onnx binary")
    ap.add_argument("--tract-bench", help="tract_infer bench executable (omit to skip tract)")
    ap.add_argument("--out", default="target/bench")
    ap.add_argument("--quick", action="store_true", help="small models, short timings (smoke test)")
    ap.add_argument("--models", default=",".join(ALL_MODELS))
    ap.add_argument("--batches", default=None, help="default 1,64,2000 (quick: 1,64,500)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--min-time", type=float, default=None, help="seconds of repeats per configuration")
    ap.add_argument("--skip-conversion", action="store_true")
    ap.add_argument("--skip-inference", action="store_true")
    ap.add_argument("--inference-log", help="reuse the timings printed in an earlier run's log instead of "
                    "measuring them again (graphs, agreement, profiles and conversion are redone)")
    a = ap.parse_args()

    names = [n for n in a.models.split(",") if n]
    batches = [int(b) for b in (a.batches or ("1,64,500" if a.quick else "1,64,2000")).split(",")]
    threads_list = [int(t) for t in a.threads.split(",")]
    min_time = a.min_time if a.min_time is not None else (0.05 if a.quick else 1.0)
    timer = Timer(min_time, 2 if a.quick else 5, 1 if a.quick else 2)
    os.makedirs(a.out, exist_ok=True)
    graph_dir = os.path.join(a.out, "graphs")
    os.makedirs(graph_dir, exist_ok=True)
    started = time.time()

    import joblib
    import onnxruntime as ort
    import sklearn
    import skl2onnx
    from threadpoolctl import threadpool_limits

    print(f"models ({'quick' if a.quick else 'full'}):", flush=True)
    models = build_models(names, a.quick, os.path.join(a.out, "models"), max(batches))
    results, sanity_res, profiles, conversion = [], {}, {}, {}

    def record(name, runtime, dtype, batch, threads, t):
        row = dict(model=name, runtime=runtime, dtype=dtype, batch=batch, threads=threads, **t)
        results.append(row)
        print(f"    {runtime:13s} {dtype} batch {batch:5d} threads {threads}: "
              f"min {t['min'] * 1e3:10.3f} ms  median {t['median'] * 1e3:10.3f} ms  ({t['reps']} runs)", flush=True)

    for name in names:
        m = models[name]
        meta = m["meta"]
        print(f"\n{name}: {meta['support_vectors']} SVs x {meta['features']} features, {meta['classes']} classes, "
              f"kernel {meta['kernel']}", flush=True)
        model = joblib.load(m["path"])
        X = np.load(m["xpath"])
        graphs = {}
        for dt in ("f32", "f64"):
            graphs[f"ours-{dt}"] = ours_graph(a.bin, m, dt, graph_dir)
            try:
                graphs[f"skl2onnx-{dt}"] = skl2onnx_graph(model, m, dt, graph_dir)
            except Exception as e:  # noqa: BLE001 - report and go on
                print(f"    skl2onnx {dt}: conversion failed: {str(e).splitlines()[0][:200]}")
            if meta["kernel"] != "linear":
                graphs[f"matmul-{dt}"] = matmul_graph(m, dt, graph_dir)
        sanity_res[name] = sanity(model, meta, X[: min(len(X), 500)],
                                  {k: v for k, v in graphs.items() if not k.startswith("matmul")})
        print("    max relative error vs scikit-learn: "
              + ", ".join(f"{k} {v:.1e}" for k, v in sanity_res[name].items() if v is not None), flush=True)
        if a.skip_inference:
            continue
        if a.inference_log:
            results.extend(timings_from_log(a.inference_log, name))
            for r in results[-1:]:
                print(f"    {len([x for x in results if x['model'] == name])} timings reused from {a.inference_log}")

        predict = model.predict_proba if meta["probability"] else model.decision_function
        for threads in ([] if a.inference_log else threads_list):
            with threadpool_limits(limits=threads):
                for b in batches:
                    Xb = np.ascontiguousarray(X[:b])
                    record(name, "sklearn", "f64", b, threads, timer(lambda: predict(Xb)))
            for gname, path in graphs.items():
                runtime, dt = gname.rsplit("-", 1)
                sess = ort_session(path, threads)
                for b in batches:
                    feed = ort_feed(sess, X[:b])
                    record(name, runtime + "-ort", dt, b, threads, timer(lambda: sess.run(None, feed)))
                del sess
        if a.tract_bench and not a.inference_log:
            for dt in ("f32", "f64"):
                out = run([a.tract_bench, graphs[f"ours-{dt}"], m["xpath"], "--batches", ",".join(map(str, batches)),
                           "--min-time", str(min_time), "--min-reps", str(timer.min_reps),
                           "--warmup", str(timer.warmup)])
                for line in out.splitlines():
                    if line.startswith("{"):
                        j = json.loads(line)
                        record(name, "ours-tract", dt, j["batch"], 1,
                               dict(min=j["min"], median=j["median"], reps=j["reps"]))
        if name in RBF_MODELS:
            profiles[name] = {}
            for dt in ("f32", "f64"):
                for threads in threads_list:
                    prof = ort_profile(graphs[f"ours-{dt}"], X[: max(batches)], threads, 3 if a.quick else 5,
                                       os.path.join(a.out, f"prof-{name}"))
                    profiles[name][f"{dt}-t{threads}"] = prof

    if not a.skip_conversion:
        print("\nconversion:", flush=True)
        for name in (names if not a.quick else [n for n in names if n == "rbf_bin"]):
            conversion[name] = conversion_bench(a.bin, models[name], a.out, 1 if a.quick else 3)
            print(f"  {name}: " + ", ".join(
                f"{k} {v['wall_min']:.3f} s ({v['peak_rss'] / 1e6:.0f} MB)" if "wall_min" in v else f"{k} FAILED"
                for k, v in conversion[name].items() if k != "rss_floor"), flush=True)

    report = {
        "quick": a.quick,
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(started)),
        "seconds": time.time() - started,
        "machine": machine_info(),
        "versions": {"python": platform.python_version(), "numpy": np.__version__, "scikit-learn": sklearn.__version__,
                     "onnxruntime": ort.__version__, "skl2onnx": skl2onnx.__version__,
                     "svm2onnx": run([a.bin, "--version"]).strip()},
        "timing": {"statistic": "min", "min_time_s": min_time, "min_reps": timer.min_reps, "warmup": timer.warmup},
        "models": {k: v["meta"] for k, v in models.items()},
        "inference": results,
        "sanity_max_rel_error": sanity_res,
        "ort_profiles": profiles,
        "conversion": conversion,
    }
    md, verdicts = render(report, names, batches, threads_list)
    report["targets"] = verdicts
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(report, f, indent=1)
    with open(os.path.join(a.out, "results.md"), "w") as f:
        f.write(md)
    print("\n" + md)
    print(f"wrote {os.path.join(a.out, 'results.json')} and results.md ({report['seconds']:.0f} s)")


def timings_from_log(path, model):
    """The `record` lines of an earlier run's output, for one model."""
    rows, current = [], None
    with open(path) as f:
        for line in f:
            if line and not line[0].isspace() and ":" in line:
                current = line.split(":", 1)[0].strip()
            parts = line.split()
            if current == model and len(parts) >= 13 and parts[2] == "batch" and parts[4] == "threads":
                rows.append(dict(model=model, runtime=parts[0], dtype=parts[1], batch=int(parts[3]),
                                 threads=int(parts[5].rstrip(":")), min=float(parts[7]) / 1e3,
                                 median=float(parts[10]) / 1e3, reps=int(parts[12].lstrip("("))))
    return rows


def machine_info():
    info = {"platform": platform.platform(), "cpus": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                info["cpu"] = line.split(":", 1)[1].strip()
        with open("/proc/meminfo") as f:
            info["ram_gb"] = round(int(f.readline().split()[1]) / 1e6, 1)
        info["loadavg_at_end"] = os.getloadavg()
    except Exception:  # noqa: BLE001
        pass
    return info


# ----------------------------------------------------------------------------- report

def fmt_t(s):
    if s is None:
        return "–"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.2f} ms"
    return f"{s:.2f} s"


def fmt_x(r):
    return "–" if r is None else (f"{r:.1f}×" if r < 100 else f"{r:.0f}×")


def render(rep, names, batches, threads_list):
    idx = {(r["model"], r["runtime"], r["dtype"], r["batch"], r["threads"]): r["min"] for r in rep["inference"]}

    def t(model, runtime, dt, b, th):
        v = idx.get((model, runtime, dt, b, th))
        if v is None and runtime == "ours-tract":
            v = idx.get((model, runtime, dt, b, 1))
        return v

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    L = []
    L.append(f"Timings: minimum of repeats ({rep['timing']['min_reps']}+ runs and ≥ {rep['timing']['min_time_s']} s "
             f"per cell after warm-up). Speed-ups are peer time / our time (> 1: ours faster). "
             f"roofline = MatMul [N×d]·[d×S] time / our time.\n")
    L.append("### Models\n")
    L.append("| model | kernel | classes | SVs × features | joblib | fit |")
    L.append("|---|---|---|---|---|---|")
    for n in names:
        mm = rep["models"][n]
        L.append(f"| {n} | {mm['kernel']}{' (Pipeline+StandardScaler)' if mm['pipeline'] else ''}"
                 f"{' probability' if mm['probability'] else ''} | {mm['classes']} | "
                 f"{mm['support_vectors']} × {mm['features']} | {mm['joblib_bytes'] / 1e6:.1f} MB | {mm['fit_seconds']:.1f} s |")
    if rep["inference"]:
        for th in threads_list:
            L.append(f"\n### Inference, {th} thread{'s' if th > 1 else ''}\n")
            L.append("ours in tract is always 1 thread. sklearn is float64 (libsvm; single-threaded whatever the limit).\n")
            L.append("| model | batch | sklearn f64 | skl2onnx f32 | skl2onnx f64 | ours ORT f32 | ours ORT f64 | "
                     "ours tract f32 | ours tract f64 | MatMul f32 | vs skl2onnx (f32) | vs sklearn (ours f32 / f64) "
                     "| roofline f32 / f64 |")
            L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
            for n in names:
                for b in batches:
                    sk = t(n, "sklearn", "f64", b, th)
                    s32, s64 = t(n, "skl2onnx-ort", "f32", b, th), t(n, "skl2onnx-ort", "f64", b, th)
                    o32, o64 = t(n, "ours-ort", "f32", b, th), t(n, "ours-ort", "f64", b, th)
                    r32, r64 = t(n, "ours-tract", "f32", b, th), t(n, "ours-tract", "f64", b, th)
                    m32, m64 = t(n, "matmul-ort", "f32", b, th), t(n, "matmul-ort", "f64", b, th)
                    rf32, rf64 = ratio(m32, o32), ratio(m64, o64)
                    roof = "–" if rf32 is None else f"{rf32 * 100:.0f} % / {rf64 * 100:.0f} %"
                    L.append(f"| {n} | {b} | {fmt_t(sk)} | {fmt_t(s32)} | {fmt_t(s64)} | {fmt_t(o32)} | {fmt_t(o64)} | "
                             f"{fmt_t(r32)} | {fmt_t(r64)} | {fmt_t(m32)} | {fmt_x(ratio(s32, o32))} | "
                             f"{fmt_x(ratio(sk, o32))} / {fmt_x(ratio(sk, o64))} | {roof} |")
    san = rep["sanity_max_rel_error"]
    if san:
        L.append("\n### Agreement with scikit-learn (max |a−b| / (1+max|b|) on 500 bench rows; probabilities for proba)\n")
        keys = sorted({k for v in san.values() for k in v})
        L.append("| model | " + " | ".join(keys) + " |")
        L.append("|---|" + "---|" * len(keys))
        for n in names:
            L.append(f"| {n} | " + " | ".join(
                "–" if san[n].get(k) is None else f"{san[n][k]:.1e}" for k in keys) + " |")
    prof = rep["ort_profiles"]
    if prof:
        L.append(f"\n### Where the time goes: onnxruntime profile of our RBF graphs, batch {max(batches)}\n")
        L.append("Share of summed kernel time per op type (µs per run in brackets).\n")
        for n, per in prof.items():
            for key, p in per.items():
                ops = ", ".join(f"{op} {p['per_op_share'][op] * 100:.1f} % ({us:.0f} µs)"
                                for op, us in list(p["per_op_us"].items())[:8])
                L.append(f"* **{n} {key}**: {ops}")
        first = next(iter(prof))
        for key in [k for k in prof[first] if k.endswith("-t1")]:
            L.append(f"\nTop nodes, {first} {key}:\n")
            L.append("| node | op | µs per run | share | output |")
            L.append("|---|---|---|---|---|")
            for nd in prof[first][key]["top_nodes"][:10]:
                L.append(f"| {nd['node']} | {nd['op']} | {nd['us']:.0f} | {nd['share'] * 100:.1f} % | "
                         f"{str(nd['output'])[:80]} |")
    conv = rep["conversion"]
    if conv:
        L.append("\n### Conversion (f32 graph; whole process, wall time min of repeats; peak RSS of the process)\n")
        L.append("skl2onnx = a Python process: import + joblib.load + to_onnx + save (in-process time without "
                 "imports in brackets). ours = `svm2onnx convert MODEL -o OUT --no-validate`; "
                 "ours+validation = default `convert` (runs the graph in tract on probes). Peak RSS is "
                 f"measured through a small fork wrapper; its floor (`true`) is "
                 f"{next(iter(conv.values()))['rss_floor'] / 1e6:.0f} MB.\n")
        L.append("| model | joblib | ours | ours peak RSS (× joblib) | ours+validation | skl2onnx | skl2onnx peak RSS "
                 "(× joblib) | speed-up (process) | speed-up (vs in-process) | speed-up with validation |")
        L.append("|---|---|---|---|---|---|---|---|---|---|")
        for n, c in conv.items():
            if n == "rss_floor":
                continue
            size = rep["models"][n]["joblib_bytes"]
            o, ov, s = c["ours"], c["ours_validated"], c["skl2onnx"]
            if "wall_min" not in o or "wall_min" not in s:
                L.append(f"| {n} | {size / 1e6:.1f} MB | failed: {o.get('failed') or s.get('failed')} |")
                continue
            if "wall_min" not in ov:
                ov = {"wall_min": None}
            L.append(f"| {n} | {size / 1e6:.1f} MB | {fmt_t(o['wall_min'])} | {o['peak_rss'] / 1e6:.0f} MB "
                     f"({o['peak_rss'] / size:.1f}×) | {fmt_t(ov['wall_min']) if ov['wall_min'] else 'refused: validation failed'} | {fmt_t(s['wall_min'])} "
                     f"({fmt_t(s.get('load_convert_save_s'))}) | {s['peak_rss'] / 1e6:.0f} MB ({s['peak_rss'] / size:.1f}×) | "
                     f"{fmt_x(s['wall_min'] / o['wall_min'])} | {fmt_x(s['load_convert_save_s'] / o['wall_min'])} | "
                     f"{fmt_x(s['wall_min'] / ov['wall_min']) if ov['wall_min'] else '–'} |")

    verdicts = []

    def target(what, value, goal, ok):
        verdicts.append(dict(target=what, value=value, goal=goal, pass_=ok))

    big = max(batches)
    for n in [n for n in RBF_MODELS if n in names and rep["inference"]]:
        for th in threads_list:
            o = t(n, "ours-ort", "f32", big, th)
            s = t(n, "skl2onnx-ort", "f32", big, th)
            sk = t(n, "sklearn", "f64", big, th)
            mm = t(n, "matmul-ort", "f32", big, th)
            if None not in (o, s, sk, mm):
                target(f"{n}, batch {big}, {th} thr, f32: ours-ORT vs skl2onnx-ORT", s / o, "≥ 20×", s / o >= 20)
                target(f"{n}, batch {big}, {th} thr, f32: ours-ORT vs sklearn", sk / o, "≥ 15×", sk / o >= 15)
                target(f"{n}, batch {big}, {th} thr, f32: MatMul roofline", mm / o, "≥ 80 %", mm / o >= 0.8)
            o1, s1 = t(n, "ours-ort", "f32", 1, th), t(n, "skl2onnx-ort", "f32", 1, th)
            if None not in (o1, s1):
                target(f"{n}, batch 1, {th} thr, f32: ours-ORT vs skl2onnx-ORT", s1 / o1, "≥ 1× (no slower)",
                       s1 / o1 >= 1)
    if "rbf_bin" in conv:
        c = conv["rbf_bin"]
        r = c["skl2onnx"]["wall_min"] / c["ours"]["wall_min"]
        target("rbf_bin conversion (process wall, --no-validate) vs Python + skl2onnx", r, "≥ 20×", r >= 20)
        r = c["skl2onnx"]["load_convert_save_s"] / c["ours"]["wall_min"]
        target("rbf_bin conversion (--no-validate) vs skl2onnx's load+convert+save without Python imports", r,
               "≥ 20× (informative)", r >= 20)
        if "wall_min" in c["ours_validated"]:
            r = c["skl2onnx"]["wall_min"] / c["ours_validated"]["wall_min"]
            target("rbf_bin conversion with tract validation vs Python + skl2onnx", r, "≥ 20× (informative)", r >= 20)
        else:
            target("rbf_bin default convert (f32, with tract validation)", 0.0, "writes the graph", False)
    if verdicts:
        L.append("\n### Targets (issue 6)\n")
        L.append("| target | measured | goal | verdict |")
        L.append("|---|---|---|---|")
        for v in verdicts:
            val = f"{v['value'] * 100:.0f} %" if "%" in v["goal"] else fmt_x(v["value"])
            L.append(f"| {v['target']} | {val} | {v['goal']} | {'PASS' if v['pass_'] else 'FAIL'} |")
    return "\n".join(L) + "\n", verdicts


if __name__ == "__main__":
    main()
