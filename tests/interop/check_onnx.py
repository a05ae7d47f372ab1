#!/usr/bin/env python3
"""Convert every fixture with svm2onnx and check the graphs with the ONNX checker and onnxruntime.

    python tests/interop/check_onnx.py --bin PATH_TO_svm2onnx --fixtures DIR --workdir DIR
        [--tract] [--opset13-fixture NAME] [--only SUBSTRING ...] [--json OUT.json]

For each DIR/*.json except MANIFEST.json:
  svm2onnx convert FIXTURE -o W/NAME.f64.onnx --dtype f64
  svm2onnx convert FIXTURE -o W/NAME.f32.onnx --dtype f32
and for one fixture (the first, or --opset13-fixture) also
  svm2onnx convert FIXTURE -o W/NAME.f32-op13.onnx --dtype f32 --opset 13
then for each graph:
  * onnx.checker.check_model(full_check=True) (also checks the opset asked for);
  * onnxruntime on samples.X cast to the graph input's type (float or double);
  * output "scores" vs samples.decision_function, "label" vs samples.predict
    (also "probabilities" vs samples.predict_proba when both exist).
Tolerances (score error = max|a-b| / (1 + max|b|)):
  f64: scores <= 1e-9, labels identical, probabilities <= 1e-6.
  f32: scores <= 1e-4, label agreement >= 99.9 %; every disagreement is listed and
       flagged near-tie or not (near-tie: some decision value of the row within
       1e-4*(1+max|dec|) of 0, or a 2-D score row that differs by exactly one moved
       vote, which is how an ovr row shows a flipped ovo vote; such rows are left out
       of the score error). --strict-ties also fails on non-near-tie disagreements.
With --tract, also runs `svm2onnx validate OUT.onnx --reference FIXTURE --json` and shows
its verdict (exit code, plus the JSON's pass/ok field when it has one); a failing
verdict fails the row.
String labels come back from onnxruntime as numpy object arrays of str and are compared as
strings. Prints a table and exits 1 if any row fails (2 on a usage error).
--bin may be a .py file (run with this interpreter), e.g. tests/interop/demo_model.py, to
try the checks on hand-built graphs.
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import interop_common as ic  # noqa: E402
import results  # noqa: E402

TOL = {
    "f64": dict(score_tol=1e-9, prob_tol=1e-6, label_min_agree=1.0, tie_tol=None),
    "f32": dict(score_tol=1e-4, prob_tol=1e-4, label_min_agree=0.999, tie_tol=1e-4),
}


def bin_cmd(path):
    return [sys.executable, path] if path.endswith(".py") else [path]


def run(cmd, timeout=600):
    t0 = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr, time.time() - t0
    except subprocess.TimeoutExpired:
        return -9, "", f"timed out after {timeout} s", time.time() - t0


def short(text, n=6):
    lines = [ln for ln in (text or "").strip().splitlines() if ln.strip()]
    return "\n".join("      " + ln for ln in lines[-n:])


def ort_outputs(model_path, X):
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto

    m = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    gin = [i for i in m.graph.input if i.name not in inits]
    if len(gin) != 1:
        raise RuntimeError(f"expected one graph input, found {[i.name for i in gin]}")
    elem = gin[0].type.tensor_type.elem_type
    np_dt = {TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64}.get(elem)
    if np_dt is None:
        raise RuntimeError(f"graph input {gin[0].name!r} has elem_type {elem}, expected float or double")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1  # CI machine: 2 cores, keep it predictable
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    vals = sess.run(names, {gin[0].name: np.asarray(X, dtype=np_dt)})
    return dict(zip(names, vals)), np.dtype(np_dt).name


def ort_version():
    import onnxruntime
    return onnxruntime.__version__


def checker(model_path, opset=None):
    import onnx

    onnx.checker.check_model(model_path, full_check=True)  # path form: models > 2 GB work too
    m = onnx.load(model_path, load_external_data=False)
    if opset is not None:
        got = [o.version for o in m.opset_import if o.domain in ("", "ai.onnx")]
        if got != [opset]:
            raise RuntimeError(f"asked for opset {opset}, graph declares {got}")
    bad = sorted({n.domain for n in m.graph.node if n.domain not in ("", "ai.onnx")})
    if bad:
        raise RuntimeError(f"non-standard op domains in the graph: {bad}")


def tract_verdict(binp, model_path, fixture):
    rc, out, err, _ = run(bin_cmd(binp) + ["validate", model_path, "--reference", fixture, "--json"])
    verdict = {"rc": rc, "ok": rc == 0}
    try:
        j = json.loads(out)
        verdict["json"] = j
        if isinstance(j, dict):
            for k in ("pass", "passed", "ok", "success"):
                if isinstance(j.get(k), bool):
                    verdict["ok"] = verdict["ok"] and j[k]
                    break
    except (json.JSONDecodeError, TypeError):
        verdict["json"] = None
        if rc == 0:
            verdict["note"] = "stdout was not JSON"
    if rc != 0:
        verdict["stderr"] = err
    return verdict


def tract_parts(j):
    """compare_outputs-style parts from `svm2onnx validate --json`: its comparisons of the
    recorded samples against scikit-learn's outputs (the verdict also covers the reference
    evaluator and generated probes)."""
    parts = []
    if not isinstance(j, dict):
        return parts
    for c in j.get("comparisons", []):
        if c.get("against") != "scikit-learn" or c.get("inputs") != "samples":
            continue
        p = {"output": c.get("output"), "sample": ic.OUTPUT_TO_SAMPLE.get(c.get("output")),
             "ok": bool(c.get("passed"))}
        if "label_agreement" in c:
            n = int(c.get("rows") or 0)
            p.update(kind="label", agree=int(round(c["label_agreement"] * n)), total=n)
        else:
            p.update(kind="value", err=c.get("max_rel_error"), abs_err=c.get("max_abs_error"),
                     tol=j.get("tolerance"))
        parts.append(p)
    return parts


def check_one(binp, fixture, fx, workdir, dtype, opset, use_tract, strict_ties):
    """Convert one fixture and check the graph. row["stages"] holds one entry per target
    (onnx.checker, onnxruntime, tract): status pass/fail/error, compared parts, note."""
    name = ic.fixture_name(fixture)
    tag = dtype if opset is None else f"{dtype}-op{opset}"
    out = os.path.join(workdir, f"{name}.{tag}.onnx")
    row = {"fixture": name, "variant": tag, "dtype": dtype, "opset": opset, "onnx": out,
           "ok": False, "stages": {}}
    stages = row["stages"]
    cmd = bin_cmd(binp) + ["convert", fixture, "-o", out, "--dtype", dtype]
    if opset is not None:
        cmd += ["--opset", str(opset)]
    rc, so, se, secs = run(cmd)
    row["convert_seconds"] = secs
    if rc != 0 or not os.path.exists(out):
        row["error"] = f"convert exited {rc}\n" + short(se or so)
        for t in ("onnx.checker", "onnxruntime") + (("tract",) if use_tract else ()):
            stages[t] = {"status": "error", "note": f"svm2onnx convert exited {rc}"}
        return row
    errors = []
    t0 = time.time()
    try:
        checker(out, opset)
        stages["onnx.checker"] = {"status": "pass", "seconds": time.time() - t0}
    except Exception as e:
        errors.append(f"onnx.checker: {str(e).strip()[:600]}")
        stages["onnx.checker"] = {"status": "fail", "note": errors[-1][:300], "seconds": time.time() - t0}
    t0 = time.time()
    try:
        outs, in_dt = ort_outputs(out, fx["samples"]["X"])
    except Exception as e:
        errors.append(f"onnxruntime: {str(e).strip()[:600]}")
        stages["onnxruntime"] = {"status": "error", "note": errors[-1][:300], "seconds": time.time() - t0}
        outs = None
    if outs is not None:
        row["input_dtype"] = in_dt
        t = dict(TOL[dtype])
        res = ic.compare_outputs(outs, fx["samples"], t["score_tol"], label_min_agree=t["label_min_agree"],
                                 tie_tol=t["tie_tol"], fail_on_hard_disagree=(dtype == "f64" or strict_ties),
                                 prob_tol=t["prob_tol"])
        row["compare"] = res
        if dtype == "f32" and in_dt != "float32":
            res["ok"] = False
            res["notes"].append(f"--dtype f32 graph takes {in_dt} input")
        if dtype == "f64" and in_dt != "float64":
            res["ok"] = False
            res["notes"].append(f"--dtype f64 graph takes {in_dt} input")
        stages["onnxruntime"] = {"status": "pass" if res["ok"] else "fail", "parts": res["parts"],
                                 "tolerance": t["score_tol"], "note": "; ".join(res["notes"]) or None,
                                 "seconds": time.time() - t0,
                                 "loader": f"onnxruntime {ort_version()}"}
    if use_tract:
        t0 = time.time()
        v = tract_verdict(binp, out, fixture)
        row["tract"] = v
        stages["tract"] = {"status": "pass" if v["ok"] else "fail", "parts": tract_parts(v.get("json")),
                           "tolerance": TOL[dtype]["score_tol"], "seconds": time.time() - t0,
                           "note": None if v["ok"] else (short(v.get("stderr") or "", 2).strip()[:300] or None),
                           "loader": "svm2onnx validate (tract)"}
    if errors:
        row["error"] = "\n".join(errors)
    row["ok"] = all(st["status"] == "pass" for st in stages.values())
    return row


def fmt_row(r):
    res = r.get("compare")
    score = label = "-"
    if res:
        for p in res["parts"]:
            if p["kind"] == "value" and p["sample"] == "decision_function":
                score = f"{p['err']:.2e}"
                if "vote_flip_rows" in p:
                    score += f"*{len(p['vote_flip_rows'])}"
            elif p["kind"] == "label":
                pct = 100.0 * p["agree"] / max(p["total"], 1)
                label = f"{p['agree']}/{p['total']} ({pct:.2f}%)"
    tract = "-"
    if "tract" in r:
        tract = "ok" if r["tract"]["ok"] else f"FAIL(rc={r['tract']['rc']})"
    return (f"{r['fixture'][:32]:<32} {r['variant']:<8} {score:>12} {label:>22} {tract:>10} "
            f"{'PASS' if r['ok'] else 'FAIL'}")


def result_rows(rows, suite, families):
    out = []
    for r in rows:
        for target, st in r.get("stages", {}).items():
            out.append(results.make_row(
                suite, families.get(r["fixture"], "?"), r["fixture"], target, r["dtype"], st["status"],
                st.get("parts", ()), tolerance=st.get("tolerance"),
                variant=f"opset{r['opset']}" if r.get("opset") else None,
                loader=st.get("loader"), note=st.get("note"), seconds=round(st.get("seconds", 0), 3)))
    return out


def tool_versions():
    v = {}
    for mod in ("onnx", "onnxruntime", "sklearn", "numpy"):
        try:
            v[mod] = __import__(mod).__version__
        except Exception:
            pass
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="the svm2onnx binary (or a .py stand-in)")
    ap.add_argument("--fixtures", required=True, help="directory of fixture *.json")
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--tract", action="store_true", help="also run `svm2onnx validate ... --json`")
    ap.add_argument("--opset13-fixture", help="fixture name (without .json) for the --opset 13 run; "
                    "default: the first fixture; 'none' to skip")
    ap.add_argument("--only", action="append", default=[], metavar="SUBSTRING",
                    help="only fixtures whose name contains this (repeatable)")
    ap.add_argument("--strict-ties", action="store_true",
                    help="f32: also fail on label disagreements that are not near-ties")
    ap.add_argument("--json", help="write all results here")
    ap.add_argument("--results", help="write rows in the interop results format (results.py) here")
    ap.add_argument("--suite", default="sklearn", help="suite name for --results (default: sklearn)")
    a = ap.parse_args(argv)

    if not (os.path.exists(a.bin) or a.bin.endswith(".py")):
        print(f"check_onnx: --bin {a.bin} does not exist", file=sys.stderr)
        return 2
    fixtures = sorted(f for f in glob.glob(os.path.join(a.fixtures, "*.json"))
                      if os.path.basename(f) != "MANIFEST.json")
    if a.only:
        fixtures = [f for f in fixtures if any(s in ic.fixture_name(f) for s in a.only)]
    if not fixtures:
        print(f"check_onnx: no fixtures in {a.fixtures}", file=sys.stderr)
        return 2
    os.makedirs(a.workdir, exist_ok=True)
    op13 = a.opset13_fixture or ic.fixture_name(fixtures[0])

    header = (f"{'fixture':<32} {'variant':<8} {'score err':>12} {'label agreement':>22} "
              f"{'tract':>10} result")
    print(header)
    print("-" * len(header))
    rows = []
    families = {}
    t0 = time.time()
    for f in fixtures:
        try:
            fx = ic.load_fixture(f)
        except Exception as e:
            r = {"fixture": ic.fixture_name(f), "variant": "-", "ok": False, "error": f"fixture: {e}"}
            rows.append(r)
            print(fmt_row(r))
            print(f"    {r['error']}")
            continue
        families[ic.fixture_name(f)] = results.family(fx)
        variants = [("f64", None), ("f32", None)]
        if ic.fixture_name(f) == op13:
            variants.append(("f32", 13))
        for dtype, opset in variants:
            r = check_one(a.bin, f, fx, a.workdir, dtype, opset, a.tract, a.strict_ties)
            rows.append(r)
            print(fmt_row(r), flush=True)
            if "error" in r:
                print(f"    {r['error']}")
            if r.get("compare"):
                for ln in ic.details(r["compare"]):
                    print(ln)
            if "tract" in r and not r["tract"]["ok"]:
                print(short(r["tract"].get("stderr") or json.dumps(r["tract"].get("json"))))
    n_fail = sum(not r["ok"] for r in rows)
    print("-" * len(header))
    print(f"{len(fixtures)} fixtures, {len(rows)} graphs, {time.time() - t0:.1f} s")
    print(f"check_onnx: {len(rows) - n_fail} passed, {n_fail} failed")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(rows, fh, indent=1, default=str)
    if a.results:
        results.write(a.results, a.suite, result_rows(rows, a.suite, families),
                      versions=tool_versions())
    return 1 if n_fail else 0


if __name__ == "__main__":
    sys.exit(main())
