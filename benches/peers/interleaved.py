#!/usr/bin/env python3
"""The roofline ratio without drift: our RBF graph and the plain MatMul timed in turns.

    python benches/peers/interleaved.py [--bench-dir target/bench] [--threads 1,2] [--rounds 12]

bench.py times each configuration on its own, minutes apart; on a shared VM the two minima it
divides drift by about ±10 %. This script takes the graphs bench.py wrote
(BENCH_DIR/graphs/<model>.ours.f32.onnx and matmul-<d>x<S>.f32.onnx), runs both on the same
batch of 2,000 rows in alternation, ROUNDS times each, in one onnxruntime process per thread
count, and prints min and median of each and the ratio of the minima (MatMul / ours).
"""
import argparse
import glob
import os
import statistics
import time

import numpy as np
import onnx
import onnxruntime as ort


def session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def shape(path):
    """(d, S) of an RBF graph: its input width and its weight matrix's columns."""
    m = onnx.load(path, load_external_data=False)
    d = m.graph.input[0].type.tensor_type.shape.dim[1].dim_value
    w = next(t for t in m.graph.initializer if t.name.startswith("rbf_weights"))
    return d, w.dims[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench-dir", default="target/bench")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--batch", type=int, default=2000)
    a = ap.parse_args()
    graphs = os.path.join(a.bench_dir, "graphs")
    ours = sorted(glob.glob(os.path.join(graphs, "rbf_*.ours.f32.onnx")))
    if not ours:
        print(f"no rbf_*.ours.f32.onnx in {graphs} (bench.py ran no RBF model): nothing to check")
        return
    rng = np.random.default_rng(0)
    print(f"batch {a.batch}, {a.rounds} rounds, f32, onnxruntime {ort.__version__}")
    for threads in [int(t) for t in a.threads.split(",")]:
        for path in ours:
            d, s = shape(path)
            roof = os.path.join(graphs, f"matmul-{d}x{s}.f32.onnx")
            if not os.path.exists(roof):
                print(f"  {os.path.basename(path)}: no {os.path.basename(roof)}, skipped")
                continue
            x = rng.normal(size=(a.batch, d)).astype(np.float32)
            pair = [(name, session(p, threads)) for name, p in (("ours", path), ("matmul", roof))]
            times = {name: [] for name, _ in pair}
            for _ in range(2):  # warm-up
                for _, sess in pair:
                    sess.run(None, {sess.get_inputs()[0].name: x})
            for _ in range(a.rounds):
                for name, sess in pair:
                    t = time.perf_counter()
                    sess.run(None, {sess.get_inputs()[0].name: x})
                    times[name].append(time.perf_counter() - t)
            model = os.path.basename(path).split(".")[0]
            ratio = min(times["matmul"]) / min(times["ours"])
            print(
                f"  {model:24s} threads {threads}: ours {min(times['ours']) * 1e3:7.1f} ms "
                f"(median {statistics.median(times['ours']) * 1e3:7.1f}), MatMul "
                f"{min(times['matmul']) * 1e3:7.1f} ms (median "
                f"{statistics.median(times['matmul']) * 1e3:7.1f}): roofline {ratio:.0%}"
            )


if __name__ == "__main__":
    main()
