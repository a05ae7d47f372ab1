"""Every scikit-learn fixture's model as a live object -> svm2onnx.to_onnx ->
onnxruntime, against the outputs scikit-learn recorded on held-out rows, with
the bars of tests/interop/check_onnx.py (f64: scores 1e-9, probabilities 1e-6,
labels identical; f32: 1e-4, labels >= 99.9 % with disagreements near ties only)."""
import json

import numpy as np
import onnxruntime as ort
import pytest

import interop_common as ic
import svm2onnx
from check_onnx import TOL
from conftest import FIXTURE_NAMES


def run_ort(onnx, X):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(onnx, so, providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()
    dtype = {"tensor(float)": np.float32, "tensor(double)": np.float64}[inp.type]
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, {inp.name: np.asarray(X, dtype=dtype)}))), dtype


def onnx_dtype(dtype):
    return {"f64": "float64", "f32": "float32"}[dtype]


@pytest.mark.parametrize("dtype", ["f64", "f32"])
@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_live_estimator_matches_scikit_learn(live, name, dtype):
    model, fixture = live[name]
    samples = json.loads(fixture.read_text())["samples"]
    onnx = svm2onnx.to_onnx(model, dtype=onnx_dtype(dtype))
    assert isinstance(onnx, bytes)
    # The JSON twin, given as a path, compiles to the same graph.
    assert svm2onnx.to_onnx(fixture, dtype=onnx_dtype(dtype), validate=False) == onnx
    outs, in_dtype = run_ort(onnx, samples["X"])
    assert in_dtype == {"f64": np.float64, "f32": np.float32}[dtype]
    t = TOL[dtype]
    res = ic.compare_outputs(outs, samples, t["score_tol"], label_min_agree=t["label_min_agree"],
                             tie_tol=t["tie_tol"], fail_on_hard_disagree=True, prob_tol=t["prob_tol"])
    compared = {p["output"] for p in res["parts"]}
    assert compared & {"label", "prediction"}, res["notes"]
    assert res["ok"], ic.summarize(res) + "\n" + "\n".join(ic.details(res))
