#!/usr/bin/env python3
"""Hand-built SVC-like ONNX graphs (standard ops only) and matching fixtures.

Used to exercise check_onnx.py and keras_check.py without the Rust compiler.
The graphs use the same op vocabulary svm2onnx emits (Sub, Mul, ReduceSum,
MatMul, Add, Relu, Exp, Tanh, Greater, Less, Not, Cast, ArgMax, Gather,
Reshape, Abs, Div) and the same I/O contract: input "X" [N, d] with
dim_param "N"; outputs "scores" ([N, k] or [N]) and "label" [N].

  demo_model.py fixture OUT.json --kind ovo3|ovr3|binary|string [--rows 200]
      write a fixture JSON (samples.X / predict / decision_function computed
      in float64 with numpy) that also embeds the demo parameters;
  demo_model.py convert FIXTURE.json -o OUT.onnx [--dtype f32|f64] [--opset N]
      [--label-index] [--no-validate]
      build the ONNX graph for that fixture (same CLI shape as
      `svm2onnx convert`, so this file can stand in for --bin in self-tests).

Needs numpy and onnx only.
"""
import argparse
import json
import sys

import numpy as np

KINDS = ("ovo3", "ovr3", "binary", "string")


# --------------------------------------------------------------------------
# parameters and float64 reference
# --------------------------------------------------------------------------
def make_params(kind, seed=0):
    rng = np.random.default_rng(seed)
    d = 4
    scale = np.array([1.0, 2.0, 0.5, 3.0])
    # the sigmoid kernel saturates on uncentred data, so the binary demo is centred
    offset = np.zeros(4) if kind == "binary" else np.array([5.0, -3.0, 10.0, 0.0])
    k = 2 if kind == "binary" else 3
    n_sv = 3 * k
    # class c owns support vectors 3c..3c+2, drawn around its own centre
    centres = rng.normal(size=(k, d)) * scale * 1.5 + offset
    owner = np.repeat(np.arange(k), 3)
    sv = centres[owner] + rng.normal(size=(n_sv, d)) * scale
    p = k * (k - 1) // 2
    coef = np.zeros((n_sv, p))
    for q, (i, j) in enumerate(pairs(k)):
        coef[owner == i, q] = rng.uniform(0.5, 2.0, size=3)
        coef[owner == j, q] = -rng.uniform(0.5, 2.0, size=3)
    intercept = rng.normal(size=(p,)) * 0.1
    if kind == "string":
        classes = ["setosa", "versicolor", "virginica"]
    elif kind == "binary":
        classes = [-1, 1]
    else:
        classes = [3, 7, 11]
    return {
        "kind": kind,
        "kernel": "sigmoid" if kind == "binary" else "rbf",
        "gamma": 0.05 if kind == "binary" else 0.1,
        "coef0": 0.25,
        "support_vectors": sv.tolist(),
        "coef": coef.tolist(),  # [S, P]
        "intercept": intercept.tolist(),  # [P]
        "classes": classes,
        "scale": scale.tolist(),
        "offset": offset.tolist(),
    }


def pairs(k):
    return [(i, j) for i in range(k) for j in range(i + 1, k)]


def reference(params, X):
    """float64 decision values and labels (sklearn semantics)."""
    sv = np.asarray(params["support_vectors"], np.float64)
    coef = np.asarray(params["coef"], np.float64)
    b = np.asarray(params["intercept"], np.float64)
    g = params["gamma"]
    if params["kernel"] == "rbf":
        d2 = ((X[:, None, :] - sv[None, :, :]) ** 2).sum(-1)
        K = np.exp(-g * d2)
    else:
        K = np.tanh(g * X @ sv.T + params["coef0"])
    ovo = K @ coef + b  # [N, P]
    classes = params["classes"]
    k = len(classes)
    if k == 2:
        dec = ovo[:, 0]
        idx = (dec >= 0).astype(int)  # exact 0 -> classes_[1]
        return dec, [classes[i] for i in idx]
    votes = np.zeros((X.shape[0], k))
    conf = np.zeros((X.shape[0], k))
    for p, (i, j) in enumerate(pairs(k)):
        pos = ovo[:, p] > 0
        votes[:, i] += pos
        votes[:, j] += ~pos
        conf[:, i] += ovo[:, p]
        conf[:, j] -= ovo[:, p]
    idx = votes.argmax(1)
    labels = [classes[i] for i in idx]
    if params["kind"] == "ovr3":
        ovr = votes + conf / (3 * (np.abs(conf) + 1))
        return ovr, labels
    return ovo, labels


def make_fixture(kind, rows, seed=0):
    params = make_params(kind, seed)
    rng = np.random.default_rng(seed + 1)
    sv = np.asarray(params["support_vectors"])
    X = sv[rng.integers(0, len(sv), size=rows)] + rng.normal(size=(rows, sv.shape[1])) * np.asarray(params["scale"])
    dec, labels = reference(params, X)
    return {
        "estimator": "DemoSVC",
        "note": "hand-built demo for tests/interop; not produced by scikit-learn",
        "demo": params,
        "samples": {
            "X": X.tolist(),
            "predict": labels,
            "decision_function": dec.tolist(),
        },
    }


# --------------------------------------------------------------------------
# ONNX graph
# --------------------------------------------------------------------------
def build_graph(params, dtype="f32", opset=17, label_index=False, scalar_bias=False):
    from onnx import TensorProto, helper, numpy_helper

    npdt = np.float32 if dtype == "f32" else np.float64
    tdt = TensorProto.FLOAT if dtype == "f32" else TensorProto.DOUBLE
    sv = np.asarray(params["support_vectors"], np.float64)
    coef = np.asarray(params["coef"], np.float64)
    b = np.asarray(params["intercept"], np.float64)
    g = float(params["gamma"])
    classes = params["classes"]
    k = len(classes)
    n_sv, d = sv.shape
    inits, nodes = [], []

    def const(name, arr, dt=None):
        inits.append(numpy_helper.from_array(np.asarray(arr, dt or npdt), name))
        return name

    def node(op, ins, outs, **attrs):
        nodes.append(helper.make_node(op, ins, outs, name=f"{op}_{len(nodes)}", **attrs))
        return outs[0]

    def reduce_sum(x, out):
        # ReduceSum took axes as an attribute before opset 13.
        if opset >= 13:
            return node("ReduceSum", [x, const("axes_1", [1], np.int64)], [out], keepdims=1)
        return node("ReduceSum", [x], [out], axes=[1], keepdims=1)

    if params["kernel"] == "rbf":
        mu = sv.mean(0, keepdims=True)
        svc = sv - mu
        xc = node("Sub", ["X", const("center", mu)], ["x_centered"])
        xsq = node("Mul", [xc, xc], ["x_sq"])
        xn = reduce_sum(xsq, "x_norm2")  # [N,1]
        cross = node("MatMul", [xc, const("sv_t_m2", -2.0 * svc.T)], ["cross_m2"])  # [N,S]
        t = node("Add", [cross, const("sv_norm2", (svc ** 2).sum(1)[None, :])], ["d2_partial"])
        d2 = node("Add", [t, xn], ["d2_raw"])
        d2 = node("Relu", [d2], ["d2"])
        e = node("Mul", [d2, const("neg_gamma", [-g])], ["neg_gamma_d2"])
        kern = node("Exp", [e], ["kernel"])
    else:
        dot = node("MatMul", ["X", const("sv_t_gamma", g * sv.T)], ["gamma_dot"])
        # coef0 is stored full width [S]: onnx2tf fuses MatMul+Add into a TFLite
        # FULLY_CONNECTED whose bias must have one entry per output unit; a broadcast [1]
        # bias converts but fails at TFLite run time (--scalar-bias reproduces that).
        c0 = [params["coef0"]] if scalar_bias else np.full(n_sv, params["coef0"])
        t = node("Add", [dot, const("coef0", c0)], ["kernel_arg"])
        kern = node("Tanh", [t], ["kernel"])

    ovo = node("MatMul", [kern, const("dual_coef", coef)], ["ovo_raw"])
    ovo = node("Add", [ovo, const("intercept", b)], ["ovo" if k > 2 else "dec_col"])

    label_out = "label_index" if label_index else "label"
    if isinstance(classes[0], str):
        cls = numpy_helper.from_array(np.array(classes, dtype=object), "classes")
        inits.append(cls)
        label_type = TensorProto.STRING
    else:
        const("classes", classes, np.int64)
        label_type = TensorProto.INT64

    if k == 2:
        node("Reshape", [ovo, const("flat", [-1], np.int64)], ["scores"])  # [N]
        neg = node("Less", ["scores", const("zero", [0.0])], ["dec_neg"])
        pos = node("Not", [neg], ["dec_nonneg"])  # exact 0 -> classes_[1]
        idx = node("Cast", [pos], ["class_index"], to=TensorProto.INT64)
        scores_shape = ["N"]
    else:
        pr = pairs(k)
        m = np.zeros((len(pr), k))
        base = np.zeros(k)
        cm = np.zeros((len(pr), k))
        for p, (i, j) in enumerate(pr):
            m[p, i] += 1
            m[p, j] -= 1
            base[j] += 1
            cm[p, i] += 1
            cm[p, j] -= 1
        gt = node("Greater", [ovo, const("zero", [0.0])], ["pair_pos"])
        gtf = node("Cast", [gt], ["pair_pos_f"], to=tdt)
        v = node("MatMul", [gtf, const("vote_matrix", m)], ["votes_raw"])
        votes = node("Add", [v, const("vote_base", base)], ["votes"])
        idx = node("ArgMax", [votes], ["class_index"], axis=1, keepdims=0)
        if params["kind"] == "ovr3":
            conf = node("MatMul", [ovo, const("conf_matrix", cm)], ["conf"])
            a = node("Abs", [conf], ["conf_abs"])
            a1 = node("Add", [a, const("one", [1.0])], ["conf_abs1"])
            den = node("Mul", [a1, const("three", [3.0])], ["conf_den"])
            q = node("Div", [conf, den], ["conf_scaled"])
            node("Add", [votes, q], ["scores"])
        else:
            node("Identity", [ovo], ["scores"])
        scores_shape = ["N", k]
    if label_index:
        node("Identity", [idx], [label_out])
        label_type = TensorProto.INT64
    else:
        node("Gather", ["classes", idx], [label_out], axis=0)

    graph = helper.make_graph(
        nodes,
        "demo_svc",
        [helper.make_tensor_value_info("X", tdt, ["N", d])],
        [
            helper.make_tensor_value_info("scores", tdt, scores_shape),
            helper.make_tensor_value_info(label_out, label_type, ["N"]),
        ],
        inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="svm2onnx-demo"
    )
    model.ir_version = 8  # readable by every onnxruntime we pin
    return model


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fixture")
    f.add_argument("out")
    f.add_argument("--kind", choices=KINDS, default="ovo3")
    f.add_argument("--rows", type=int, default=200)
    f.add_argument("--seed", type=int, default=0)
    c = sub.add_parser("convert")
    c.add_argument("model")
    c.add_argument("-o", "--output", required=True)
    c.add_argument("--dtype", choices=("f32", "f64"), default="f32")
    c.add_argument("--opset", type=int, default=17)
    c.add_argument("--label-index", action="store_true")
    c.add_argument("--no-validate", action="store_true")
    c.add_argument("--scalar-bias", action="store_true",
                   help="store the sigmoid kernel's coef0 as a broadcast [1] constant (onnx2tf/TFLite bug)")
    a = ap.parse_args(argv)
    if a.cmd == "fixture":
        with open(a.out, "w") as fh:
            json.dump(make_fixture(a.kind, a.rows, a.seed), fh)
        return 0
    with open(a.model) as fh:
        fx = json.load(fh)
    if "demo" not in fx:
        print(f"error: {a.model} is not a demo fixture (no 'demo' key)", file=sys.stderr)
        return 2
    import onnx

    model = build_graph(fx["demo"], a.dtype, a.opset, a.label_index, a.scalar_bias)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
