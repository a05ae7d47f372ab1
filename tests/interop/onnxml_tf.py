#!/usr/bin/env python3
"""skl2onnx graphs, rewritten by `svm2onnx convert --dtype f32`, through
onnx2tf: the float32 TFLite file and the tf_keras `.keras` file are run on the
fixture's rows and compared with onnxruntime's outputs on the ORIGINAL graph
(recorded by tests/fixtures/make_onnxml_fixtures.py). Runs in the TF venv.

Usage: onnxml_tf.py --bin svm2onnx --fixtures DIR --workdir DIR NAME...
Exit status 1 if any output is off by more than 1e-4 relative
(max|a-b|/(1+max|b|)) or any label differs.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keras_check as kc  # noqa: E402

TOLERANCE = 1e-4


def expected_outputs(meta):
    """Recorded onnxruntime outputs of the original graph, ZipMaps as [N, k]."""
    out = {}
    for name, rec in meta["outputs"].items():
        if isinstance(rec, dict) and "data" in rec:
            out[name] = np.array(rec["data"], dtype=rec["dtype"]).reshape(rec["shape"])
        else:  # a ZipMap: a list of {label: p} rows, columns in the ZipMap's order
            order = meta["zipmap"][name]
            out[name] = np.array([[row[str(c)] for c in order] for row in rec], dtype=np.float32)
    return out


def compare(name, target, got, want):
    problems, line = [], f"{name:24s} {target:7s}:"
    for oname, value in want.items():
        mine = np.asarray(got[oname])
        if value.dtype.kind in "fc":
            mine = mine.reshape(value.shape)
            rel = float(np.max(np.abs(mine - value)) / (1 + np.max(np.abs(value))))
            line += f" {oname} {rel:.1e};"
            if not rel <= TOLERANCE:
                problems.append(f"{name} {target} {oname}: relative error {rel:.2e}")
        else:
            differ = int(np.sum(mine.reshape(value.shape).astype(np.int64) != value))
            line += f" {oname} {differ} labels differ;"
            if differ:
                problems.append(f"{name} {target} {oname}: {differ} labels differ")
    print(line)
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--fixtures", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    failures = []
    for name in a.names:
        meta = json.load(open(os.path.join(a.fixtures, name + ".json")))
        X = np.array(meta["X"], dtype=np.float32)
        want = expected_outputs(meta)
        work = os.path.join(a.workdir, name)
        os.makedirs(work, exist_ok=True)
        rewritten = os.path.join(work, "rewritten.onnx")
        p = subprocess.run([a.bin, "convert", os.path.join(a.fixtures, name + ".onnx"),
                            "-o", rewritten, "--dtype", "f32"], capture_output=True, text=True)
        if p.returncode != 0:
            failures.append(f"{name}: convert failed: {p.stderr.strip()}")
            continue
        _, outputs = kc.onnx_io(rewritten)
        try:
            out_dir, _, _ = kc.run_onnx2tf(rewritten, os.path.join(work, "onnx2tf"), True, [])
            got, _, _ = kc.run_tflite(out_dir, X, outputs, meta["input"])
            failures += compare(name, "tflite", got, want)
            got, _, _ = kc.run_keras(out_dir, X, outputs, work)
            failures += compare(name, "keras", got, want)
        except Exception as e:  # noqa: BLE001 - reported as a failure with its message
            failures.append(f"{name}: {type(e).__name__}: {str(e)[:300]}")
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
