#!/usr/bin/env python3
"""Render the interop results (results.py format) as a markdown compatibility table.

    python tests/interop/compat_table.py [RESULTS.json | DIR ...] [--out FILE] [--keras-tol 1e-4]

Default input: target/interop/results/*.json; default output: target/interop/COMPATIBILITY.md.
Every results file (any suite: scikit-learn fixtures, LIBSVM files, skl2onnx graphs, ...) adds
rows. Writes, per suite:
  * family × target: how many models pass, and the largest relative error against the
    reference outputs (scikit-learn's recorded ones for the sklearn suite);
  * which outputs come back from each TensorFlow target, with their dtypes;
  * whether every family reaches a Keras model within --keras-tol;
  * the per-model rows that did not pass.
Prints the same text. Standard library only; exit 0 (the checks themselves set CI's status),
2 when there is nothing to render.
"""
import argparse
import glob
import os
import sys
from collections import OrderedDict

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import results  # noqa: E402

TARGETS = OrderedDict([
    ("onnx.checker", "onnx.checker"),
    ("onnxruntime", "onnxruntime"),
    ("tract", "tract"),
    ("keras3-tensorflow", "Keras 3 `load_model` (svm2onnx `.keras`, TensorFlow)"),
    ("keras3-jax", "Keras 3 `load_model` (svm2onnx `.keras`, JAX)"),
    ("keras3-torch", "Keras 3 `load_model` (svm2onnx `.keras`, PyTorch; recorded, opt-in)"),
    ("keras", "Keras `.keras` (tf_keras)"),
    ("keras3_tfsm", "Keras 3 (SavedModel in TFSMLayer)"),
    ("tflite", "TFLite"),
    ("keras3", "Keras 3 `load_model` (onnx2tf `.keras`)"),
])
TF_TARGETS = ("keras", "keras3_tfsm", "tflite", "keras3")
KERAS_TARGETS = ("keras", "keras3_tfsm")
DTYPE_ORDER = {"f64": 0, "f32": 1}
SHORT_DTYPE = {"float32": "f32", "float64": "f64", "int64": "i64", "int32": "i32", "object": "str",
               "bool": "bool"}


def fmt_tol(x):
    return f"{x:.0e}".replace("e-0", "e-")


def fmt_err(x):
    return "0" if x == 0 else f"{x:.1e}"


def _max_out(r, key):
    v = [o.get(key) for o in r.get("outputs", []) if o.get("kind") == "value" and o.get(key) is not None]
    return max(v) if v else None


def normalise(r):
    """Fill max_rel_err / max_abs_err from the outputs when a writer left them out."""
    if r.get("max_rel_err") is None:
        r["max_rel_err"] = _max_out(r, "rel_err")
    if r.get("max_abs_err") is None:
        r["max_abs_err"] = _max_out(r, "max_abs_err")
    return r


def load_rows(paths):
    rows, versions, files = [], {}, []
    for p in paths:
        found = sorted(glob.glob(os.path.join(p, "*.json"))) if os.path.isdir(p) else [p]
        for f in found:
            try:
                doc = results.load(f)
            except (ValueError, OSError) as e:
                print(f"compat_table: skipping {f}: {e}", file=sys.stderr)
                continue
            files.append(f)
            versions.update(doc.get("versions") or {})
            for r in doc.get("rows", []):
                r.setdefault("suite", doc.get("suite", "?"))
                rows.append(normalise(r))
    return rows, versions, files


def ordered(keys, preferred):
    pref = [k for k in preferred if k in keys]
    return pref + [k for k in keys if k not in pref]


def columns(rows):
    """(target, dtype) columns; dtypes split only for targets run with several dtypes."""
    seen = OrderedDict()
    for r in rows:
        seen.setdefault(r["target"], set()).add(r.get("dtype") or "-")
    cols = []
    for t in ordered(list(seen), list(TARGETS)):
        dts = sorted(seen[t], key=lambda d: DTYPE_ORDER.get(d, 9))
        if t == "onnx.checker" or len(dts) == 1:
            cols.append((t, None, dts))
        else:
            cols.extend((t, d, [d]) for d in dts)
    return cols


def col_title(col):
    t, d, dts = col
    name = TARGETS.get(t, t)
    if d is not None:
        return f"{name} {d}"
    if t == "onnx.checker":
        return name
    return f"{name} {dts[0]}" if dts and dts[0] != "-" else name


def cell(rs):
    if not rs:
        return "·"
    n = len(rs)
    by = {s: sum(r["status"] == s for r in rs) for s in results.STATUSES}
    if by["unsupported"] == n:
        return f"✗ not loadable (0/{n})"
    errs = [r["max_rel_err"] for r in rs if r.get("max_rel_err") is not None and r["status"] in ("pass", "fail")]
    ties = sum(o.get("near_tie_disagree") or 0 for r in rs for o in r.get("outputs", [])
               if o.get("kind") == "label")
    mark = "✓" if by["pass"] == n else "✗"
    s = f"{mark} {by['pass']}/{n}"
    abs_only = [r["max_abs_err"] for r in rs if r.get("max_rel_err") is None
                and r.get("max_abs_err") is not None and r["status"] in ("pass", "fail")]
    if errs:
        s += f" · {fmt_err(max(errs))}"
    elif abs_only:
        s += f" · abs {fmt_err(max(abs_only))}"
    if ties:
        s += f" · {ties} tie row{'s' if ties > 1 else ''}"
    return s


def family_order(rows):
    fams = list(OrderedDict.fromkeys(r["family"] for r in rows))
    return ordered(fams, list(results.FAMILY_ORDER))


def summary_table(rows):
    cols = columns(rows)
    fams = family_order(rows)
    lines = ["| family | models | " + " | ".join(col_title(c) for c in cols) + " |",
             "|---|---:|" + "---|" * len(cols)]
    for fam in fams:
        fr = [r for r in rows if r["family"] == fam]
        n_models = len({r["fixture"] for r in fr})
        cells = []
        for t, d, dts in cols:
            cells.append(cell([r for r in fr if r["target"] == t and (d is None or r.get("dtype") == d)]))
        lines.append(f"| {fam} | {n_models} | " + " | ".join(cells) + " |")
    total = []
    for t, d, dts in cols:
        total.append(cell([r for r in rows if r["target"] == t and (d is None or r.get("dtype") == d)]))
    lines.append(f"| **all** | {len({r['fixture'] for r in rows})} | " + " | ".join(total) + " |")
    return lines


def outputs_of(rs):
    """'scores f32, label i32' — the union over rows, in first-seen order."""
    seen = OrderedDict()
    for r in rs:
        for o in r.get("outputs", []):
            dt = SHORT_DTYPE.get(o.get("dtype"), o.get("dtype") or "?")
            seen.setdefault(o["name"], OrderedDict())[dt] = True
    return ", ".join(f"{n} {'/'.join(d)}" for n, d in seen.items()) or "—"


def outputs_table(rows):
    tf = [t for t in TF_TARGETS if any(r["target"] == t and r["status"] in ("pass", "fail") for r in rows)]
    ref = "onnxruntime" if any(r["target"] == "onnxruntime" for r in rows) else None
    cols = ([ref] if ref else []) + tf
    if not tf:
        return []
    lines = ["| family | " + " | ".join(f"{TARGETS.get(c, c)}{' f32' if c == ref else ''}" for c in cols) + " |",
             "|---|" + "---|" * len(cols)]
    for fam in family_order(rows):
        fr = [r for r in rows if r["family"] == fam]
        if not any(r["target"] in tf for r in fr):
            continue
        cells = []
        for c in cols:
            rs = [r for r in fr if r["target"] == c and r["status"] in ("pass", "fail")
                  and (c != ref or r.get("dtype") == "f32")]
            cells.append(outputs_of(rs))
        lines.append(f"| {fam} | " + " | ".join(cells) + " |")
    return lines


def keras_verdict(rows, tol):
    fams = family_order(rows)
    ok, missing, worst, worst_abs = [], [], 0.0, 0.0
    for fam in fams:
        kr = [r for r in rows if r["family"] == fam and r["target"] in KERAS_TARGETS]
        good = [r for r in kr if r["status"] == "pass" and (r.get("tolerance") or 1.0) <= tol
                and all(o.get("ok") for o in r.get("outputs", [])) and r.get("outputs")]
        bad = [r for r in kr if r["status"] != "pass"]
        if good and not bad:
            ok.append(fam)
            worst = max([worst] + [r["max_rel_err"] for r in good if r.get("max_rel_err") is not None])
            worst_abs = max([worst_abs] + [r["max_abs_err"] for r in good if r.get("max_abs_err") is not None])
        else:
            missing.append(fam + (" (not run)" if not kr else f" ({len(bad)} of {len(kr)} failed)"))
    n_models = len({r["fixture"] for r in rows if r["target"] in KERAS_TARGETS})
    if not n_models:
        return []
    if missing:
        head = (f"**Not every estimator family reaches a Keras model within {fmt_tol(tol)}**: "
                f"{len(ok)}/{len(fams)} families do; missing: {', '.join(missing)}.")
    else:
        head = (f"**Every estimator family reaches a Keras model whose outputs match the reference "
                f"within {fmt_tol(tol)}** (relative error as above): {len(ok)}/{len(fams)} families, "
                f"{n_models} models, both Keras routes (tf_keras `.keras`, Keras 3 TFSMLayer), every "
                f"output compared; worst relative error {fmt_err(worst)}, largest absolute error "
                f"{fmt_err(worst_abs)}.")
    return [head]


def problem_rows(rows):
    bad = [r for r in rows if r["status"] != "pass"]
    if not bad:
        return ["Every row passed."]
    lines = ["| model | family | target | dtype | status | note |", "|---|---|---|---|---|---|"]
    # the unsupported ones are the same known limitation on every model: one line per target
    shown = set()
    for r in bad:
        key = (r["target"], r["status"])
        if r["status"] == "unsupported":
            if key in shown:
                continue
            shown.add(key)
            n = sum(1 for x in bad if (x["target"], x["status"]) == key)
            model = f"all {n} models"
        else:
            model = r["fixture"]
        fam = "all" if r["status"] == "unsupported" else r["family"]
        note = (r.get("note") or "").replace("|", "\\|").replace("\n", " ")[:220]
        if r["status"] == "fail" and not note:
            fails = [o for o in r.get("outputs", []) if not o.get("ok")]
            note = "; ".join(
                f"{o['name']}: err {fmt_err(o['rel_err'])} > {o.get('tol')}" if o.get("kind") == "value"
                else f"{o['name']}: {o.get('agree')}/{o.get('total')} agree" for o in fails)
        lines.append(f"| {model} | {fam} | {r['target']} | {r.get('dtype', '')} | "
                     f"{r['status']} | {note} |")
    return lines


def probe_table(rows):
    targets = ordered(list(OrderedDict.fromkeys(r["target"] for r in rows)), list(TARGETS))
    keys = list(OrderedDict.fromkeys((r["suite"], r["fixture"], r.get("dtype"), r.get("variant")) for r in rows))
    lines = ["| model | graph | " + " | ".join(TARGETS.get(t, t) for t in targets) + " |",
             "|---|---|" + "---|" * len(targets)]
    for suite, fx, dt, var in keys:
        rs = [r for r in rows if (r["suite"], r["fixture"], r.get("dtype"), r.get("variant")) == (suite, fx, dt, var)]
        cells = []
        for t in targets:
            tr = [r for r in rs if r["target"] == t]
            if not tr:
                cells.append("·")
                continue
            r = tr[0]
            if r["status"] in ("pass", "fail"):
                c = ("✓" if r["status"] == "pass" else "✗") + (
                    f" {fmt_err(r['max_rel_err'])}" if r.get("max_rel_err") is not None else "")
                c += " · " + outputs_of([r])
            else:
                c = "✗ " + (r.get("note") or r["status"]).replace("|", "\\|")[:110]
            cells.append(c)
        graph = dt + (f", {var}" if var else "")
        lines.append(f"| {fx} | {graph} | " + " | ".join(cells) + " |")
    return lines


def render(rows, versions, files, keras_tol):
    out = ["# svm2onnx compatibility (generated)", ""]
    out.append("Generated by `tests/interop/compat_table.py` from "
               + ", ".join(f"`{os.path.relpath(f)}`" for f in files) + ".")
    if versions:
        out.append("Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())) + ".")
    out += ["",
            "Cells: `✓ passed/run · largest relative error` with error = max|a−b| / (1 + max|b|) "
            "against the reference outputs (for the scikit-learn suite: scikit-learn's recorded "
            "`decision_function`, `predict`, `predict_proba`), over every value output of every "
            "model of the family; labels must agree except on near-tie rows (`tie rows` counts "
            "those). Tolerances: f64 1e-9 (probabilities 1e-6), f32 1e-4. `·` = not run. tract = "
            "`svm2onnx validate --reference` (it reports probability errors as absolute ones: `abs` "
            "when a family has no other value output).", ""]
    probes = [r for r in rows if r.get("probe")]
    rows = [r for r in rows if not r.get("probe")]
    for suite in list(OrderedDict.fromkeys(r["suite"] for r in rows)):
        sr = [r for r in rows if r["suite"] == suite]
        out += [f"## Suite `{suite}`", ""]
        out += summary_table(sr)
        out.append("")
        verdict = keras_verdict(sr, keras_tol)
        if verdict:
            out += verdict + [""]
        ot = outputs_table(sr)
        if ot:
            out += ["Outputs returned by each target (name and dtype, as the target returns them):", ""]
            out += ot + [""]
        out += [f"Rows that did not pass ({sum(r['status'] != 'pass' for r in sr)} of {len(sr)}):", ""]
        out += problem_rows(sr) + [""]
    if probes:
        out += ["## Limits (probes: graphs the TensorFlow route is not meant for)", ""]
        out += probe_table(probes) + [""]
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="*", default=["target/interop/results"])
    ap.add_argument("--out", default="target/interop/COMPATIBILITY.md")
    ap.add_argument("--keras-tol", type=float, default=1e-4)
    a = ap.parse_args(argv)
    rows, versions, files = load_rows(a.inputs)
    if not rows:
        print(f"compat_table: no result rows in {a.inputs}", file=sys.stderr)
        return 2
    text = render(rows, versions, files, a.keras_tol)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as fh:
        fh.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
