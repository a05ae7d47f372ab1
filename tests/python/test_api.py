"""The API on paths, bytes and live objects: to_onnx options, to_keras,
validate (X of any dtype and memory order), inspect, Report."""
import json
import os
import pathlib
import pickle
import zipfile

import numpy as np
import onnxruntime as ort
import pytest

import svm2onnx
from conftest import REPO

FIXTURES = REPO / "tests" / "fixtures"


def outputs(onnx, X):
    sess = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()
    dtype = {"tensor(float)": np.float32, "tensor(double)": np.float64}[inp.type]
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(names, {inp.name: np.asarray(X, dtype=dtype)})))


def test_every_input_kind_gives_the_same_graph(iris_svc, tmp_path):
    model, X = iris_svc
    onnx = svm2onnx.to_onnx(model, dtype="float64")
    data = pickle.dumps(model, protocol=5)
    path = tmp_path / "model.pkl"
    path.write_bytes(data)
    import joblib

    joblib.dump(model, tmp_path / "model.joblib.z", compress=3)
    for m in (data, bytearray(data), memoryview(data), str(path), path, tmp_path / "model.joblib.z"):
        assert svm2onnx.to_onnx(m, dtype="float64") == onnx, type(m)
    outs = outputs(onnx, X)
    np.testing.assert_array_equal(outs["label"], model.predict(X))
    np.testing.assert_allclose(outs["scores"], model.decision_function(X), rtol=0, atol=1e-9)


def test_dtype_spellings_and_default(iris_svc):
    model, _ = iris_svc
    f32 = svm2onnx.to_onnx(model)
    assert svm2onnx.to_onnx(model, dtype="float32") == f32
    assert svm2onnx.to_onnx(model, dtype=np.float32) == f32
    assert svm2onnx.to_onnx(model, dtype="f64") == svm2onnx.to_onnx(model, dtype=np.dtype("float64"))
    sess = ort.InferenceSession(f32, providers=["CPUExecutionProvider"])
    assert sess.get_inputs()[0].type == "tensor(float)"


def test_options_reach_the_graph(iris_str_svc):
    model, X = iris_str_svc
    onnx = svm2onnx.to_onnx(model, dtype="float64", opset=13, label_index=True, outputs=["label"])
    sess = ort.InferenceSession(onnx, providers=["CPUExecutionProvider"])
    assert [o.name for o in sess.get_outputs()] == ["label"]
    (label,) = sess.run(None, {"X": X})
    assert label.dtype == np.int64
    np.testing.assert_array_equal(model.classes_[label], model.predict(X))
    info = svm2onnx.inspect(onnx)
    assert info["fields"]["format"].endswith("opset 13")
    assert info["fields"]["label_output"] == "index"
    assert info["fields"]["dtype"] == "f64"


def test_libsvm_json_and_skl2onnx_paths():
    libsvm = FIXTURES / "libsvm" / "csvc_rbf_k3.model"
    assert svm2onnx.inspect(libsvm)["fields"]["estimator"].startswith("LIBSVM")
    assert len(svm2onnx.to_onnx(libsvm)) > 0
    assert len(svm2onnx.to_onnx(REPO / "examples" / "iris_rbf.json")) > 0
    # An skl2onnx graph with ai.onnx.ml ops is rewritten into standard ops.
    original = FIXTURES / "onnxml" / "linearsvc_bin.onnx"
    rewritten = svm2onnx.to_onnx(original)
    info = svm2onnx.inspect(rewritten)  # refused if an ai.onnx.ml op were left
    assert "LinearClassifier" not in info["fields"]["nodes"]
    assert svm2onnx.to_onnx(original.read_bytes()) == rewritten
    assert "ai.onnx.ml ops rewritten" in info["fields"]["converted_from"]
    with pytest.raises(svm2onnx.BadInputError, match="rewritten op by op"):
        svm2onnx.inspect(original)


def test_inspect_dict(iris_str_svc):
    model, _ = iris_str_svc
    info = svm2onnx.inspect(model)
    assert set(info) == {"fields", "ports", "warnings", "text"}
    assert info["fields"]["estimator"] == "SVC"
    assert info["fields"]["features"] == "4"
    assert "setosa" in info["fields"]["classes"]
    ports = {(p["direction"], p["name"]) for p in info["ports"]}
    assert {("input", "X"), ("output", "label"), ("output", "scores")} <= ports
    assert info["text"].startswith("estimator:")


def test_validate_any_dtype_and_order(iris_svc):
    model, X = iris_svc
    onnx = svm2onnx.to_onnx(model, dtype="float64")
    for x in (X, np.asfortranarray(X), X.astype(np.float32), X[::2], X.tolist()):
        report = svm2onnx.validate(onnx, model, X=x)
        assert report.passed and bool(report)
        rows = {c["rows"] for c in report.comparisons}
        assert rows == {len(np.asarray(x))}
    report = svm2onnx.validate(onnx, model)  # probes
    assert report.passed
    assert report.dtype == "f64" and report.tolerance == 1e-9
    assert set(report.outputs) == {"label", "scores"}
    assert report.outputs["label"]["label_agreement"] == 1.0
    assert report.outputs["scores"]["max_rel_error"] <= 1e-9
    assert str(report).startswith("validation (f64 graph, tolerance 1e-9):")
    assert str(report).rstrip().endswith("PASSED")
    assert json.loads(report.to_json())["passed"] is True
    assert "passed" in repr(report)


def test_validate_finds_a_different_model(iris_svc, tmp_path):
    from sklearn.svm import SVC

    model, X = iris_svc
    other = SVC(kernel="linear", C=0.01).fit(X, model.predict(X))
    onnx = svm2onnx.to_onnx(other, dtype="float64")
    path = tmp_path / "other.onnx"
    path.write_bytes(onnx)
    for graph in (onnx, path):
        report = svm2onnx.validate(graph, model, X=X)
        assert not report.passed and not bool(report)
        assert not report.outputs["scores"]["passed"]
        assert str(report).rstrip().endswith("FAILED")


def test_to_keras_writes_a_keras_file(iris_str_svc, tmp_path):
    model, _ = iris_str_svc
    dest = tmp_path / "iris.keras"
    assert svm2onnx.to_keras(model, dest) is None
    with zipfile.ZipFile(dest) as z:
        names = set(z.namelist())
        assert {"config.json", "metadata.json", "model.weights.h5"} <= names
        meta = json.loads(z.read("metadata.json"))
    # String labels become indices; the names are in the metadata.
    assert "setosa" in json.dumps(meta)
    assert os.listdir(tmp_path) == ["iris.keras"]  # no staging folder left
    svm2onnx.to_keras(model, str(tmp_path / "f64.keras"), dtype="float64", validate=False)
    assert (tmp_path / "f64.keras").stat().st_size > 0


def test_no_validate_skips_tract(iris_svc):
    model, _ = iris_svc
    # tolerance 0 fails a float32 graph (see test_errors); without validation it is returned.
    assert len(svm2onnx.to_onnx(model, tolerance=0.0, validate=False)) > 0


def test_version_and_exports():
    assert svm2onnx.__version__ == "0.1.0"
    assert issubclass(svm2onnx.BadInputError, svm2onnx.Error)
    assert issubclass(svm2onnx.ValidationError, svm2onnx.Error)
    assert svm2onnx.BadInputError.__module__ == "svm2onnx"
    typed = pathlib.Path(svm2onnx.__file__).with_name("py.typed")
    assert typed.exists() and pathlib.Path(svm2onnx.__file__).with_name("_native.pyi").exists()
