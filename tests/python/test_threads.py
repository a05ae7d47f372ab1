"""Several threads at once, and the GIL released while Rust works."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

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


def test_gil_is_released_during_conversion(live):
    """A Python thread keeps running while another converts: it could not if
    the conversion held the GIL."""
    model = live["svc_rbf_digits_k10_ovr"][0]
    ticks = []
    stop = threading.Event()

    def ticker():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.002)

    t = threading.Thread(target=ticker)
    t.start()
    time.sleep(0.05)
    start = time.perf_counter()
    svm2onnx.to_onnx(model, dtype="float64")
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    assert end - start > 0.05, "the conversion is too quick to tell"
    # The ticker sleeps 2 ms a tick: it ticks at least once per 20 ms unless blocked.
    assert len(during) >= (end - start) / 0.02, (len(during), end - start)
