"""Every exception with its one-line message; hostile pickles execute nothing;
a failed to_keras leaves nothing behind."""
import os
import pickle
import re

import pytest

import svm2onnx


def one_line(e):
    text = str(e)
    assert "\n" not in text and text.strip() == text and text
    return text


@pytest.mark.parametrize("bad", [b"garbage", bytearray(b"garbage"), memoryview(b"garbage")])
def test_unrecognised_bytes(bad):
    with pytest.raises(svm2onnx.BadInputError) as e:
        svm2onnx.to_onnx(bad)
    assert one_line(e.value).startswith("unrecognised model format: first byte 0x67 at offset 0")
    assert isinstance(e.value, svm2onnx.Error)


def test_empty_bytes():
    with pytest.raises(svm2onnx.BadInputError, match=r"^unrecognised model format: the file is empty$"):
        svm2onnx.to_onnx(b"")


def test_missing_file(tmp_path):
    path = tmp_path / "absent.joblib"
    with pytest.raises(svm2onnx.BadInputError) as e:
        svm2onnx.to_onnx(path)
    assert re.fullmatch(rf"cannot read {re.escape(str(path))}: No such file or directory \(os error 2\)", one_line(e.value))


def test_bad_json_names_the_path(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"format": ')
    with pytest.raises(svm2onnx.BadInputError) as e:
        svm2onnx.to_onnx(path)
    assert one_line(e.value).startswith(f"{path}: invalid JSON at line 1")


def test_bad_field_names_the_attribute(iris_svc):
    model, _ = iris_svc
    import copy

    broken = copy.deepcopy(model)
    broken._gamma = -1.0
    with pytest.raises(svm2onnx.BadInputError) as e:
        svm2onnx.to_onnx(broken)
    assert "gamma" in one_line(e.value)


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(dtype="float16"), r'^dtype must be "float32" or "float64", got "float16"$'),
        (dict(opset=12), r"^opset 12 is not supported \(choose 13 to 18\)$"),
        (dict(tolerance=-1.0), r"^tolerance must be a non-negative number, got -1$"),
        (dict(tolerance=float("nan")), r"^tolerance must be a non-negative number, got NaN$"),
        (dict(outputs=["probabilities"]), r"^the model has no output `probabilities` \(its outputs: label, scores\)$"),
        (dict(n_features=10), r"^n_features 10 applies only to LIBSVM model files; this model stores its feature count$"),
    ],
)
def test_bad_options(iris_svc, options, message):
    model, _ = iris_svc
    with pytest.raises(svm2onnx.BadInputError, match=message) as e:
        svm2onnx.to_onnx(model, **options)
    one_line(e.value)


def test_options_that_do_not_apply_to_skl2onnx_graphs(tmp_path):
    from conftest import REPO

    graph = REPO / "tests" / "fixtures" / "onnxml" / "linearsvc_bin.onnx"
    with pytest.raises(svm2onnx.BadInputError, match="do not apply to ONNX input"):
        svm2onnx.to_onnx(graph, opset=13)
    with pytest.raises(svm2onnx.BadInputError, match="Keras output from an skl2onnx graph is not supported"):
        svm2onnx.to_keras(graph, tmp_path / "g.keras")
    assert os.listdir(tmp_path) == []


def test_unpicklable_object():
    with pytest.raises(svm2onnx.BadInputError, match=r"^cannot serialise the function object with pickle"):
        svm2onnx.to_onnx(lambda x: x)


def test_not_a_model_object():
    with pytest.raises(svm2onnx.BadInputError) as e:
        svm2onnx.to_onnx({"a": 1})
    one_line(e.value)


def test_validation_error_carries_the_report(iris_svc):
    model, _ = iris_svc
    # A float32 graph cannot meet a tolerance of 0.
    with pytest.raises(svm2onnx.ValidationError) as e:
        svm2onnx.to_onnx(model, tolerance=0.0)
    assert one_line(e.value).startswith("validation failed; no graph is returned (float32 may be unable")
    assert isinstance(e.value, svm2onnx.Error) and not isinstance(e.value, svm2onnx.BadInputError)
    report = e.value.report
    assert not report.passed and report.tolerance == 0.0
    assert "FAIL" in str(report)


def test_validate_errors(iris_svc, tmp_path):
    model, X = iris_svc
    onnx = svm2onnx.to_onnx(model)
    with pytest.raises(svm2onnx.BadInputError, match=r"^X must be 2-D"):
        svm2onnx.validate(onnx, model, X=X[0])
    with pytest.raises(svm2onnx.BadInputError, match="the graph does not fit the reference model"):
        svm2onnx.validate(onnx, model, X=X[:, :3])
    with pytest.raises(svm2onnx.BadInputError, match=r"^onnx must be a path or bytes, got SVC$"):
        svm2onnx.validate(model, model)
    with pytest.raises(svm2onnx.BadInputError, match=r"^tolerance must be a non-negative number"):
        svm2onnx.validate(onnx, model, tolerance=-2)
    with pytest.raises(svm2onnx.BadInputError) as e:
        svm2onnx.validate(b"not onnx", model)
    one_line(e.value)


class Hostile:
    """Unpickling this calls os.system (pickle.loads would run the command)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_pickle_executes_nothing(tmp_path):
    marker = tmp_path / "pwned"
    data = pickle.dumps(Hostile(marker), protocol=5)
    assert b"system" in data
    for model in (data, Hostile(marker)):
        with pytest.raises(svm2onnx.BadInputError) as e:
            svm2onnx.to_onnx(model)
        assert "system" in one_line(e.value)
        with pytest.raises(svm2onnx.BadInputError):
            svm2onnx.inspect(model)
    path = tmp_path / "hostile.pkl"
    path.write_bytes(data)
    with pytest.raises(svm2onnx.BadInputError, match=re.escape(str(path))):
        svm2onnx.to_onnx(path)
    assert not marker.exists()
    # The control: Python's own unpickler does run it.
    pickle.loads(data)
    assert marker.exists()


def test_to_keras_bad_destinations_leave_nothing(iris_svc, tmp_path):
    model, _ = iris_svc
    with pytest.raises(svm2onnx.BadInputError, match=r"^.*/nowhere/m\.keras: the folder .*/nowhere does not exist$"):
        svm2onnx.to_keras(model, tmp_path / "nowhere" / "m.keras")
    with pytest.raises(svm2onnx.BadInputError, match=r"file name must end in \.keras"):
        svm2onnx.to_keras(model, tmp_path / "m.onnx")
    with pytest.raises(svm2onnx.ValidationError, match=r"^validation failed; .*/m\.keras was not written"):
        svm2onnx.to_keras(model, tmp_path / "m.keras", tolerance=0.0)
    assert os.listdir(tmp_path) == []
