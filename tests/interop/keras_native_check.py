#!/usr/bin/env python3
"""svm2onnx's own `.keras` files, loaded by Keras 3 in a process that knows nothing of them.

    python tests/interop/keras_native_check.py --bin PATH_TO_svm2onnx --fixtures DIR --workdir DIR
        --python BACKEND=PYTHON [--python BACKEND=PYTHON ...] [--dtypes f32,f64]
        [--libsvm DIR] [--only SUBSTRING ...] [--results RESULTS.json]

1. Converts every DIR/*.json fixture (MANIFEST.json aside) with
   `svm2onnx convert FIXTURE -o W/NAME.DTYPE.keras --dtype DTYPE --no-validate`
   (the graph behind it is validated with tract by .ci/interop.sh's step b).
2. For each BACKEND (tensorflow, jax, torch) and dtype, starts one fresh Python
   (`--python jax=target/venv-jax/bin/python`) with KERAS_BACKEND set (and, for JAX
   in f64, JAX_ENABLE_X64=1: without it JAX computes float64 in float32). That process
   imports nothing of ours but this file's comparison helpers, calls
   `keras.saving.load_model(path)` (default safe mode, no custom_objects) on every file,
   runs `model(X)` on samples.X in the graph's dtype (not `model.predict`, which casts to
   keras.config.floatx()) and compares each output with scikit-learn's recorded one.
Bars, as tests/interop/check_onnx.py (score error = max|a-b| / (1 + max|b|)):
  f64: scores and predictions <= 1e-9, probabilities <= 1e-6, labels identical;
  f32: <= 1e-4; every label disagreement a near-tie (a decision value within 1e-4 of 0,
       a moved vote, or two recorded probabilities within 1e-4), and labels >= 99.9 %
       over all the f32 files of a backend (one tie in a 92-row fixture is 98.9 %).
With --libsvm DIR, also every DIR/NAME.model with its recorded DIR/NAME.json (LIBSVM's own
outputs: labels, decision values, -b 1 probabilities and labels, from the libsvm wheel; see
tests/fixtures/make_libsvm_fixtures.py), converted with --n-features when the record has one.
String labels leave a Keras model as class indices: scikit-learn's labels are mapped to
positions in the file's metadata.json `svm2onnx.classes`. Outputs must have the graph's
dtype (float64 in f64 files). Prints a table; exits 1 if any row fails (2 on usage errors).
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

TOL = {
    "f64": dict(score_tol=1e-9, prob_tol=1e-6, label_min_agree=1.0, tie_tol=None),
    "f32": dict(score_tol=1e-4, prob_tol=1e-4, label_min_agree=0.999, tie_tol=1e-4),
}
NP_DTYPE = {"f32": "float32", "f64": "float64"}


def keras_metadata(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("metadata.json")).get("svm2onnx", {})


def as_indices(want, classes):
    """scikit-learn's labels as positions in the model's classes."""
    pos = {str(c): i for i, c in enumerate(classes)}
    return [pos[str(w)] for w in want]


def libsvm_samples(record):
    """A LIBSVM record as compare_outputs' samples: LIBSVM's labels are `predict`, its decision
    values `decision_function` (a regressor's are its `predict`), its -b 1 outputs
    `predict_proba` and `probability_label`."""
    wheel = record["libsvm"]
    dec = wheel["decision_values"]
    samples = {"X": record["x"]}
    if record["options"].split("-s ")[-1].split()[0] in ("3", "4"):
        samples["predict"] = [row[0] for row in dec]
        return samples
    samples["predict"] = wheel["labels"]
    samples["decision_function"] = [row[0] for row in dec] if len(dec[0]) == 1 else dec
    if wheel.get("probabilities") is not None:
        samples["predict_proba"] = wheel["probabilities"]
    if wheel.get("probability_labels") is not None:
        samples["probability_label"] = wheel["probability_labels"]
    return samples


SVM_TYPES = {"0": "c_svc", "1": "nu_svc", "2": "one_class", "3": "epsilon_svr", "4": "nu_svr"}


def libsvm_family(model_path):
    with open(model_path[: -len(".model")] + ".json") as fh:
        options = json.load(fh)["options"]
    return "LIBSVM " + SVM_TYPES.get(options.split("-s ")[-1].split()[0], "?")


def child(args):
    """Runs in the backend's venv: load, call, compare; one JSON line per file."""
    import numpy as np

    import interop_common as ic
    import keras
    import results

    backend = keras.backend.backend()
    backend_version = __import__(backend).__version__
    for spec in args.files:
        fixture, path, dtype = spec.split("::")
        if fixture.endswith(".model"):
            with open(fixture[: -len(".model")] + ".json") as fh:
                samples = libsvm_samples(json.load(fh))
            suite, family = "libsvm", libsvm_family(fixture)
        else:
            fx = ic.load_fixture(fixture)
            samples = dict(fx["samples"])
            suite, family = "sklearn", results.family(fx)
        row = {"fixture": ic.fixture_name(fixture), "suite": suite, "family": family,
               "dtype": dtype, "backend": backend,
               "keras": keras.__version__, "backend_version": backend_version}
        t0 = time.time()
        try:
            model = keras.saving.load_model(path)
            X = np.asarray(samples["X"], dtype=NP_DTYPE[dtype])
            out = model(X)
            outs = {k: keras.ops.convert_to_numpy(v) for k, v in out.items()}
            meta = keras_metadata(path)
            if meta.get("label_output") == "index" and "predict" in samples:
                classes = json.loads(meta["classes"])
                samples["predict"] = as_indices(samples["predict"], classes)
            t = TOL[dtype]
            # f32's 99.9 % applies to each backend's total (main); here every
            # disagreement must be a tie.
            res = ic.compare_outputs(outs, samples, t["score_tol"], label_min_agree=t["label_min_agree"] if dtype == "f64" else 0.0,
                                     tie_tol=t["tie_tol"], fail_on_hard_disagree=True,
                                     prob_tol=t["prob_tol"])
            for name, v in outs.items():
                if v.dtype.kind == "f" and v.dtype.name != NP_DTYPE[dtype]:
                    res["ok"] = False
                    res["notes"].append(f"output {name} is {v.dtype.name}")
            row.update(status="pass" if res["ok"] else "fail", parts=res["parts"],
                       note="; ".join(res["notes"]) or None)
        except Exception as e:  # a load or call failure is a row, not a crash
            row.update(status="error", parts=[], note=f"{type(e).__name__}: {str(e).strip()[:400]}")
        row["seconds"] = round(time.time() - t0, 3)
        print(json.dumps(row, default=float), flush=True)
    return 0


def convert(binp, fixture, out, dtype):
    cmd = [binp, "convert", fixture, "-o", out, "--dtype", dtype, "--no-validate"]
    if fixture.endswith(".model"):
        with open(fixture[: -len(".model")] + ".json") as fh:
            n = json.load(fh).get("n_features")
        if n is not None:
            cmd += ["--n-features", str(n)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return p.returncode, (p.stderr or p.stdout).strip()


def fmt(row):
    score = label = "-"
    for p in row.get("parts", []):
        if p.get("kind") == "value" and p.get("sample") == "decision_function":
            score = f"{p['err']:.2e}"
        elif p.get("kind") == "value" and score == "-":
            score = f"{p['err']:.2e}"
        elif p.get("kind") == "label":
            label = f"{p['agree']}/{p['total']}"
    return (f"{row['fixture'][:34]:<34} {row['backend']:<10} {row['dtype']:<4} {score:>10} {label:>9} "
            f"{row['status'].upper()}" + (f"  {row['note']}" if row.get("note") and row["status"] != "pass" else ""))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    ap.add_argument("--bin")
    ap.add_argument("--fixtures")
    ap.add_argument("--workdir")
    ap.add_argument("--python", action="append", default=[], metavar="BACKEND=PYTHON")
    ap.add_argument("--dtypes", default="f32,f64")
    ap.add_argument("--libsvm", help="a folder of LIBSVM .model files with their .json records")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--results")
    args = ap.parse_args(argv)
    if args.child:
        return child(args)
    if not (args.bin and args.fixtures and args.workdir and args.python):
        ap.error("--bin, --fixtures, --workdir and --python are required")
    pythons = []
    for spec in args.python:
        backend, _, py = spec.partition("=")
        if backend not in ("tensorflow", "jax", "torch") or not py:
            ap.error(f"--python {spec!r}: expected tensorflow|jax|torch=PATH")
        pythons.append((backend, py))
    dtypes = [d for d in args.dtypes.split(",") if d]
    os.makedirs(args.workdir, exist_ok=True)
    fixtures = sorted(f for f in glob.glob(os.path.join(args.fixtures, "*.json"))
                      if os.path.basename(f) != "MANIFEST.json"
                      and (not args.only or any(s in f for s in args.only)))
    if args.libsvm:
        fixtures += sorted(f for f in glob.glob(os.path.join(args.libsvm, "*.model"))
                           if os.path.exists(f[: -len(".model")] + ".json")
                           and (not args.only or any(s in f for s in args.only)))
    rows, status = [], 0
    files = {d: [] for d in dtypes}
    t0 = time.time()
    for fixture in fixtures:
        name = os.path.splitext(os.path.basename(fixture))[0]
        for dtype in dtypes:
            # LIBSVM models share names with scikit-learn fixtures (oneclass_rbf).
            tag = "libsvm_" if fixture.endswith(".model") else ""
            out = os.path.join(args.workdir, f"{tag}{name}.{dtype}.keras")
            rc, msg = convert(args.bin, fixture, out, dtype)
            if rc != 0:
                for backend, _ in pythons:
                    rows.append({"fixture": name, "libsvm": fixture.endswith(".model"),
                                 "dtype": dtype, "backend": backend, "status": "error",
                                 "parts": [], "note": f"svm2onnx convert exited {rc}: {msg[-300:]}"})
                continue
            files[dtype].append(f"{fixture}::{out}::{dtype}")
    print(f"   converted {len(fixtures)} fixtures x {len(dtypes)} dtypes in {time.time() - t0:.0f} s")
    for backend, py in pythons:
        for dtype in dtypes:
            if not files[dtype]:
                continue
            env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="-1")
            if backend == "jax":
                env["JAX_ENABLE_X64"] = "1" if dtype == "f64" else "0"
            t0 = time.time()
            p = subprocess.run([py, os.path.abspath(__file__), "--child", *files[dtype]],
                               capture_output=True, text=True, env=env)
            got = [json.loads(ln) for ln in p.stdout.splitlines() if ln.startswith("{")]
            if p.returncode != 0 or len(got) != len(files[dtype]):
                status = 1
                print(f"   FAIL: {backend} {dtype}: the Keras process exited {p.returncode}\n{p.stderr[-2000:]}")
            print(f"   {backend} {dtype}: {len(got)} models in {time.time() - t0:.0f} s")
            rows.extend(got)
    for r in rows:
        print("   " + fmt(r))
        if r["status"] != "pass":
            status = 1
    for backend, _ in pythons:
        for dtype in dtypes:
            labels = [p for r in rows if r["backend"] == backend and r["dtype"] == dtype
                      for p in r.get("parts", []) if p.get("kind") == "label"]
            agree, total = sum(p["agree"] for p in labels), sum(p["total"] for p in labels)
            need = TOL[dtype]["label_min_agree"]
            ok = total == 0 or agree >= need * total
            print(f"   {backend} {dtype}: labels {agree}/{total} agree"
                  f" ({100.0 * agree / max(total, 1):.3f} %, need {100 * need:.1f} %){'' if ok else '  FAIL'}")
            if not ok:
                status = 1
    print(f"   {sum(r['status'] == 'pass' for r in rows)}/{len(rows)} pass")
    if args.results:
        import results
        import interop_common as ic
        # A row made here (a failed conversion) has no suite: its file's.
        kinds = {}
        for f in fixtures:
            name = os.path.splitext(os.path.basename(f))[0]
            kinds[(name, f.endswith(".model"))] = (
                ("libsvm", libsvm_family(f)) if f.endswith(".model")
                else ("sklearn", results.family(ic.load_fixture(f))))
        for r in rows:
            if "suite" not in r:
                r["suite"], r["family"] = kinds[(r["fixture"], r.pop("libsvm"))]
        out = [results.make_row(r["suite"], r["family"], r["fixture"],
                                f"keras3-{r['backend']}", r["dtype"], r["status"], r.get("parts", ()),
                                tolerance=TOL[r["dtype"]]["score_tol"], loader=f"keras {r.get('keras', '?')}",
                                note=r.get("note"), seconds=r.get("seconds"))
               for r in rows]
        versions = {}
        for b, _ in pythons:
            seen = next((r for r in rows if r["backend"] == b and r.get("keras")), None)
            if seen:
                versions[f"keras3-{b}"] = (f"(keras {seen['keras']}, {b} {seen['backend_version']}, "
                                           f"run {time.strftime('%Y-%m-%d', time.gmtime())})")
        results.append(args.results, "sklearn-keras3", out, versions)
    return status


if __name__ == "__main__":
    sys.exit(main())
