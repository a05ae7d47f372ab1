#!/usr/bin/env python3
"""Runs every skl2onnx fixture's rewritten graph in onnxruntime and compares it
with onnxruntime's outputs on the ORIGINAL graph (recorded by
tests/fixtures/make_onnxml_fixtures.py, recomputed here).

For each fixture and each arithmetic (--dtype f64, f32) it runs
`svm2onnx convert`, checks the result with onnx.checker, asserts that no
ai.onnx.ml node is left, runs it in onnxruntime on the fixture's rows and
prints the max relative error max|a-b|/(1+max|b|) per output and the number of
differing labels. ZipMap outputs are compared as [N, k] matrices, columns in
the ZipMap's class order. Exit status 1 if any f64 rewrite is off by more than
1e-5 or any label differs (f32 rewrites: the exceptions in
tests/onnxml_fixtures.rs apply). Five opset-9 fixtures are also re-declared
at opsets 10-12, 14-16 and 18-20 and rewritten, checked and compared the
same way (against onnxruntime on the unedited original).

Usage: check_onnxml.py --bin target/debug/svm2onnx --fixtures DIR --workdir DIR
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort

TOLERANCE = 1e-5
F32_BEYOND_ORT_ROUNDING = {"svc_poly_bin": 1e-4}


def zipmap_labels(model, name):
    for node in model.graph.node:
        if node.op_type == "ZipMap" and name in node.output:
            for a in node.attribute:
                v = onnx.helper.get_attribute_value(a)
                return [s.decode() if isinstance(s, bytes) else int(s) for s in v]
    return None


def run(path, X, input_name):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return {o.name: v for o, v in zip(sess.get_outputs(), sess.run(None, {input_name: X}))}


# Opset-9 fixtures re-declared at each opset the fixtures do not hold (as in
# tests/onnxml_fixtures.rs): their copied nodes mean the same at every
# opset, their fragments use each op whose form changed on the way.
SWEPT = ["pipe_l1_svc_o9", "pipe_max_svc_o9", "svc_proba_k3_o9_zipmap", "linearsvc_bin_o9", "oneclass_o9"]
SWEEP = [10, 11, 12, 14, 15, 16, 18, 19, 20]


def check(args, name, tag, original_path, original, X, input_name, expected, failures, worst,
          smoke=True):
    """Converts ORIGINAL_PATH at both arithmetics, checks each rewrite with
    onnx.checker and compares it in onnxruntime with EXPECTED. Without SMOKE,
    `convert` skips its tract run (tests/onnxml_fixtures.rs runs those graphs
    in tract against the same outputs), which is most of its time."""
    for dtype in ["f64", "f32"]:
        out = os.path.join(args.workdir, f"{tag}.{dtype}.onnx")
        command = [args.bin, "convert", original_path, "-o", out, "--dtype", dtype]
        if not smoke:
            command.append("--no-validate")
        p = subprocess.run(command, capture_output=True, text=True)
        if p.returncode != 0:
            failures.append(f"{tag} {dtype}: convert failed: {p.stderr.strip()}")
            continue
        rewritten = onnx.load(out)
        onnx.checker.check_model(rewritten, full_check=True)
        left = [n.op_type for n in rewritten.graph.node if n.domain == "ai.onnx.ml"]
        if left:
            failures.append(f"{tag} {dtype}: ml ops left: {left}")
        got = run(out, X, input_name)
        line = f"{tag:32s} {dtype}:"
        for oname, value in expected.items():
            labels = zipmap_labels(original, oname)
            if labels is not None:
                value = np.array([[row[c] for c in labels] for row in value], dtype=np.float32)
            value = np.asarray(value)
            mine = np.asarray(got[oname])
            if mine.shape != value.shape:
                failures.append(f"{tag} {dtype} {oname}: shape {mine.shape} vs {value.shape}")
                continue
            if value.dtype.kind in "fc":
                rel = float(np.max(np.abs(mine - value)) / (1 + np.max(np.abs(value))))
                line += f" {oname} {rel:.1e};"
                worst[dtype] = max(worst.get(dtype, 0.0), rel)
                limit = F32_BEYOND_ORT_ROUNDING.get(name, TOLERANCE) if dtype == "f32" else TOLERANCE
                if not rel <= limit:
                    failures.append(f"{tag} {dtype} {oname}: relative error {rel:.2e}")
            else:
                differ = int(np.sum(mine.astype(str) != value.astype(str)))
                line += f" {oname} {differ} labels differ;"
                if differ:
                    failures.append(f"{tag} {dtype} {oname}: {differ} labels differ")
        print(line)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--workdir", required=True)
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    failures = []
    worst = {}
    swept = 0
    # opsets/ holds the same models at each opset skl2onnx writes.
    for meta_path in sorted(glob.glob(os.path.join(args.fixtures, "**", "*.json"), recursive=True)):
        name = os.path.splitext(os.path.basename(meta_path))[0]
        meta = json.load(open(meta_path))
        if "refuse" in meta:
            continue
        original_path = meta_path[:-5] + ".onnx"
        original = onnx.load(original_path)
        X = np.array(meta["X"], dtype=meta["dtype"])
        expected = run(original_path, X, meta["input"])
        in_opsets = os.path.basename(os.path.dirname(meta_path)) == "opsets"
        check(args, name, name, original_path, original, X, meta["input"], expected, failures, worst,
              smoke=not in_opsets)
        if name in SWEPT:
            swept += 1
            for opset in SWEEP:
                edited = onnx.load(original_path)
                for o in edited.opset_import:
                    if o.domain in ("", "ai.onnx"):
                        o.version = opset
                tag = f"{name}@{opset}"
                path = os.path.join(args.workdir, f"{tag}.original.onnx")
                onnx.save(edited, path)
                # Against onnxruntime on the unedited original.
                check(args, name, tag, path, edited, X, meta["input"], expected, failures, worst,
                      smoke=False)
    if swept != len(SWEPT):
        failures.append(f"opset sweep: found {swept} of the fixtures {SWEPT}")
    print("worst relative error vs onnxruntime on the originals:",
          ", ".join(f"{k} {v:.2e}" for k, v in sorted(worst.items())))
    for f in failures:
        print("FAIL", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
