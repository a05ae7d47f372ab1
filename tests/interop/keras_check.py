#!/usr/bin/env python3
"""Convert an svm2onnx float32 graph with onnx2tf and check Keras / TFLite against a fixture.

    python tests/interop/keras_check.py MODEL.onnx --fixture FIXTURE.json --workdir DIR
        [--tolerance 1e-4] [--targets keras,keras3,keras3_tfsm,tflite] [--no-onnxsim]
        [--json OUT.json] [--results RESULTS.json [--suite S] [--family F] [--variant V] [--probe]]

Runs onnx2tf (in this interpreter's environment: install tests/interop/requirements-tf.txt)
on a copy of MODEL.onnx (onnx2tf's onnxsim step rewrites its input file in place), writing a
SavedModel, the float32/float16 TFLite files and the `.keras` file into DIR/tf. Then, on
samples.X as float32 (float64 for a float64 graph, which is only a probe):

  keras        the onnx2tf `*_float32_v3.keras`, loaded with `tf_keras.saving.load_model`:
               onnx2tf writes it with tf_keras (Keras 2) in the "keras_v3" zip format. Output
               names survive (model.output_names).
  keras3       the same file through Keras 3 `keras.saving.load_model(..., safe_mode=False)`.
               Keras 3 cannot deserialise tf_keras' Functional/TFOpLambda config ("Could not
               locate class 'Functional'"; custom_objects {Functional: keras.Model, TFOpLambda: a
               shim} get further but Keras 3 rejects tf_keras' node format): reported as
               "unsupported", which does not fail the run.
  keras3_tfsm  Keras 3: the SavedModel in `keras.layers.TFSMLayer`, outputs renamed to the ONNX
               names (the signature's output_0, output_1, ... are in ONNX order), saved as a Keras
               3 `.keras` and loaded back with `keras.saving.load_model(..., safe_mode=False)`
               (the file refers to the SavedModel directory).
  tflite       `*_float32.tflite` through the LiteRT interpreter's `serving_default` signature
               runner (ai_edge_litert, else tf.lite); its outputs keep the ONNX names.

Checks per target: "scores" vs samples.decision_function, "probabilities" vs predict_proba,
"prediction" vs predict (max|a-b|/(1+max|b|) <= tolerance) and "label" vs samples.predict
(every disagreement must be on a near-tie row: some decision value within tolerance of 0, or a
2-D score row that differs by exactly one moved vote). With --label-index graphs, predict is
mapped to positions in the graph's `classes` metadata. Prints one line per target and exits 0
when all pass (unsupported targets aside), 1 otherwise (2 on a usage error). --results appends
rows in the format of results.py (--probe marks them as a limitation probe).
"""
import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import interop_common as ic  # noqa: E402
import results  # noqa: E402

ALL_TARGETS = ("keras", "keras3", "keras3_tfsm", "tflite")


def onnx_io(model_path):
    import onnx

    m = onnx.load(model_path, load_external_data=False)
    inits = {i.name for i in m.graph.initializer}
    inputs = [(i.name, i.type.tensor_type.elem_type) for i in m.graph.input if i.name not in inits]
    outputs = [o.name for o in m.graph.output]
    return inputs, outputs


def metadata(model_path):
    """The metadata_props svm2onnx writes (label_output, classes, ...)."""
    import onnx
    m = onnx.load(model_path)
    return {p.key: p.value for p in m.metadata_props}


def run_onnx2tf(model_path, workdir, use_onnxsim, extra_args):
    """Returns (out_dir, seconds, log_path). Raises RuntimeError with the log tail on failure."""
    os.makedirs(workdir, exist_ok=True)
    src = os.path.join(workdir, "model.onnx")
    shutil.copyfile(model_path, src)
    data = model_path + ".data"
    if os.path.exists(data):  # external data travels with the graph
        shutil.copyfile(data, os.path.join(workdir, os.path.basename(data)))
    out = os.path.join(workdir, "tf")
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ)
    # onnx2tf runs `onnxsim` as a subprocess: make this environment's console scripts visible.
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env.setdefault("CUDA_VISIBLE_DEVICES", "-1")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cmd = [sys.executable, "-m", "onnx2tf", "-i", src, "-o", out, "-okv3", "-n"]
    if not use_onnxsim:
        cmd.append("-nuo")
    cmd += extra_args
    log = os.path.join(workdir, "onnx2tf.log")
    t0 = time.time()
    with open(log, "w") as fh:
        fh.write("$ " + " ".join(cmd) + "\n")
        fh.flush()
        rc = subprocess.call(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    dt = time.time() - t0
    if rc != 0 or not os.path.isdir(out):
        raise RuntimeError(f"onnx2tf exited {rc}; log {log}:\n" + tail(log))
    return out, dt, log


def tail(path, n=25):
    with open(path, errors="replace") as fh:
        lines = [ln for ln in fh.read().splitlines() if not ln.startswith(("W0000", "I0000"))]
    return "\n".join(lines[-n:])


def one(pattern):
    hits = sorted(glob.glob(pattern))
    if not hits:
        raise FileNotFoundError(f"onnx2tf wrote no {os.path.basename(pattern)} (see onnx2tf.log)")
    return hits[0]


def by_name_or_position(names, values, onnx_outputs, what):
    """Map outputs to ONNX names: by name when they survived, else by position."""
    names = [str(n) for n in names]
    if set(onnx_outputs) <= set(names):
        return {n: v for n, v in zip(names, values)}, None
    generic = [f"output_{i}" for i in range(len(names))]
    if len(names) == len(onnx_outputs) and (names == generic or sorted(names) == sorted(generic)):
        order = sorted(range(len(names)), key=lambda i: int(names[i].split("_")[1]))
        mapped = {onnx_outputs[k]: values[i] for k, i in enumerate(order)}
        return mapped, f"{what}: names lost ({', '.join(names)}); mapped by ONNX output order"
    raise RuntimeError(
        f"{what}: cannot map outputs {names} to ONNX outputs {onnx_outputs} "
        "(names lost and counts differ); was the graph converted with renamed outputs?"
    )


def load_tf_keras(path):
    """onnx2tf writes the .keras file with tf_keras (Keras 2) in the "keras_v3" zip format."""
    import tf_keras

    try:
        return tf_keras.saving.load_model(path, compile=False), f"tf_keras {tf_keras.__version__}"
    except Exception as e:
        lines = [ln.strip() for ln in str(e).splitlines() if ln.strip()]
        key = [ln for ln in lines if ln.startswith(("Failed", "Cannot", "Could not", "Unable"))]
        raise RuntimeError(f"tf_keras.saving.load_model: {type(e).__name__}: {(key or lines or [''])[0][:300]}")


def predict_named(model, X, onnx_outputs, what):
    r = model.predict(X, verbose=0)
    if isinstance(r, dict):
        names, vals = list(r.keys()), list(r.values())
    else:
        vals = list(r) if isinstance(r, (list, tuple)) else [r]
        names = list(getattr(model, "output_names", []) or [f"output_{i}" for i in range(len(vals))])
    return by_name_or_position(names, [np.asarray(v) for v in vals], onnx_outputs, what)


def run_keras(out_dir, X, onnx_outputs, workdir):
    """The onnx2tf `.keras` file, loaded with tf_keras."""
    try:
        model, loader = load_tf_keras(one(os.path.join(out_dir, "*_float32_v3.keras")))
    except RuntimeError as e:
        if "__bytes__" in str(e):  # a Gather over a string table: the config holds bytes
            raise Unsupported(f"string labels: {e} (convert with --label-index)")
        raise
    outs, note = predict_named(model, X, onnx_outputs, "keras")
    return outs, loader, note


class Unsupported(Exception):
    """A known, documented limitation: reported in the results, not counted as a failure."""


def run_keras3(out_dir, X, onnx_outputs, workdir):
    """The onnx2tf `.keras` file through Keras 3 `keras.saving.load_model` (safe_mode=False)."""
    import keras

    path = one(os.path.join(out_dir, "*_float32_v3.keras"))
    try:
        model = keras.saving.load_model(path, compile=False, safe_mode=False)
    except Exception as e:
        msg = str(e).split(". ")[0][:200]
        if "Could not locate class 'Functional'" in msg:
            raise Unsupported(f"Keras {keras.__version__} load_model(safe_mode=False): {type(e).__name__}: "
                              f"{msg} (onnx2tf saves tf_keras Functional/TFOpLambda layers)")
        raise
    outs, note = predict_named(model, X, onnx_outputs, "keras3")
    return outs, f"keras {keras.__version__} load_model", note


def run_keras3_tfsm(out_dir, X, onnx_outputs, workdir):
    """Keras 3: the SavedModel in a `keras.layers.TFSMLayer`, its outputs renamed to the ONNX names
    (the signature's output_0, output_1, ... come in ONNX output order), saved as a Keras 3
    `.keras` file and loaded back with `keras.saving.load_model(..., safe_mode=False)`. The file
    refers to the SavedModel directory; Keras refuses a TFSMLayer in safe mode."""
    import keras

    inp = keras.Input(shape=(X.shape[1],), name="X", dtype=str(X.dtype))
    sm = keras.layers.TFSMLayer(out_dir, call_endpoint="serving_default", dtype=str(X.dtype))(inp)
    sm = list(sm) if isinstance(sm, (list, tuple)) else [sm]
    if len(sm) != len(onnx_outputs):
        raise RuntimeError(f"TFSMLayer gave {len(sm)} outputs, the ONNX graph has {len(onnx_outputs)}")
    named = {n: keras.layers.Identity(name=n)(t) for n, t in zip(onnx_outputs, sm)}
    path = os.path.join(workdir, "keras3_tfsm.keras")
    keras.Model(inp, named).save(path)
    model = keras.saving.load_model(path, safe_mode=False)
    outs, note = predict_named(model, X, onnx_outputs, "keras3_tfsm")
    return outs, f"keras {keras.__version__} TFSMLayer in a reloaded .keras", note


def make_interpreter(path):
    try:
        from ai_edge_litert.interpreter import Interpreter

        return Interpreter(model_path=path), "ai_edge_litert"
    except ImportError:
        import tensorflow as tf

        return tf.lite.Interpreter(model_path=path), "tf.lite"


def run_tflite(out_dir, X, onnx_outputs, input_name):
    it, which = make_interpreter(one(os.path.join(out_dir, "*_float32.tflite")))
    sigs = it.get_signature_list()
    if "serving_default" not in sigs:
        raise RuntimeError(f"tflite has no serving_default signature: {sigs}")
    sig_inputs = sigs["serving_default"]["inputs"]
    name = input_name if input_name in sig_inputs else sig_inputs[0]
    try:
        runner = it.get_signature_runner("serving_default")
        r = runner(**{name: X})  # the runner resizes the dynamic batch dimension itself
    except (RuntimeError, ValueError) as e:
        if X.dtype == np.float64 and "Select TensorFlow op" in str(e):
            raise Unsupported("float64 graph: TFLite has no float64 builtin ops; the file needs the "
                              "Flex (Select TF ops) delegate: " + str(e).split("Node number")[-1][:80].strip())
        raise
    outs, note = by_name_or_position(list(r.keys()), list(r.values()), onnx_outputs, "tflite")
    return outs, which, note


def tf_versions():
    v = {}
    for mod in ("onnx2tf", "tensorflow", "keras", "tf_keras", "ai_edge_litert"):
        try:
            m = __import__(mod)
            v[mod] = getattr(m, "__version__", None) or __import__("importlib.metadata").metadata.version(
                mod.replace("_", "-"))
        except Exception:
            pass
    return v


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--targets", default=",".join(ALL_TARGETS),
                    help=f"comma list from {','.join(ALL_TARGETS)} (default: all)")
    ap.add_argument("--no-onnxsim", action="store_true", help="pass -nuo to onnx2tf")
    ap.add_argument("--onnx2tf-arg", action="append", default=[], metavar="ARG",
                    help="extra argument for onnx2tf (repeatable)")
    ap.add_argument("--json", help="write the full result here")
    ap.add_argument("--results", help="append rows in the interop results format (results.py) here")
    ap.add_argument("--suite", default="sklearn", help="suite name for --results (default: sklearn)")
    ap.add_argument("--family", help="family for --results (default: from the fixture)")
    ap.add_argument("--probe", action="store_true",
                    help="mark the rows as a limitation probe (compat_table.py lists them apart)")
    ap.add_argument("--variant", help="variant tag for --results (default: label-index when the "
                    "graph emits label indices)")
    a = ap.parse_args(argv)
    targets = [t for t in a.targets.split(",") if t]
    unknown = set(targets) - set(ALL_TARGETS)
    if unknown:
        ap.error(f"unknown targets: {sorted(unknown)}")

    try:
        fx = ic.load_fixture(a.fixture)
        inputs, onnx_outputs = onnx_io(a.model)
    except Exception as e:
        print(f"keras_check: {e}", file=sys.stderr)
        return 2
    if len(inputs) != 1:
        print(f"keras_check: expected one graph input, found {[n for n, _ in inputs]}", file=sys.stderr)
        return 2
    input_name, elem = inputs[0]
    if elem != 1:  # TensorProto.FLOAT
        print(f"keras_check: note: graph input {input_name!r} is not float32 (elem_type {elem}); "
              "onnx2tf targets float32, expect trouble", file=sys.stderr)
    samples = dict(fx["samples"])
    meta = metadata(a.model)
    if meta.get("label_output") == "index" and "predict" in samples:
        # `svm2onnx convert --label-index`: the graph emits positions in the
        # label table the graph's metadata lists (classes_, or [-1, 1]).
        position = {json.dumps(c): i for i, c in enumerate(json.loads(meta["classes"]))}
        samples["predict"] = [position[json.dumps(c)] for c in samples["predict"]]
    # float32 graphs are what TensorFlow targets; a float64 graph is fed float64 (a probe)
    X = np.asarray(samples["X"], dtype=np.float64 if elem == 11 else np.float32)
    name = ic.fixture_name(a.fixture)

    family = a.family or results.family(fx)
    dtype = {1: "f32", 11: "f64"}.get(elem, f"elem_type {elem}")
    variant = a.variant or ("label-index" if meta.get("label_output") == "index" else None)
    rows = []

    def row(target, status, parts=(), **extra):
        return results.make_row(a.suite, family, name, target, dtype, status, parts,
                                tolerance=a.tolerance, variant=variant, probe=a.probe or None, **extra)

    try:
        out_dir, secs, log = run_onnx2tf(a.model, a.workdir, not a.no_onnxsim, a.onnx2tf_arg)
    except Exception as e:
        print(f"{name:<24} onnx2tf     FAIL  {e}")
        if a.results:
            first = (str(e).strip().splitlines() or ["onnx2tf failed"])[0][:300]
            results.append(a.results, a.suite,
                           [row(t, "error", note=f"onnx2tf: {first}") for t in targets],
                           versions=tf_versions())
        return 1
    print(f"{name:<24} onnx2tf     ok    {secs:.1f} s -> {out_dir}")

    runners = {
        "keras": run_keras,
        "keras3": run_keras3,
        "keras3_tfsm": run_keras3_tfsm,
        "tflite": lambda o, x, n, w: run_tflite(o, x, n, input_name),
    }
    all_ok = True
    report = {"fixture": a.fixture, "model": a.model, "onnx2tf_seconds": secs, "targets": {}}
    for t in targets:
        t0 = time.time()
        try:
            outs, how, note = runners[t](out_dir, X, onnx_outputs, a.workdir)
        except Unsupported as e:
            print(f"{name:<24} {t:<11} UNSUPPORTED  {e}")
            report["targets"][t] = {"ok": None, "status": "unsupported", "error": str(e)}
            rows.append(row(t, "unsupported", note=str(e), seconds=time.time() - t0))
            continue
        except Exception as e:
            msg = str(e).strip().splitlines()
            print(f"{name:<24} {t:<11} FAIL  {msg[0] if msg else type(e).__name__}")
            for ln in msg[1:8]:
                print(f"    {ln}")
            report["targets"][t] = {"ok": False, "status": "error", "error": str(e)}
            rows.append(row(t, "error", note=(msg[0] if msg else type(e).__name__)[:300],
                            seconds=time.time() - t0))
            all_ok = False
            continue
        res = ic.compare_outputs(outs, samples, a.tolerance, label_min_agree=0.0,
                                 tie_tol=a.tolerance, fail_on_hard_disagree=True)
        all_ok &= res["ok"]
        print(f"{name:<24} {t:<11} {'PASS' if res['ok'] else 'FAIL'}  {ic.summarize(res)}  [{how}]")
        if note:
            print(f"    note: {note}")
        for ln in ic.details(res):
            print(ln)
        report["targets"][t] = {"ok": res["ok"], "status": "pass" if res["ok"] else "fail",
                                "loader": how, "note": note, "parts": res["parts"]}
        rows.append(row(t, "pass" if res["ok"] else "fail", res["parts"], loader=how,
                        note="; ".join(([note] if note else []) + res["notes"]) or None,
                        seconds=time.time() - t0))
    if a.results:
        results.append(a.results, a.suite, rows, versions=tf_versions())
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(report, fh, indent=1, default=str)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
