"""Several threads at once, and the GIL released while Rust works."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import svm2onnx


def test_four_threads_convert_at_once(live):
    names = ["svc_rbf_digits_k10_ovr", "svc_rbf_iris_k3_ovr_str", "cal_isotonic_nusvc_k5", "pipe_standard_svr_rbf"]
    for dtype in ("float32", "float64"):
        expected = [svm2onnx.to_onnx(live[name][0], dtype=dtype) for name in names]
        barrier = threading.Barrier(len(names))

        def convert(name):
            barrier.wait(timeout=60)  # the four conversions start together
            return svm2onnx.to_onnx(live[name][0], dtype=dtype)

        with ThreadPoolExecutor(max_workers=len(names)) as pool:
            got = list(pool.map(convert, names))
        assert got == expected


def test_gil_is_released_while_rust_works(live):
    """A Python thread keeps running while another validates a graph in Rust:
    it could not if the call held the GIL. The rows double until one call
    takes over 0.2 s (debug and release builds differ a hundredfold)."""
    model = live["svc_rbf_digits_k10_ovr"][0]
    onnx = svm2onnx.to_onnx(model, dtype="float64", validate=False)
    X = np.random.default_rng(0).uniform(0, 16, size=(500, 64))
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.002)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        while True:
            start = time.perf_counter()
            assert svm2onnx.validate(onnx, model, X=X).passed
            end = time.perf_counter()
            if end - start > 0.2 or len(X) > 2_000_000:
                break
            X = np.vstack([X, X])
    finally:
        stop.set()
        t.join()
    assert end - start > 0.2, "the call is too quick to tell"
    during = [x for x in ticks if start < x < end]
    # The ticker sleeps 2 ms a tick: it ticks at least once per 20 ms unless blocked.
    assert len(during) >= (end - start) / 0.02, (len(during), end - start)
