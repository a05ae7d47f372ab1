"""The pytest tier of the Python package (docs/PYTHON.md): run against an
installed `svm2onnx` wheel (.ci/interop_python.sh, python/build_wheel.sh).

The scikit-learn models are made by tests/fixtures/make_fixtures.py's own
recipes (imported, not copied): `build` fits every fixture's estimator and
writes its JSON (with scikit-learn's recorded outputs on held-out rows) into
a temporary folder, and hands back the live fitted objects.
"""
import importlib.util
import sys
import warnings
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "interop"))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


make_fixtures = _load("make_fixtures", REPO / "tests" / "fixtures" / "make_fixtures.py")
TABLE = (make_fixtures.FIXTURES + make_fixtures.FAMILY + make_fixtures.SGD + make_fixtures.PIPELINES
         + make_fixtures.CALIBRATED)
FIXTURE_NAMES = [name for name, _, _ in TABLE]


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    """name -> (fitted estimator, its JSON fixture path) for every fixture."""
    out = tmp_path_factory.mktemp("fixtures")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, objects = make_fixtures.build(TABLE, out)
    return {name: (obj, out / f"{name}.json") for name, obj in objects.items()}


@pytest.fixture(scope="session")
def iris_svc():
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    X, y = load_iris(return_X_y=True)
    return SVC(kernel="rbf", C=1.0).fit(X, y), X


@pytest.fixture(scope="session")
def iris_str_svc():
    """String class labels (Keras files carry them as indices)."""
    import numpy as np
    from sklearn.datasets import load_iris
    from sklearn.svm import SVC

    data = load_iris()
    y = np.asarray(data.target_names)[data.target]
    return SVC(kernel="rbf").fit(data.data, y), data.data
