#!/usr/bin/env python3
"""Float32 precision side by side (issue 13): svm2onnx's f32 graph against skl2onnx's f32
SVMClassifier graph, both run in onnxruntime on the same 1,000 data rows and compared with
scikit-learn's own decision_function (float64), plus tract's error as `svm2onnx validate`
reports it on those rows. A report, not a test: exits 0 whatever the numbers.

    python benches/peers/precision.py --svm2onnx target/debug/svm2onnx [--model-dir DIR]

Models (fitted once and cached as joblib in --model-dir; each fit takes minutes):
  issue13  binary RBF SVC(), make_classification(20000, 300, n_informative=20,
           n_redundant=2, flip_y=0.1, random_state=0); rows: its first 1,000 training rows
  rbf_10c  bench.py's 10-class 784-feature RBF SVC; rows: the first 1,000 bench rows
  rbf_bin  bench.py's binary 8,502-SV × 300-feature RBF SVC (optional); rows: likewise
Needs scikit-learn, skl2onnx, onnxruntime, joblib.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def issue13_model(model_dir):
    import joblib

    path = os.path.join(model_dir, "issue13.joblib")
    rows = os.path.join(model_dir, "issue13.X1000.npy")
    if not (os.path.exists(path) and os.path.exists(rows)):
        from sklearn.datasets import make_classification
        from sklearn.svm import SVC

        X, y = make_classification(20000, 300, n_informative=20, n_redundant=2, flip_y=0.1, random_state=0)
        joblib.dump(SVC().fit(X, y), path)
        np.save(rows, X[:1000])
    return path, np.load(rows)


def bench_model(name):
    def build(model_dir):
        import bench

        bench.build_models([name], False, model_dir, 2000)
        tag = f"{name}-full-{bench.MODEL_VERSION}"
        return os.path.join(model_dir, tag + ".joblib"), np.load(os.path.join(model_dir, tag + ".X.npy"))[:1000]

    return build


def ort_run(onnx_bytes, x):
    import onnxruntime as ort

    s = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    return dict(zip([o.name for o in s.get_outputs()], s.run(None, {name: x})))


def errors(got, want):
    got = np.asarray(got, dtype=np.float64).reshape(want.shape)
    d = np.abs(got - want)
    return d.max(), d.max() / (1 + np.abs(want).max())


def skl2onnx_scores(model, x32, want):
    """skl2onnx's f32 graph; its score output in decision_function's layout."""
    from skl2onnx import to_onnx

    onx = to_onnx(model, x32[:1], options={id(model): {"zipmap": False}}, target_opset={"": 17, "ai.onnx.ml": 3})
    out = ort_run(onx.SerializeToString(), x32)
    scores = [v for k, v in out.items() if k != "label"][0]
    if want.ndim == 1:  # binary: skl2onnx gives [d, -d]
        scores = scores[:, 0]
    return scores, out["label"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--svm2onnx", required=True, help="the svm2onnx binary")
    ap.add_argument("--model-dir", default=os.path.join(HERE, "..", "..", "target", "bench", "models"))
    ap.add_argument("--models", default="issue13,rbf_10c")
    a = ap.parse_args()
    import joblib
    import onnxruntime
    import skl2onnx
    import sklearn

    os.makedirs(a.model_dir, exist_ok=True)
    print(f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, onnxruntime {onnxruntime.__version__}")
    print("| model | SVs × features | svm2onnx f32 in onnxruntime: max abs (rel) | skl2onnx f32 in onnxruntime | "
          "svm2onnx f32 in tract vs reference (rel; error/float32 bound) | labels ours / skl2onnx | default convert |")
    print("|---|---|---|---|---|---|---|")
    for name in a.models.split(","):
        path, x = {"issue13": issue13_model, "rbf_10c": bench_model("rbf_10c"), "rbf_bin": bench_model("rbf_bin")}[name](a.model_dir)
        model = joblib.load(path)
        want = model.decision_function(x)
        labels = model.predict(x)
        x32 = x.astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "m.onnx")
            conv = subprocess.run([a.svm2onnx, "convert", path, "-o", out], capture_output=True, text=True)
            verdict = "converts, validated" if conv.returncode == 0 else f"refused (exit {conv.returncode})"
            sys.stderr.write(conv.stdout + conv.stderr)
            if conv.returncode != 0:
                subprocess.run([a.svm2onnx, "convert", path, "-o", out, "--no-validate"], check=True,
                               capture_output=True)
            ours = ort_run(open(out, "rb").read(), x32)
            rows = os.path.join(tmp, "rows.npy")
            np.save(rows, x)
            val = subprocess.run([a.svm2onnx, "validate", out, "--reference", path, "--data", rows],
                                 capture_output=True, text=True)
            m = re.search(r"scores\s+vs reference.*?max rel err ([0-9.e+-]+)(?:.*?error/bound ([0-9.e+-]+))?",
                          val.stdout + val.stderr)
            tract = f"{m.group(1)}; {m.group(2)}" if m and m.group(2) else (m.group(1) if m else "?")
        o_abs, o_rel = errors(ours["scores"], want)
        s_scores, s_labels = skl2onnx_scores(model, x32, want)
        s_abs, s_rel = errors(s_scores, want)
        ol = np.mean(np.asarray(model.classes_)[ours["label"].reshape(-1)] == labels) if ours["label"].dtype.kind in "iu" and not np.issubdtype(np.asarray(model.classes_).dtype, np.integer) else np.mean(ours["label"].reshape(-1) == labels)
        sl = np.mean(np.asarray(s_labels).reshape(-1) == labels)
        sv = model.support_vectors_.shape
        print(f"| {name} | {sv[0]:,} × {sv[1]} | {o_abs:.2e} ({o_rel:.2e}) | {s_abs:.2e} ({s_rel:.2e}) | {tract} | "
              f"{ol:.1%} / {sl:.1%} | {verdict} |", flush=True)


if __name__ == "__main__":
    main()
