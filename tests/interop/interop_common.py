"""Shared helpers for the interop scripts: fixture loading, output mapping, comparisons.

Only numpy is imported here, so both tiers (onnxruntime and onnx2tf) can use it.

Comparison rules (one place, so check_onnx.py and keras_check.py agree):
* scores: rel_err = max|a - b| / (1 + max|b|) over the whole array.
* labels: compared numerically when both sides are numeric, else as strings
  (bytes are decoded; ints and integral floats compare equal: 3 == 3.0).
* near-tie rows (a label disagreement there is a rounding effect, not a bug):
    - some decision value of the row is within tol * (1 + max|dec|) of 0
      (binary decision, or any one-vs-one value), or
    - 2-D scores whose difference on that row is a "vote flip": after rounding,
      the difference is one +1 and one -1 (a single one-vs-one vote moved
      between two classes, as an ovr score shows when its ovo value is ~0)
      and what is left after removing the integers is within tolerance.
"""
import json
import os

import numpy as np

# ONNX output name -> fixture samples key, in order of preference.
OUTPUT_TO_SAMPLE = {
    "scores": "decision_function",
    "decision_function": "decision_function",
    "label": "predict",
    "predict": "predict",
    "prediction": "predict",
    "probabilities": "predict_proba",
    "predict_proba": "predict_proba",
    "score_samples": "score_samples",
}


def load_fixture(path):
    with open(path) as fh:
        fx = json.load(fh)
    s = fx.get("samples")
    if not isinstance(s, dict) or "X" not in s:
        raise ValueError(f"{path}: no samples.X")
    return fx


def fixture_name(path):
    return os.path.splitext(os.path.basename(path))[0]


def rel_err(a, b):
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.size != b.size:
        raise ValueError(f"shape mismatch: output {a.shape} vs reference {b.shape}")
    if a.shape != b.shape:
        a = a.reshape(b.shape)  # [N,1] vs [N] and the like
    if b.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / (1.0 + np.max(np.abs(b))))


def _as_numeric(v):
    arr = np.asarray(v)
    if arr.dtype.kind in "biuf":
        return arr.astype(np.float64)
    if arr.dtype.kind in "OUS":
        try:
            return np.array([float(x) for x in arr.ravel()]).reshape(arr.shape)
        except (TypeError, ValueError):
            return None
    return None


def _as_str(v):
    out = []
    for x in np.asarray(v, dtype=object).ravel():
        if isinstance(x, (bytes, np.bytes_)):
            x = x.decode("utf-8", "replace")
        out.append(str(x))
    return np.array(out, dtype=object)


def abs_err(a, b):
    """max|a - b| (shapes as in rel_err)."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    if a.size != b.size:
        raise ValueError(f"shape mismatch: output {a.shape} vs reference {b.shape}")
    if b.size == 0:
        return 0.0
    return float(np.max(np.abs(a.reshape(b.shape) - b)))


def label_match(got, want):
    """Boolean array, one entry per row: does the label agree?"""
    got = np.asarray(got)
    want_arr = np.asarray(want, dtype=object)
    if got.size != want_arr.size:
        raise ValueError(f"label count mismatch: output {got.shape} vs reference {want_arr.shape}")
    g, w = got.ravel(), want_arr.ravel()
    if got.dtype.kind in "biuf":
        wn = _as_numeric(w)
        if wn is not None:
            return g.astype(np.float64) == wn
    return _as_str(g) == _as_str(w)


def labels_are_continuous(want):
    """A regressor's predict (SVR, NuSVR): numeric and not all integral."""
    wn = _as_numeric(np.asarray(want, dtype=object))
    return wn is not None and wn.size > 0 and not np.all(np.isfinite(wn) & (wn == np.round(wn)))


def near_tie_rows(dec, tol):
    """Rows where some decision value is within tol*(1+max|dec|) of zero."""
    d = np.asarray(dec, np.float64)
    if d.ndim == 1:
        d = d[:, None]
    thr = tol * (1.0 + np.max(np.abs(d))) if d.size else 0.0
    return np.min(np.abs(d), axis=1) <= thr


def proba_tie_rows(proba, tol):
    """Rows whose two largest probabilities are within tol of each other (a class tie, as
    isotonic calibration's plateaus make): the label there is a tie-break."""
    p = np.asarray(proba, np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        return np.zeros(p.shape[0] if p.ndim else 0, bool)
    top = np.sort(p, axis=1)[:, -2:]
    return (top[:, 1] - top[:, 0]) <= tol


def vote_flip_rows(got, want, tol):
    """2-D rows whose score difference is exactly one vote moved between two classes."""
    g = np.asarray(got, np.float64)
    w = np.asarray(want, np.float64)
    if g.size != w.size or w.ndim != 2 or w.shape[1] < 3:
        return np.zeros(w.shape[0] if w.ndim else 0, bool)
    g = g.reshape(w.shape)
    diff = g - w
    r = np.round(diff)
    thr = tol * (1.0 + np.max(np.abs(w)))
    resid_ok = np.max(np.abs(diff - r), axis=1) <= thr
    one_up = np.sum(r == 1, axis=1) == 1
    one_down = np.sum(r == -1, axis=1) == 1
    rest_zero = np.sum(r != 0, axis=1) == 2
    return resid_ok & one_up & one_down & rest_zero


def compare_outputs(outputs, samples, score_tol, label_min_agree=1.0, tie_tol=None,
                    fail_on_hard_disagree=True, prob_tol=None, max_report=5):
    """Compare named outputs against a fixture's samples.

    outputs: dict name -> numpy array (names as in the ONNX graph).
    label_min_agree: fraction of rows whose label must agree.
    tie_tol: None = no near-tie excuses; else the tolerance used to flag near-tie rows
        (and vote-flip rows in 2-D scores, which are then left out of the score error).
    fail_on_hard_disagree: fail on any label disagreement that is not a near-tie.
    Returns a dict: ok, parts (list of per-output result dicts), notes (list of str).
    """
    allow_near_ties = tie_tol is not None
    res = {"ok": True, "parts": [], "notes": []}
    dec = samples.get("decision_function")
    flip_rows = None
    compared = 0
    # scores first: the vote-flip rows found there excuse the matching label rows
    order = sorted(outputs, key=lambda n: 0 if OUTPUT_TO_SAMPLE.get(n) == "decision_function" else 1)
    for name in order:
        key = OUTPUT_TO_SAMPLE.get(name, name if name in samples else None)
        if key is None or key not in samples or samples[key] is None:
            res["notes"].append(f"output {name!r}: nothing to compare in the fixture")
            continue
        got, want = outputs[name], samples[key]
        part = {"output": name, "sample": key}
        compared += 1
        try:
            if key in ("predict", "probability_label") and not labels_are_continuous(want):
                m = label_match(got, want)
                n = m.size
                bad = np.flatnonzero(~m)
                part.update(kind="label", agree=int(m.sum()), total=int(n), dtype=str(np.asarray(got).dtype))
                excused = np.zeros(n, bool)
                if dec is None and allow_near_ties and samples.get("predict_proba") is not None:
                    excused = proba_tie_rows(samples["predict_proba"], tie_tol)
                    if excused.size != n:
                        excused = np.zeros(n, bool)
                if dec is not None and allow_near_ties:
                    try:
                        excused = near_tie_rows(dec, tie_tol)
                        if excused.size != n:
                            excused = np.zeros(n, bool)
                    except ValueError:
                        pass
                    if flip_rows is not None and flip_rows.size == n:
                        excused = excused | flip_rows
                part["near_tie_disagree"] = int(np.sum(excused[bad])) if bad.size else 0
                part["hard_disagree"] = int(bad.size - part["near_tie_disagree"])
                part["bad_rows"] = [
                    {"row": int(i), "got": _as_str([np.asarray(got).ravel()[i]])[0],
                     "want": _as_str([np.asarray(want, dtype=object).ravel()[i]])[0],
                     "near_tie": bool(excused[i])}
                    for i in bad[:max_report]
                ]
                frac = m.mean() if n else 1.0
                part["ok"] = bool(frac >= label_min_agree
                                  and not (fail_on_hard_disagree and part["hard_disagree"]))
            else:
                tol = prob_tol if (key == "predict_proba" and prob_tol is not None) else score_tol
                e = rel_err(got, want)
                part.update(kind="value", err=e, abs_err=abs_err(got, want), tol=tol,
                            dtype=str(np.asarray(got).dtype))
                part["ok"] = bool(e <= tol)
                if key == "decision_function":
                    if not part["ok"] and allow_near_ties:
                        flips = vote_flip_rows(got, want, tie_tol)
                        if flips.any():
                            flip_rows = flips
                            keep = ~flips
                            w = np.asarray(want, np.float64)
                            g = np.asarray(got, np.float64).reshape(w.shape)
                            e2 = rel_err(g[keep], w[keep]) if keep.any() else 0.0
                            part["vote_flip_rows"] = [int(i) for i in np.flatnonzero(flips)]
                            part["err_without_flips"] = e2
                            part["abs_err_without_flips"] = abs_err(g[keep], w[keep]) if keep.any() else 0.0
                            part["ok"] = bool(e2 <= tol)
        except ValueError as ex:
            part.update(kind="error", ok=False, error=str(ex))
        res["parts"].append(part)
        res["ok"] &= part["ok"]
    if compared == 0:
        res["ok"] = False
        res["notes"].append("no output could be matched with the fixture's samples")
    return res


def summarize(res):
    """Compact one-line summary of compare_outputs() output."""
    bits = []
    for p in res["parts"]:
        if p["kind"] == "value":
            s = f"{p['output']}: err={p['err']:.2e}"
            if "vote_flip_rows" in p:
                s += f" ({len(p['vote_flip_rows'])} vote-flip rows, else {p['err_without_flips']:.2e})"
        elif p["kind"] == "label":
            s = f"{p['output']}: {p['agree']}/{p['total']} [{p['dtype']}]"
            if p["total"] - p["agree"]:
                s += f" ({p['near_tie_disagree']} near-tie)"
        else:
            s = f"{p['output']}: ERROR {p['error']}"
        bits.append(s)
    return "; ".join(bits) if bits else "; ".join(res["notes"])


def details(res):
    """Extra lines for disagreements (rows, values)."""
    lines = []
    for p in res["parts"]:
        for b in p.get("bad_rows", []):
            lines.append(f"    {p['output']} row {b['row']}: got {b['got']!r} want {b['want']!r}"
                         f"{' (near-tie)' if b['near_tie'] else ''}")
        if p.get("vote_flip_rows"):
            lines.append(f"    {p['output']}: vote-flip rows {p['vote_flip_rows'][:10]}")
    for n in res["notes"]:
        lines.append(f"    note: {n}")
    return lines
