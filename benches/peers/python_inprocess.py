#!/usr/bin/env python3
"""svm2onnx's Python package against skl2onnx, side by side in one process (issue 14):
conversion of bench.py's rbf_bin model (binary RBF SVC, ~8.5k support vectors x 300
features) from the live fitted estimator.

    pip install <the release wheel, python/build_wheel.sh> skl2onnx==1.20.0 scikit-learn joblib
    python benches/peers/python_inprocess.py [--model-dir target/bench/models]

The model is bench.py's own recipe (imported), fitted once and cached as joblib in
--model-dir (under load the fit takes about 3 minutes), shared with bench.py's cache.
Timings: one warm-up call each, then --reps rounds calling each in turn (interleaved, so a
drifting machine slows all alike), the minimum of each, all in this process:
  skl2onnx   skl2onnx.to_onnx(model, X[:1] float32, zipmap off) + SerializeToString()
  ours       svm2onnx.to_onnx(model, validate=False)            (f32)
  ours+val   svm2onnx.to_onnx(model)                            (f32, validated in tract: the default)
  ours+f64   svm2onnx.to_onnx(model, dtype="float64")           (validated in tract)
A report, not a test: exits 0 whatever the ratios.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def interleaved(fs, reps):
    """Minimum time of each function, called in turns (A B C A B C ...) so that a
    machine whose speed drifts slows each of them alike; one warm-up round first."""
    for f in fs:
        f()
    times = [[] for _ in fs]
    for _ in range(reps):
        for f, t in zip(fs, times):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
    return [min(t) for t in times]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model-dir", default=os.path.join(HERE, "..", "..", "target", "bench", "models"))
    ap.add_argument("--reps", type=int, default=5)
    a = ap.parse_args()

    import bench
    import joblib
    import sklearn
    import skl2onnx
    from sklearn.svm import SVC

    import svm2onnx

    model_dir = os.path.abspath(a.model_dir)
    bench.build_models(["rbf_bin"], False, model_dir, 2000)
    model = joblib.load(os.path.join(model_dir, f"rbf_bin-full-{bench.MODEL_VERSION}.joblib"))
    sv = model.support_vectors_.shape
    X1 = np.zeros((1, sv[1]), dtype=np.float32)

    def skl():
        return skl2onnx.to_onnx(model, X1, options={SVC: {"zipmap": False}}).SerializeToString()

    t_skl, t_ours, t_val, t_val64 = interleaved([
        skl,
        lambda: svm2onnx.to_onnx(model, validate=False),
        lambda: svm2onnx.to_onnx(model),
        lambda: svm2onnx.to_onnx(model, dtype="float64"),
    ], a.reps)
    print(f"rbf_bin: {sv[0]} support vectors x {sv[1]} features; Python {sys.version.split()[0]}, "
          f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, svm2onnx {svm2onnx.__version__}")
    print(f"| conversion (in process, interleaved, min of {a.reps}) | seconds | skl2onnx / this |")
    print("|---|---|---|")
    print(f"| skl2onnx.to_onnx + SerializeToString | {t_skl:.3f} | 1.0× |")
    print(f"| svm2onnx.to_onnx(model, validate=False) (f32) | {t_ours:.3f} | {t_skl / t_ours:.1f}× |")
    print(f"| svm2onnx.to_onnx(model) (f32, validated in tract) | {t_val:.3f} | {t_skl / t_val:.1f}× |")
    print(f"| svm2onnx.to_onnx(model, dtype=\"float64\") (validated in tract) | {t_val64:.3f} | {t_skl / t_val64:.1f}× |")
    print(f"targets (issue 14): ≥ 20× without validation: {'PASS' if t_skl / t_ours >= 20 else 'FAIL'}; "
          f"≥ 5× with validation (the default call): {'PASS' if t_skl / t_val >= 5 else 'FAIL'}")


if __name__ == "__main__":
    main()
