"""Interop results: one JSON file per suite, rows that compat_table.py renders.

Only the standard library is imported, so every venv (light, TF) can write rows.

File format ("svm2onnx.interop-results/1"), one file per suite run, e.g.
target/interop/results/sklearn-onnx.json:

    {
      "schema": "svm2onnx.interop-results/1",
      "suite": "sklearn",              # free text: "sklearn", "libsvm", "onnxml", ...
      "versions": {"onnxruntime": "1.23.0", ...},   # optional, free keys
      "rows": [ROW, ...]
    }

ROW (one model file through one target; keys in brackets are optional):

    suite       same as the file's suite
    family      estimator family, the table's row ("SVC rbf", "LinearSVC", ...; see family())
    fixture     model/fixture name
    target      "onnx.checker", "onnxruntime", "tract", "keras", "keras3", "keras3_tfsm",
                "tflite", or any new name (rendered as a new column, in first-seen order)
    dtype       graph dtype: "f64" or "f32"
    status      "pass" | "fail" | "error" (the target did not run or load) |
                "unsupported" (a known limitation, documented; does not fail CI)
    outputs     [{"name": ONNX output, "compared_with": scikit-learn method or null,
                  "kind": "value" | "label", "ok": bool,
                  value: "max_abs_err", "rel_err" (max|a-b|/(1+max|b|)), "tol";
                  label: "agree", "total", "near_tie_disagree";
                  ["dtype"]: what the target returned}]
    max_abs_err max over the value outputs (null when none)
    max_rel_err max over the value outputs of rel_err (the metric the tolerance applies to)
    tolerance   the tolerance on rel_err
    [variant]   e.g. "opset13", "label-index"
    [loader]    how the target was loaded/run ("tf_keras 2.19.0", "ai_edge_litert", ...)
    [note]      one line (error message, limitation)
    [seconds]   wall time of this check

Anything else is ignored by compat_table.py.
"""
import json
import os

SCHEMA = "svm2onnx.interop-results/1"
STATUSES = ("pass", "fail", "error", "unsupported")

KERNEL_FAMILIES = ("SVC", "SVR", "OneClassSVM")


def family(doc):
    """The estimator family of a svm2onnx JSON model (a fixture)."""
    est = doc.get("estimator", "?")
    if est == "CalibratedClassifierCV":
        return "CalibratedClassifierCV"
    if doc.get("preprocessing"):
        return "Pipeline (scaler → SVM)"
    if est in ("SVC", "NuSVC") and doc.get("prob_a") is not None:
        return "SVC/NuSVC probability=True"
    if est == "SVC":
        return f"SVC {doc.get('kernel', '?')}"
    return est


FAMILY_ORDER = (
    "SVC linear", "SVC rbf", "SVC poly", "SVC sigmoid", "NuSVC", "SVC/NuSVC probability=True",
    "SVR", "NuSVR", "OneClassSVM", "LinearSVC", "LinearSVR", "SGDClassifier", "SGDRegressor",
    "SGDOneClassSVM", "CalibratedClassifierCV", "Pipeline (scaler → SVM)",
)


def output_entry(part):
    """A results 'outputs' entry from an interop_common.compare_outputs part."""
    e = {"name": part.get("output"), "compared_with": part.get("sample"),
         "kind": part.get("kind"), "ok": bool(part.get("ok"))}
    if "dtype" in part:
        e["dtype"] = part["dtype"]
    if part.get("kind") == "value":
        e["rel_err"] = part.get("err_without_flips", part.get("err"))
        e["max_abs_err"] = part.get("abs_err_without_flips", part.get("abs_err"))
        e["tol"] = part.get("tol")
        if part.get("vote_flip_rows"):
            e["vote_flip_rows"] = len(part["vote_flip_rows"])
    elif part.get("kind") == "label":
        e.update(agree=part.get("agree"), total=part.get("total"),
                 near_tie_disagree=part.get("near_tie_disagree", 0))
    elif part.get("kind") == "error":
        e["error"] = part.get("error")
    return e


def make_row(suite, family_, fixture, target, dtype, status, parts=(), tolerance=None, **extra):
    assert status in STATUSES, status
    outputs = [output_entry(p) for p in parts]
    vals = [o for o in outputs if o["kind"] == "value"]
    row = {
        "suite": suite, "family": family_, "fixture": fixture, "target": target, "dtype": dtype,
        "status": status, "outputs": outputs,
        "max_abs_err": max((o["max_abs_err"] for o in vals if o.get("max_abs_err") is not None),
                           default=None),
        "max_rel_err": max((o["rel_err"] for o in vals if o.get("rel_err") is not None), default=None),
        "tolerance": tolerance,
    }
    for k, v in extra.items():
        if v is not None:
            row[k] = v
    return row


def write(path, suite, rows, versions=None):
    """Write (replace) a results file."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    doc = {"schema": SCHEMA, "suite": suite, "versions": versions or {}, "rows": rows}
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(doc, fh, indent=1, default=str)
    os.replace(tmp, path)


def append(path, suite, rows, versions=None):
    """Add rows to a results file (created when missing); versions are merged."""
    doc = {"schema": SCHEMA, "suite": suite, "versions": {}, "rows": []}
    if os.path.exists(path):
        with open(path) as fh:
            doc = json.load(fh)
        if doc.get("schema") != SCHEMA:
            raise ValueError(f"{path}: schema {doc.get('schema')!r}, expected {SCHEMA!r}")
    doc["versions"].update(versions or {})
    write(path, doc.get("suite", suite), doc["rows"] + list(rows), doc["versions"])


def load(path):
    with open(path) as fh:
        doc = json.load(fh)
    if doc.get("schema") != SCHEMA:
        raise ValueError(f"{path}: schema {doc.get('schema')!r}, expected {SCHEMA!r}")
    return doc
